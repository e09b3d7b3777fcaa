//! URLs the pages link to: delivery URLs of Nimbus's own transformations, and query values.

use nimbus_app::App;
use nimbus_core::{Asset, ResourceType};
use percent_encoding::{AsciiSet, CONTROLS, NON_ALPHANUMERIC, utf8_percent_encode};

/// Characters escaped in a URL path segment.
const SEGMENT: &AsciiSet =
    &CONTROLS.add(b' ').add(b'"').add(b'#').add(b'%').add(b'<').add(b'>').add(b'?').add(b'`').add(b'{').add(b'}');

pub fn query_value(v: &str) -> String {
    utf8_percent_encode(v, NON_ALPHANUMERIC).to_string()
}

/// The delivery URL of `transformation` of a public image, on this server (or its delivery
/// host); `None` for what has no such URL without a signature.
pub fn derived(app: &App, cloud: &str, a: &Asset, transformation: &str) -> Option<String> {
    let format = a.format.as_deref()?;
    if a.resource_type != ResourceType::Image || a.urls_need_signature() {
        return None;
    }
    Some(delivery(app, cloud, a, Some(transformation), format))
}

/// The original's delivery URL in full, as clients use it, for assets that have one without
/// a signature.
pub fn original(app: &App, cloud: &str, a: &Asset) -> Option<String> {
    if a.urls_need_signature() {
        return None;
    }
    let ext = a.format.as_deref().unwrap_or("");
    Some(format!("{}{}", app.config.delivery_base(), path(cloud, a, None, ext)))
}

/// The URL of transformation `t` with extension `ext`: in full (`absolute`, to copy) or as
/// the page loads it.
pub fn transformed(app: &App, cloud: &str, a: &Asset, t: &str, ext: &str, absolute: bool) -> String {
    let path = path(cloud, a, Some(t).filter(|t| !t.is_empty()), ext);
    if absolute {
        format!("{}{path}", app.config.delivery_base())
    } else {
        format!("{}{path}", app.config.delivery_base_url.as_deref().unwrap_or(""))
    }
}

/// On the page's own origin a path is enough; a delivery host of its own is named.
fn delivery(app: &App, cloud: &str, a: &Asset, transformation: Option<&str>, ext: &str) -> String {
    let base = app.config.delivery_base_url.as_deref().unwrap_or("");
    format!("{base}{}", path(cloud, a, transformation, ext))
}

fn path(cloud: &str, a: &Asset, transformation: Option<&str>, ext: &str) -> String {
    let id: Vec<String> =
        a.public_id.as_str().split('/').map(|s| utf8_percent_encode(s, SEGMENT).to_string()).collect();
    let t = transformation.map(|t| format!("{t}/")).unwrap_or_default();
    let dot = if ext.is_empty() { String::new() } else { format!(".{ext}") };
    format!(
        "/{cloud}/{}/{}/{t}v{}/{}{dot}",
        a.resource_type.as_str(),
        a.delivery_type.as_str(),
        a.version,
        id.join("/")
    )
}
