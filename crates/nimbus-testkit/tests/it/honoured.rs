//! Unknown means unknown: parameters with an effect Nimbus does not have are refused by name,
//! actions it does not serve are unknown endpoints, and the naming options `cld` sends work.

use axum::http::Method;
use nimbus_testkit::{TestApp, png};
use serde_json::json;

#[tokio::test]
async fn parameters_without_their_effect_are_refused_by_name() {
    let t = TestApp::new().await;
    for (name, value) in [
        ("return_delete_token", "true"),
        ("backup", "true"),
        ("transformation", "c_scale,w_100"),
        ("moderation", "manual"),
        ("auto_tagging", "0.6"),
        ("responsive_breakpoints", "[{}]"),
    ] {
        let r =
            t.upload_api("image", "upload", &[("public_id", "x"), (name, value)], Some(("a.png", &png(4, 4)))).await;
        assert_eq!(r.status, 400, "{name}");
        assert_eq!(r.error(), format!("Parameter {name} is not supported by Nimbus yet"));
    }
    assert_eq!(t.admin(Method::GET, "resources/image/upload/x", None).await.status, 404, "nothing stored");
    // Switched off, they change nothing and are accepted.
    let r =
        t.upload_api("image", "upload", &[("public_id", "x"), ("backup", "false")], Some(("a.png", &png(4, 4)))).await;
    assert_eq!(r.status, 200);
    // explicit, Admin update and presets answer the same.
    let r =
        t.upload_api("image", "explicit", &[("public_id", "x"), ("type", "upload"), ("backup", "true")], None).await;
    assert_eq!((r.status.as_u16(), r.error().contains("backup")), (400, true));
    let r = t.admin(Method::POST, "resources/image/upload/x", Some(json!({"moderation_status": "approved"}))).await;
    assert_eq!((r.status.as_u16(), r.error().contains("moderation_status")), (400, true));
    let r = t.admin(Method::POST, "upload_presets", Some(json!({"name": "p", "moderation": "manual"}))).await;
    assert_eq!((r.status.as_u16(), r.error().contains("moderation")), (400, true));
}

#[tokio::test]
async fn actions_nimbus_does_not_serve_are_unknown() {
    let t = TestApp::new().await;
    t.upload_api("image", "upload", &[("public_id", "restore")], Some(("a.png", &png(4, 4)))).await;
    let r = t.admin(Method::POST, "resources/image/upload/restore", Some(json!({"public_ids": ["restore"]}))).await;
    assert_eq!(r.status, 404);
    assert!(r.error().starts_with("Unknown API endpoint"), "{}", r.error());
    // delete_derived_by_transformation would keep the originals and delete nothing.
    let r = t
        .admin(
            Method::DELETE,
            "resources/image/upload",
            Some(json!({"public_ids": ["restore"], "transformations": "c_scale,w_100", "keep_original": true})),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.error().contains("transformations")), (400, true));
    assert_eq!(t.admin(Method::GET, "resources/image/upload/restore", None).await.status, 200);
}

#[tokio::test]
async fn naming_options_of_dynamic_folders() {
    let t = TestApp::new().await;
    let r = t
        .upload_api(
            "image",
            "upload",
            &[("use_filename_as_display_name", "true"), ("asset_folder", "trips/2026")],
            Some(("beach day.png", &png(4, 4))),
        )
        .await;
    let v = r.json();
    assert_eq!(v["display_name"], "beach day");
    assert_eq!(v["asset_folder"], "trips/2026");
    assert!(!v["public_id"].as_str().unwrap().contains('/'), "{}", v["public_id"]);
    let r = t
        .upload_api(
            "image",
            "upload",
            &[("public_id", "x"), ("asset_folder", "trips/2026"), ("use_asset_folder_as_public_id_prefix", "true")],
            Some(("a.png", &png(4, 4))),
        )
        .await;
    assert_eq!(r.json()["public_id"], "trips/2026/x");
}
