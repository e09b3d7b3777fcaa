//! Nimbus's own Admin API view of an environment's jobs (webhook deliveries, eager
//! derivatives): `GET jobs`, `GET jobs/{id}`, `POST jobs/{id}/retry`, `POST jobs/{id}/cancel`.

use crate::wire::jobs::{attempt_json, job_json};
use nimbus_app::App;
use serde_json::{Value, json};

use super::AdminCall;
use crate::error::ApiResult;

fn id_param(id: &str) -> ApiResult<i64> {
    id.parse().map_err(|_| nimbus_app::AppError::JobNotFound(0).into())
}

pub async fn list(app: &App, call: &AdminCall) -> ApiResult<Value> {
    let p = &call.params;
    let before = p.get("next_cursor").and_then(|c| c.parse().ok());
    let limit = p.get("max_results").and_then(|m| m.parse().ok()).unwrap_or(50);
    let jobs = app.list_jobs(Some(call.env.id), p.get("state"), p.get("kind"), before, limit).await?;
    let mut v = json!({ "jobs": jobs.iter().map(job_json).collect::<Vec<_>>() });
    if jobs.len() as u32 == limit {
        if let Some(last) = jobs.last() {
            v["next_cursor"] = json!(last.id.to_string());
        }
    }
    Ok(v)
}

pub async fn get(app: &App, call: &AdminCall, id: &str) -> ApiResult<Value> {
    let (job, attempts) = app.job_details(Some(call.env.id), id_param(id)?).await?;
    let mut v = job_json(&job);
    v["attempts_log"] = json!(attempts.iter().map(attempt_json).collect::<Vec<_>>());
    Ok(v)
}

pub async fn retry(app: &App, call: &AdminCall, id: &str) -> ApiResult<Value> {
    let done = app.retry_job(Some(call.env.id), id_param(id)?).await?;
    Ok(json!({ "message": if done { "queued" } else { "not dead or cancelled" } }))
}

pub async fn cancel(app: &App, call: &AdminCall, id: &str) -> ApiResult<Value> {
    let done = app.cancel_job(Some(call.env.id), id_param(id)?).await?;
    Ok(json!({ "message": if done { "cancelled" } else { "not queued or running" } }))
}
