//! Nimbus's HTTP surface, shaped exactly like Cloudinary's: the Upload API and Admin API
//! under `/v1_1/{cloud}/...` (one typed [`endpoint::Endpoint`] per operation), delivery of
//! originals under `/{cloud}/{resource_type}/{type}/...`, and health probes.
//!
//! Handlers translate HTTP to service calls and back; rules live in `nimbus-app`. Errors
//! become responses in one place ([`error`]). Must not depend on sqlx or object_store.

pub mod endpoint;
pub mod error;
pub mod extract;
pub mod notifications;
pub mod origins;
pub mod presentation;
pub mod rate_limit;
mod routes;
pub mod wire;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{any, get};
use nimbus_app::App;

/// Shared state of all handlers.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub limiter: Arc<rate_limit::RateLimiter>,
}

/// Largest body of a console form (uploads go through the Upload API).
const CONSOLE_BODY_LIMIT: usize = 64 * 1024;

/// `X-Content-Type-Options: nosniff` on every response, errors included: browsers take
/// each body for what its `Content-Type` says and never guess HTML or script into it.
async fn no_sniffing(mut resp: axum::response::Response) -> axum::response::Response {
    resp.headers_mut()
        .insert(axum::http::header::X_CONTENT_TYPE_OPTIONS, axum::http::HeaderValue::from_static("nosniff"));
    resp
}

/// The whole HTTP application.
pub fn router(app: App) -> Router {
    router_with(app, Router::new())
}

/// The HTTP application with more routes (the web console) under the same layers: the
/// origin split, `nosniff` and the request trace.
pub fn router_with(app: App, extra: Router) -> Router {
    let body_limit = usize::try_from(app.config.max_file_bytes).unwrap_or(usize::MAX).saturating_add(1024 * 1024);
    let origins = origins::Origins::from_config(&app.config);
    let state = AppState { limiter: Arc::new(rate_limit::RateLimiter::new(app.config.admin_rate_limit)), app };
    let router = Router::new()
        .route("/healthz", get(routes::health::healthz))
        .route("/readyz", get(routes::health::readyz))
        .route("/v1_1/{*rest}", any(routes::api))
        .route("/{cloud}/search/{*rest}", get(routes::search::url))
        .fallback(routes::delivery::deliver)
        .layer(DefaultBodyLimit::max(body_limit));
    let mut all = router.with_state(state).merge(extra.layer(DefaultBodyLimit::max(CONSOLE_BODY_LIMIT)));
    // Only a server with a delivery host of its own pays for the host check.
    if let Some(origins) = origins {
        all = all.layer(axum::middleware::from_fn_with_state(Arc::new(origins), origins::split));
    }
    all.layer(axum::middleware::map_response(no_sniffing)).layer(routes::trace_layer())
}
