//! Admin API notification triggers. Docs: <https://cloudinary.com/documentation/admin_api#triggers>.

use nimbus_app::App;
use nimbus_app::ports::Trigger;
use nimbus_core::timefmt::iso8601;
use serde_json::{Value, json};

use super::AdminCall;
use crate::error::ApiResult;

fn trigger(cloud_env_id: &str, t: &Trigger) -> Value {
    json!({
        "id": t.id,
        "product_environment_id": cloud_env_id,
        "uri_type": "webhook",
        "uri": t.uri,
        "event_type": t.event_type,
        "created_at": iso8601(t.created_at),
        "updated_at": iso8601(t.updated_at),
    })
}

pub async fn list(app: &App, call: &AdminCall) -> ApiResult<Value> {
    let ts = app.list_triggers(call.env.id, call.params.get("event_type")).await?;
    let items: Vec<Value> = ts.iter().map(|t| trigger(&call.cloud, t)).collect();
    Ok(json!({ "triggers": items, "total": items.len() }))
}

pub async fn create(app: &App, call: &AdminCall) -> ApiResult<Value> {
    let p = &call.params;
    let t = app.create_trigger(call.env.id, p.get("uri"), p.get("event_type"), p.get("uri_type")).await?;
    Ok(trigger(&call.cloud, &t))
}

pub async fn update(app: &App, call: &AdminCall, id: &str) -> ApiResult<Value> {
    app.update_trigger(call.env.id, id, call.params.get("new_uri")).await?;
    Ok(json!({ "message": "ok" }))
}

pub async fn delete(app: &App, call: &AdminCall, id: &str) -> ApiResult<Value> {
    app.delete_trigger(call.env.id, id).await?;
    Ok(json!({ "message": "ok" }))
}
