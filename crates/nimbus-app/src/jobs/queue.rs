//! The durable job queue port: work that outlives the request that caused it.
//!
//! A job is enqueued in the same transaction as the change that causes it (see
//! [`crate::events::WriteCtx::jobs`]) or on its own, claimed by one worker at a time under a
//! lease that the worker renews while it runs, and finished as done, retried later, or dead.
//! A worker that dies leaves its lease to expire; the next claim after that takes the job
//! again. Times are Unix seconds passed in by the caller, so the conformance suite needs no
//! sleeps.

use async_trait::async_trait;
use serde_json::Value;

use crate::ports::CatalogResult;

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    /// Waiting for `run_at`.
    Queued,
    /// Claimed by a worker whose lease runs until `lease_until`.
    Running,
    Done,
    /// Failed on its last allowed attempt, or refused to be retried.
    Dead,
    Cancelled,
}

impl JobState {
    pub const ALL: [JobState; 5] = [Self::Queued, Self::Running, Self::Done, Self::Dead, Self::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Dead => "dead",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub env_id: Option<i64>,
    /// What to run: the name a worker handler is registered under.
    pub kind: String,
    pub payload: Value,
    /// A second job with the same key is not enqueued (the first one's id is answered).
    pub idempotency_key: Option<String>,
    /// Higher runs first among due jobs.
    pub priority: i32,
    pub max_attempts: u32,
    /// Not before this time.
    pub run_at: i64,
}

impl NewJob {
    /// A job of `kind` due at once, priority 0, with the kind's default number of attempts.
    pub fn new(kind: &str, env_id: Option<i64>, payload: Value, run_at: i64) -> Self {
        Self { env_id, kind: kind.to_owned(), payload, idempotency_key: None, priority: 0, max_attempts: 5, run_at }
    }

    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    pub fn attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    pub fn priority(mut self, p: i32) -> Self {
        self.priority = p;
        self
    }
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: i64,
    pub env_id: Option<i64>,
    pub kind: String,
    pub payload: Value,
    pub idempotency_key: Option<String>,
    pub priority: i32,
    pub state: JobState,
    /// Attempts started so far (the running one included).
    pub attempts: u32,
    pub max_attempts: u32,
    pub run_at: i64,
    pub lease_owner: Option<String>,
    pub lease_until: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One attempt at a job, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobAttempt {
    pub attempt: u32,
    /// The worker that ran it.
    pub owner: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    /// `done`, `retry`, `dead`, `lost` (the lease expired), or none while it runs.
    pub outcome: Option<String>,
    pub detail: Option<String>,
}

/// What `enqueue` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    New(i64),
    /// A job with the same idempotency key exists: this one.
    Duplicate(i64),
}

impl Enqueued {
    pub fn id(self) -> i64 {
        match self {
            Self::New(id) | Self::Duplicate(id) => id,
        }
    }
}

/// Filters and paging of a job listing (newest first).
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    pub env_id: Option<i64>,
    pub state: Option<JobState>,
    pub kind: Option<String>,
    /// Ids below this one.
    pub before: Option<i64>,
    pub limit: u32,
}

/// How a failed attempt ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Try again at this time, if attempts remain (else the job is dead).
    RetryAt(i64),
    /// Never again: the job is dead now.
    Abort,
}

/// The queue. Methods taking `owner` act only while that worker holds the job's lease and
/// answer `false` / `None` when it was lost (expired and claimed again, or cancelled).
#[async_trait]
pub trait JobQueue: Send + Sync {
    async fn enqueue(&self, job: &NewJob, now: i64) -> CatalogResult<Enqueued>;
    /// Takes up to `limit` due jobs (queued with `run_at <= now`, or running with an expired
    /// lease), highest priority first, then oldest `run_at`; each gets a lease until
    /// `now + lease_secs` and one more attempt. A job whose lease expired on its last allowed
    /// attempt is marked dead instead of claimed.
    async fn claim(&self, owner: &str, limit: u32, lease_secs: i64, now: i64) -> CatalogResult<Vec<Job>>;
    /// Extends the lease; false if the lease is not `owner`'s any more.
    async fn heartbeat(&self, id: i64, owner: &str, lease_secs: i64, now: i64) -> CatalogResult<bool>;
    async fn complete(&self, id: i64, owner: &str, now: i64) -> CatalogResult<bool>;
    /// Records a failed attempt; answers the job's new state (`Queued` or `Dead`), or `None`
    /// if the lease was lost.
    async fn fail(&self, id: i64, owner: &str, error: &str, then: Failure, now: i64)
    -> CatalogResult<Option<JobState>>;
    async fn job(&self, id: i64) -> CatalogResult<Option<Job>>;
    async fn list_jobs(&self, filter: &JobFilter) -> CatalogResult<Vec<Job>>;
    /// Every attempt of a job, first first.
    async fn job_attempts(&self, id: i64) -> CatalogResult<Vec<JobAttempt>>;
    /// Queues a dead or cancelled job again, due now, with a fresh budget of attempts (the
    /// earlier attempts stay in its history).
    async fn retry_job(&self, id: i64, now: i64) -> CatalogResult<bool>;
    /// Cancels a queued or running job (a running attempt's result is then discarded).
    async fn cancel_job(&self, id: i64, now: i64) -> CatalogResult<bool>;
    /// Counts of jobs by state, for the metrics and the Admin API.
    async fn job_counts(&self, env_id: Option<i64>) -> CatalogResult<Vec<(JobState, i64)>>;
    /// Deletes up to `limit` finished jobs (done, dead or cancelled) last changed before
    /// `before`, with their attempts, oldest first; returns how many.
    async fn prune_jobs(&self, before: i64, limit: u32) -> CatalogResult<u64>;
}
