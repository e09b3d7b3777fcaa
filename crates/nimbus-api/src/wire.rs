//! Cloudinary's wire format: response bodies in its shapes, and (in submodules) requests read
//! into the app's typed requests.
//! Docs: <https://cloudinary.com/documentation/image_upload_api_reference#upload_response>.

use nimbus_app::App;
use nimbus_app::ports::Preset;
use nimbus_core::Asset;
use nimbus_core::delivery::smart_escape;
use nimbus_core::signature::{self, Algorithm};
use nimbus_core::timefmt::iso8601;
use serde_json::{Map, Value, json};

pub mod commands;
pub mod jobs;
pub mod metadata;
pub mod search;
pub mod upload;

/// Which optional parts of a resource to include.
#[derive(Debug, Clone, Copy, Default)]
pub struct Include {
    pub tags: bool,
    /// `tags: []` for an asset without tags (listings asked for tags show the key always;
    /// a single resource omits it, as Cloudinary's do).
    pub empty_tags: bool,
    pub context: bool,
    pub metadata: bool,
}

impl Include {
    pub const ALL: Include = Include { tags: true, empty_tags: false, context: true, metadata: true };
}

/// The delivery URL of an asset's original. URLs that need a signature (`private` and
/// `authenticated` types, the `authenticated` access mode) are signed with `secret` when one
/// is given.
pub fn delivery_url(app: &App, cloud: &str, a: &Asset, secret: Option<&str>) -> String {
    let file = match &a.format {
        Some(f) => format!("{}.{f}", smart_escape(a.public_id.as_str())),
        None => smart_escape(a.public_id.as_str()),
    };
    let needs = a.urls_need_signature();
    let sig = match secret {
        Some(secret) if needs => format!("s--{}--/", signature::url_signature(&file, secret, Algorithm::Sha1, false)),
        _ => String::new(),
    };
    format!("{}/{cloud}/{}/{}/{sig}v{}/{file}", app.config.delivery_base(), a.resource_type, a.delivery_type, a.version)
}

/// A resource as the Admin API returns it.
pub fn resource(app: &App, cloud: &str, a: &Asset, include: Include, secret: Option<&str>) -> Map<String, Value> {
    let url = delivery_url(app, cloud, a, secret);
    let mut m = Map::new();
    m.insert("asset_id".into(), json!(a.asset_id));
    m.insert("public_id".into(), json!(a.public_id.as_str()));
    if let Some(f) = &a.format {
        m.insert("format".into(), json!(f));
    }
    m.insert("version".into(), json!(a.version));
    m.insert("version_id".into(), json!(a.version_id));
    m.insert("resource_type".into(), json!(a.resource_type.as_str()));
    m.insert("type".into(), json!(a.delivery_type.as_str()));
    m.insert("created_at".into(), json!(iso8601(a.created_at)));
    m.insert("uploaded_at".into(), json!(iso8601(a.version)));
    m.insert("bytes".into(), json!(a.bytes));
    if let (Some(w), Some(h)) = (a.width, a.height) {
        m.insert("width".into(), json!(w));
        m.insert("height".into(), json!(h));
        m.insert("pages".into(), json!(1));
    }
    m.insert("asset_folder".into(), json!(a.asset_folder));
    m.insert("display_name".into(), json!(a.display_name));
    if let Some(f) = &a.original_filename {
        m.insert("original_filename".into(), json!(f));
    }
    m.insert("etag".into(), json!(a.etag));
    m.insert("placeholder".into(), json!(false));
    m.insert("access_mode".into(), json!(a.access_mode.as_str()));
    m.insert("url".into(), json!(url));
    // Nimbus serves whatever scheme its public base URL has; both fields point there.
    m.insert("secure_url".into(), json!(url));
    // As Cloudinary's: tags sorted, and no `tags` key on an asset without tags.
    if include.tags && (include.empty_tags || !a.tags.is_empty()) {
        let mut tags: Vec<&str> = a.tags.iter().map(String::as_str).collect();
        tags.sort_unstable();
        m.insert("tags".into(), json!(tags));
    }
    if include.context && !a.context.is_empty() {
        m.insert("context".into(), context(&a.context));
    }
    if include.metadata {
        m.insert("metadata".into(), Value::Object(a.metadata.clone()));
    }
    m
}

/// `image_metadata`: the embedded fields read at upload, as an object of strings.
pub fn image_metadata(a: &Asset) -> Value {
    Value::Object(a.image_metadata.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
}

/// Whether a request asks for `image_metadata` (`media_metadata` is its newer name).
pub fn wants_image_metadata(p: &nimbus_app::params::Params) -> bool {
    p.bool("image_metadata") == Some(true) || p.bool("media_metadata") == Some(true)
}

/// A metadata error or warning: the `details` items of a 400, and `metadata_warnings`.
pub fn issue_json(i: &nimbus_core::metadata::Issue) -> Value {
    let mut m = Map::new();
    m.insert("code".into(), json!(i.code.as_str()));
    if let Some(p) = &i.public_id {
        m.insert("public_id".into(), json!(p));
    }
    m.insert("field".into(), json!(i.field));
    if let Some(r) = &i.rule {
        m.insert("rule".into(), json!(r));
    }
    if let Some(v) = &i.value {
        m.insert("value".into(), json!(v));
    }
    if !i.allowed.is_empty() {
        m.insert("allowed".into(), json!(i.allowed));
    }
    if !i.controlled_by.is_empty() {
        m.insert("controlled_by".into(), json!(i.controlled_by));
    }
    m.insert("message".into(), json!(i.message));
    Value::Object(m)
}

/// Adds `metadata_warnings` (a Nimbus extension) when there are any.
pub fn add_warnings(v: &mut Value, warnings: &[nimbus_core::metadata::Issue]) {
    if !warnings.is_empty() {
        v["metadata_warnings"] = Value::Array(warnings.iter().map(issue_json).collect());
    }
}

pub fn context(c: &[(String, String)]) -> Value {
    let custom: Map<String, Value> = c.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    json!({ "custom": custom })
}

/// The upload response: the resource plus `signature`, `api_key` and the outcome flags.
pub fn upload_response(
    app: &App,
    cloud: &str,
    up: &nimbus_app::upload::Uploaded,
    api_key: Option<&str>,
    secret: Option<&str>,
) -> Value {
    let a = &up.asset;
    let mut m = resource(app, cloud, a, Include::ALL, secret);
    if let Some(secret) = secret {
        let sig =
            signature::response_signature(a.public_id.as_str(), a.version, secret, app.config.signature_algorithm);
        m.insert("signature".into(), json!(sig));
    }
    if let Some(k) = api_key {
        m.insert("api_key".into(), json!(k));
    }
    if up.existing {
        m.insert("existing".into(), json!(true));
    }
    if up.overwritten {
        m.insert("overwritten".into(), json!(true));
    }
    if !up.eager.is_empty() {
        let items: Vec<Value> = up.eager.iter().map(|e| eager(app, cloud, a, e, secret)).collect();
        m.insert("eager".into(), Value::Array(items));
    }
    let mut v = Value::Object(m);
    add_warnings(&mut v, &up.metadata_warnings);
    v
}

/// The delivery URL of a derivative: transformation components before the version.
/// The URL of a derivative; signed with `secret`, when given, if the asset's delivery needs it.
pub fn derived_url(
    app: &App,
    cloud: &str,
    a: &Asset,
    transformation: &str,
    format: &str,
    secret: Option<&str>,
) -> String {
    let file = format!("{}.{format}", smart_escape(a.public_id.as_str()));
    let needs = a.urls_need_signature();
    let sig = match secret {
        Some(secret) if needs => {
            let to_sign = format!("{transformation}/{file}");
            format!("s--{}--/", signature::url_signature(&to_sign, secret, Algorithm::Sha1, false))
        }
        _ => String::new(),
    };
    format!(
        "{}/{cloud}/{}/{}/{sig}{transformation}/v{}/{file}",
        app.config.delivery_base(),
        a.resource_type,
        a.delivery_type,
        a.version,
    )
}

/// One entry of a resource's `derived` list.
pub fn derived(app: &App, cloud: &str, a: &Asset, d: &nimbus_app::ports::DerivedAsset, secret: &str) -> Value {
    let url = derived_url(app, cloud, a, &d.transformation, &d.format, Some(secret));
    let id = d.blob_key.rsplit('/').next().and_then(|f| f.split('.').next()).unwrap_or_default();
    json!({
        "transformation": d.transformation,
        "format": d.format,
        "bytes": d.bytes,
        "id": id,
        "url": url,
        "secure_url": url,
    })
}

fn eager(app: &App, cloud: &str, a: &Asset, e: &nimbus_app::derive::Eager, secret: Option<&str>) -> Value {
    let url = derived_url(app, cloud, a, &e.transformation, e.format.as_str(), secret);
    let mut v =
        json!({ "transformation": e.transformation, "format": e.format.as_str(), "url": url, "secure_url": url });
    match (e.pending, e.size) {
        (true, _) => v["status"] = json!("processing"),
        (false, Some((w, h))) => {
            v["width"] = json!(w);
            v["height"] = json!(h);
            v["bytes"] = json!(e.bytes);
        }
        (false, None) => v["bytes"] = json!(e.bytes),
    }
    v
}

/// Preset settings with Cloudinary's value types: lists for tags, booleans for flags.
pub fn preset(p: &Preset) -> Value {
    let mut settings = Map::new();
    for (k, v) in &p.settings {
        let value = match k.as_str() {
            "tags" | "allowed_formats" => json!(nimbus_core::params::parse_tags(v)),
            "overwrite"
            | "unique_filename"
            | "use_filename"
            | "use_asset_folder_as_public_id_prefix"
            | "discard_original_filename"
            | "invalidate"
            | "backup" => nimbus_core::params::parse_bool(v).map_or_else(|| json!(v), |b| json!(b)),
            _ => json!(v),
        };
        settings.insert(k.clone(), value);
    }
    json!({ "name": p.name, "unsigned": p.unsigned, "settings": settings })
}
