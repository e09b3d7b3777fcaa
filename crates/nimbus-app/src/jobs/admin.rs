//! Jobs as an environment's owner sees them (Admin API) and as the operator does (command
//! line, all environments).

use super::{Job, JobAttempt, JobFilter, JobState};
use crate::error::AppResult;
use crate::{App, AppError};

/// Most jobs listed per call.
pub const MAX_JOBS_LISTED: u32 = 500;

impl App {
    /// Jobs newest first; `env` `None` lists every environment's.
    pub async fn list_jobs(
        &self,
        env: Option<i64>,
        state: Option<&str>,
        kind: Option<&str>,
        before: Option<i64>,
        limit: u32,
    ) -> AppResult<Vec<Job>> {
        let state = state
            .map(|s| JobState::parse(s).ok_or_else(|| AppError::InvalidParam { name: "state", value: s.to_owned() }))
            .transpose()?;
        let filter = JobFilter {
            env_id: env,
            state,
            kind: kind.map(str::to_owned),
            before,
            limit: limit.clamp(1, MAX_JOBS_LISTED),
        };
        Ok(self.catalog.list_jobs(&filter).await?)
    }

    /// A job and its attempts, if it belongs to `env` (any environment's for `None`).
    pub async fn job_details(&self, env: Option<i64>, id: i64) -> AppResult<(Job, Vec<JobAttempt>)> {
        let job = self
            .catalog
            .job(id)
            .await?
            .filter(|j| env.is_none() || j.env_id == env)
            .ok_or(AppError::JobNotFound(id))?;
        let attempts = self.catalog.job_attempts(id).await?;
        Ok((job, attempts))
    }

    /// Queues a dead or cancelled job again; false if it is in another state.
    pub async fn retry_job(&self, env: Option<i64>, id: i64) -> AppResult<bool> {
        self.job_details(env, id).await?;
        let done = self.catalog.retry_job(id, self.now()).await?;
        self.wake.notify_one();
        Ok(done)
    }

    /// Cancels a queued or running job; false if it is in another state.
    pub async fn cancel_job(&self, env: Option<i64>, id: i64) -> AppResult<bool> {
        self.job_details(env, id).await?;
        Ok(self.catalog.cancel_job(id, self.now()).await?)
    }
}
