//! Delivery: `GET|HEAD /{cloud}/{resource_type}/{type}/[s--SIG--/][t1/t2/.../][v123/]{id}.{ext}`.
//! Originals stream from the blob store with validators (ETag, Last-Modified, 304) and single
//! byte ranges (206/416); derivatives are rendered once and then served like files, with
//! `Vary: Accept` for `f_auto`. Errors carry Cloudinary's `X-Cld-Error` header.

use std::ops::Range;
use std::time::{Duration, UNIX_EPOCH};

use axum::body::Body;
use std::net::SocketAddr;

use axum::Extension;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use nimbus_app::analytics::{self, Visit};
use nimbus_app::derive::{ClientHints, Delivery, Derived};
use nimbus_core::Asset;
use nimbus_core::delivery::DeliveryPath;

use crate::AppState;
use crate::error::ApiError;
use crate::presentation;

/// Originals are immutable per version URL; a year would do, a month is Cloudinary's habit.
const CACHE_PUBLIC: &str = "public, max-age=2592000";
const CACHE_PRIVATE: &str = "private, max-age=3600";
/// `fl_immutable_cache` on a public asset: a year, never revalidated (a new version has a
/// new URL).
const CACHE_IMMUTABLE: &str = "public, max-age=31536000, immutable";

pub async fn deliver(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return error(ApiError::UnknownEndpoint(format!("{method} {}", uri.path())));
    }
    let hints = ClientHints {
        accept: headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).map(str::to_owned),
        dpr: ["sec-ch-dpr", "dpr"]
            .iter()
            .find_map(|h| headers.get(*h).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<f64>().ok()))
            .filter(|d| d.is_finite() && *d > 0.0),
    };
    // A URL seen in the last seconds skips parsing, signature checks and lookups.
    let key = hints.cache_key(uri.path());
    let delivery = match state.app.delivery_cache.resolved(&key) {
        Some(d) => d,
        None => {
            let path = match DeliveryPath::parse(uri.path()) {
                Ok(p) => p,
                Err(e) => return error_with(StatusCode::NOT_FOUND, &e.to_string()),
            };
            match state.app.deliver(&path, &hints).await {
                Ok(d) => {
                    state.app.delivery_cache.put_resolved(key, &d);
                    d
                }
                Err(e) => return error(e.into()),
            }
        }
    };
    if let Some(cloud) = uri.path().split('/').nth(1) {
        let asset = match &delivery {
            Delivery::Original(a) | Delivery::Derived(a, _) => a,
        };
        let visit = visit(&state, peer.map(|Extension(ConnectInfo(p))| p.ip()), &method, &headers, &asset.asset_id);
        state.app.count_delivery(cloud, visit).await;
    }
    let result = match delivery {
        Delivery::Original(asset) => stream(&state, &asset, &method, &headers).await,
        Delivery::Derived(asset, d) => derived(&state, &asset, d, &method, &headers).await,
    };
    result.unwrap_or_else(error)
}

/// What delivery analytics may count of a GET: the client's address (the peer, or the
/// client a trusted proxy names) and browser, unless the request says `DNT: 1` or
/// `Sec-GPC: 1`.
fn visit<'a>(
    state: &AppState,
    peer: Option<std::net::IpAddr>,
    method: &Method,
    headers: &'a HeaderMap,
    asset_id: &'a str,
) -> Option<Visit<'a>> {
    let h = |name: &str| headers.get(name).map(HeaderValue::as_bytes);
    if method != Method::GET || analytics::declines(h("dnt"), h("sec-gpc")) {
        return None;
    }
    let forwarded = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    let client = nimbus_app::client_ip::resolve(peer, forwarded, &state.app.config.trusted_proxies)?;
    let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    Some(Visit { asset_id, client, user_agent })
}

/// A derivative: from memory when it was just rendered, else streamed from the blob store.
async fn derived(
    state: &AppState,
    asset: &Asset,
    d: Derived,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let mut h = HeaderMap::new();
    let put = |h: &mut HeaderMap, k: header::HeaderName, v: &str| {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(k, v);
        }
    };
    put(&mut h, header::ETAG, &d.etag);
    put(&mut h, header::CONTENT_TYPE, d.format.content_type());
    let cache = match (asset.publicly_cacheable(), d.immutable) {
        (true, true) => CACHE_IMMUTABLE,
        (true, false) => CACHE_PUBLIC,
        (false, _) => CACHE_PRIVATE,
    };
    put(&mut h, header::CACHE_CONTROL, cache);
    put(&mut h, header::ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    put(
        &mut h,
        header::LAST_MODIFIED,
        &httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(asset.version.max(0) as u64)),
    );
    if d.vary_accept {
        put(&mut h, header::VARY, "Accept");
    }
    put(&mut h, header::CONTENT_SECURITY_POLICY, presentation::DELIVERY_CSP);
    presentation::add_custom_headers(&mut h, asset);
    if d.attachment {
        let name = presentation::file_name(asset.public_id.name(), Some(d.format.as_str()));
        put(&mut h, header::CONTENT_DISPOSITION, &presentation::content_disposition(&name));
    }
    if let Some(inm) = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
        if etag_matches(inm, &d.etag) {
            return Ok((StatusCode::NOT_MODIFIED, h).into_response());
        }
    }
    match d.bytes {
        Some(bytes) => {
            put(&mut h, header::CONTENT_LENGTH, &bytes.len().to_string());
            let body = if method == Method::HEAD { Body::empty() } else { Body::from(bytes) };
            Ok((StatusCode::OK, h, body).into_response())
        }
        None => {
            let read = state.app.blobs.get(&d.key, None).await.map_err(nimbus_app::AppError::from)?;
            put(&mut h, header::CONTENT_LENGTH, &read.size.to_string());
            let body = if method == Method::HEAD { Body::empty() } else { Body::from_stream(read.stream) };
            Ok((StatusCode::OK, h, body).into_response())
        }
    }
}

async fn stream(state: &AppState, asset: &Asset, method: &Method, headers: &HeaderMap) -> Result<Response, ApiError> {
    let etag = format!("\"{}\"", asset.etag);
    let size = u64::try_from(asset.bytes).unwrap_or(0);
    let mut resp_headers = HeaderMap::new();
    let put = |h: &mut HeaderMap, k: header::HeaderName, v: &str| {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(k, v);
        }
    };
    put(&mut resp_headers, header::ETAG, &etag);
    put(
        &mut resp_headers,
        header::LAST_MODIFIED,
        &httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(asset.version.max(0) as u64)),
    );
    put(
        &mut resp_headers,
        header::CACHE_CONTROL,
        if asset.publicly_cacheable() { CACHE_PUBLIC } else { CACHE_PRIVATE },
    );
    let shown = presentation::of_original(asset);
    put(&mut resp_headers, header::CONTENT_TYPE, shown.content_type);
    if let Some(name) = &shown.attachment {
        put(&mut resp_headers, header::CONTENT_DISPOSITION, &presentation::content_disposition(name));
    }
    if shown.sandboxed {
        put(&mut resp_headers, header::CONTENT_SECURITY_POLICY, presentation::DELIVERY_CSP);
    }
    presentation::add_custom_headers(&mut resp_headers, asset);
    put(&mut resp_headers, header::ACCEPT_RANGES, "bytes");
    put(&mut resp_headers, header::ACCESS_CONTROL_ALLOW_ORIGIN, "*");

    if let Some(inm) = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
        if etag_matches(inm, &etag) {
            return Ok((StatusCode::NOT_MODIFIED, resp_headers).into_response());
        }
    }
    let range_ok = headers.get(header::IF_RANGE).and_then(|v| v.to_str().ok()).is_none_or(|v| v == etag);
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(r) if range_ok => match parse_range(r, size) {
            RangeSpec::Full => None,
            RangeSpec::Part(r) => Some(r),
            RangeSpec::Unsatisfiable => {
                put(&mut resp_headers, header::CONTENT_RANGE, &format!("bytes */{size}"));
                return Ok((StatusCode::RANGE_NOT_SATISFIABLE, resp_headers).into_response());
            }
        },
        _ => None,
    };
    let (status, len) = match &range {
        Some(r) => {
            put(&mut resp_headers, header::CONTENT_RANGE, &format!("bytes {}-{}/{size}", r.start, r.end - 1));
            (StatusCode::PARTIAL_CONTENT, r.end - r.start)
        }
        None => (StatusCode::OK, size),
    };
    put(&mut resp_headers, header::CONTENT_LENGTH, &len.to_string());
    if method == Method::HEAD {
        return Ok((status, resp_headers).into_response());
    }
    let read = state.app.blobs.get(&asset.blob_key, range).await.map_err(nimbus_app::AppError::from)?;
    Ok((status, resp_headers, Body::from_stream(read.stream)).into_response())
}

fn etag_matches(header: &str, etag: &str) -> bool {
    header.split(',').map(str::trim).any(|t| t == "*" || t == etag || t.strip_prefix("W/") == Some(etag))
}

#[derive(Debug, PartialEq, Eq)]
enum RangeSpec {
    Full,
    Part(Range<u64>),
    Unsatisfiable,
}

/// One `bytes=` range; several ranges are answered with the whole file (allowed by RFC 9110).
fn parse_range(h: &str, size: u64) -> RangeSpec {
    let Some(spec) = h.trim().strip_prefix("bytes=") else {
        return RangeSpec::Full;
    };
    if spec.contains(',') {
        return RangeSpec::Full;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return RangeSpec::Full;
    };
    let (a, b) = (a.trim(), b.trim());
    let r = match (a.parse::<u64>().ok(), b.parse::<u64>().ok()) {
        (Some(start), Some(end)) if start <= end => start..(end + 1).min(size),
        (Some(start), None) if b.is_empty() => start..size,
        (None, Some(n)) if a.is_empty() => size.saturating_sub(n)..size,
        _ => return RangeSpec::Full,
    };
    if r.start >= size || r.is_empty() { RangeSpec::Unsatisfiable } else { RangeSpec::Part(r) }
}

fn error(e: ApiError) -> Response {
    let status = e.status();
    error_with(status, &e.public_message())
}

fn error_with(status: StatusCode, message: &str) -> Response {
    let mut h = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&message.replace(['\r', '\n'], " ")) {
        h.insert("x-cld-error", v);
    }
    let cache =
        if status == StatusCode::UNAUTHORIZED || status.is_server_error() { "no-store" } else { "public, max-age=60" };
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if status == StatusCode::SERVICE_UNAVAILABLE {
        h.insert(header::RETRY_AFTER, HeaderValue::from_static(crate::error::RETRY_AFTER_SECS));
    }
    let body = serde_json::json!({ "error": { "message": message } });
    (status, h, axum::Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), RangeSpec::Part(0..10));
        assert_eq!(parse_range("bytes=90-", 100), RangeSpec::Part(90..100));
        assert_eq!(parse_range("bytes=-10", 100), RangeSpec::Part(90..100));
        assert_eq!(parse_range("bytes=95-200", 100), RangeSpec::Part(95..100));
        assert_eq!(parse_range("bytes=100-", 100), RangeSpec::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), RangeSpec::Full);
        assert_eq!(parse_range("items=0-1", 100), RangeSpec::Full);
        assert_eq!(parse_range("bytes=5-1", 100), RangeSpec::Full);
    }

    #[test]
    fn etags() {
        assert!(etag_matches("\"a\", \"b\"", "\"b\""));
        assert!(etag_matches("*", "\"b\""));
        assert!(etag_matches("W/\"b\"", "\"b\""));
        assert!(!etag_matches("\"c\"", "\"b\""));
    }
}
