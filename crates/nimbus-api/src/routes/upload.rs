//! Upload API actions: upload, destroy, rename, explicit, tags, context, metadata.
//! Docs: <https://cloudinary.com/documentation/image_upload_api_reference>.

use axum::extract::Request;
use axum::response::Response;
use nimbus_core::ResourceType;
use serde_json::{Value, json};

use super::json;
use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{basic_auth, drain, upload_params};
use crate::wire::{self, Include, commands};
use axum::http::HeaderMap;
use nimbus_app::chunked::ChunkInfo;
use nimbus_app::upload::FileSource;

/// A chunk of a chunked upload, from its headers.
fn chunk_info(h: &HeaderMap) -> ApiResult<Option<ChunkInfo>> {
    let get = |n: &str| h.get(n).and_then(|v| v.to_str().ok());
    match (get("x-unique-upload-id"), get("content-range")) {
        (Some(id), Some(range)) => Ok(Some(ChunkInfo::parse(id, range)?)),
        _ => Ok(None),
    }
}

/// What can be refused before the body is read: the cloud, the resource type, the chunk headers.
async fn precheck(
    state: &AppState,
    cloud: &str,
    rt: &str,
    action: &str,
    h: &HeaderMap,
) -> ApiResult<(ResourceType, Option<ChunkInfo>)> {
    state.app.environment(cloud).await?;
    let rt = match (rt.parse::<ResourceType>(), action) {
        (Ok(ResourceType::Auto), "upload") => ResourceType::Auto,
        _ => super::resource_type(rt)?,
    };
    Ok((rt, chunk_info(h)?))
}

pub async fn handle(state: &AppState, cloud: &str, rt: &str, action: &str, req: Request) -> ApiResult<Response> {
    let app = &state.app;
    // Refuse what cannot succeed without storing a possibly large body (it is read and dropped).
    let (rt, chunk) = match precheck(state, cloud, rt, action, req.headers()).await {
        Ok(checked) => checked,
        Err(e) => {
            drain(req.into_body()).await;
            return Err(e);
        }
    };
    if crate::extract::has_bearer_token(req.headers()) {
        drain(req.into_body()).await;
        return Err(nimbus_app::AppError::InvalidToken.into());
    }
    let basic = basic_auth(req.headers());
    let (params, mut file) = upload_params(app, req).await?;
    let caller = app.authenticate_upload(cloud, action, wire::upload::credentials(action, basic, &params)).await?;
    let env = caller.env.id;
    let who = caller.caller();
    let secret = caller.api_key.as_ref().map(|k| k.secret.as_str());
    let v: Value = match action {
        "upload" => {
            // Bounded before any chunk is kept: a refused call stores nothing.
            let (options, preset) = wire::upload::upload_request(&caller, &params)?;
            let request = app.upload_request(&caller, options, preset.as_deref()).await?;
            if let Some(info) = &chunk {
                let Some(FileSource::Staged(part)) = file else {
                    return Err(nimbus_app::AppError::MissingParam("file").into());
                };
                match app.append_chunk(env, info, part).await? {
                    Some(whole) => file = Some(FileSource::Staged(whole)),
                    None => {
                        // The Python SDK sends a `public_id` of this answer back with the next
                        // chunk: only the one asked for, so that the last chunk names the
                        // asset as a one-request upload would (use_filename, raw extensions).
                        let mut v =
                            serde_json::json!({ "done": false, "bytes": info.end + 1, "upload_id": info.upload_id });
                        if let Some(id) = request.options.public_id.as_deref() {
                            v["public_id"] = serde_json::json!(id);
                        }
                        return Ok(json(v));
                    }
                }
            }
            let with_image_metadata = request.options.image_metadata == Some(true);
            let up = app.upload(&caller, rt, request, file).await?;
            let mut v = wire::upload_response(app, cloud, &up, caller.api_key.as_ref().map(|k| k.key.as_str()), secret);
            if with_image_metadata && up.asset.resource_type == ResourceType::Image {
                v["image_metadata"] = wire::image_metadata(&up.asset);
            }
            v
        }
        "destroy" => {
            json!({ "result": if app.destroy(&who, rt, &commands::destroy(&params)?).await? { "ok" } else { "not found" } })
        }
        "rename" => Value::Object(wire::resource(
            app,
            cloud,
            &app.rename(&who, rt, &commands::rename(&params)?).await?,
            Include::ALL,
            secret,
        )),
        "explicit" => {
            let up = app.explicit(&who, rt, commands::explicit(&params)?).await?;
            let mut v = wire::upload_response(app, cloud, &up, caller.api_key.as_ref().map(|k| k.key.as_str()), secret);
            if v.get("eager").is_none() {
                v["eager"] = json!([]);
            }
            v
        }
        "tags" => {
            let ids: Vec<String> =
                app.tags_command(&who, rt, &commands::tags(&params)?).await?.iter().map(ToString::to_string).collect();
            json!({ "public_ids": ids })
        }
        "metadata" => json!({ "public_ids": app.update_metadata(&who, rt, &commands::metadata(&params)?).await? }),
        "context" => {
            let ids: Vec<String> = app
                .context_command(&who, rt, &commands::context(&params)?)
                .await?
                .iter()
                .map(ToString::to_string)
                .collect();
            json!({ "public_ids": ids })
        }
        other => return Err(crate::error::ApiError::UnknownEndpoint(other.to_owned())),
    };
    Ok(json(v))
}
