//! One server, two origins. With a delivery host name configured (`--delivery-url`),
//! delivered files are served only under that host, and the Upload and Admin APIs only
//! under the others: a file somebody uploaded can then never run as script on the origin
//! where API credentials and console sessions live, whatever its type. Health probes answer
//! on both.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};

use std::sync::Arc;

use crate::error::ApiError;

/// The `host[:port]` of a base URL, lower-cased.
pub fn authority(base_url: &str) -> Option<String> {
    let rest = base_url.split_once("://").map_or(base_url, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next()?.to_ascii_lowercase();
    (!host.is_empty()).then_some(host)
}

/// Whether a path belongs to the API's origin rather than delivery's: the APIs and the
/// console.
fn is_api_path(path: &str) -> bool {
    path.starts_with("/v1_1/") || path == "/console" || path.starts_with("/console/")
}

/// Paths both hosts answer: health checks, and the privacy pages and GPC file (the
/// delivery host is the one other sites' visitors meet).
fn is_health(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/privacy" | "/privacy/versions" | "/cookies" | "/.well-known/gpc.json")
}

/// The two origins of a server with a delivery host of its own.
#[derive(Debug, Clone)]
pub struct Origins {
    /// `host[:port]` of the delivery host, lower-cased.
    pub delivery_host: String,
    /// Base URL of delivery, for the message on the API host.
    pub delivery_base: String,
}

impl Origins {
    /// `None` when delivery shares the API's host (no check at all on the request path).
    pub fn from_config(config: &nimbus_app::AppConfig) -> Option<Self> {
        let base = config.delivery_base_url.as_deref()?;
        Some(Self { delivery_host: authority(base)?, delivery_base: base.to_owned() })
    }
}

/// Refuses, with 404, API calls on the delivery host and deliveries on the API host.
pub async fn split(State(origins): State<Arc<Origins>>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if is_health(path) {
        return next.run(req).await;
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase)
        .or_else(|| req.uri().authority().map(|a| a.as_str().to_ascii_lowercase()));
    let on_delivery_host = host.as_deref() == Some(origins.delivery_host.as_str());
    match (on_delivery_host, is_api_path(path)) {
        (true, true) => {
            ApiError::UnknownEndpoint(format!("{path} (the API is not served on the delivery host)")).into_response()
        }
        (false, false) => {
            ApiError::UnknownEndpoint(format!("{path} (delivery is served from {})", origins.delivery_base))
                .into_response()
        }
        _ => next.run(req).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorities() {
        assert_eq!(authority("https://Media.Example.com/"), Some("media.example.com".into()));
        assert_eq!(authority("http://127.0.0.1:8081"), Some("127.0.0.1:8081".into()));
        assert_eq!(authority("media.example.com/x"), Some("media.example.com".into()));
        assert_eq!(authority("https://"), None);
    }
}
