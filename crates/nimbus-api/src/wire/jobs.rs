//! Jobs as the Admin API (`GET /v1_1/{cloud}/jobs`, a Nimbus extension) and `nimbus jobs`
//! show them.

use nimbus_app::jobs::{Job, JobAttempt};
use serde_json::json;

/// A job as the Admin API and the command line show it.
pub fn job_json(j: &Job) -> serde_json::Value {
    json!({
        "id": j.id,
        "kind": j.kind,
        "state": j.state.as_str(),
        "attempts": j.attempts,
        "max_attempts": j.max_attempts,
        "priority": j.priority,
        "target": j.payload.get("url"),
        "run_at": j.run_at,
        "lease_owner": j.lease_owner,
        "lease_until": j.lease_until,
        "last_error": j.last_error,
        "created_at": j.created_at,
        "updated_at": j.updated_at,
    })
}

/// An attempt as the Admin API and the command line show it.
pub fn attempt_json(a: &JobAttempt) -> serde_json::Value {
    json!({
        "attempt": a.attempt,
        "owner": a.owner,
        "started_at": a.started_at,
        "finished_at": a.finished_at,
        "outcome": a.outcome,
        "detail": a.detail,
    })
}
