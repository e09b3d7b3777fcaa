//! The web console: sign-in, sessions, roles and the attacks a browser-facing surface gets.

use axum::http::StatusCode;
use nimbus_core::accounts::Role;
use nimbus_testkit::browser::{Browser, hidden};
use nimbus_testkit::{CLOUD, Db, TestApp, photo_jpeg};

mod admin;
mod library;
mod metadata;
mod sign_in;

const EMAIL: &str = "ada@example.org";

const PASSWORD: &str = "correct horse battery";

async fn with_user(t: &TestApp, email: &str, role: Role) -> i64 {
    let u = t.app.create_user(email, Some(PASSWORD.to_owned())).await.unwrap();
    t.app.set_user_role(u.id, CLOUD, Some(role)).await.unwrap();
    u.id
}

fn body(r: &nimbus_testkit::TestResponse) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

async fn upload(t: &TestApp, rt: &str, fields: &[(&str, &str)]) -> serde_json::Value {
    let (name, bytes) = if rt == "raw" { ("notes.txt", b"some notes".to_vec()) } else { ("a.jpg", photo_jpeg(32, 24)) };
    let r = t.upload_api(rt, "upload", fields, Some((name, &bytes))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    r.json()
}

/// Category → team (enabled when category is employee) → names (allowed by team).
async fn rules_schema(t: &TestApp) {
    use axum::http::Method;
    use serde_json::json;
    let vals = |ids: &[&str]| -> serde_json::Value {
        ids.iter().map(|i| json!({"external_id": i, "value": i.to_uppercase()})).collect()
    };
    for f in [
        json!({"external_id": "category", "label": "Category", "type": "enum", "datasource": {"values": vals(&["employee", "culture"])}}),
        json!({"external_id": "team", "label": "Team", "type": "enum", "default_disabled": true, "datasource": {"values": vals(&["rnd", "sales"])}}),
        json!({"external_id": "names", "label": "Names", "type": "set", "datasource": {"values": vals(&["john", "jane", "paul"])}}),
        json!({"external_id": "note", "label": "Note <i>", "type": "string"}),
    ] {
        let r = t.admin(Method::POST, "metadata_fields", Some(f)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    }
    for r in [
        json!({"external_id": "r-team", "metadata_field_id": "team", "name": "employees have a team",
               "condition": {"metadata_field_id": "category", "equals": "employee"}, "result": {"enable": true}}),
        json!({"external_id": "r-rnd", "metadata_field_id": "names", "name": "rnd names",
               "condition": {"metadata_field_id": "team", "equals": "rnd"},
               "result": {"activate_values": {"external_ids": ["john", "jane"]}}}),
    ] {
        let r = t.admin(Method::POST, "metadata_rules", Some(r)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    }
}

/// The HTML of the field `id`'s box in a page.
fn field_box(html: &str, id: &str) -> String {
    let start = html.find(&format!("data-field=\"{id}\"")).unwrap_or_else(|| panic!("no field {id}"));
    let rest = &html[start..];
    let end = rest[1..].find("data-field=\"").map_or(rest.len(), |e| e + 1);
    rest[..end].to_owned()
}
