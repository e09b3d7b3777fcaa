//! Notification bodies in Cloudinary's shapes, per `notification_type`: the upload answer
//! for `upload`, `from_public_id`/`to_public_id` for `rename`, a `resources` list for
//! `delete` and `resource_tags_changed`, `resources` keyed by public id for the context and
//! metadata changes, and the derivatives for `eager`. Every body carries
//! `notification_type`, `timestamp`, `request_id` and, for a call made with an API key,
//! `api_key`, `signature_key` and `notification_context`.
//! Docs: <https://cloudinary.com/documentation/notifications>.

use nimbus_app::App;
use nimbus_app::derive::Eager;
use nimbus_app::events::{AssetRef, Event, StoredEvent};
use nimbus_app::webhooks::{Notifications, notification_type};
use nimbus_core::Asset;
use nimbus_core::timefmt::iso8601;
use serde_json::{Map, Value, json};

use crate::wire::{self, Include};

/// The renderer `nimbus serve` plugs into the application.
#[derive(Debug, Clone, Copy, Default)]
pub struct CloudinaryNotifications;

/// Cloudinary's notification time: ISO 8601 with an explicit UTC offset.
fn timestamp(t: i64) -> String {
    let s = iso8601(t);
    match s.strip_suffix('Z') {
        Some(base) => format!("{base}+00:00"),
        None => s,
    }
}

/// The fields every notification carries.
fn common(app: &App, kind: &str, at: i64, api_key: Option<&str>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("notification_type".into(), json!(kind));
    m.insert("timestamp".into(), json!(timestamp(at)));
    m.insert("request_id".into(), json!(app.ids.hex32()));
    if let Some(k) = api_key {
        m.insert("api_key".into(), json!(k));
        m.insert("signature_key".into(), json!(k));
        m.insert(
            "notification_context".into(),
            json!({ "triggered_at": iso8601(at), "triggered_by": { "id": k, "source": "api" } }),
        );
    }
    m
}

fn asset_ref(r: &AssetRef) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("asset_id".into(), json!(r.asset_id));
    m.insert("public_id".into(), json!(r.public_id.as_str()));
    m.insert("resource_type".into(), json!(r.resource_type.as_str()));
    m.insert("type".into(), json!(r.delivery_type.as_str()));
    m.insert("version".into(), json!(r.version));
    m
}

fn pairs(items: &[(String, String)]) -> Value {
    Value::Array(items.iter().map(|(k, v)| json!({ "name": k, "value": v })).collect())
}

impl Notifications for CloudinaryNotifications {
    fn event(&self, app: &App, cloud: &str, e: &StoredEvent) -> Option<Value> {
        let kind = notification_type(&e.event)?;
        let key = e.actor.strip_prefix("key:");
        let mut m = common(app, kind, e.created_at, key);
        match &e.event {
            Event::Uploaded { asset, overwritten, .. } => {
                m.extend(wire::resource(app, cloud, asset, Include::ALL, None));
                if *overwritten {
                    m.insert("overwritten".into(), json!(true));
                }
            }
            Event::Renamed { asset, from, from_type } => {
                let r = AssetRef::from(asset.as_ref());
                m.extend(asset_ref(&r));
                m.remove("public_id");
                m.insert("from_public_id".into(), json!(from.as_str()));
                m.insert("to_public_id".into(), json!(asset.public_id.as_str()));
                if *from_type != asset.delivery_type {
                    m.insert("from_type".into(), json!(from_type.as_str()));
                }
                m.insert("asset_folder".into(), json!(asset.asset_folder));
                m.insert("display_name".into(), json!(asset.display_name));
                let url = wire::delivery_url(app, cloud, asset, None);
                m.insert("url".into(), json!(url));
                m.insert("secure_url".into(), json!(url));
            }
            Event::Destroyed { assets } => {
                let items: Vec<Value> = assets.iter().map(|(r, _)| Value::Object(asset_ref(r))).collect();
                m.insert("resources".into(), Value::Array(items));
            }
            Event::TagsChanged { changes } => {
                let items: Vec<Value> = changes
                    .iter()
                    .map(|c| {
                        let mut o = asset_ref(&c.asset);
                        let added: Vec<&String> = c.after.iter().filter(|t| !c.before.contains(t)).collect();
                        let removed: Vec<&String> = c.before.iter().filter(|t| !c.after.contains(t)).collect();
                        o.insert("added".into(), json!(added));
                        o.insert("removed".into(), json!(removed));
                        Value::Object(o)
                    })
                    .collect();
                m.insert("source".into(), json!("api"));
                m.insert("resources".into(), Value::Array(items));
            }
            Event::ContextChanged { changes } => {
                let mut by_id = Map::new();
                for c in changes {
                    let mut o = asset_ref(&c.asset);
                    o.remove("public_id");
                    let find =
                        |list: &[(String, String)], k: &str| list.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone());
                    let added: Vec<(String, String)> =
                        c.after.iter().filter(|(k, _)| find(&c.before, k).is_none()).cloned().collect();
                    let updated: Vec<(String, String)> = c
                        .after
                        .iter()
                        .filter(|(k, v)| find(&c.before, k).is_some_and(|old| &old != v))
                        .cloned()
                        .collect();
                    let removed: Vec<(String, String)> =
                        c.before.iter().filter(|(k, _)| find(&c.after, k).is_none()).cloned().collect();
                    o.insert("added".into(), pairs(&added));
                    o.insert("updated".into(), pairs(&updated));
                    o.insert("removed".into(), pairs(&removed));
                    by_id.insert(c.asset.public_id.to_string(), Value::Object(o));
                }
                m.insert("source".into(), json!("api"));
                m.insert("resources".into(), Value::Object(by_id));
            }
            Event::MetadataChanged { changes } => {
                let mut by_id = Map::new();
                for c in changes {
                    let mut o = asset_ref(&c.asset);
                    o.remove("public_id");
                    o.insert("previous_metadata".into(), Value::Object(c.before.clone()));
                    o.insert("new_metadata".into(), Value::Object(c.after.clone()));
                    by_id.insert(c.asset.public_id.to_string(), Value::Object(o));
                }
                m.insert("source".into(), json!("api"));
                m.insert("resources".into(), Value::Object(by_id));
            }
            Event::Updated { .. } | Event::SchemaChanged { .. } | Event::Configured { .. } => return None,
        }
        Some(Value::Object(m))
    }

    fn eager(
        &self,
        app: &App,
        cloud: &str,
        asset: &Asset,
        done: &[Eager],
        batch_id: &str,
        api_key: Option<&str>,
    ) -> Value {
        let mut m = common(app, "eager", app.now(), api_key);
        let items: Vec<Value> = done
            .iter()
            .map(|e| {
                let url = wire::derived_url(app, cloud, asset, &e.transformation, e.format.as_str(), None);
                let mut v = json!({
                    "transformation": e.transformation,
                    "format": e.format.as_str(),
                    "bytes": e.bytes,
                    "url": url,
                    "secure_url": url,
                });
                if let Some((w, h)) = e.size {
                    v["width"] = json!(w);
                    v["height"] = json!(h);
                }
                v
            })
            .collect();
        m.insert("eager".into(), Value::Array(items));
        m.insert("public_id".into(), json!(asset.public_id.as_str()));
        m.insert("asset_id".into(), json!(asset.asset_id));
        m.insert("batch_id".into(), json!(batch_id));
        Value::Object(m)
    }
}
