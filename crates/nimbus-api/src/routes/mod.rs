//! Dispatch of `/v1_1/{cloud}/...` to the handlers of each API family.

mod account;
pub mod delivery;
mod folders;
pub mod health;
mod jobs;
mod metadata;
mod presets;
mod resources;
pub mod search;
mod transformations;
mod triggers;
mod upload;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use nimbus_app::params::Params;
use nimbus_app::ports::Environment;
use nimbus_core::ResourceType;
use percent_encoding::percent_decode_str;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::TraceLayer;

use crate::AppState;
use crate::endpoint::Endpoint;
use crate::error::{ApiError, ApiResult};
use crate::extract::{admin_request, basic_auth};

/// One traced span per request: method and path only. Query strings, signatures and
/// client addresses stay out of the log.
pub fn trace_layer()
-> TraceLayer<SharedClassifier<ServerErrorsAsFailures>, impl Fn(&Request<Body>) -> tracing::Span + Clone> {
    TraceLayer::new_for_http().make_span_with(
        |req: &Request<Body>| tracing::info_span!("request", method = %req.method(), path = %redact(req.uri().path())),
    )
}

/// Hides the signatures a path can carry: `s--SIG--` components of delivery paths, and the
/// signature of a signed search URL (`/{cloud}/search/{signature}/{ttl}/{query}`), whose
/// query part (the search, in base64) is dropped too.
fn redact(path: &str) -> String {
    let parts: Vec<&str> = path.split('/').collect();
    if let ["", _cloud, "search", _sig, ..] = parts.as_slice() {
        return format!("/{}/search/redacted", parts[1]);
    }
    parts
        .iter()
        .map(|s| if s.starts_with("s--") && s.ends_with("--") && s.len() > 4 { "s--redacted--" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// An authenticated Admin API call.
pub(crate) struct AdminCall {
    pub env: Environment,
    pub cloud: String,
    /// The API key of the call, and its secret.
    pub key: String,
    pub secret: String,
    pub params: Params,
    /// The body as JSON (Metadata API calls send JSON documents).
    pub body: serde_json::Value,
}

impl AdminCall {
    /// Who acts: the environment and the key of the call.
    pub fn caller(&self) -> nimbus_app::events::Caller {
        nimbus_app::events::Caller::key(self.env.id, &self.key)
    }
}

pub(crate) fn resource_type(s: &str) -> ApiResult<ResourceType> {
    match s.parse::<ResourceType>() {
        Ok(ResourceType::Auto) | Err(_) => {
            Err(nimbus_app::AppError::InvalidId(nimbus_core::IdError::ResourceType(s.to_owned())).into())
        }
        Ok(rt) => Ok(rt),
    }
}

fn json(v: serde_json::Value) -> Response {
    let mut r = axum::Json(v).into_response();
    r.headers_mut().insert("content-type", HeaderValue::from_static("application/json; charset=utf-8"));
    r
}

/// `/v1_1/{cloud}/...`
pub async fn api(State(state): State<AppState>, req: Request) -> Response {
    let request_id = hex::encode(rand::random::<[u8; 8]>());
    let mut resp = match dispatch(&state, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

async fn dispatch(state: &AppState, req: Request) -> ApiResult<Response> {
    let path = req.uri().path().to_owned();
    // Decoded before splitting: the Node SDK sends `resources%2Fsearch` as one segment.
    // (Endpoints that take a path, like a public id, join their trailing segments again.)
    let decoded = percent_decode_str(path.trim_start_matches("/v1_1/")).decode_utf8_lossy().into_owned();
    let mut segs: Vec<String> = decoded.split('/').map(str::to_owned).collect();
    if segs.len() > 1 && segs.last().is_some_and(String::is_empty) {
        segs.pop();
    }
    let cloud = segs.first().cloned().unwrap_or_default();
    let Some(endpoint) = Endpoint::parse(req.method(), &segs[1.min(segs.len())..]) else {
        let e = ApiError::UnknownEndpoint(format!("{} {path}", req.method()));
        crate::extract::drain(req.into_body()).await;
        return Err(e);
    };
    if let Endpoint::Upload { resource_type, action } = &endpoint {
        return upload::handle(state, &cloud, resource_type, action, req).await;
    }
    let head = req.method() == Method::HEAD;
    let (parts, body) = req.into_parts();
    if crate::extract::has_bearer_token(&parts.headers) {
        crate::extract::drain(body).await;
        return Err(nimbus_app::AppError::InvalidToken.into());
    }
    let (env, key) = match state.app.authenticate_basic(&cloud, basic_auth(&parts.headers)).await {
        Ok(found) => found,
        Err(e) => {
            crate::extract::drain(body).await;
            return Err(e.into());
        }
    };
    let budget = state.limiter.hit(env.id, state.app.now());
    let mut resp = if budget.allowed {
        let (params, body) = admin_request(parts.uri.query(), &parts.headers, body).await?;
        let call = AdminCall { env, cloud, key: key.key, secret: key.secret, params, body };
        match admin(state, endpoint, call).await {
            Ok(r) => r,
            Err(e) => e.into_response(),
        }
    } else {
        crate::extract::drain(body).await;
        ApiError::App(nimbus_app::AppError::RateLimited).into_response()
    };
    let h = resp.headers_mut();
    h.insert("x-featureratelimit-limit", HeaderValue::from(budget.limit));
    h.insert("x-featureratelimit-remaining", HeaderValue::from(budget.remaining));
    let reset =
        httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(budget.reset_at.max(0) as u64));
    if let Ok(v) = HeaderValue::from_str(&reset) {
        h.insert("x-featureratelimit-reset", v);
    }
    if head {
        *resp.body_mut() = Body::empty();
    }
    Ok(resp)
}

/// A transformation named in the path (`transformations/c_scale,w_100`) as the parameter
/// the handlers read.
fn with_transformation(mut call: AdminCall, id: Option<String>) -> AdminCall {
    if let Some(id) = id {
        call.params.push("transformation", id);
    }
    call
}

async fn admin(state: &AppState, endpoint: Endpoint, call: AdminCall) -> ApiResult<Response> {
    use Endpoint as E;
    let app = &state.app;
    let v = match endpoint {
        E::Upload { .. } => return Err(ApiError::UnknownEndpoint("upload".into())),
        E::Ping => account::ping(),
        E::Usage => account::usage(app, &call).await?,
        E::Config => account::config(&call),
        E::ResourceTypes => account::resource_types(),
        E::Tags { resource_type } => account::tags(app, &call, &resource_type).await?,
        E::ListResources { resource_type, delivery_type } => {
            resources::list(app, &call, &resource_type, delivery_type.as_deref()).await?
        }
        E::ResourcesByTag { resource_type, tag } => resources::by_tag(app, &call, &resource_type, tag).await?,
        E::ResourcesByContext { resource_type } => resources::by_context(app, &call, &resource_type).await?,
        E::ResourcesByAssetIds => resources::by_asset_ids(app, &call).await?,
        E::ResourcesByAssetFolder => resources::by_asset_folder(app, &call).await?,
        E::Resource { resource_type, delivery_type, public_id } => {
            resources::get(app, &call, &resource_type, &delivery_type, &public_id).await?
        }
        E::ResourceByAssetId { asset_id } => resources::get_by_asset_id(app, &call, &asset_id).await?,
        E::UpdateResource { resource_type, delivery_type, public_id } => {
            resources::update(app, &call, &resource_type, &delivery_type, &public_id).await?
        }
        E::UpdateAccessMode { resource_type, delivery_type } => {
            resources::update_access_mode(app, &call, &resource_type, &delivery_type).await?
        }
        E::PublishResources { resource_type } => resources::publish(app, &call, &resource_type).await?,
        E::DeleteResources { resource_type, delivery_type } => {
            resources::delete(app, &call, &resource_type, &delivery_type).await?
        }
        E::DeleteByTag { resource_type, tag } => resources::delete_by_tag(app, &call, &resource_type, tag).await?,
        E::DeleteByAssetIds => resources::delete_by_asset_ids(app, &call).await?,
        E::RootFolders => folders::list(app, &call, None).await?,
        E::SubFolders { path } => folders::list(app, &call, Some(&path)).await?,
        E::CreateFolder { path } => folders::create(app, &call, &path).await?,
        E::DeleteFolder { path } => folders::delete(app, &call, &path).await?,
        E::ListPresets => presets::list(app, &call).await?,
        E::CreatePreset => presets::create(app, &call).await?,
        E::Preset { name } => presets::get(app, &call, &name).await?,
        E::UpdatePreset { name } => presets::update(app, &call, &name).await?,
        E::DeletePreset { name } => presets::delete(app, &call, &name).await?,
        E::Transformations { id } => transformations::get(app, &with_transformation(call, id)).await?,
        E::CreateTransformation => transformations::create(app, &call).await?,
        E::UpdateTransformation { id } => transformations::update(app, &with_transformation(call, id)).await?,
        E::DeleteTransformation { id } => transformations::delete(app, &with_transformation(call, id)).await?,
        E::ListTriggers => triggers::list(app, &call).await?,
        E::CreateTrigger => triggers::create(app, &call).await?,
        E::UpdateTrigger { id } => triggers::update(app, &call, &id).await?,
        E::DeleteTrigger { id } => triggers::delete(app, &call, &id).await?,
        E::ListJobs => jobs::list(app, &call).await?,
        E::Job { id } => jobs::get(app, &call, &id).await?,
        E::RetryJob { id } => jobs::retry(app, &call, &id).await?,
        E::CancelJob { id } => jobs::cancel(app, &call, &id).await?,
        E::SearchResources => search::resources(app, &call).await?,
        E::SearchFolders => search::folders(app, &call).await?,
        other => metadata::handle(app, &call, other).await?,
    };
    Ok(json(v))
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_signatures() {
        assert_eq!(super::redact("/demo/image/private/s--abcdefgh--/x.jpg"), "/demo/image/private/s--redacted--/x.jpg");
        let search = "/demo/search/8f1c0e2b9d7a4c3e5f6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a/300/eyJleHByZXNzaW9uIjoiIn0=";
        assert_eq!(super::redact(search), "/demo/search/redacted");
        assert_eq!(super::redact("/v1_1/demo/resources/search"), "/v1_1/demo/resources/search");
    }
}
