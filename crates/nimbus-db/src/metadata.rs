//! Metadata fields, rules and assets' metadata values. Schema changes are optimistic: each
//! commits only if the environment's `metadata_version` is still the one it was computed
//! from, and raises it, so a change is checked against exactly the schema it replaces.

use async_trait::async_trait;
use nimbus_app::events::{AssetRef, Change, Event, SchemaItem, WriteCtx};
use nimbus_app::ports::{
    CatalogError, CatalogResult, FieldRecord, MetadataChange, MetadataRepo, MetadataSnapshot, MetadataUpdate,
    MetadataWrite, RuleRecord,
};
use nimbus_core::{DeliveryType, MetadataValues, PublicId, ResourceType};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use crate::binds::Binds;
use crate::rows::{metadata_from_text, metadata_to_text};
use crate::{SqlCatalog, db_err};

/// Assets written per statement (five binds each, well under both dialects' bind limits).
const UPDATE_CHUNK: usize = 200;
/// Public ids per lookup.
const READ_CHUNK: usize = crate::binds::IN_CHUNK;

fn json_col(row: &AnyRow, col: &str) -> CatalogResult<serde_json::Value> {
    let text: String = row.try_get(col).map_err(db_err)?;
    serde_json::from_str(&text).map_err(|_| CatalogError(format!("corrupt catalog row: {col} = {text:?}")))
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

/// The schema version inside a write transaction, share-locked until it ends (SQLite
/// serialises writers already), so a schema change cannot commit in between.
pub(crate) async fn locked_version(conn: &mut AnyConnection, env: i64, dialect: crate::Dialect) -> CatalogResult<i64> {
    let v: Option<i64> =
        sqlx::query_scalar(&format!("SELECT metadata_version FROM environments WHERE id = $1{}", dialect.for_share()))
            .bind(env)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_err)?;
    Ok(v.unwrap_or(0))
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
            sqlx::query(
                "INSERT INTO metadata_field_tombstones (env_id, external_id, deleted_at) \
                 SELECT env_id, external_id, created_at FROM metadata_fields WHERE env_id = $1 AND external_id = $2 \
                 ON CONFLICT DO NOTHING",
            )
            .bind(env)
            .bind(id.as_str())
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
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
        let deleted_fields: Vec<String> = sqlx::query_scalar(
            "SELECT external_id FROM metadata_field_tombstones WHERE env_id = $1 ORDER BY external_id",
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
            deleted_fields,
        })
    }

    async fn change_metadata(&self, w: &WriteCtx, expected: i64, changes: &[MetadataChange]) -> CatalogResult<bool> {
        let env = w.env();
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
            tx.rollback().await?;
            return Ok(false);
        }
        for c in changes {
            apply(&mut tx.tx, env, c).await?;
        }
        let changed = changes
            .iter()
            .map(|c| match c {
                MetadataChange::PutField(f) => SchemaItem::PutField(f.external_id.clone()),
                MetadataChange::DeleteField(id) => SchemaItem::DeleteField(id.clone()),
                MetadataChange::PutRule(r) => SchemaItem::PutRule(r.external_id.clone()),
                MetadataChange::DeleteRule(id) => SchemaItem::DeleteRule(id.clone()),
            })
            .collect();
        let event = Event::SchemaChanged { version: expected + 1, changed };
        crate::write::after_write(&mut tx.tx, w, &[], &[event]).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn asset_metadata(
        &self,
        env: i64,
        rt: ResourceType,
        dt: DeliveryType,
        ids: &[PublicId],
    ) -> CatalogResult<Vec<(PublicId, MetadataValues)>> {
        let mut out = Vec::with_capacity(ids.len());
        // An id listed twice, in two chunks, is found twice: each is reported once.
        let mut seen = std::collections::HashSet::new();
        for chunk in ids.chunks(READ_CHUNK) {
            let mut b = Binds::default();
            let sql = format!(
                "SELECT public_id, metadata FROM assets WHERE env_id = {} AND resource_type = {} AND delivery_type = {} \
                 AND public_id IN {}",
                b.int(env),
                b.text(rt.as_str()),
                b.text(dt.as_str()),
                b.text_list(chunk.iter().map(PublicId::as_str))
            );
            for r in b.apply(&sql).fetch_all(&self.pool).await.map_err(db_err)? {
                let pid: String = r.try_get("public_id").map_err(db_err)?;
                if !seen.insert(pid.clone()) {
                    continue;
                }
                let id = PublicId::parse(&pid)
                    .map_err(|_| CatalogError(format!("corrupt catalog row: public_id = {pid:?}")))?;
                let text: String = r.try_get("metadata").map_err(db_err)?;
                out.push((id, metadata_from_text(&text)?));
            }
        }
        Ok(out)
    }

    async fn set_asset_metadata(
        &self,
        w: &WriteCtx,
        rt: ResourceType,
        dt: DeliveryType,
        updates: &[MetadataUpdate],
        schema_version: i64,
    ) -> CatalogResult<MetadataWrite> {
        let (env, now) = (w.env(), w.now);
        let mut changes = Vec::new();
        let mut touched = Vec::new();
        let mut tx = self.write_tx().await?;
        if locked_version(&mut tx.tx, env, self.dialect).await? != schema_version {
            tx.rollback().await?;
            return Ok(MetadataWrite::SchemaChanged);
        }
        // One statement per chunk: rows are found through the natural-key index (`IN`), and
        // each is written only if it still holds the metadata it was computed from.
        for chunk in updates.chunks(UPDATE_CHUNK) {
            let mut b = Binds::default();
            let mut new_case = String::from("CASE public_id");
            let mut old_case = String::from("CASE public_id");
            for u in chunk {
                let id = b.text(u.public_id.as_str());
                new_case.push_str(&format!(" WHEN {id} THEN {}", b.text(metadata_to_text(&u.new))));
                old_case.push_str(&format!(" WHEN {id} THEN {}", b.text(metadata_to_text(&u.expected))));
            }
            let sql = format!(
                "UPDATE assets SET metadata = {new_case} END, updated_at = {} WHERE env_id = {} AND resource_type = {} \
                 AND delivery_type = {} AND public_id IN {} AND metadata = {old_case} END",
                b.int(now),
                b.int(env),
                b.text(rt.as_str()),
                b.text(dt.as_str()),
                b.text_list(chunk.iter().map(|u| u.public_id.as_str()))
            );
            let n = b.apply(&sql).execute(&mut *tx.tx).await.map_err(db_err)?.rows_affected();
            if n != chunk.len() as u64 {
                // Name the first asset that moved on; everything written so far is rolled back.
                for u in chunk {
                    let now: Option<String> = sqlx::query_scalar(
                        "SELECT metadata FROM assets WHERE env_id = $1 AND resource_type = $2 AND delivery_type = $3 AND public_id = $4",
                    )
                    .bind(env)
                    .bind(rt.as_str())
                    .bind(dt.as_str())
                    .bind(u.public_id.as_str())
                    .fetch_optional(&mut *tx.tx)
                    .await
                    .map_err(db_err)?;
                    if now.as_deref() != Some(metadata_to_text(&u.new).as_str()) {
                        tx.rollback().await?;
                        return Ok(MetadataWrite::Stale(u.public_id.clone()));
                    }
                }
                tx.rollback().await?;
                return Ok(MetadataWrite::Stale(chunk[0].public_id.clone()));
            }
            let mut b = Binds::default();
            let sql = format!(
                "SELECT id, asset_id, public_id, version FROM assets WHERE env_id = {} AND resource_type = {} AND delivery_type = {} AND public_id IN {}",
                b.int(env),
                b.text(rt.as_str()),
                b.text(dt.as_str()),
                b.text_list(chunk.iter().map(|u| u.public_id.as_str()))
            );
            let rows = b.apply(&sql).fetch_all(&mut *tx.tx).await.map_err(db_err)?;
            let mut pks = Vec::with_capacity(rows.len());
            for r in &rows {
                pks.push(r.try_get::<i64, _>("id").map_err(db_err)?);
                let pid: String = r.try_get("public_id").map_err(db_err)?;
                let Some(u) = chunk.iter().find(|u| u.public_id.as_str() == pid) else { continue };
                changes.push(Change {
                    asset: AssetRef {
                        asset_id: r.try_get("asset_id").map_err(db_err)?,
                        public_id: u.public_id.clone(),
                        resource_type: rt,
                        delivery_type: dt,
                        version: r.try_get("version").map_err(db_err)?,
                    },
                    before: u.expected.clone(),
                    after: u.new.clone(),
                });
            }
            touched.extend(pks);
        }
        let changes = nimbus_app::events::changes(changes);
        let events = if changes.is_empty() { Vec::new() } else { vec![Event::MetadataChanged { changes }] };
        crate::write::after_write(&mut tx.tx, w, &[crate::write::Touched::Rows(&touched)], &events).await?;
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
