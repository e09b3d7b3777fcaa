//! The worker every `nimbus serve` runs: relays the outbox into jobs, claims due jobs under
//! a lease, renews the lease while a job runs, and records the outcome. Any node's worker
//! may take any job; a node that dies leaves its leases to expire and another node's worker
//! takes those jobs again.

use std::time::Duration;

use futures_util::future::join_all;

use super::{
    BLOB_DELETE, EAGER, EXPORT, HEARTBEAT_SECS, Job, JobError, LEASE_SECS, PURGE, WEBHOOK, jitter, retry_delay,
};
use crate::App;
use crate::error::AppResult;
use crate::jobs::Failure;

/// Events relayed per round.
const RELAY_BATCH: u32 = 200;
/// How often an idle worker looks for work that another node queued.
const IDLE_POLL: Duration = Duration::from_millis(500);

/// One worker: its name in leases, and how many jobs it runs at once.
#[derive(Clone)]
pub struct Worker {
    app: App,
    owner: String,
    concurrency: u32,
}

impl Worker {
    pub fn new(app: App, owner: impl Into<String>, concurrency: u32) -> Self {
        Self { app, owner: owner.into(), concurrency: concurrency.max(1) }
    }

    /// One round: relays pending events, then claims and runs due jobs until none is due.
    /// Returns how many jobs ran. Tests drive the queue with this, step by step.
    pub async fn run_once(&self) -> AppResult<usize> {
        while self.app.relay_outbox(RELAY_BATCH).await? == RELAY_BATCH as usize {}
        let mut ran = 0;
        loop {
            let jobs = self.app.catalog.claim(&self.owner, self.concurrency, LEASE_SECS, self.app.now()).await?;
            if jobs.is_empty() {
                return Ok(ran);
            }
            ran += jobs.len();
            join_all(jobs.into_iter().map(|j| self.run_job(j))).await;
        }
    }

    /// Runs rounds until `shutdown` resolves; between rounds waits for a local write or
    /// [`IDLE_POLL`].
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            if let Err(e) = self.run_once().await {
                tracing::warn!(error = %e, "job worker round failed");
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = self.app.wake.notified() => {}
                () = tokio::time::sleep(IDLE_POLL) => {}
            }
        }
    }

    async fn run_job(&self, job: Job) {
        let (id, kind) = (job.id, job.kind.clone());
        let beat = {
            let (app, owner) = (self.app.clone(), self.owner.clone());
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(HEARTBEAT_SECS));
                tick.tick().await;
                loop {
                    tick.tick().await;
                    match app.catalog.heartbeat(id, &owner, LEASE_SECS, app.now()).await {
                        Ok(true) => {}
                        Ok(false) => return,
                        Err(e) => tracing::warn!(job = id, error = %e, "could not renew a job's lease"),
                    }
                }
            })
        };
        let outcome = match kind.as_str() {
            WEBHOOK => self.app.deliver_webhook(&job).await,
            EAGER => self.app.run_eager_job(&job).await,
            BLOB_DELETE => self.app.delete_unreferenced(&job).await,
            PURGE => self.app.run_purge_job(&job).await,
            EXPORT => self.app.run_export_job(&job).await,
            other => Err(JobError::Abort(format!("no handler for jobs of kind {other}"))),
        };
        beat.abort();
        let now = self.app.now();
        let recorded = match &outcome {
            Ok(()) => self.app.catalog.complete(id, &self.owner, now).await.map(|_| ()),
            Err(e) => {
                let then = match e {
                    JobError::Retry(_) => {
                        let (base, cap) = if kind == WEBHOOK { (10, 3600) } else { (5, 600) };
                        Failure::RetryAt(now + retry_delay(job.attempts, base, cap, jitter()))
                    }
                    JobError::Abort(_) => Failure::Abort,
                };
                tracing::info!(job = id, kind = %kind, attempt = job.attempts, error = %e, "job attempt failed");
                self.app.catalog.fail(id, &self.owner, &e.to_string(), then, now).await.map(|_| ())
            }
        };
        if let Err(e) = recorded {
            tracing::warn!(job = id, error = %e, "could not record a job's outcome; its lease will expire");
        }
    }
}
