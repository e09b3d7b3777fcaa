//! Product environments are isolated: a key of one can read or change nothing of another.

use axum::http::Method;
use nimbus_testkit::{KEY, Multipart, SECRET, T0, TestApp, png};

#[tokio::test]
async fn keys_work_only_in_their_environment() {
    let t = TestApp::new().await;
    let (_, other) = t.app.create_environment("other", None).await.unwrap();
    let (ok, os) = (other.api_key.as_str(), other.api_secret.as_str());
    let v = t.upload_api("image", "upload", &[("public_id", "mine")], Some(("a.png", &png(1, 1)))).await.json();
    let asset_id = v["asset_id"].as_str().unwrap().to_owned();

    // The other key on demo's URLs.
    for path in
        ["resources/image/upload", "resources/image/upload/mine", &format!("resources/{asset_id}"), "ping", "usage"]
    {
        let r = t.admin_as(ok, os, Method::GET, &format!("/v1_1/demo/{path}"), None).await;
        assert_eq!(r.status, 401, "{path}");
        assert_eq!(r.error(), format!("Unknown API key {ok}"));
    }
    let mp = Multipart::signed(&[("public_id", "mine")], T0, ok, os);
    let r = t.post_multipart("/v1_1/demo/image/destroy", mp).await;
    assert_eq!(r.status, 401);
    let mp = Multipart::signed(&[("public_id", "mine")], T0, ok, os).file(Some(("a.png", &png(2, 2))));
    assert_eq!(t.post_multipart("/v1_1/demo/image/upload", mp).await.status, 401);

    // Demo's key on the other environment's URLs.
    let r = t.admin_as(KEY, SECRET, Method::GET, "/v1_1/other/resources/image", None).await;
    assert_eq!(r.status, 401);
    // The other environment, with its own key, sees none of demo's assets.
    let v = t.admin_as(ok, os, Method::GET, "/v1_1/other/resources/image", None).await.json();
    assert_eq!(v["resources"], serde_json::json!([]));
    let r = t.admin_as(ok, os, Method::GET, &format!("/v1_1/other/resources/{asset_id}"), None).await;
    assert_eq!(r.status, 404);
    let r = t.admin_as(ok, os, Method::GET, "/v1_1/other/resources/image/upload/mine", None).await;
    assert_eq!(r.status, 404);
    assert_eq!(t.get("/other/image/upload/mine.png", &[]).await.status, 404, "delivery is per environment too");
    // Demo's asset is intact.
    assert_eq!(t.admin(Method::GET, "resources/image/upload/mine", None).await.status, 200);
    // Wrong secret for a right key.
    let r = t.admin_as(KEY, "nope", Method::GET, "/v1_1/demo/ping", None).await;
    assert_eq!(r.status, 401);
}
