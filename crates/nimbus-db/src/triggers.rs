//! Notification triggers of an environment.

use async_trait::async_trait;
use nimbus_app::ports::CatalogResult;
use nimbus_app::ports::{Trigger, TriggerRepo};
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{SqlCatalog, db_err};

fn trigger(r: &AnyRow) -> CatalogResult<Trigger> {
    Ok(Trigger {
        id: r.try_get("id").map_err(db_err)?,
        env_id: r.try_get("env_id").map_err(db_err)?,
        uri: r.try_get("uri").map_err(db_err)?,
        event_type: r.try_get("event_type").map_err(db_err)?,
        created_at: r.try_get("created_at").map_err(db_err)?,
        updated_at: r.try_get("updated_at").map_err(db_err)?,
    })
}

#[async_trait]
impl TriggerRepo for SqlCatalog {
    async fn create_trigger(&self, t: &Trigger) -> CatalogResult<bool> {
        let mut tx = self.write_tx().await?;
        let dup: Option<String> =
            sqlx::query_scalar("SELECT id FROM triggers WHERE env_id = $1 AND uri = $2 AND event_type = $3")
                .bind(t.env_id)
                .bind(t.uri.as_str())
                .bind(t.event_type.as_str())
                .fetch_optional(&mut *tx.tx)
                .await
                .map_err(db_err)?;
        if dup.is_some() {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO triggers (id, env_id, uri, event_type, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(t.id.as_str())
        .bind(t.env_id)
        .bind(t.uri.as_str())
        .bind(t.event_type.as_str())
        .bind(t.created_at)
        .bind(t.updated_at)
        .execute(&mut *tx.tx)
        .await
        .map_err(db_err)?;
        tx.commit().await?;
        Ok(true)
    }

    async fn list_triggers(&self, env: i64, event_type: Option<&str>) -> CatalogResult<Vec<Trigger>> {
        let rows = sqlx::query(
            "SELECT id, env_id, uri, event_type, created_at, updated_at FROM triggers \
             WHERE env_id = $1 AND ($2 = '' OR event_type = $2) ORDER BY created_at, id",
        )
        .bind(env)
        .bind(event_type.unwrap_or(""))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(trigger).collect()
    }

    async fn update_trigger(&self, env: i64, id: &str, uri: &str, now: i64) -> CatalogResult<bool> {
        let _w = self.sqlite_writer().await;
        let done = sqlx::query("UPDATE triggers SET uri = $1, updated_at = $2 WHERE env_id = $3 AND id = $4")
            .bind(uri)
            .bind(now)
            .bind(env)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_trigger(&self, env: i64, id: &str) -> CatalogResult<bool> {
        let _w = self.sqlite_writer().await;
        let done = sqlx::query("DELETE FROM triggers WHERE env_id = $1 AND id = $2")
            .bind(env)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }
}
