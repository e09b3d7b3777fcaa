//! `nimbus jobs ...`: the durable job queue as the operator sees it, across environments.

use std::error::Error;

use clap::Subcommand;
use nimbus_api::wire::jobs::{attempt_json, job_json};

use crate::serve::build_app;
use crate::settings::Settings;

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// List jobs, newest first (one JSON object per line).
    List {
        /// queued, running, done, dead or cancelled.
        #[arg(long)]
        state: Option<String>,
        /// webhook, eager, ...
        #[arg(long)]
        kind: Option<String>,
        /// Only this environment's.
        #[arg(long)]
        cloud: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// A job with every attempt.
    Show { id: i64 },
    /// Queue a dead or cancelled job again.
    Retry { id: i64 },
    /// Cancel a queued or running job.
    Cancel { id: i64 },
}

pub async fn jobs(s: Settings, cmd: JobsCommand) -> Result<(), Box<dyn Error>> {
    let (app, catalog) = build_app(&s).await?;
    let outcome = async {
        match cmd {
            JobsCommand::List { state, kind, cloud, limit } => {
                let env = match cloud {
                    Some(c) => Some(app.environment(&c).await?.id),
                    None => None,
                };
                for j in app.list_jobs(env, state.as_deref(), kind.as_deref(), None, limit).await? {
                    println!("{}", job_json(&j));
                }
            }
            JobsCommand::Show { id } => {
                let (job, attempts) = app.job_details(None, id).await?;
                let mut v = job_json(&job);
                v["attempts_log"] = attempts.iter().map(attempt_json).collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            }
            JobsCommand::Retry { id } => {
                let done = app.retry_job(None, id).await?;
                println!("{}", if done { "queued again" } else { "not dead or cancelled: unchanged" });
            }
            JobsCommand::Cancel { id } => {
                let done = app.cancel_job(None, id).await?;
                println!("{}", if done { "cancelled" } else { "not queued or running: unchanged" });
            }
        }
        Ok::<(), Box<dyn Error>>(())
    }
    .await;
    catalog.close().await;
    outcome
}
