//! Admin API: listing, detail, update, delete, tags, folders, usage, presets, rate limits.

use axum::http::Method;
use nimbus_testkit::{TestApp, png};
use serde_json::json;

async fn seed(t: &TestApp, ids: &[&str]) {
    for id in ids {
        let r =
            t.upload_api("image", "upload", &[("public_id", id), ("tags", "all")], Some(("a.png", &png(2, 2)))).await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    }
}

#[tokio::test]
async fn listing_and_pagination() {
    let t = TestApp::new().await;
    seed(&t, &["a1", "a2", "b/c1", "b/c2", "b/c3"]).await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("resources/image/upload?max_results=2&next_cursor={c}"),
            None => "resources/image/upload?max_results=2".to_owned(),
        };
        let r = t.admin(Method::GET, &q, None).await;
        assert_eq!(r.header("x-featureratelimit-limit"), Some("5000"));
        assert!(r.header("x-featureratelimit-reset").is_some_and(|v| v.ends_with("GMT")));
        let v = r.json();
        for res in v["resources"].as_array().unwrap() {
            assert!(res.get("tags").is_none(), "tags only on request");
            seen.push(res["public_id"].as_str().unwrap().to_owned());
        }
        match v.get("next_cursor").and_then(|c| c.as_str()) {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, vec!["b/c3", "b/c2", "b/c1", "a2", "a1"]);
    let v = t.admin(Method::GET, "resources/image/upload?prefix=b/&tags=true&direction=asc", None).await.json();
    let ids: Vec<&str> = v["resources"].as_array().unwrap().iter().map(|r| r["public_id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["b/c1", "b/c2", "b/c3"]);
    assert_eq!(v["resources"][0]["tags"], json!(["all"]));
    let v = t.admin(Method::GET, "resources/image/upload?public_ids[]=a1&public_ids[]=zz", None).await.json();
    assert_eq!(v["resources"].as_array().unwrap().len(), 1);
    let v = t.admin(Method::GET, "resources/image/tags/all?max_results=10", None).await.json();
    assert_eq!(v["resources"].as_array().unwrap().len(), 5);
    let v = t.admin(Method::GET, "resources/image/upload?fields=tags&fields=bytes&tags=true", None).await.json();
    let first = v["resources"][0].as_object().unwrap();
    assert!(first.contains_key("bytes") && first.contains_key("public_id") && !first.contains_key("url"), "{first:?}");
    let r = t.admin(Method::GET, "resources/image/upload?max_results=501", None).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn detail_update_by_asset_id() {
    let t = TestApp::new().await;
    seed(&t, &["f1/my pic"]).await;
    let v = t.admin(Method::GET, "resources/image/upload/f1/my%20pic", None).await.json();
    assert_eq!((v["public_id"].as_str(), v["derived"].clone()), (Some("f1/my pic"), json!([])));
    assert_eq!(
        v["url"].as_str().unwrap(),
        format!("http://nimbus.test/demo/image/upload/v{}/f1/my%20pic.png", v["version"])
    );
    let by_id = t.admin(Method::GET, &format!("resources/{}", v["asset_id"].as_str().unwrap()), None).await.json();
    assert_eq!(by_id["public_id"], "f1/my pic");
    let up = t
        .admin(
            Method::POST,
            "resources/image/upload/f1%2Fmy%20pic",
            Some(json!({"tags": "x,y", "context": "alt=hello", "display_name": "Mine", "asset_folder": "moved"})),
        )
        .await
        .json();
    assert_eq!((up["tags"].clone(), up["context"]["custom"]["alt"].clone()), (json!(["x", "y"]), json!("hello")));
    assert_eq!((up["display_name"].as_str(), up["asset_folder"].as_str()), (Some("Mine"), Some("moved")));
    let v = t.admin(Method::GET, "resources/by_asset_folder?asset_folder=moved", None).await.json();
    assert_eq!(v["resources"].as_array().unwrap().len(), 1);
    let v = t.admin(Method::GET, "resources/image/context?key=alt&value=hello", None).await.json();
    assert_eq!(v["resources"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn deletes() {
    let t = TestApp::new().await;
    seed(&t, &["d1", "d2", "p/x1", "p/x2", "k"]).await;
    let v = t
        .admin(
            Method::DELETE,
            "resources/image/upload",
            Some(json!({"public_ids": ["d1", "nope"], "transformations": null})),
        )
        .await
        .json();
    assert_eq!(v["deleted"], json!({"d1": "deleted", "nope": "not_found"}));
    assert_eq!(v["deleted_counts"]["d1"]["original"], 1);
    let v = t.admin(Method::DELETE, "resources/image/upload", Some(json!({"prefix": "p/"}))).await.json();
    assert_eq!(v["deleted"].as_object().unwrap().len(), 2);
    let v = t
        .admin(Method::DELETE, "resources/image/upload", Some(json!({"public_ids": ["k"], "keep_original": true})))
        .await
        .json();
    assert_eq!(v["deleted_counts"]["k"]["original"], 0, "keep_original keeps it");
    let still = t.admin(Method::GET, "resources/image/upload/k", None).await;
    assert_eq!(still.status, 200);
    let v = t.admin(Method::DELETE, "resources/image/tags/all", None).await.json();
    assert_eq!(v["deleted"].as_object().unwrap().len(), 2);
    let v = t.admin(Method::GET, "usage", None).await.json();
    assert_eq!((v["resources"].as_i64(), v["storage"]["usage"].as_i64()), (Some(0), Some(0)));
    seed(&t, &["z"]).await;
    let z = t.admin(Method::GET, "resources/image/upload/z", None).await.json();
    let body = format!("asset_ids[]={}&asset_ids[]=ffffffffffffffffffffffffffffffff", z["asset_id"].as_str().unwrap());
    let auth = format!("Basic {}", base64_engine(&format!("{}:{}", nimbus_testkit::KEY, nimbus_testkit::SECRET)));
    let req = axum::http::Request::delete("/v1_1/demo/resources")
        .header("authorization", auth)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(body))
        .unwrap();
    let v = t.call(req).await.json();
    assert_eq!(v["deleted"][z["asset_id"].as_str().unwrap()], "deleted");
    assert_eq!(v["deleted"]["ffffffffffffffffffffffffffffffff"], "not_found");
}

fn base64_engine(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[tokio::test]
async fn tags_folders_presets_ping() {
    let t = TestApp::new().await;
    assert_eq!(t.admin(Method::GET, "ping", None).await.json(), json!({"status": "ok"}));
    for (id, tag) in [("a", "red"), ("b", "green"), ("c", "blue")] {
        t.upload_api(
            "image",
            "upload",
            &[("public_id", id), ("tags", tag), ("asset_folder", "pics/2026")],
            Some(("a.png", &png(1, 1))),
        )
        .await;
    }
    let v = t.admin(Method::GET, "tags/image?max_results=2", None).await.json();
    assert_eq!(v["tags"], json!(["blue", "green"]));
    let v = t
        .admin(Method::GET, &format!("tags/image?next_cursor={}", v["next_cursor"].as_str().unwrap()), None)
        .await
        .json();
    assert_eq!(v["tags"], json!(["red"]));

    assert_eq!(t.admin(Method::GET, "folders", None).await.json()["folders"][0]["path"], "pics");
    assert_eq!(t.admin(Method::GET, "folders/pics", None).await.json()["folders"][0]["name"], "2026");
    let v = t.admin(Method::POST, "folders/new%2Fsub", None).await.json();
    assert_eq!(
        (v["success"].as_bool(), v["path"].as_str(), v["name"].as_str()),
        (Some(true), Some("new/sub"), Some("sub"))
    );
    assert_eq!(t.admin(Method::DELETE, "folders/pics", None).await.status, 400, "not empty");
    assert_eq!(t.admin(Method::DELETE, "folders/new/sub", None).await.json()["deleted"], json!(["new/sub"]));
    assert_eq!(t.admin(Method::GET, "folders/ghost", None).await.status, 404);

    assert_eq!(
        t.admin(Method::POST, "upload_presets", Some(json!({"name": "p1", "tags": "a"}))).await.json()["name"],
        "p1"
    );
    assert_eq!(t.admin(Method::POST, "upload_presets", Some(json!({"name": "p1"}))).await.status, 409);
    assert_eq!(
        t.admin(Method::PUT, "upload_presets/p1", Some(json!({"unsigned": true, "folder": "x"}))).await.json()["message"],
        "updated"
    );
    let v = t.admin(Method::GET, "upload_presets", None).await.json();
    assert_eq!(v["presets"][0]["settings"], json!({"tags": ["a"], "folder": "x"}));
    assert_eq!(t.admin(Method::DELETE, "upload_presets/p1", None).await.json()["message"], "deleted");
    assert_eq!(t.admin(Method::GET, "upload_presets/p1", None).await.status, 404);
}

#[tokio::test]
async fn admin_rate_limit() {
    let t = TestApp::on(nimbus_testkit::Db::Sqlite, |c| c.admin_rate_limit = 2).await.unwrap();
    assert_eq!(t.admin(Method::GET, "ping", None).await.header("x-featureratelimit-remaining"), Some("1"));
    assert_eq!(t.admin(Method::GET, "ping", None).await.status, 200);
    let r = t.admin(Method::GET, "ping", None).await;
    assert_eq!((r.status.as_u16(), r.error()), (420, "Rate Limit Exceeded".to_owned()));
    t.clock.advance(3600);
    assert_eq!(t.admin(Method::GET, "ping", None).await.status, 200, "a new hour");
}
