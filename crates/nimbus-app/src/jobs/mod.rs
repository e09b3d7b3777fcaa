//! Work that outlives a request: the queue port ([`queue`]), the retry policy, and the
//! worker that relays the outbox and runs jobs ([`worker`]).

pub mod admin;
mod blob_delete;
mod eager;
mod queue;
pub mod worker;

pub use queue::{Enqueued, Failure, Job, JobAttempt, JobFilter, JobQueue, JobState, NewJob};

/// Job kinds Nimbus runs.
pub const WEBHOOK: &str = "webhook";
pub const EAGER: &str = "eager";
pub const BLOB_DELETE: &str = "blob_delete";
/// Erases an account whose deletion grace period is over.
pub const PURGE: &str = "privacy_purge";
/// Builds the archive of a person's data they asked for.
pub const EXPORT: &str = "privacy_export";

/// How long a claimed job stays a worker's without a heartbeat.
pub const LEASE_SECS: i64 = 30;
/// How often a running job's lease is renewed.
pub const HEARTBEAT_SECS: u64 = 10;

/// Why a job's attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth another attempt later (a receiver down, a store outage).
    #[error("{0}")]
    Retry(String),
    /// Will fail the same way every time (bad payload, refused target).
    #[error("{0}")]
    Abort(String),
}

impl From<crate::AppError> for JobError {
    fn from(e: crate::AppError) -> Self {
        Self::Retry(e.to_string())
    }
}

impl From<crate::ports::CatalogError> for JobError {
    /// The catalog did not answer: worth trying again.
    fn from(e: crate::ports::CatalogError) -> Self {
        Self::Retry(e.to_string())
    }
}

/// When to try again after failed attempt number `attempt` (1 for the first): exponential
/// from `base_secs`, capped at `cap_secs`, with up to a fifth of the delay added or taken
/// away at random so that many failures at once do not come back at once. `jitter` is in
/// `[-1, 1]` (tests pass 0).
pub fn retry_delay(attempt: u32, base_secs: i64, cap_secs: i64, jitter: f64) -> i64 {
    let exp = base_secs.saturating_mul(1_i64 << attempt.saturating_sub(1).min(30));
    let delay = exp.min(cap_secs).max(1);
    let spread = (delay as f64 * 0.2 * jitter.clamp(-1.0, 1.0)) as i64;
    (delay + spread).max(1)
}

/// A random jitter for [`retry_delay`].
pub fn jitter() -> f64 {
    rand::random::<f64>() * 2.0 - 1.0
}

#[cfg(test)]
mod tests {
    use super::retry_delay;

    #[test]
    fn delays_grow_then_stop_growing() {
        let d: Vec<i64> = (1..=10).map(|a| retry_delay(a, 10, 3600, 0.0)).collect();
        assert_eq!(d, [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600]);
        assert_eq!(retry_delay(60, 10, 3600, 0.0), 3600);
        assert_eq!(retry_delay(1, 10, 3600, 1.0), 12);
        assert_eq!(retry_delay(1, 10, 3600, -1.0), 8);
    }
}
