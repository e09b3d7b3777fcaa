//! Environments and API keys.

use async_trait::async_trait;
use nimbus_app::events::{Actor, ConfigChange, WriteCtx};
use nimbus_app::ports::{
    ApiKey, AssetViews, AssetVisitor, CatalogResult, CountryViews, EnvRepo, Environment, UsageDay,
};
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{SqlCatalog, db_err, outbox};

fn env_row(r: &AnyRow) -> CatalogResult<Environment> {
    Ok(Environment {
        id: r.try_get("id").map_err(db_err)?,
        cloud_name: r.try_get("cloud_name").map_err(db_err)?,
        created_at: r.try_get("created_at").map_err(db_err)?,
        strict_transformations: r.try_get::<i64, _>("strict_transformations").map_err(db_err)? != 0,
    })
}

fn key_row(r: &AnyRow) -> CatalogResult<ApiKey> {
    Ok(ApiKey {
        key: r.try_get("api_key").map_err(db_err)?,
        secret: r.try_get("api_secret").map_err(db_err)?,
        env_id: r.try_get("env_id").map_err(db_err)?,
        created_at: r.try_get("created_at").map_err(db_err)?,
        revoked_at: r.try_get("revoked_at").map_err(db_err)?,
    })
}

/// Tables holding an environment's rows, children first.
const ENV_TABLES: [&str; 15] = [
    "asset_restrictions",
    "delivery_daily",
    "delivery_countries",
    "delivery_visitors",
    "search_terms",
    "search_numbers",
    "asset_tags",
    "assets",
    "folders",
    "upload_presets",
    "metadata_rules",
    "metadata_fields",
    "metadata_field_tombstones",
    "named_transformations",
    "api_keys",
];

#[async_trait]
impl EnvRepo for SqlCatalog {
    async fn create_env(
        &self,
        cloud: &str,
        key: &str,
        secret: &str,
        actor: &Actor,
        now: i64,
    ) -> CatalogResult<Option<Environment>> {
        let mut tx = self.write_tx().await?;
        let row = sqlx::query("INSERT INTO environments (cloud_name, created_at) VALUES ($1, $2) ON CONFLICT (cloud_name) DO NOTHING RETURNING id, cloud_name, created_at, strict_transformations")
            .bind(cloud)
            .bind(now)
            .fetch_optional(&mut *tx.tx)
            .await
            .map_err(db_err)?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(None);
        };
        let env = env_row(&row)?;
        sqlx::query("INSERT INTO api_keys (api_key, env_id, api_secret, created_at) VALUES ($1, $2, $3, $4)")
            .bind(key)
            .bind(env.id)
            .bind(secret)
            .bind(now)
            .execute(&mut *tx.tx)
            .await
            .map_err(db_err)?;
        let created = ConfigChange::EnvironmentCreated(env.cloud_name.clone());
        outbox::configured(&mut tx.tx, env.id, actor, now, created).await?;
        outbox::configured(&mut tx.tx, env.id, actor, now, ConfigChange::KeyCreated(key.to_owned())).await?;
        tx.commit().await?;
        Ok(Some(env))
    }

    async fn env_by_cloud(&self, cloud: &str) -> CatalogResult<Option<Environment>> {
        let row = sqlx::query(
            "SELECT id, cloud_name, created_at, strict_transformations FROM environments WHERE cloud_name = $1",
        )
        .bind(cloud)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(env_row).transpose()
    }

    async fn list_envs(&self) -> CatalogResult<Vec<Environment>> {
        let rows = sqlx::query(
            "SELECT id, cloud_name, created_at, strict_transformations FROM environments ORDER BY cloud_name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(env_row).collect()
    }

    async fn delete_env(&self, cloud: &str, actor: &Actor, now: i64) -> CatalogResult<bool> {
        let Some(env) = self.env_by_cloud(cloud).await? else {
            return Ok(false);
        };
        let mut tx = self.write_tx().await?;
        for table in ENV_TABLES {
            sqlx::query(&format!("DELETE FROM {table} WHERE env_id = $1"))
                .bind(env.id)
                .execute(&mut *tx.tx)
                .await
                .map_err(db_err)?;
        }
        let n = sqlx::query("DELETE FROM environments WHERE id = $1")
            .bind(env.id)
            .execute(&mut *tx.tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        // Kept after the environment's own rows are gone: who deleted it.
        outbox::configured(&mut tx.tx, env.id, actor, now, ConfigChange::EnvironmentDeleted(env.cloud_name)).await?;
        tx.commit().await?;
        Ok(n > 0)
    }

    async fn set_strict_transformations(&self, cloud: &str, on: bool, actor: &Actor, now: i64) -> CatalogResult<bool> {
        let mut tx = self.write_tx().await?;
        let row = sqlx::query("UPDATE environments SET strict_transformations = $1 WHERE cloud_name = $2 RETURNING id")
            .bind(i64::from(on))
            .bind(cloud)
            .fetch_optional(&mut *tx.tx)
            .await
            .map_err(db_err)?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(false);
        };
        let env: i64 = row.try_get("id").map_err(db_err)?;
        outbox::configured(&mut tx.tx, env, actor, now, ConfigChange::StrictTransformations(on)).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn api_key(&self, key: &str) -> CatalogResult<Option<ApiKey>> {
        let row =
            sqlx::query("SELECT api_key, api_secret, env_id, created_at, revoked_at FROM api_keys WHERE api_key = $1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        row.as_ref().map(key_row).transpose()
    }

    async fn create_key(&self, w: &WriteCtx, key: &str, secret: &str) -> CatalogResult<ApiKey> {
        let (env_id, now) = (w.env(), w.now);
        let mut tx = self.write_tx().await?;
        sqlx::query("INSERT INTO api_keys (api_key, env_id, api_secret, created_at) VALUES ($1, $2, $3, $4)")
            .bind(key)
            .bind(env_id)
            .bind(secret)
            .bind(now)
            .execute(&mut *tx.tx)
            .await
            .map_err(db_err)?;
        outbox::record(&mut tx.tx, w, &[ConfigChange::KeyCreated(key.to_owned()).into()]).await?;
        tx.commit().await?;
        Ok(ApiKey { key: key.to_owned(), secret: secret.to_owned(), env_id, created_at: now, revoked_at: None })
    }

    async fn list_keys(&self, env_id: i64) -> CatalogResult<Vec<ApiKey>> {
        let rows = sqlx::query("SELECT api_key, api_secret, env_id, created_at, revoked_at FROM api_keys WHERE env_id = $1 ORDER BY created_at, api_key")
            .bind(env_id)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(key_row).collect()
    }

    async fn revoke_key(&self, key: &str, actor: &Actor, now: i64) -> CatalogResult<bool> {
        let mut tx = self.write_tx().await?;
        let row = sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 WHERE api_key = $2 AND revoked_at IS NULL RETURNING env_id",
        )
        .bind(now)
        .bind(key)
        .fetch_optional(&mut *tx.tx)
        .await
        .map_err(db_err)?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(false);
        };
        let env: i64 = row.try_get("env_id").map_err(db_err)?;
        outbox::configured(&mut tx.tx, env, actor, now, ConfigChange::KeyRevoked(key.to_owned())).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn add_usage(
        &self,
        env_id: i64,
        day: i64,
        requests: i64,
        transformations: i64,
        bytes: i64,
    ) -> CatalogResult<()> {
        let _w = self.sqlite_writer().await;
        sqlx::query(
            "INSERT INTO usage_daily (env_id, day, requests, transformations, bytes) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (env_id, day) DO UPDATE SET requests = usage_daily.requests + excluded.requests, \
             transformations = usage_daily.transformations + excluded.transformations, bytes = excluded.bytes",
        )
        .bind(env_id)
        .bind(day)
        .bind(requests)
        .bind(transformations)
        .bind(bytes)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn analytics_salt(&self, day: i64, candidate: &str) -> CatalogResult<String> {
        let _w = self.sqlite_writer().await;
        sqlx::query("INSERT INTO analytics_salts (day, salt) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING")
            .bind(day)
            .bind(candidate)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        sqlx::query_scalar("SELECT salt FROM analytics_salts WHERE day = $1")
            .bind(day)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn add_delivery_views(
        &self,
        views: &[AssetViews],
        visitors: &[AssetVisitor],
        countries: &[CountryViews],
    ) -> CatalogResult<()> {
        let mut w = self.quiet_tx().await?;
        for c in countries {
            sqlx::query(
                "INSERT INTO delivery_countries (env_id, day, country, views) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (env_id, day, country) DO UPDATE SET views = delivery_countries.views + excluded.views",
            )
            .bind(c.env_id)
            .bind(c.day)
            .bind(c.country.as_str())
            .bind(c.views)
            .execute(&mut *w.tx)
            .await
            .map_err(db_err)?;
        }
        for v in views {
            sqlx::query(
                "INSERT INTO delivery_daily (env_id, day, asset_id, views) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (env_id, day, asset_id) DO UPDATE SET views = delivery_daily.views + excluded.views",
            )
            .bind(v.env_id)
            .bind(v.day)
            .bind(v.asset_id.as_str())
            .bind(v.views)
            .execute(&mut *w.tx)
            .await
            .map_err(db_err)?;
        }
        for chunk in visitors.chunks(200) {
            let mut b = crate::binds::Binds::default();
            let rows: Vec<String> = chunk
                .iter()
                .map(|v| {
                    format!("({}, {}, {}, {})", b.int(v.env_id), b.int(v.day), b.text(&v.asset_id), b.int(v.visitor))
                })
                .collect();
            let sql = format!(
                "INSERT INTO delivery_visitors (env_id, day, asset_id, visitor) VALUES {} ON CONFLICT DO NOTHING",
                rows.join(", ")
            );
            b.apply(&sql).execute(&mut *w.tx).await.map_err(db_err)?;
        }
        w.commit().await
    }

    async fn settle_delivery_analytics(&self, before_day: i64) -> CatalogResult<u64> {
        let mut w = self.quiet_tx().await?;
        sqlx::query(
            "UPDATE delivery_daily SET visitors = (SELECT COUNT(*) FROM delivery_visitors v \
             WHERE v.env_id = delivery_daily.env_id AND v.day = delivery_daily.day AND v.asset_id = delivery_daily.asset_id) \
             WHERE day < $1 AND visitors IS NULL",
        )
        .bind(before_day)
        .execute(&mut *w.tx)
        .await
        .map_err(db_err)?;
        let mut gone = 0;
        for sql in ["DELETE FROM delivery_visitors WHERE day < $1", "DELETE FROM analytics_salts WHERE day < $1"] {
            gone += sqlx::query(sql).bind(before_day).execute(&mut *w.tx).await.map_err(db_err)?.rows_affected();
        }
        w.commit().await?;
        Ok(gone)
    }

    async fn delivery_analytics(&self, env_id: i64, day: i64) -> CatalogResult<Vec<(String, i64, i64)>> {
        sqlx::query_as(
            "SELECT d.asset_id, d.views, COALESCE(d.visitors, (SELECT COUNT(*) FROM delivery_visitors v \
             WHERE v.env_id = d.env_id AND v.day = d.day AND v.asset_id = d.asset_id)) AS visitors \
             FROM delivery_daily d WHERE d.env_id = $1 AND d.day = $2 ORDER BY d.views DESC, d.asset_id",
        )
        .bind(env_id)
        .bind(day)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)
    }

    async fn delivery_countries(&self, env_id: i64, day: i64) -> CatalogResult<Vec<(String, i64)>> {
        sqlx::query_as(
            "SELECT country, views FROM delivery_countries WHERE env_id = $1 AND day = $2 ORDER BY views DESC, country",
        )
        .bind(env_id)
        .bind(day)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)
    }

    async fn usage_days(&self, env_id: i64, from: i64, to: i64) -> CatalogResult<Vec<UsageDay>> {
        let rows = sqlx::query(
            "SELECT day, requests, transformations, bytes FROM usage_daily WHERE env_id = $1 AND day >= $2 AND day <= $3 \
             ORDER BY day",
        )
        .bind(env_id)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(UsageDay {
                    day: r.try_get("day").map_err(db_err)?,
                    requests: r.try_get("requests").map_err(db_err)?,
                    transformations: r.try_get("transformations").map_err(db_err)?,
                    bytes: r.try_get("bytes").map_err(db_err)?,
                })
            })
            .collect()
    }
}
