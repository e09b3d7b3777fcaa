//! The request desk's records (privacy F8): requests from people who may have no account,
//! and their history.

use async_trait::async_trait;
use nimbus_app::ports::{CatalogResult, RequestDesk, RequestLogLine, SubjectRequest};
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{SqlCatalog, db_err};

const COLS: &str = "id, kind, email, cloud, public_id, details, verified_at, received_at, due_at, extension_reason, \
                    status, closed_at";

fn request(r: &AnyRow) -> CatalogResult<SubjectRequest> {
    Ok(SubjectRequest {
        id: r.try_get("id").map_err(db_err)?,
        kind: r.try_get("kind").map_err(db_err)?,
        email: r.try_get("email").map_err(db_err)?,
        cloud: r.try_get("cloud").map_err(db_err)?,
        public_id: r.try_get("public_id").map_err(db_err)?,
        details: r.try_get("details").map_err(db_err)?,
        verified_at: r.try_get("verified_at").map_err(db_err)?,
        received_at: r.try_get("received_at").map_err(db_err)?,
        due_at: r.try_get("due_at").map_err(db_err)?,
        extension_reason: r.try_get("extension_reason").map_err(db_err)?,
        status: r.try_get("status").map_err(db_err)?,
        closed_at: r.try_get("closed_at").map_err(db_err)?,
    })
}

#[async_trait]
impl RequestDesk for SqlCatalog {
    async fn create_subject_request(&self, r: &SubjectRequest, token_hash: &str, note: &str) -> CatalogResult<i64> {
        let mut w = self.quiet_tx().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO subject_requests (kind, email, cloud, public_id, details, token_hash, received_at, due_at, status) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(r.kind.as_str())
        .bind(r.email.as_str())
        .bind(r.cloud.as_deref())
        .bind(r.public_id.as_deref())
        .bind(r.details.as_str())
        .bind(token_hash)
        .bind(r.received_at)
        .bind(r.due_at)
        .bind(r.status.as_str())
        .fetch_one(&mut *w.tx)
        .await
        .map_err(db_err)?;
        sqlx::query("INSERT INTO subject_request_log (request_id, at, actor, note) VALUES ($1, $2, 'requester', $3)")
            .bind(id)
            .bind(r.received_at)
            .bind(note)
            .execute(&mut *w.tx)
            .await
            .map_err(db_err)?;
        w.commit().await?;
        Ok(id)
    }

    async fn subject_request(&self, id: i64) -> CatalogResult<Option<SubjectRequest>> {
        let row = sqlx::query(&format!("SELECT {COLS} FROM subject_requests WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(request).transpose()
    }

    async fn subject_requests(&self) -> CatalogResult<Vec<SubjectRequest>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM subject_requests \
             ORDER BY CASE WHEN status = 'open' THEN 0 ELSE 1 END, \
             CASE WHEN status = 'open' THEN due_at ELSE -closed_at END, id"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(request).collect()
    }

    async fn verify_subject_request(&self, token_hash: &str, now: i64) -> CatalogResult<Option<i64>> {
        let mut w = self.quiet_tx().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "UPDATE subject_requests SET verified_at = $1, token_hash = NULL WHERE token_hash = $2 RETURNING id",
        )
        .bind(now)
        .bind(token_hash)
        .fetch_optional(&mut *w.tx)
        .await
        .map_err(db_err)?;
        if let Some(id) = id {
            sqlx::query(
                "INSERT INTO subject_request_log (request_id, at, actor, note) \
                 VALUES ($1, $2, 'requester', 'e-mail address verified')",
            )
            .bind(id)
            .bind(now)
            .execute(&mut *w.tx)
            .await
            .map_err(db_err)?;
        }
        w.commit().await?;
        Ok(id)
    }

    async fn update_subject_request(&self, r: &SubjectRequest, line: &RequestLogLine) -> CatalogResult<()> {
        let mut w = self.quiet_tx().await?;
        sqlx::query(
            "UPDATE subject_requests SET due_at = $1, extension_reason = $2, status = $3, closed_at = $4 WHERE id = $5",
        )
        .bind(r.due_at)
        .bind(r.extension_reason.as_deref())
        .bind(r.status.as_str())
        .bind(r.closed_at)
        .bind(r.id)
        .execute(&mut *w.tx)
        .await
        .map_err(db_err)?;
        sqlx::query("INSERT INTO subject_request_log (request_id, at, actor, note) VALUES ($1, $2, $3, $4)")
            .bind(r.id)
            .bind(line.at)
            .bind(line.actor.as_str())
            .bind(line.note.as_str())
            .execute(&mut *w.tx)
            .await
            .map_err(db_err)?;
        w.commit().await
    }

    async fn subject_request_log(&self, id: i64) -> CatalogResult<Vec<RequestLogLine>> {
        let rows = sqlx::query("SELECT at, actor, note FROM subject_request_log WHERE request_id = $1 ORDER BY at")
            .bind(id)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(RequestLogLine {
                    at: r.try_get("at").map_err(db_err)?,
                    actor: r.try_get("actor").map_err(db_err)?,
                    note: r.try_get("note").map_err(db_err)?,
                })
            })
            .collect()
    }

    async fn prune_subject_requests(&self, before: i64) -> CatalogResult<u64> {
        let mut w = self.quiet_tx().await?;
        sqlx::query(
            "DELETE FROM subject_request_log WHERE request_id IN \
             (SELECT id FROM subject_requests WHERE closed_at IS NOT NULL AND closed_at < $1)",
        )
        .bind(before)
        .execute(&mut *w.tx)
        .await
        .map_err(db_err)?;
        let n = sqlx::query("DELETE FROM subject_requests WHERE closed_at IS NOT NULL AND closed_at < $1")
            .bind(before)
            .execute(&mut *w.tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        w.commit().await?;
        Ok(n)
    }

    async fn restrict_asset(&self, env: i64, asset_id: &str, at: i64, reason: &str) -> CatalogResult<bool> {
        let mut w = self.quiet_tx().await?;
        let n = sqlx::query(
            "INSERT INTO asset_restrictions (env_id, asset_id, restricted_at, reason) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(env)
        .bind(asset_id)
        .bind(at)
        .bind(reason)
        .execute(&mut *w.tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        w.commit().await?;
        Ok(n > 0)
    }

    async fn lift_restriction(&self, env: i64, asset_id: &str) -> CatalogResult<bool> {
        let mut w = self.quiet_tx().await?;
        let n = sqlx::query("DELETE FROM asset_restrictions WHERE env_id = $1 AND asset_id = $2")
            .bind(env)
            .bind(asset_id)
            .execute(&mut *w.tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        w.commit().await?;
        Ok(n > 0)
    }

    async fn restricted_assets(&self, env: i64) -> CatalogResult<Vec<String>> {
        sqlx::query_scalar("SELECT asset_id FROM asset_restrictions WHERE env_id = $1 ORDER BY asset_id")
            .bind(env)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)
    }
}
