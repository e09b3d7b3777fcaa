//! How long the outbox, the job list and the console's sessions keep what is finished:
//! relayed events and finished jobs (with their attempts) are deleted once older than the
//! configured retention, a batch at a time, sessions once unused for theirs, and one-time links once expired, by each node's maintenance round. Unrelayed
//! events and queued or running jobs are never pruned.

use crate::App;
use crate::error::AppResult;

/// Rows deleted per statement: short transactions, no long lock on either table.
const BATCH: u32 = 1000;

/// What one pruning round deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub events: u64,
    pub jobs: u64,
    /// Sessions and expired links.
    pub sessions: u64,
    /// Data archives past their 7 days.
    pub exports: usize,
    /// Delivery visitor hashes and salts past their two days.
    pub visitors: u64,
    /// Request-desk requests closed more than three years ago.
    pub requests: u64,
}

impl App {
    /// Deletes relayed events and finished jobs past their retention.
    pub async fn prune_history(&self) -> AppResult<Pruned> {
        let now = self.now();
        let mut pruned = Pruned::default();
        let events_before = now - self.config.retention.events_secs;
        loop {
            let n = self.catalog.prune_events(events_before, BATCH).await?;
            pruned.events += n;
            if n < u64::from(BATCH) {
                break;
            }
        }
        let jobs_before = now - self.config.retention.jobs_secs;
        loop {
            let n = self.catalog.prune_jobs(jobs_before, BATCH).await?;
            pruned.jobs += n;
            if n < u64::from(BATCH) {
                break;
            }
        }
        let idle_before = now - self.config.retention.sessions_secs;
        pruned.sessions = self.catalog.prune_sessions_and_links(idle_before, now).await?;
        pruned.exports = self.prune_exports().await?;
        pruned.visitors = self.settle_analytics().await?;
        pruned.requests = self.prune_subject_requests().await?;
        if pruned != Pruned::default() {
            let (events, jobs, sessions, exports) = (pruned.events, pruned.jobs, pruned.sessions, pruned.exports);
            let (visitors, requests) = (pruned.visitors, pruned.requests);
            tracing::info!(
                events,
                jobs,
                sessions,
                exports,
                visitors,
                requests,
                "finished events, jobs, sessions, data archives, delivery visitors and old requests pruned"
            );
        }
        Ok(pruned)
    }
}
