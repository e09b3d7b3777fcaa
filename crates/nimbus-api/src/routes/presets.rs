//! Admin API upload presets. Docs: <https://cloudinary.com/documentation/admin_api#upload_presets>.

use nimbus_app::App;
use serde_json::{Value, json};

use super::AdminCall;
use crate::error::ApiResult;
use crate::wire;

pub async fn list(app: &App, call: &AdminCall) -> ApiResult<Value> {
    let presets: Vec<Value> = app.list_presets(call.env.id).await?.iter().map(wire::preset).collect();
    Ok(json!({ "presets": presets }))
}

pub async fn get(app: &App, call: &AdminCall, name: &str) -> ApiResult<Value> {
    Ok(wire::preset(&app.get_preset(call.env.id, name).await?))
}

pub async fn create(app: &App, call: &AdminCall) -> ApiResult<Value> {
    let name = app.create_preset(&call.caller(), &wire::commands::preset_draft(&call.params)).await?;
    Ok(json!({ "message": "created", "name": name }))
}

pub async fn update(app: &App, call: &AdminCall, name: &str) -> ApiResult<Value> {
    app.update_preset(&call.caller(), name, &wire::commands::preset_draft(&call.params)).await?;
    Ok(json!({ "message": "updated" }))
}

pub async fn delete(app: &App, call: &AdminCall, name: &str) -> ApiResult<Value> {
    app.delete_preset(&call.caller(), name).await?;
    Ok(json!({ "message": "deleted" }))
}
