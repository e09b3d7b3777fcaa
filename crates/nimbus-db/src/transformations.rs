//! Named transformations.

use async_trait::async_trait;
use nimbus_app::events::{ConfigChange, WriteCtx};
use nimbus_app::ports::{CatalogResult, DerivedAsset, NamedTransformation, TransformationRepo};
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{SqlCatalog, db_err, outbox};

fn row(r: &AnyRow) -> CatalogResult<NamedTransformation> {
    Ok(NamedTransformation {
        name: r.try_get("name").map_err(db_err)?,
        transformation: r.try_get("transformation").map_err(db_err)?,
        allowed_for_strict: r.try_get::<i64, _>("allowed_for_strict").map_err(db_err)? != 0,
    })
}

#[async_trait]
impl TransformationRepo for SqlCatalog {
    async fn put_named(&self, w: &WriteCtx, t: &NamedTransformation, create: bool) -> CatalogResult<bool> {
        let (env, now) = (w.env(), w.now);
        let mut tx = self.write_tx().await?;
        let q = if create {
            sqlx::query(
                "INSERT INTO named_transformations (env_id, name, transformation, allowed_for_strict, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT DO NOTHING",
            )
            .bind(env)
            .bind(t.name.as_str())
            .bind(t.transformation.as_str())
            .bind(i64::from(t.allowed_for_strict))
            .bind(now)
        } else {
            sqlx::query(
                "UPDATE named_transformations SET transformation = $1, allowed_for_strict = $2, updated_at = $3 \
                 WHERE env_id = $4 AND name = $5",
            )
            .bind(t.transformation.as_str())
            .bind(i64::from(t.allowed_for_strict))
            .bind(now)
            .bind(env)
            .bind(t.name.as_str())
        };
        let n = q.execute(&mut *tx.tx).await.map_err(db_err)?.rows_affected();
        if n > 0 {
            let name = t.name.clone();
            let change = if create {
                ConfigChange::TransformationCreated(name)
            } else {
                ConfigChange::TransformationUpdated(name)
            };
            outbox::record(&mut tx.tx, w, &[change.into()]).await?;
        }
        tx.commit().await?;
        Ok(n > 0)
    }

    async fn named(&self, env: i64, name: &str) -> CatalogResult<Option<NamedTransformation>> {
        let r = sqlx::query(
            "SELECT name, transformation, allowed_for_strict FROM named_transformations WHERE env_id = $1 AND name = $2",
        )
        .bind(env)
        .bind(name)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        r.as_ref().map(row).transpose()
    }

    async fn list_named(&self, env: i64, after: Option<&str>, limit: u32) -> CatalogResult<Vec<NamedTransformation>> {
        let rows = sqlx::query(
            "SELECT name, transformation, allowed_for_strict FROM named_transformations WHERE env_id = $1 AND name > $2 \
             ORDER BY name LIMIT $3",
        )
        .bind(env)
        .bind(after.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(row).collect()
    }

    async fn delete_named(&self, w: &WriteCtx, name: &str) -> CatalogResult<bool> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query("DELETE FROM named_transformations WHERE env_id = $1 AND name = $2")
            .bind(w.env())
            .bind(name)
            .execute(&mut *tx.tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if n > 0 {
            outbox::record(&mut tx.tx, w, &[ConfigChange::TransformationDeleted(name.to_owned()).into()]).await?;
        }
        tx.commit().await?;
        Ok(n > 0)
    }

    async fn record_derived(&self, env: i64, transformation: &str, now: i64) -> CatalogResult<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO derived_transformations (env_id, transformation, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(env)
        .bind(transformation)
        .bind(now)
        .execute(&mut *tx.tx)
        .await
        .map_err(db_err)?;
        tx.commit().await
    }

    async fn derived(&self, env: i64, transformation: &str) -> CatalogResult<Option<NamedTransformation>> {
        let r = sqlx::query(
            "SELECT transformation AS name, transformation, allowed_for_strict FROM derived_transformations \
             WHERE env_id = $1 AND transformation = $2",
        )
        .bind(env)
        .bind(transformation)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        r.as_ref().map(row).transpose()
    }

    async fn list_derived(&self, env: i64, after: Option<&str>, limit: u32) -> CatalogResult<Vec<NamedTransformation>> {
        let rows = sqlx::query(
            "SELECT transformation AS name, transformation, allowed_for_strict FROM derived_transformations \
             WHERE env_id = $1 AND transformation > $2 ORDER BY transformation LIMIT $3",
        )
        .bind(env)
        .bind(after.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(row).collect()
    }

    async fn set_derived_allowed_for_strict(
        &self,
        env: i64,
        transformation: &str,
        allowed: bool,
    ) -> CatalogResult<bool> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query(
            "UPDATE derived_transformations SET allowed_for_strict = $1 WHERE env_id = $2 AND transformation = $3",
        )
        .bind(i64::from(allowed))
        .bind(env)
        .bind(transformation)
        .execute(&mut *tx.tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        tx.commit().await?;
        Ok(n > 0)
    }

    async fn record_derived_asset(&self, env: i64, d: &DerivedAsset) -> CatalogResult<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO derived_assets (env_id, blob_key, asset_id, version_id, transformation, format, bytes, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
        )
        .bind(env)
        .bind(d.blob_key.as_str())
        .bind(d.asset_id.as_str())
        .bind(d.version_id.as_str())
        .bind(d.transformation.as_str())
        .bind(d.format.as_str())
        .bind(d.bytes)
        .bind(d.created_at)
        .execute(&mut *tx.tx)
        .await
        .map_err(db_err)?;
        tx.commit().await
    }

    async fn derived_assets(&self, env: i64, asset_id: &str, version_id: &str) -> CatalogResult<Vec<DerivedAsset>> {
        let rows = sqlx::query(
            "SELECT blob_key, asset_id, version_id, transformation, format, bytes, created_at FROM derived_assets \
             WHERE env_id = $1 AND asset_id = $2 AND version_id = $3 ORDER BY created_at, blob_key",
        )
        .bind(env)
        .bind(asset_id)
        .bind(version_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(DerivedAsset {
                    blob_key: r.try_get("blob_key").map_err(db_err)?,
                    asset_id: r.try_get("asset_id").map_err(db_err)?,
                    version_id: r.try_get("version_id").map_err(db_err)?,
                    transformation: r.try_get("transformation").map_err(db_err)?,
                    format: r.try_get("format").map_err(db_err)?,
                    bytes: r.try_get("bytes").map_err(db_err)?,
                    created_at: r.try_get("created_at").map_err(db_err)?,
                })
            })
            .collect()
    }

    async fn claim_render(&self, blob_key: &str, owner: &str, now: i64, secs: i64) -> CatalogResult<bool> {
        let _w = self.sqlite_writer().await;
        let won: Option<String> = sqlx::query_scalar(
            "INSERT INTO render_claims (blob_key, owner, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (blob_key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at \
             WHERE render_claims.expires_at < $4 OR render_claims.owner = excluded.owner RETURNING owner",
        )
        .bind(blob_key)
        .bind(owner)
        .bind(now + secs)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(won.is_some())
    }

    async fn release_render(&self, blob_key: &str, owner: &str) -> CatalogResult<()> {
        let _w = self.sqlite_writer().await;
        sqlx::query("DELETE FROM render_claims WHERE blob_key = $1 AND owner = $2")
            .bind(blob_key)
            .bind(owner)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }
}
