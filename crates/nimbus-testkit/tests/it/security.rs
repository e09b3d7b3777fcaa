//! The security suite: one test per hole an attacker found, and the refusals that already
//! held, so that none of them comes back. See SECURITY.md for the threat model.

use axum::http::Method;
use nimbus_app::AppConfig;
use nimbus_testkit::{CLOUD, Db, KEY, Multipart, SECRET, T0, TestApp, TestResponse, png};
use serde_json::json;

async fn preset(t: &TestApp, body: serde_json::Value) {
    let r = t.admin(Method::POST, "upload_presets", Some(body)).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
}

/// An upload with no credentials at all, only an unsigned preset.
async fn stranger(t: &TestApp, fields: &[(&str, &str)], file: (&str, &[u8])) -> TestResponse {
    let mp = Multipart::new(fields).file(Some(file));
    t.post_multipart(&format!("/v1_1/{CLOUD}/image/upload"), mp).await
}

#[tokio::test]
async fn strangers_never_replace_an_asset() {
    let t = TestApp::new().await;
    preset(&t, json!({"name": "widget", "unsigned": true})).await;
    let original = png(10, 10);
    let r = t.upload_api("image", "upload", &[("public_id", "site/logo")], Some(("logo.png", &original))).await;
    assert_eq!(r.status, 200);
    let before = t.admin(Method::GET, "resources/image/upload/site/logo", None).await.json();

    // Asking to overwrite is refused by name.
    let fields = [("upload_preset", "widget"), ("public_id", "logo"), ("folder", "site"), ("overwrite", "1")];
    let r = stranger(&t, &fields, ("evil.png", &png(20, 20))).await;
    assert_eq!(r.status, 400);
    assert!(r.error().starts_with("Overwrite parameter is not allowed when using unsigned upload"), "{}", r.error());
    // Without asking, the existing asset is answered and left alone.
    let r = stranger(&t, &fields[..3], ("evil.png", &png(20, 20))).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["existing"], true);
    let after = t.admin(Method::GET, "resources/image/upload/site/logo", None).await.json();
    assert_eq!((after["version"].clone(), after["width"].clone()), (before["version"].clone(), json!(10)));
    assert_eq!(after["etag"], before["etag"]);
    // Even a preset that says overwrite cannot make a stranger's upload replace anything.
    preset(&t, json!({"name": "careless", "unsigned": true, "overwrite": true})).await;
    let r = stranger(&t, &[("upload_preset", "careless"), ("public_id", "site/logo")], ("e.png", &png(30, 30))).await;
    assert_eq!(r.status, 200);
    let after = t.admin(Method::GET, "resources/image/upload/site/logo", None).await.json();
    assert_eq!(after["width"], 10);
}

#[tokio::test]
async fn unsigned_presets_bound_the_request() {
    let t = TestApp::new().await;
    preset(&t, json!({"name": "widget", "unsigned": true, "folder": "inbox", "tags": "from-widget"})).await;
    // Only Cloudinary's unsigned parameters pass; each other one is refused by name.
    for (name, value) in [
        ("type", "private"),
        ("type", "authenticated"),
        ("eager", "c_scale,w_4000,h_4000"),
        ("transformation", "c_scale,w_4000"),
        ("access_mode", "public"),
        ("allowed_formats", "png"),
        ("use_filename", "true"),
        ("notification_url", "http://example.com/hook"),
        ("invalidate", "true"),
    ] {
        let r = stranger(&t, &[("upload_preset", "widget"), (name, value)], ("a.png", &png(4, 4))).await;
        assert_eq!(r.status, 400, "{name}");
        assert!(r.error().contains("parameter is not allowed when using unsigned upload"), "{name}: {}", r.error());
    }
    // On Cloudinary's list but not implemented: refused by name too.
    let r = stranger(&t, &[("upload_preset", "widget"), ("face_coordinates", "1,2,3,4")], ("a.png", &png(4, 4))).await;
    assert_eq!((r.status.as_u16(), r.error().contains("face_coordinates")), (400, true));
    // The preset's folder and tags win over the request's; the SDKs' timestamp is harmless.
    let fields =
        [("upload_preset", "widget"), ("folder", "site"), ("tags", "mine"), ("public_id", "p"), ("timestamp", "1")];
    let r = stranger(&t, &fields, ("a.png", &png(4, 4))).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    assert_eq!(
        (v["public_id"].as_str(), v["tags"].clone(), v["type"].as_str()),
        (Some("inbox/p"), json!(["from-widget"]), Some("upload"))
    );
    // Nothing was stored outside the preset's folder.
    let r = t.admin(Method::GET, "resources/image/upload/site/p", None).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn preset_settings_are_enforced() {
    let t = TestApp::new().await;
    preset(&t, json!({"name": "anon", "unsigned": true, "disallow_public_id": true, "allowed_formats": "jpg"})).await;
    let r = stranger(&t, &[("upload_preset", "anon"), ("public_id", "chosen")], ("a.jpg", &nimbus_testkit::jpeg(4, 4)))
        .await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("disallow_public_id"), "{}", r.error());
    let r = stranger(&t, &[("upload_preset", "anon")], ("a.png", &png(4, 4))).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error(), "File format png not allowed. Allowed formats: jpg");
    let r = stranger(&t, &[("upload_preset", "anon")], ("a.jpg", &nimbus_testkit::jpeg(4, 4))).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    // A preset's eager transformations are the preset owner's choice, and run.
    preset(&t, json!({"name": "thumbs", "unsigned": true, "eager": "c_scale,w_2"})).await;
    let r = stranger(&t, &[("upload_preset", "thumbs")], ("a.jpg", &nimbus_testkit::photo_jpeg(8, 8))).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["eager"][0]["width"], 2);
    // allowed_formats binds signed calls too.
    let r = t.upload_api("image", "upload", &[("allowed_formats", "jpg,webp")], Some(("a.png", &png(4, 4)))).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn signatures_have_a_window_on_both_sides() {
    let t = TestApp::new().await;
    for (offset, ok) in [(0, true), (3000, true), (-3000, true), (7200, false), (365 * 86400, false), (-7200, false)] {
        let mp = Multipart::signed(&[("public_id", "w")], T0 + offset, KEY, SECRET).file(Some(("a.png", &png(4, 4))));
        let r = t.post_multipart(&format!("/v1_1/{CLOUD}/image/upload"), mp).await;
        assert_eq!(r.status == 200, ok, "offset {offset}: {}", String::from_utf8_lossy(&r.body));
        if !ok {
            assert_eq!(r.status, 400);
            let e = r.error();
            assert!(if offset > 0 { e.contains("ahead") } else { e.starts_with("Stale request") }, "{e}");
        }
    }
}

#[tokio::test]
async fn authenticated_access_mode_needs_a_signed_url() {
    let t = TestApp::new().await;
    let photo = nimbus_testkit::photo_jpeg(16, 12);
    let r = t
        .upload_api(
            "image",
            "upload",
            &[("public_id", "f/secret"), ("access_mode", "authenticated")],
            Some(("a.jpg", &photo)),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    assert_eq!(v["access_mode"], "authenticated");
    let signed = v["url"].as_str().unwrap().trim_start_matches("http://nimbus.test").to_owned();
    assert!(signed.contains("/s--"), "the response's URL is signed: {signed}");
    // The plain upload URL, with or without a transformation, is refused; the signed one works.
    let plain = format!("/{CLOUD}/image/upload/f/secret.jpg");
    assert_eq!(t.get(&plain, &[]).await.status, 401);
    assert_eq!(t.get(&format!("/{CLOUD}/image/upload/c_scale,w_4/f/secret.jpg"), &[]).await.status, 401);
    let r = t.get(&signed, &[]).await;
    assert_eq!(r.status, 200);
    assert!(r.header("cache-control").is_some_and(|c| c.starts_with("private")), "{:?}", r.header("cache-control"));
    let sig = nimbus_core::signature::url_signature(
        "c_scale,w_4/f/secret.jpg",
        SECRET,
        nimbus_core::signature::Algorithm::Sha1,
        false,
    );
    assert_eq!(t.get(&format!("/{CLOUD}/image/upload/s--{sig}--/c_scale,w_4/f/secret.jpg"), &[]).await.status, 200);
    // Search sees the mode.
    let r = t.admin(Method::POST, "resources/search", Some(json!({"expression": "access_mode:authenticated"}))).await;
    assert_eq!(r.json()["total_count"], 1);
    // Made public again (as Node's update_resources_access_mode_by_ids does), the plain URL works.
    let r = t
        .admin(
            Method::POST,
            "resources/image/upload/update_access_mode",
            Some(json!({"access_mode": "public", "public_ids": ["f/secret", "f/none"]})),
        )
        .await;
    assert_eq!(r.json(), json!({"updated": [{"public_id": "f/secret", "access_mode": "public"}], "failed": []}));
    assert_eq!(t.get(&plain, &[]).await.status, 200);
    // And back, by prefix; an Admin update sets it too.
    let r = t
        .admin(
            Method::POST,
            "resources/image/upload/update_access_mode",
            Some(json!({"access_mode": "authenticated", "prefix": "f/"})),
        )
        .await;
    assert_eq!(r.json()["updated"].as_array().map(Vec::len), Some(1));
    assert_eq!(t.get(&plain, &[]).await.status, 401);
    let r = t.admin(Method::POST, "resources/image/upload/f/secret", Some(json!({"access_mode": "public"}))).await;
    assert_eq!(r.json()["access_mode"], "public");
    assert_eq!(t.get(&plain, &[]).await.status, 200);
    // Unknown modes are refused by name.
    let r = t.upload_api("image", "upload", &[("access_mode", "secret")], Some(("a.jpg", &photo))).await;
    assert_eq!((r.status.as_u16(), r.error().contains("access_mode")), (400, true));
    // A stranger cannot choose it; a preset can.
    preset(&t, json!({"name": "private-inbox", "unsigned": true, "access_mode": "authenticated"})).await;
    let r = stranger(&t, &[("upload_preset", "private-inbox"), ("public_id", "doc")], ("a.jpg", &photo)).await;
    assert_eq!(r.json()["access_mode"], "authenticated");
    assert_eq!(t.get(&format!("/{CLOUD}/image/upload/doc.jpg"), &[]).await.status, 401);
}

#[tokio::test]
async fn access_control_is_refused_not_dropped() {
    let t = TestApp::new().await;
    let rules = r#"[{"access_type":"anonymous","start":"2030-01-01T00:00:00Z"}]"#;
    let r = t
        .upload_api("image", "upload", &[("public_id", "r"), ("access_control", rules)], Some(("a.png", &png(4, 4))))
        .await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("access_control"), "{}", r.error());
    // Nothing was stored.
    assert_eq!(t.admin(Method::GET, "resources/image/upload/r", None).await.status, 404);
    // A preset cannot smuggle it in either: the preset itself is refused.
    let r = t.admin(Method::POST, "upload_presets", Some(json!({"name": "locked", "access_control": rules}))).await;
    assert_eq!((r.status.as_u16(), r.error().contains("access_control")), (400, true));
}

#[tokio::test]
async fn delivered_files_cannot_run_script_on_our_origin() {
    let t = TestApp::new().await;
    let html = b"<html><script>alert(document.cookie)</script></html>";
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
    for (name, bytes) in [("page.html", &html[..]), ("drawing.svg", &svg[..])] {
        let r = t.upload_api("raw", "upload", &[("public_id", name)], Some((name, bytes))).await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        let r = t.get(&format!("/{CLOUD}/raw/upload/{name}"), &[]).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("application/octet-stream"), "{name}");
        assert!(r.header("content-disposition").is_some_and(|d| d.starts_with("attachment;")), "{name}");
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert!(r.header("content-security-policy").is_some_and(|c| c.contains("sandbox")), "{name}");
        assert_eq!(r.body, bytes);
    }
    // Safe types stay inline, still with nosniff and the sandbox.
    t.upload_api("image", "upload", &[("public_id", "pic")], Some(("a.png", &png(4, 4)))).await;
    let r = t.get(&format!("/{CLOUD}/image/upload/pic.png"), &[]).await;
    assert_eq!((r.header("content-type"), r.header("content-disposition")), (Some("image/png"), None));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert!(r.header("content-security-policy").is_some());
    // Errors and API answers too.
    assert_eq!(
        t.get(&format!("/{CLOUD}/image/upload/nothing.png"), &[]).await.header("x-content-type-options"),
        Some("nosniff")
    );
    assert_eq!(t.admin(Method::GET, "ping", None).await.header("x-content-type-options"), Some("nosniff"));
}

#[tokio::test]
async fn delivery_can_have_an_origin_of_its_own() {
    let t = TestApp::on(Db::Sqlite, |c: &mut AppConfig| c.delivery_base_url = Some("https://media.example.com".into()))
        .await
        .unwrap();
    let r = t.upload_api("image", "upload", &[("public_id", "pic")], Some(("a.png", &png(4, 4)))).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json()["secure_url"].as_str().unwrap().split('/').take(3).collect::<Vec<_>>().join("/"),
        "https://media.example.com"
    );
    let path = format!("/{CLOUD}/image/upload/pic.png");
    assert_eq!(t.get(&path, &[("host", "media.example.com")]).await.status, 200);
    // The API's host does not deliver, the delivery host has no API.
    assert_eq!(t.get(&path, &[("host", "nimbus.test")]).await.status, 404);
    let auth = format!(
        "Basic {}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, format!("{KEY}:{SECRET}"))
    );
    let ping = format!("/v1_1/{CLOUD}/ping");
    assert_eq!(t.get(&ping, &[("host", "media.example.com"), ("authorization", &auth)]).await.status, 404);
    assert_eq!(t.get(&ping, &[("host", "nimbus.test"), ("authorization", &auth)]).await.status, 200);
    assert_eq!(t.get("/healthz", &[("host", "media.example.com")]).await.status, 200);
}

#[tokio::test]
async fn refusals_that_already_held() {
    let t = TestApp::new().await;
    // A signature made without the secret.
    let mp = Multipart::signed(&[("public_id", "x")], T0, KEY, "guessed").file(Some(("a.png", &png(4, 4))));
    let r = t.post_multipart(&format!("/v1_1/{CLOUD}/image/upload"), mp).await;
    assert_eq!(r.status, 401);
    // Secrets of another environment.
    t.app.create_environment("other", Some(("999999999999999".into(), "othersecret".into()))).await.unwrap();
    let r = t
        .admin_as("999999999999999", "othersecret", Method::GET, &format!("/v1_1/{CLOUD}/resources/image"), None)
        .await;
    assert_eq!(r.status, 401);
    // Path tricks in public ids.
    for id in ["../etc/passwd", "a/../../b", "/abs", "a//b"] {
        let r = t.upload_api("image", "upload", &[("public_id", id)], Some(("a.png", &png(4, 4)))).await;
        assert_eq!(r.status, 400, "{id}: {}", String::from_utf8_lossy(&r.body));
    }
    // Unsigned calls to anything but upload.
    let mp = Multipart::new(&[("upload_preset", "widget"), ("public_id", "x")]);
    assert_eq!(t.post_multipart(&format!("/v1_1/{CLOUD}/image/destroy"), mp).await.status, 401);
}
