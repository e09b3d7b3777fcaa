//! Account-level Admin API calls: ping, usage, config, resource types, tags.
//! Docs: <https://cloudinary.com/documentation/admin_api#usage>.

use nimbus_app::App;
use serde_json::{Value, json};

use super::{AdminCall, resource_type};
use crate::error::ApiResult;

pub fn ping() -> Value {
    json!({ "status": "ok" })
}

pub async fn usage(app: &App, call: &AdminCall) -> ApiResult<Value> {
    let u = app.usage(call.env.id).await?;
    let today = nimbus_core::timefmt::iso8601(app.now());
    let date = &today[..10];
    Ok(json!({
        "plan": "Nimbus",
        "last_updated": date,
        "date_requested": today,
        "transformations": { "usage": 0, "credits_usage": 0.0 },
        "objects": { "usage": u.resources },
        "bandwidth": { "usage": 0, "credits_usage": 0.0 },
        "storage": { "usage": u.bytes, "credits_usage": 0.0 },
        "credits": { "usage": 0.0 },
        "requests": 0,
        "resources": u.resources,
        "derived_resources": 0,
        "media_limits": { "image_max_size_bytes": app.config.max_file_bytes, "video_max_size_bytes": app.config.max_file_bytes, "raw_max_size_bytes": app.config.max_file_bytes },
    }))
}

/// `settings` only when asked for (`settings=true`), as Cloudinary's.
pub fn config(call: &AdminCall) -> Value {
    let mut v = json!({
        "cloud_name": call.cloud,
        "created_at": nimbus_core::timefmt::iso8601(call.env.created_at),
    });
    if call.params.bool("settings") == Some(true) {
        v["settings"] = json!({ "folder_mode": "dynamic" });
    }
    v
}

pub fn resource_types() -> Value {
    json!({ "resource_types": ["image", "raw", "video"] })
}

pub async fn tags(app: &App, call: &AdminCall, rt: &str) -> ApiResult<Value> {
    let (tags, next) =
        app.list_tags(call.env.id, resource_type(rt)?, &crate::wire::commands::tag_query(&call.params)?).await?;
    let mut v = json!({ "tags": tags });
    if let Some(n) = next {
        v["next_cursor"] = json!(n);
    }
    Ok(v)
}
