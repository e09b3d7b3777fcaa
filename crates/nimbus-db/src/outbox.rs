//! The event outbox: written by every asset write in its own transaction (through
//! [`crate::write::after_write`]), read and marked by the relay.

use async_trait::async_trait;
use nimbus_app::events::{Actor, Caller, ConfigChange, Event, StoredEvent, WriteCtx};
use nimbus_app::jobs::NewJob;
use nimbus_app::ports::Outbox;
use nimbus_app::ports::{CatalogError, CatalogResult};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use crate::binds::{Binds, IN_CHUNK};
use crate::{SqlCatalog, db_err};

const EVENT_COLS: &str = "id, env_id, actor, notification_url, payload, created_at";

fn stored(row: &AnyRow) -> CatalogResult<StoredEvent> {
    let payload: String = row.try_get("payload").map_err(db_err)?;
    Ok(StoredEvent {
        id: row.try_get("id").map_err(db_err)?,
        env_id: row.try_get("env_id").map_err(db_err)?,
        actor: row.try_get("actor").map_err(db_err)?,
        notification_url: row.try_get("notification_url").map_err(db_err)?,
        event: serde_json::from_str(&payload).map_err(|e| CatalogError(format!("corrupt event payload: {e}")))?,
        created_at: row.try_get("created_at").map_err(db_err)?,
    })
}

/// Records one change of an environment's settings by `actor`.
pub(crate) async fn configured(
    conn: &mut AnyConnection,
    env: i64,
    actor: &Actor,
    now: i64,
    change: ConfigChange,
) -> CatalogResult<()> {
    let w = WriteCtx::new(&Caller { env, actor: actor.clone() }, now);
    record(conn, &w, &[change.into()]).await
}

/// Records `events` and, when the write changed something, enqueues the context's jobs.
pub(crate) async fn record(conn: &mut AnyConnection, w: &WriteCtx, events: &[Event]) -> CatalogResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    for e in events {
        let payload = serde_json::to_string(e).map_err(|e| CatalogError(format!("event not serialisable: {e}")))?;
        sqlx::query(
            "INSERT INTO events (env_id, kind, actor, notification_url, payload, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(w.env())
        .bind(e.kind())
        .bind(w.caller.actor.label())
        .bind(w.notification_url.clone())
        .bind(payload)
        .bind(w.now)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    }
    for j in &w.jobs {
        crate::jobs::enqueue_in(conn, j, w.now).await?;
    }
    Ok(())
}

#[async_trait]
impl Outbox for SqlCatalog {
    async fn pending_events(&self, limit: u32) -> CatalogResult<Vec<StoredEvent>> {
        let sql = format!("SELECT {EVENT_COLS} FROM events WHERE relayed_at IS NULL ORDER BY id LIMIT $1");
        let rows = sqlx::query(&sql).bind(i64::from(limit)).fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter().map(stored).collect()
    }

    async fn relay_events(&self, ids: &[i64], jobs: &[NewJob], now: i64) -> CatalogResult<()> {
        let mut tx = self.quiet_tx().await?;
        for chunk in ids.chunks(IN_CHUNK) {
            let mut b = Binds::default();
            let sql = format!(
                "UPDATE events SET relayed_at = {} WHERE relayed_at IS NULL AND id IN {}",
                b.int(now),
                b.int_list(chunk.iter().copied())
            );
            b.apply(&sql).execute(&mut *tx.tx).await.map_err(db_err)?;
        }
        for j in jobs {
            crate::jobs::enqueue_in(&mut tx.tx, j, now).await?;
        }
        tx.commit().await
    }

    async fn events(&self, env: i64, before: Option<i64>, limit: u32) -> CatalogResult<Vec<StoredEvent>> {
        let sql = format!("SELECT {EVENT_COLS} FROM events WHERE env_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3");
        let rows = sqlx::query(&sql)
            .bind(env)
            .bind(before.unwrap_or(i64::MAX))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(stored).collect()
    }

    async fn prune_events(&self, before: i64, limit: u32) -> CatalogResult<u64> {
        let _w = self.sqlite_writer().await;
        let r = sqlx::query(
            "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE relayed_at IS NOT NULL \
             AND relayed_at < $1 ORDER BY id LIMIT $2)",
        )
        .bind(before)
        .bind(i64::from(limit))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(r.rows_affected())
    }
}
