//! Delivery of originals: bytes, validators, ranges, signed URLs.

use nimbus_core::signature::{Algorithm, url_signature};
use nimbus_testkit::{SECRET, TestApp, png};

#[tokio::test]
async fn streams_the_original_with_validators_and_ranges() {
    let t = TestApp::new().await;
    let bytes = png(40, 30);
    let v = t.upload_api("image", "upload", &[("public_id", "f/pic")], Some(("a.png", &bytes))).await.json();
    let url = v["url"].as_str().unwrap().trim_start_matches("http://nimbus.test").to_owned();
    let r = t.get(&url, &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, bytes);
    assert_eq!(r.header("content-type"), Some("image/png"));
    let etag = r.header("etag").unwrap().to_owned();
    assert_eq!(etag, format!("\"{}\"", v["etag"].as_str().unwrap()));
    assert!(r.header("last-modified").is_some() && r.header("cache-control").unwrap().contains("max-age"));
    // Without a version, with v1 (the SDK's forced version), without extension.
    for u in ["/demo/image/upload/f/pic.png", "/demo/image/upload/v1/f/pic.png", "/demo/image/upload/v1/f/pic"] {
        assert_eq!(t.get(u, &[]).await.body, bytes, "{u}");
    }
    let r = t.get(&url, &[("if-none-match", &etag)]).await;
    assert_eq!(r.status, 304);
    assert!(r.body.is_empty());
    let r = t.get(&url, &[("range", "bytes=0-9")]).await;
    assert_eq!((r.status.as_u16(), r.body.as_slice()), (206, &bytes[..10]));
    assert_eq!(r.header("content-range").unwrap(), format!("bytes 0-9/{}", bytes.len()));
    let r = t.get(&url, &[("range", "bytes=-5")]).await;
    assert_eq!(r.body, &bytes[bytes.len() - 5..]);
    let r = t.get(&url, &[("range", "bytes=9999-")]).await;
    assert_eq!(r.status, 416);
    let r = t.get(&url, &[("range", "bytes=0-9"), ("if-range", "\"other\"")]).await;
    assert_eq!(r.status, 200, "a stale If-Range gets the whole file");
}

#[tokio::test]
async fn missing_and_unsupported() {
    let t = TestApp::new().await;
    t.upload_api("image", "upload", &[("public_id", "p")], Some(("a.png", &png(4, 4)))).await;
    let r = t.get("/demo/image/upload/nothing.png", &[]).await;
    assert_eq!(r.status, 404);
    assert!(r.header("x-cld-error").unwrap().contains("Resource not found"));
    let r = t.get("/demo/image/upload/c_scale,w_100/p.png", &[]).await;
    assert_eq!(r.status, 400, "transformations come later, and say so");
    assert!(r.header("x-cld-error").unwrap().contains("c_scale,w_100"));
    assert_eq!(t.get("/demo/image/upload/p.jpg", &[]).await.status, 400, "no format conversion yet");
    assert_eq!(t.get("/ghostcloud/image/upload/p.png", &[]).await.status, 404);
    assert_eq!(t.get("/demo/image/upload/a/../p.png", &[]).await.status, 404);
}

#[tokio::test]
async fn private_and_authenticated_need_signed_urls() {
    let t = TestApp::new().await;
    let bytes = png(3, 3);
    for dt in ["private", "authenticated"] {
        let v = t
            .upload_api("image", "upload", &[("public_id", "secret pic"), ("type", dt)], Some(("a.png", &bytes)))
            .await
            .json();
        let sig = url_signature("secret%20pic.png", SECRET, Algorithm::Sha1, false);
        assert!(
            v["url"].as_str().unwrap().contains(&format!("/s--{sig}--/")),
            "response URLs are signed: {}",
            v["url"]
        );
        let r = t.get(&format!("/demo/image/{dt}/secret%20pic.png"), &[]).await;
        assert_eq!(r.status, 401, "{dt} unsigned");
        let r = t.get(&format!("/demo/image/{dt}/s--AAAAAAAA--/secret%20pic.png"), &[]).await;
        assert_eq!(r.status, 401, "{dt} bad signature");
        let r = t.get(&format!("/demo/image/{dt}/s--{sig}--/v1/secret%20pic.png"), &[]).await;
        assert_eq!((r.status.as_u16(), r.body.as_slice()), (200, bytes.as_slice()), "{dt} signed");
        let long = url_signature("secret%20pic.png", SECRET, Algorithm::Sha256, true);
        assert_eq!(t.get(&format!("/demo/image/{dt}/s--{long}--/secret%20pic.png"), &[]).await.status, 200);
    }
}

#[tokio::test]
async fn writes_on_this_node_are_seen_at_once_despite_the_cache() {
    let t = TestApp::new().await;
    t.upload_api("image", "upload", &[("public_id", "c")], Some(("a.png", &png(1, 1)))).await;
    assert_eq!(t.get("/demo/image/upload/c.png", &[]).await.body, png(1, 1));
    t.upload_api("image", "upload", &[("public_id", "c")], Some(("b.png", &png(2, 2)))).await;
    assert_eq!(t.get("/demo/image/upload/c.png", &[]).await.body, png(2, 2), "overwrite");
    t.upload_api("image", "rename", &[("from_public_id", "c"), ("to_public_id", "d")], None).await;
    assert_eq!(t.get("/demo/image/upload/c.png", &[]).await.status, 404, "rename");
    assert_eq!(t.get("/demo/image/upload/d.png", &[]).await.status, 200);
    t.upload_api("image", "destroy", &[("public_id", "d")], None).await;
    assert_eq!(t.get("/demo/image/upload/d.png", &[]).await.status, 404, "destroy");

    let v = t
        .upload_api("image", "upload", &[("public_id", "p"), ("type", "private")], Some(("a.png", &png(1, 1))))
        .await
        .json();
    let key = t.app.create_api_key("demo").await.unwrap();
    let sig = url_signature("p.png", &key.api_secret, Algorithm::Sha1, false);
    assert_eq!(t.get(&format!("/demo/image/private/s--{sig}--/p.png"), &[]).await.status, 200, "new key");
    t.app.revoke_api_key(&key.api_key).await.unwrap();
    assert_eq!(t.get(&format!("/demo/image/private/s--{sig}--/p.png"), &[]).await.status, 401, "revoked key");
    assert!(v["url"].as_str().is_some());
}
