//! Wire details the official clients read: field selection, totals, eager answers, errors.

use axum::http::Method;
use nimbus_testkit::{CLOUD, TestApp, photo_jpeg, png};
use serde_json::json;

fn keys(v: &serde_json::Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

#[tokio::test]
async fn field_selection_and_folder_totals() {
    let t = TestApp::new().await;
    for id in ["f/a", "f/b"] {
        let r = t
            .upload_api("image", "upload", &[("public_id", id), ("asset_folder", "shelf")], Some(("a.png", &png(4, 3))))
            .await;
        assert_eq!(r.status, 200);
    }
    let v = t.admin(Method::GET, "resources/image/upload?prefix=f/&fields=width,tags", None).await.json();
    assert_eq!(keys(&v["resources"][0]), ["asset_id", "folder", "public_id", "tags", "width"]);
    assert_eq!(v["resources"][0]["folder"], "f");
    let v = t
        .admin(Method::POST, "resources/search", Some(json!({"expression": "folder=f", "fields": ["width"]})))
        .await
        .json();
    let k = keys(&v["resources"][0]);
    for want in ["asset_id", "created_at", "folder", "public_id", "status", "width"] {
        assert!(k.iter().any(|x| x == want), "{want} missing from {k:?}");
    }
    assert!(!k.iter().any(|x| x == "bytes" || x == "url"), "{k:?}");
    let v = t.admin(Method::GET, "resources/by_asset_folder?asset_folder=shelf&max_results=1", None).await.json();
    assert_eq!((v["total_count"].as_i64(), v["resources"].as_array().map(Vec::len)), (Some(2), Some(1)));
    assert!(v["next_cursor"].is_string());
}

#[tokio::test]
async fn eager_answers_keep_the_callers_form_and_sign_when_needed() {
    let t = TestApp::new().await;
    let r = t
        .upload_api(
            "image",
            "upload",
            &[("public_id", "e"), ("eager", "c_scale,w_2.0")],
            Some(("a.jpg", &photo_jpeg(8, 6))),
        )
        .await;
    let e = &r.json()["eager"][0];
    assert_eq!(e["transformation"], "c_scale,w_2.0");
    let url = e["secure_url"].as_str().unwrap().trim_start_matches("http://nimbus.test").to_owned();
    assert!(url.contains("/c_scale,w_2.0/"), "{url}");
    let got = t.get(&url, &[]).await;
    assert_eq!((got.status.as_u16(), nimbus_testkit::image_info(&got.body).0), (200, 2));
    // An asset delivered only through signed URLs gets signed eager URLs, which work.
    let r = t
        .upload_api(
            "image",
            "upload",
            &[("public_id", "se"), ("eager", "c_scale,w_3"), ("access_mode", "authenticated")],
            Some(("a.jpg", &photo_jpeg(8, 6))),
        )
        .await;
    let url = r.json()["eager"][0]["url"].as_str().unwrap().trim_start_matches("http://nimbus.test").to_owned();
    assert!(url.contains("/s--"), "{url}");
    assert_eq!(t.get(&url, &[]).await.status, 200);
    assert_eq!(t.get(&format!("/{CLOUD}/image/upload/c_scale,w_3/se.jpg"), &[]).await.status, 401);
}

#[tokio::test]
async fn errors_as_cloudinary_words_them() {
    let t = TestApp::new().await;
    let r = t.get(&format!("/v1_1/{CLOUD}/ping"), &[("authorization", "Bearer some.oauth.token")]).await;
    assert_eq!((r.status.as_u16(), r.error()), (401, "Invalid token".to_owned()));
    let r = t.admin(Method::GET, "folders/nope/deeper", None).await;
    assert_eq!((r.status.as_u16(), r.error()), (404, "Can't find folder with path nope/deeper".to_owned()));
}

#[tokio::test]
async fn eager_transformations_are_listed_fetched_and_allowed_for_strict() {
    let t = TestApp::new().await;
    t.admin(Method::POST, "transformations", Some(json!({"name": "small", "transformation": "c_scale,w_102"}))).await;
    let r = t
        .upload_api(
            "image",
            "upload",
            &[("public_id", "e"), ("eager", "c_scale,w_2.0|w_3/png")],
            Some(("a.jpg", &photo_jpeg(8, 6))),
        )
        .await;
    assert_eq!(r.status, 200);
    let all = t.admin(Method::GET, "transformations", None).await.json();
    let names: Vec<(&str, bool, bool)> = all["transformations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["name"].as_str().unwrap(), x["named"].as_bool().unwrap(), x["used"].as_bool().unwrap()))
        .collect();
    assert_eq!(names, [("t_small", true, false), ("c_scale,w_2", false, true), ("w_3", false, true)]);
    // Pages of one walk the named ones, then the others.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("transformations?max_results=1&next_cursor={}", urlencode(c)),
            None => "transformations?max_results=1".to_owned(),
        };
        let page = t.admin(Method::GET, &q, None).await.json();
        seen.extend(page["transformations"].as_array().unwrap().iter().map(|x| x["name"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ["t_small", "c_scale,w_2", "w_3"]);
    // Fetched by its text, in the spelling it was given.
    let one = t.admin(Method::GET, "transformations?transformation=c_scale,w_2.0", None).await.json();
    assert_eq!((one["named"].as_bool(), one["info"].clone()), (Some(false), json!([{"crop": "scale", "width": 2}])));
    assert_eq!(t.admin(Method::GET, "transformations?transformation=c_scale,w_7", None).await.status, 404);
    // Allowed for strict, it renders for other assets from unsigned URLs.
    t.upload_api("image", "upload", &[("public_id", "other")], Some(("a.jpg", &photo_jpeg(8, 6)))).await;
    t.app.set_strict_transformations(CLOUD, true).await.unwrap();
    assert_eq!(t.get(&format!("/{CLOUD}/image/upload/c_scale,w_2/other.jpg"), &[]).await.status, 401);
    let r = t
        .admin(
            Method::PUT,
            "transformations",
            Some(json!({"transformation": "c_scale,w_2", "allowed_for_strict": true})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(t.get(&format!("/{CLOUD}/image/upload/c_scale,w_2/other.jpg"), &[]).await.status, 200);
    let r =
        t.admin(Method::PUT, "transformations", Some(json!({"transformation": "w_3", "unsafe_update": "w_4"}))).await;
    assert_eq!(r.status, 400);
    // The older SDKs name the transformation in the path.
    let r = t.admin(Method::PUT, "transformations/w_3", Some(json!({"allowed_for_strict": true}))).await;
    assert_eq!(r.status, 200);
    let one = t.admin(Method::GET, "transformations/w_3", None).await.json();
    assert_eq!(one["allowed_for_strict"], true);
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

#[tokio::test]
async fn resources_list_their_derivatives() {
    let t = TestApp::new().await;
    let r = t
        .upload_api(
            "image",
            "upload",
            &[("public_id", "d"), ("eager", "c_scale,w_4")],
            Some(("a.jpg", &photo_jpeg(8, 6))),
        )
        .await;
    assert_eq!(r.status, 200);
    // One more on the fly.
    assert_eq!(t.get(&format!("/{CLOUD}/image/upload/w_2/d.png"), &[]).await.status, 200);
    let v = t.admin(Method::GET, "resources/image/upload/d", None).await.json();
    let derived = v["derived"].as_array().unwrap();
    let mut got: Vec<(&str, &str)> =
        derived.iter().map(|d| (d["transformation"].as_str().unwrap(), d["format"].as_str().unwrap())).collect();
    got.sort();
    assert_eq!(got, [("c_scale,w_4", "jpg"), ("w_2", "png")]);
    for d in derived {
        let url = d["url"].as_str().unwrap().trim_start_matches("http://nimbus.test").to_owned();
        assert_eq!(t.get(&url, &[]).await.status, 200, "{url}");
        assert!(d["bytes"].as_i64().unwrap() > 0 && !d["id"].as_str().unwrap().is_empty());
    }
    // A new version starts with none; a deleted asset takes its list along.
    t.upload_api("image", "upload", &[("public_id", "d")], Some(("a.jpg", &photo_jpeg(9, 6)))).await;
    let v = t.admin(Method::GET, "resources/image/upload/d", None).await.json();
    assert_eq!(v["derived"], json!([]));
    let r = t.admin(Method::DELETE, "resources/image/upload", Some(json!({"public_ids": ["d"]}))).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn custom_delivery_headers() {
    let t = TestApp::new().await;
    let headers = "Link: <https://example.com/style.css>; rel=preload\nX-Robots-Tag: noindex";
    let r = t
        .upload_api("image", "upload", &[("public_id", "h"), ("headers", headers)], Some(("a.jpg", &photo_jpeg(8, 6))))
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    for path in [format!("/{CLOUD}/image/upload/h.jpg"), format!("/{CLOUD}/image/upload/w_4/h.jpg")] {
        let got = t.get(&path, &[]).await;
        assert_eq!(got.header("x-robots-tag"), Some("noindex"), "{path}");
        assert_eq!(got.header("link"), Some("<https://example.com/style.css>; rel=preload"), "{path}");
    }
    // Only the headers Cloudinary allows; nothing that could set cookies or split a response.
    for bad in ["Set-Cookie: a=b", "Link: a\r\nSet-Cookie: a=b", "Content-Type: text/html"] {
        let r = t
            .upload_api("image", "upload", &[("public_id", "bad"), ("headers", bad)], Some(("a.jpg", &png(4, 4))))
            .await;
        assert_eq!(r.status, 400, "{bad}");
        assert!(r.error().starts_with("Invalid headers"), "{}", r.error());
    }
}
