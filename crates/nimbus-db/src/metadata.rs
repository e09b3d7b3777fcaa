//! Metadata fields, rules and assets' metadata values. Schema changes are optimistic: each
//! commits only if the environment's `metadata_version` is still the one it was computed
//! from, and raises it, so a change is checked against exactly the schema it replaces.

use async_trait::async_trait;
use nimbus_app::ports::{
    CatalogError, CatalogResult, FieldRecord, MetadataChange, MetadataRepo, MetadataSnapshot, MetadataUpdate,
    MetadataWrite, RuleRecord,
};
use nimbus_core::{DeliveryType, MetadataValues, ResourceType};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use crate::binds::Binds;
use crate::{SqlCatalog, db_err};

fn json_col(row: &AnyRow, col: &str) -> CatalogResult<serde_json::Value> {
    let text: String = row.try_get(col).map_err(db_err)?;
    serde_json::from_str(&text).map_err(|_| CatalogError(format!("corrupt catalog row: {col} = {text:?}")))
}

pub(crate) fn metadata_from_text(text: &str) -> CatalogResult<MetadataValues> {
    serde_json::from_str(text).map_err(|_| CatalogError(format!("corrupt catalog row: metadata = {text:?}")))
}

pub(crate) fn metadata_to_text(m: &MetadataValues) -> String {
    serde_json::to_string(m).unwrap_or_else(|_| "{}".to_owned())
}

fn field_row(r: &AnyRow) -> CatalogResult<FieldRecord> {
    Ok(FieldRecord {
        external_id: r.try_get("external_id").map_err(db_err)?,
        position: r.try_get("position").map_err(db_err)?,
        doc: json_col(r, "doc")?,
        created_at: r.try_get("created_at").map_err(db_err)?,
    })
}

fn rule_row(r: &AnyRow) -> CatalogResult<RuleRecord> {
    Ok(RuleRecord {
        external_id: r.try_get("external_id").map_err(db_err)?,
        seq: r.try_get("seq").map_err(db_err)?,
        field: r.try_get("metadata_field_id").map_err(db_err)?,
        name: r.try_get("name").map_err(db_err)?,
        condition: json_col(r, "condition")?,
        result: json_col(r, "result")?,
        active: r.try_get::<i64, _>("active").map_err(db_err)? != 0,
        created_at: r.try_get("created_at").map_err(db_err)?,
    })
}

async fn version(conn: &mut AnyConnection, env: i64) -> CatalogResult<i64> {
    let v: Option<i64> = sqlx::query_scalar("SELECT metadata_version FROM environments WHERE id = $1")
        .bind(env)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(v.unwrap_or(0))
}

async fn apply(conn: &mut AnyConnection, env: i64, change: &MetadataChange) -> CatalogResult<()> {
    let q = match change {
        MetadataChange::PutField(f) => sqlx::query(
            "INSERT INTO metadata_fields (env_id, external_id, position, doc, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (env_id, external_id) DO UPDATE SET position = excluded.position, doc = excluded.doc",
        )
        .bind(env)
        .bind(f.external_id.as_str())
        .bind(f.position)
        .bind(f.doc.to_string())
        .bind(f.created_at),
        MetadataChange::DeleteField(id) => {
            sqlx::query("DELETE FROM metadata_fields WHERE env_id = $1 AND external_id = $2").bind(env).bind(id.as_str())
        }
        MetadataChange::PutRule(r) => sqlx::query(
            "INSERT INTO metadata_rules (env_id, external_id, metadata_field_id, name, condition, result, active, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (env_id, external_id) DO UPDATE SET \
             metadata_field_id = excluded.metadata_field_id, name = excluded.name, condition = excluded.condition, \
             result = excluded.result, active = excluded.active",
        )
        .bind(env)
        .bind(r.external_id.as_str())
        .bind(r.field.as_str())
        .bind(r.name.as_str())
        .bind(r.condition.to_string())
        .bind(r.result.to_string())
        .bind(i64::from(r.active))
        .bind(r.created_at),
        MetadataChange::DeleteRule(id) => {
            sqlx::query("DELETE FROM metadata_rules WHERE env_id = $1 AND external_id = $2").bind(env).bind(id.as_str())
        }
    };
    q.execute(&mut *conn).await.map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl MetadataRepo for SqlCatalog {
    async fn metadata_version(&self, env: i64) -> CatalogResult<i64> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        version(&mut conn, env).await
    }

    async fn metadata_snapshot(&self, env: i64) -> CatalogResult<MetadataSnapshot> {
        // One read transaction: the version, fields and rules are seen together.
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let version = version(&mut tx, env).await?;
        let fields = sqlx::query(
            "SELECT external_id, position, doc, created_at FROM metadata_fields WHERE env_id = $1 ORDER BY position, external_id",
        )
        .bind(env)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let rules = sqlx::query(
            "SELECT seq, external_id, metadata_field_id, name, condition, result, active, created_at FROM metadata_rules \
             WHERE env_id = $1 ORDER BY seq",
        )
        .bind(env)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(MetadataSnapshot {
            version,
            fields: fields.iter().map(field_row).collect::<CatalogResult<_>>()?,
            rules: rules.iter().map(rule_row).collect::<CatalogResult<_>>()?,
        })
    }

    async fn change_metadata(&self, env: i64, expected: i64, changes: &[MetadataChange]) -> CatalogResult<bool> {
        let mut tx = self.write_tx().await?;
        let bumped = sqlx::query(
            "UPDATE environments SET metadata_version = metadata_version + 1 WHERE id = $1 AND metadata_version = $2",
        )
        .bind(env)
        .bind(expected)
        .execute(&mut *tx.tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        if bumped != 1 {
            return Ok(false);
        }
        for c in changes {
            apply(&mut tx.tx, env, c).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn set_asset_metadata(
        &self,
        env: i64,
        rt: ResourceType,
        dt: DeliveryType,
        updates: &[MetadataUpdate],
        now: i64,
    ) -> CatalogResult<MetadataWrite> {
        let mut tx = self.write_tx().await?;
        for u in updates {
            let n = sqlx::query(
                "UPDATE assets SET metadata = $1, updated_at = $2 WHERE env_id = $3 AND resource_type = $4 \
                 AND delivery_type = $5 AND public_id = $6 AND metadata = $7",
            )
            .bind(metadata_to_text(&u.new))
            .bind(now)
            .bind(env)
            .bind(rt.as_str())
            .bind(dt.as_str())
            .bind(u.public_id.as_str())
            .bind(metadata_to_text(&u.expected))
            .execute(&mut *tx.tx)
            .await
            .map_err(db_err)?
            .rows_affected();
            if n != 1 {
                // Dropping the transaction rolls back the rows already written.
                return Ok(MetadataWrite::Stale(u.public_id.clone()));
            }
        }
        tx.commit().await?;
        Ok(MetadataWrite::Done)
    }

    async fn scan_metadata(
        &self,
        env: i64,
        after: Option<i64>,
        limit: u32,
    ) -> CatalogResult<Vec<(i64, String, MetadataValues)>> {
        let mut b = Binds::default();
        let sql = format!(
            "SELECT id, public_id, metadata FROM assets WHERE env_id = {} AND id > {} ORDER BY id LIMIT {}",
            b.int(env),
            b.int(after.unwrap_or(0)),
            b.int(i64::from(limit))
        );
        let rows = b.apply(&sql).fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let text: String = r.try_get("metadata").map_err(db_err)?;
                Ok((
                    r.try_get("id").map_err(db_err)?,
                    r.try_get("public_id").map_err(db_err)?,
                    metadata_from_text(&text)?,
                ))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_text_round_trip() {
        let m: MetadataValues = serde_json::json!({"b": 1, "a": ["x"]}).as_object().cloned().unwrap_or_default();
        assert_eq!(metadata_from_text(&metadata_to_text(&m)).ok(), Some(m));
        assert!(metadata_from_text("[").is_err());
    }
}
