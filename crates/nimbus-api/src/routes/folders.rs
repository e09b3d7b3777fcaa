//! Admin API folders. Docs: <https://cloudinary.com/documentation/admin_api#folders>.

use nimbus_app::App;
use nimbus_core::signature::{Algorithm, hex_digest};
use serde_json::{Value, json};

use super::AdminCall;
use crate::error::ApiResult;

fn folder(cloud: &str, path: &str) -> Value {
    let name = path.rsplit('/').next().unwrap_or(path);
    let external_id = &hex_digest(Algorithm::Sha1, &format!("{cloud}/{path}"), "")[..32];
    json!({ "name": name, "path": path, "external_id": external_id })
}

pub async fn list(app: &App, call: &AdminCall, parent: Option<&str>) -> ApiResult<Value> {
    let paths = app.list_folders(call.env.id, parent).await?;
    let folders: Vec<Value> = paths.iter().map(|p| folder(&call.cloud, p)).collect();
    Ok(json!({ "folders": folders, "next_cursor": null, "total_count": folders.len() }))
}

pub async fn create(app: &App, call: &AdminCall, path: &str) -> ApiResult<Value> {
    let path = app.create_folder(&call.caller(), path).await?;
    let name = path.rsplit('/').next().unwrap_or(&path).to_owned();
    Ok(json!({ "success": true, "path": path, "name": name }))
}

pub async fn delete(app: &App, call: &AdminCall, path: &str) -> ApiResult<Value> {
    let path = app.delete_folder(&call.caller(), path).await?;
    Ok(json!({ "deleted": [path] }))
}
