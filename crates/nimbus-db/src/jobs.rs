//! The job queue on the catalog database. PostgreSQL claims with `FOR UPDATE SKIP LOCKED`,
//! so nodes claiming at once take different jobs without waiting for each other; SQLite has
//! one writer at a time, and the claim is one statement under the writer lock.

use async_trait::async_trait;
use nimbus_app::jobs::{Enqueued, Failure, Job, JobAttempt, JobFilter, JobQueue, JobState, NewJob};
use nimbus_app::ports::{CatalogError, CatalogResult};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use crate::binds::Binds;
use crate::{Dialect, SqlCatalog, db_err};

const JOB_COLS: &str = "id, env_id, kind, payload, idempotency_key, priority, state, attempts, max_attempts, run_at, lease_owner, lease_until, last_error, created_at, updated_at";

/// Longest error text kept per attempt.
const MAX_ERROR_CHARS: usize = 2000;

fn job(row: &AnyRow) -> CatalogResult<Job> {
    let state: String = row.try_get("state").map_err(db_err)?;
    let payload: String = row.try_get("payload").map_err(db_err)?;
    let int = |c: &str| row.try_get::<i64, _>(c).map_err(db_err);
    Ok(Job {
        id: int("id")?,
        env_id: row.try_get("env_id").map_err(db_err)?,
        kind: row.try_get("kind").map_err(db_err)?,
        payload: serde_json::from_str(&payload).map_err(|e| CatalogError(format!("corrupt job payload: {e}")))?,
        idempotency_key: row.try_get("idempotency_key").map_err(db_err)?,
        priority: i32::try_from(int("priority")?).unwrap_or_default(),
        state: JobState::parse(&state).ok_or_else(|| CatalogError(format!("corrupt job state {state:?}")))?,
        attempts: u32::try_from(int("attempts")?).unwrap_or_default(),
        max_attempts: u32::try_from(int("max_attempts")?).unwrap_or_default(),
        run_at: int("run_at")?,
        lease_owner: row.try_get("lease_owner").map_err(db_err)?,
        lease_until: row.try_get("lease_until").map_err(db_err)?,
        last_error: row.try_get("last_error").map_err(db_err)?,
        created_at: int("created_at")?,
        updated_at: int("updated_at")?,
    })
}

fn clip(s: &str) -> String {
    s.chars().take(MAX_ERROR_CHARS).collect()
}

/// Enqueues `j` on `conn` (inside the caller's transaction when it is one).
pub(crate) async fn enqueue_in(conn: &mut AnyConnection, j: &NewJob, now: i64) -> CatalogResult<Enqueued> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO jobs (env_id, kind, payload, idempotency_key, priority, state, attempts, max_attempts, run_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 'queued', 0, $6, $7, $8, $8) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
    )
    .bind(j.env_id)
    .bind(j.kind.as_str())
    .bind(j.payload.to_string())
    .bind(j.idempotency_key.clone())
    .bind(i64::from(j.priority))
    .bind(i64::from(j.max_attempts.max(1)))
    .bind(j.run_at)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)?;
    if let Some(id) = id {
        return Ok(Enqueued::New(id));
    }
    let existing: i64 = sqlx::query_scalar("SELECT id FROM jobs WHERE idempotency_key = $1")
        .bind(j.idempotency_key.clone())
        .fetch_one(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(Enqueued::Duplicate(existing))
}

/// Closes the open attempt of a job.
async fn finish_attempt(
    conn: &mut AnyConnection,
    id: i64,
    attempt: i64,
    outcome: &str,
    detail: Option<&str>,
    now: i64,
) -> CatalogResult<()> {
    sqlx::query(
        "UPDATE job_attempts SET finished_at = $1, outcome = $2, detail = $3 WHERE job_id = $4 AND attempt = $5 AND finished_at IS NULL",
    )
    .bind(now)
    .bind(outcome)
    .bind(detail.map(clip))
    .bind(id)
    .bind(attempt)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

impl SqlCatalog {
    fn skip_locked(&self) -> &'static str {
        match self.dialect {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// The job's attempts so far and allowed, if `owner` holds its lease; row-locked.
    async fn leased(&self, conn: &mut AnyConnection, id: i64, owner: &str) -> CatalogResult<Option<(i64, i64)>> {
        let sql = format!(
            "SELECT attempts, max_attempts FROM jobs WHERE id = $1 AND state = 'running' AND lease_owner = $2{}",
            self.dialect.for_update()
        );
        let row = sqlx::query(&sql).bind(id).bind(owner).fetch_optional(&mut *conn).await.map_err(db_err)?;
        row.map(|r| Ok((r.try_get("attempts").map_err(db_err)?, r.try_get("max_attempts").map_err(db_err)?)))
            .transpose()
    }
}

#[async_trait]
impl JobQueue for SqlCatalog {
    async fn enqueue(&self, j: &NewJob, now: i64) -> CatalogResult<Enqueued> {
        let mut tx = self.write_tx().await?;
        let out = enqueue_in(&mut tx.tx, j, now).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn claim(&self, owner: &str, limit: u32, lease_secs: i64, now: i64) -> CatalogResult<Vec<Job>> {
        let mut tx = self.quiet_tx().await?;
        // Expired leases first: on their last attempt they are dead, otherwise due again.
        let sql = format!(
            "SELECT id, attempts, max_attempts FROM jobs WHERE state = 'running' AND lease_until < $1 ORDER BY lease_until LIMIT $2{}",
            self.skip_locked()
        );
        let expired =
            sqlx::query(&sql).bind(now).bind(i64::from(limit.max(1))).fetch_all(&mut *tx.tx).await.map_err(db_err)?;
        for r in &expired {
            let (id, attempts, max): (i64, i64, i64) = (
                r.try_get("id").map_err(db_err)?,
                r.try_get("attempts").map_err(db_err)?,
                r.try_get("max_attempts").map_err(db_err)?,
            );
            finish_attempt(&mut tx.tx, id, attempts, "lost", Some("the worker's lease expired"), now).await?;
            let (state, error) = if attempts >= max {
                ("dead", "the worker's lease expired on the last attempt")
            } else {
                ("queued", "the worker's lease expired")
            };
            sqlx::query(
                "UPDATE jobs SET state = $1, lease_owner = NULL, lease_until = NULL, last_error = $2, run_at = $3, updated_at = $3 WHERE id = $4",
            )
            .bind(state)
            .bind(error)
            .bind(now)
            .bind(id)
            .execute(&mut *tx.tx)
            .await
            .map_err(db_err)?;
        }
        let sql = format!(
            "SELECT id FROM jobs WHERE state = 'queued' AND run_at <= $1 ORDER BY priority DESC, run_at, id LIMIT $2{}",
            self.skip_locked()
        );
        let ids: Vec<i64> =
            sqlx::query_scalar(&sql).bind(now).bind(i64::from(limit)).fetch_all(&mut *tx.tx).await.map_err(db_err)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let sql = format!(
                "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = $1, lease_until = $2, updated_at = $3 WHERE id = $4 RETURNING {JOB_COLS}"
            );
            let row = sqlx::query(&sql)
                .bind(owner)
                .bind(now + lease_secs)
                .bind(now)
                .bind(id)
                .fetch_one(&mut *tx.tx)
                .await
                .map_err(db_err)?;
            let j = job(&row)?;
            sqlx::query("INSERT INTO job_attempts (job_id, attempt, owner, started_at) VALUES ($1, $2, $3, $4)")
                .bind(id)
                .bind(i64::from(j.attempts))
                .bind(owner)
                .bind(now)
                .execute(&mut *tx.tx)
                .await
                .map_err(db_err)?;
            out.push(j);
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn heartbeat(&self, id: i64, owner: &str, lease_secs: i64, now: i64) -> CatalogResult<bool> {
        let _guard = self.sqlite_writer().await;
        let done = sqlx::query(
            "UPDATE jobs SET lease_until = $1, updated_at = $2 WHERE id = $3 AND state = 'running' AND lease_owner = $4",
        )
        .bind(now + lease_secs)
        .bind(now)
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn complete(&self, id: i64, owner: &str, now: i64) -> CatalogResult<bool> {
        let mut tx = self.quiet_tx().await?;
        let Some((attempt, _)) = self.leased(&mut tx.tx, id, owner).await? else {
            tx.rollback().await?;
            return Ok(false);
        };
        finish_attempt(&mut tx.tx, id, attempt, "done", None, now).await?;
        sqlx::query(
            "UPDATE jobs SET state = 'done', lease_owner = NULL, lease_until = NULL, last_error = NULL, updated_at = $1 WHERE id = $2",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx.tx)
        .await
        .map_err(db_err)?;
        tx.commit().await?;
        Ok(true)
    }

    async fn fail(
        &self,
        id: i64,
        owner: &str,
        error: &str,
        then: Failure,
        now: i64,
    ) -> CatalogResult<Option<JobState>> {
        let mut tx = self.quiet_tx().await?;
        let Some((attempt, max)) = self.leased(&mut tx.tx, id, owner).await? else {
            tx.rollback().await?;
            return Ok(None);
        };
        let (state, run_at) = match then {
            Failure::RetryAt(at) if attempt < max => (JobState::Queued, at),
            _ => (JobState::Dead, now),
        };
        let outcome = if state == JobState::Queued { "retry" } else { "dead" };
        finish_attempt(&mut tx.tx, id, attempt, outcome, Some(error), now).await?;
        sqlx::query(
            "UPDATE jobs SET state = $1, run_at = $2, lease_owner = NULL, lease_until = NULL, last_error = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(state.as_str())
        .bind(run_at)
        .bind(clip(error))
        .bind(now)
        .bind(id)
        .execute(&mut *tx.tx)
        .await
        .map_err(db_err)?;
        tx.commit().await?;
        Ok(Some(state))
    }

    async fn job(&self, id: i64) -> CatalogResult<Option<Job>> {
        let sql = format!("SELECT {JOB_COLS} FROM jobs WHERE id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await.map_err(db_err)?;
        row.as_ref().map(job).transpose()
    }

    async fn list_jobs(&self, f: &JobFilter) -> CatalogResult<Vec<Job>> {
        let mut b = Binds::default();
        let mut conds = vec!["1 = 1".to_owned()];
        if let Some(e) = f.env_id {
            conds.push(format!("env_id = {}", b.int(e)));
        }
        if let Some(s) = f.state {
            conds.push(format!("state = {}", b.text(s.as_str())));
        }
        if let Some(k) = &f.kind {
            conds.push(format!("kind = {}", b.text(k.as_str())));
        }
        if let Some(before) = f.before {
            conds.push(format!("id < {}", b.int(before)));
        }
        let sql = format!(
            "SELECT {JOB_COLS} FROM jobs WHERE {} ORDER BY id DESC LIMIT {}",
            conds.join(" AND "),
            b.int(i64::from(f.limit.max(1)))
        );
        b.apply(&sql).fetch_all(&self.pool).await.map_err(db_err)?.iter().map(job).collect()
    }

    async fn job_attempts(&self, id: i64) -> CatalogResult<Vec<JobAttempt>> {
        let rows = sqlx::query(
            "SELECT attempt, owner, started_at, finished_at, outcome, detail FROM job_attempts WHERE job_id = $1 ORDER BY attempt",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(JobAttempt {
                    attempt: u32::try_from(r.try_get::<i64, _>("attempt").map_err(db_err)?).unwrap_or_default(),
                    owner: r.try_get("owner").map_err(db_err)?,
                    started_at: r.try_get("started_at").map_err(db_err)?,
                    finished_at: r.try_get("finished_at").map_err(db_err)?,
                    outcome: r.try_get("outcome").map_err(db_err)?,
                    detail: r.try_get("detail").map_err(db_err)?,
                })
            })
            .collect()
    }

    async fn retry_job(&self, id: i64, now: i64) -> CatalogResult<bool> {
        let mut tx = self.write_tx().await?;
        // Attempts are numbered on: the history of the earlier ones stays.
        let done = sqlx::query(
            "UPDATE jobs SET state = 'queued', run_at = $1, max_attempts = attempts + max_attempts, updated_at = $1 \
             WHERE id = $2 AND state IN ('dead', 'cancelled')",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx.tx)
        .await
        .map_err(db_err)?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    async fn cancel_job(&self, id: i64, now: i64) -> CatalogResult<bool> {
        let mut tx = self.write_tx().await?;
        let attempt: Option<i64> = sqlx::query_scalar(&format!(
            "SELECT attempts FROM jobs WHERE id = $1 AND state = 'running'{}",
            self.dialect.for_update()
        ))
        .bind(id)
        .fetch_optional(&mut *tx.tx)
        .await
        .map_err(db_err)?;
        if let Some(a) = attempt {
            finish_attempt(&mut tx.tx, id, a, "cancelled", None, now).await?;
        }
        let done = sqlx::query(
            "UPDATE jobs SET state = 'cancelled', lease_owner = NULL, lease_until = NULL, updated_at = $1 \
             WHERE id = $2 AND state IN ('queued', 'running')",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx.tx)
        .await
        .map_err(db_err)?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    async fn job_counts(&self, env_id: Option<i64>) -> CatalogResult<Vec<(JobState, i64)>> {
        let mut b = Binds::default();
        let filter = match env_id {
            Some(e) => format!("WHERE env_id = {}", b.int(e)),
            None => String::new(),
        };
        let sql = format!("SELECT state, COUNT(*) AS n FROM jobs {filter} GROUP BY state");
        let rows = b.apply(&sql).fetch_all(&self.pool).await.map_err(db_err)?;
        let mut out = Vec::new();
        for r in &rows {
            let s: String = r.try_get("state").map_err(db_err)?;
            if let Some(state) = JobState::parse(&s) {
                out.push((state, r.try_get("n").map_err(db_err)?));
            }
        }
        out.sort_by_key(|(s, _)| JobState::ALL.iter().position(|x| x == s));
        Ok(out)
    }

    async fn prune_jobs(&self, before: i64, limit: u32) -> CatalogResult<u64> {
        let _w = self.sqlite_writer().await;
        // Attempts go with their job (ON DELETE CASCADE).
        let r = sqlx::query(
            "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE state IN ('done', 'dead', 'cancelled') \
             AND updated_at < $1 ORDER BY id LIMIT $2)",
        )
        .bind(before)
        .bind(i64::from(limit))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(r.rows_affected())
    }
}
