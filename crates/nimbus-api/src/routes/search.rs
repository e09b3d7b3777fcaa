//! The Search API: `POST|GET /v1_1/{cloud}/resources/search`, `folders/search`, and signed
//! search URLs.
//! Docs: <https://cloudinary.com/documentation/search_method>.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use nimbus_app::App;
use nimbus_app::params::Params;
use nimbus_app::search::{Shape, encode_cursor};
use nimbus_core::search::{filename_of, folder_of};
use serde_json::{Map, Value, json};

use super::AdminCall;
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::wire::{self, Include};

/// Fields a `fields` restriction always keeps.
const IDENTIFYING: [&str; 7] = ["asset_id", "public_id", "resource_type", "type", "created_at", "status", "folder"];

/// The request: a JSON body (POST, the SDKs' way) or query parameters (GET).
fn request(call: &AdminCall) -> Value {
    if call.body.as_object().is_some_and(|m| !m.is_empty()) {
        return call.body.clone();
    }
    let mut m = Map::new();
    for key in ["expression", "max_results", "next_cursor"] {
        if let Some(v) = call.params.get(key) {
            m.insert(key.into(), json!(v));
        }
    }
    for key in ["sort_by", "aggregate", "with_field", "fields"] {
        let items = call.params.list(key);
        if !items.is_empty() {
            m.insert(key.into(), json!(items));
        }
    }
    Value::Object(m)
}

fn resource(app: &App, call: &AdminCall, a: &nimbus_core::Asset, shape: &Shape) -> Value {
    let include = Include { tags: shape.tags, empty_tags: true, context: false, metadata: shape.metadata };
    let mut m = wire::resource(app, &call.cloud, a, include, Some(&call.secret));
    let pid = a.public_id.as_str();
    m.insert("folder".into(), json!(folder_of(pid)));
    m.insert("filename".into(), json!(filename_of(pid)));
    if let (Some(w), Some(h)) = (a.width, a.height) {
        m.insert("pixels".into(), json!(w * h));
        if h > 0 {
            m.insert("aspect_ratio".into(), json!(((w as f64 / h as f64) * 1e5).round() / 1e5));
        }
    }
    m.insert("status".into(), json!("active"));
    // Every search hit has a `format` (`cld sync` reads it from each); a raw file's is empty,
    // its extension staying in the public id.
    m.entry("format").or_insert_with(|| json!(""));
    if shape.image_metadata && a.resource_type == nimbus_core::ResourceType::Image {
        m.insert("image_metadata".into(), wire::image_metadata(a));
    }
    m.insert("access_control".into(), Value::Null);
    // Search results carry context flat (`{"alt": ...}`), not under `custom` as the Admin API does.
    if shape.context {
        let flat: Map<String, Value> = a.context.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        m.insert("context".into(), Value::Object(flat));
    }
    if let Some(only) = &shape.only {
        m.retain(|k, _| IDENTIFYING.contains(&k.as_str()) || only.iter().any(|f| f == k));
    }
    Value::Object(m)
}

pub async fn resources(app: &App, call: &AdminCall) -> ApiResult<Value> {
    let started = std::time::Instant::now();
    let request = wire::search::search_request(&request(call))?;
    let shape = &request.shape;
    let (q, page) = app.search(call.env.id, &request).await?;
    let mut out = Map::new();
    out.insert("total_count".into(), json!(page.total));
    out.insert("time".into(), json!(started.elapsed().as_millis() as u64));
    out.insert("resources".into(), Value::Array(page.assets.iter().map(|a| resource(app, call, a, shape)).collect()));
    if let Some(next) = &page.next {
        out.insert("next_cursor".into(), json!(encode_cursor(next, &q.sort)));
    }
    if !page.aggregations.is_empty() {
        let aggs: Map<String, Value> = page
            .aggregations
            .iter()
            .map(|(name, counts)| {
                (name.clone(), Value::Object(counts.iter().map(|(k, n)| (k.clone(), json!(n))).collect()))
            })
            .collect();
        out.insert("aggregations".into(), Value::Object(aggs));
    }
    Ok(Value::Object(out))
}

pub async fn folders(app: &App, call: &AdminCall) -> ApiResult<Value> {
    let started = std::time::Instant::now();
    let page = app.search_folders(call.env.id, &wire::search::folder_search_request(&request(call))?).await?;
    let folders: Vec<Value> = page
        .folders
        .iter()
        .map(|(path, at)| {
            json!({
                "name": path.rsplit('/').next().unwrap_or(path),
                "path": path,
                "created_at": nimbus_core::timefmt::iso8601(*at),
                "external_id": path,
            })
        })
        .collect();
    let mut out =
        json!({ "total_count": page.total, "time": started.elapsed().as_millis() as u64, "folders": folders });
    if let Some(c) = page.next_cursor {
        out["next_cursor"] = json!(c);
    }
    Ok(out)
}

/// `GET /{cloud}/search/{signature}/{ttl}/{query}[/{next_cursor}]`: a signed search URL (the
/// SDKs' `Search.to_url`), answered like `resources/search` and cacheable for `ttl` seconds.
pub async fn url(State(state): State<AppState>, Path((cloud, rest)): Path<(String, String)>) -> Response {
    let answer = async {
        let u = state.app.resolve_search_url(&cloud, &rest).await?;
        let call = AdminCall {
            env: u.env,
            cloud,
            key: String::new(),
            secret: u.secret,
            params: Params::default(),
            body: u.body,
        };
        Ok::<_, ApiError>((u.ttl, resources(&state.app, &call).await?))
    };
    match answer.await {
        Ok((ttl, v)) => {
            let mut r = super::json(v);
            if let Ok(h) = HeaderValue::from_str(&format!("public, max-age={ttl}")) {
                r.headers_mut().insert(header::CACHE_CONTROL, h);
            }
            r
        }
        Err(e) => e.into_response(),
    }
}
