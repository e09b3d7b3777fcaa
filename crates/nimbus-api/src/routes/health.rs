//! Probes for load balancers: alive, and ready (catalog and blob store reachable), with this
//! node's counters (derivatives it rendered).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::AppState;

pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let catalog = state.app.catalog.ping().await;
    let blobs = state.app.blobs.ping().await;
    if let Err(e) = &catalog {
        tracing::warn!(error = %e, "readiness: catalog unreachable");
    }
    if let Err(e) = &blobs {
        tracing::warn!(error = %e, "readiness: blob store unreachable");
    }
    let status = if catalog.is_ok() && blobs.is_ok() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let renders = state.app.renders.load(std::sync::atomic::Ordering::Relaxed);
    (status, Json(json!({ "catalog": catalog.is_ok(), "blob_store": blobs.is_ok(), "node": { "renders": renders } })))
}
