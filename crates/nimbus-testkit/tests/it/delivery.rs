//! Delivery: originals (bytes, validators, ranges, signed URLs) and derivatives.

use nimbus_core::signature::{Algorithm, url_signature};
use nimbus_testkit::{SECRET, TestApp, image_info, photo_jpeg, png};

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

/// `fl_immutable_cache` lets caches keep a derivative without revalidating it; flags Nimbus
/// does not honour are refused by name, not answered with an image that ignores them.
#[tokio::test]
async fn flags_are_honoured_or_refused() {
    let t = TestApp::new().await;
    t.upload_api("image", "upload", &[("public_id", "fl")], Some(("a.jpg", &photo_jpeg(16, 16)))).await;
    let plain = t.get("/demo/image/upload/w_4/fl.jpg", &[]).await;
    assert_eq!(plain.status, 200, "{:?}", plain.header("x-cld-error"));
    assert_eq!(plain.header("cache-control"), Some("public, max-age=2592000"));
    let r = t.get("/demo/image/upload/fl_immutable_cache,w_4/fl.jpg", &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("cache-control"), Some("public, max-age=31536000, immutable"));
    for flag in ["png8", "getinfo", "relative", "animated"] {
        let r = t.get(&format!("/demo/image/upload/fl_{flag},w_4/fl.jpg"), &[]).await;
        assert_eq!(r.status, 400, "fl_{flag}");
        assert_eq!(r.header("x-cld-error"), Some(format!("Flag {flag} is not supported ('fl_{flag}')").as_str()));
    }
}

#[tokio::test]
async fn missing_and_unsupported() {
    let t = TestApp::new().await;
    t.upload_api("image", "upload", &[("public_id", "p")], Some(("a.png", &png(4, 4)))).await;
    let r = t.get("/demo/image/upload/nothing.png", &[]).await;
    assert_eq!(r.status, 404);
    assert!(r.header("x-cld-error").unwrap().contains("Resource not found"));
    let r = t.get("/demo/image/upload/c_scale,w_abc/p.png", &[]).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.header("x-cld-error"), Some("Invalid value 'abc' for parameter w ('w_abc')"));
    let r = t.get("/demo/image/upload/c_scale,w_100/p.png", &[]).await;
    assert_eq!(r.status, 400, "a stored file that does not decode is refused, not a 500");
    assert!(r.header("x-cld-error").unwrap().starts_with("Image could not be processed"));
    assert_eq!(t.get("/ghostcloud/image/upload/p.png", &[]).await.status, 404);
    assert_eq!(t.get("/demo/image/upload", &[]).await.status, 404, "found by fuzzing: no public id is a 404");
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

#[tokio::test]
async fn transformations_render_once_and_are_served_from_the_store() {
    let t = TestApp::new().await;
    let up = t.upload_api("image", "upload", &[("public_id", "photo")], Some(("p.jpg", &photo_jpeg(640, 480)))).await;
    assert_eq!(up.status, 200);
    let url = "/demo/image/upload/c_fill,g_auto,h_100,w_100/photo.jpg";
    let first = t.get(url, &[]).await;
    assert_eq!(first.status, 200, "{:?}", first.header("x-cld-error"));
    assert_eq!(image_info(&first.body), (100, 100, "jpg"));
    assert_eq!(first.header("content-type"), Some("image/jpeg"));
    let derived = t.app.blobs.list(nimbus_app::derive::DERIVED_PREFIX).await.unwrap();
    assert_eq!(derived.len(), 1, "stored once");
    let again = t.get(url, &[]).await;
    assert_eq!((again.body == first.body, again.header("etag")), (true, first.header("etag")));
    // The same transformation written in another order is the same derivative.
    let reordered = t.get("/demo/image/upload/w_100,h_100,c_fill,g_auto/photo.jpg", &[]).await;
    assert_eq!(reordered.header("etag"), first.header("etag"));
    let etag = first.header("etag").unwrap().to_owned();
    assert_eq!(t.get(url, &[("if-none-match", &etag)]).await.status, 304);
    // Format by extension, by f_, and negotiated by f_auto.
    assert_eq!(image_info(&t.get("/demo/image/upload/w_64/photo.png", &[]).await.body), (64, 48, "png"));
    assert_eq!(image_info(&t.get("/demo/image/upload/photo.webp", &[]).await.body), (640, 480, "webp"));
    let avif = t.get("/demo/image/upload/w_64/photo.avif", &[]).await;
    assert_eq!((image_info(&avif.body), avif.header("content-type")), ((64, 48, "avif"), Some("image/avif")));
    let auto = t.get("/demo/image/upload/f_auto,w_50/photo.jpg", &[("accept", "image/avif,image/webp,*/*")]).await;
    assert_eq!((image_info(&auto.body).2, auto.header("vary")), ("webp", Some("Accept")));
    let plain = t.get("/demo/image/upload/f_auto,w_50/photo.jpg", &[("accept", "*/*")]).await;
    assert_eq!(image_info(&plain.body).2, "jpg");
    // dpr and chaining.
    assert_eq!(image_info(&t.get("/demo/image/upload/dpr_2.0,w_50/e_grayscale/photo.jpg", &[]).await.body).0, 100);
    let hinted = t.get("/demo/image/upload/dpr_auto,w_50/photo.jpg", &[("sec-ch-dpr", "3")]).await;
    assert_eq!(image_info(&hinted.body).0, 150);
    // fl_attachment.
    let att = t.get("/demo/image/upload/fl_attachment,w_10/photo.jpg", &[]).await;
    assert_eq!(
        att.header("content-disposition"),
        Some("attachment; filename=\"photo.jpg\"; filename*=UTF-8''photo.jpg")
    );
    // Deleting the asset leaves its derivatives to the sweeper.
    t.upload_api("image", "destroy", &[("public_id", "photo")], None).await;
    t.clock.set(4_000_000_000); // blobs carry the real time; the test clock starts in 2023
    assert!(t.app.sweep_orphans(0).await.unwrap() >= 6);
    assert!(t.app.blobs.list(nimbus_app::derive::DERIVED_PREFIX).await.unwrap().is_empty());
}

#[tokio::test]
async fn concurrent_requests_for_a_new_derivative_agree() {
    let t = TestApp::new().await;
    t.upload_api("image", "upload", &[("public_id", "c")], Some(("p.jpg", &photo_jpeg(800, 600)))).await;
    let url = "/demo/image/upload/c_fit,w_123/c.jpg";
    let all = futures_util::future::join_all((0..8).map(|_| t.get(url, &[]))).await;
    assert!(all.iter().all(|r| r.status == 200 && r.body == all[0].body));
    assert_eq!(t.app.blobs.list(nimbus_app::derive::DERIVED_PREFIX).await.unwrap().len(), 1);
}

#[tokio::test]
async fn signed_delivery_covers_the_transformation() {
    let t = TestApp::new().await;
    let v = t
        .upload_api(
            "image",
            "upload",
            &[("public_id", "s"), ("type", "authenticated")],
            Some(("p.jpg", &photo_jpeg(100, 100))),
        )
        .await
        .json();
    let version = v["version"].as_i64().unwrap();
    let sig =
        nimbus_core::signature::url_signature("w_20/s.jpg", SECRET, nimbus_core::signature::Algorithm::Sha1, false);
    let ok = t.get(&format!("/demo/image/authenticated/s--{sig}--/w_20/v{version}/s.jpg"), &[]).await;
    assert_eq!((ok.status, image_info(&ok.body).0), (axum::http::StatusCode::OK, 20));
    let other = t.get(&format!("/demo/image/authenticated/s--{sig}--/w_30/v{version}/s.jpg"), &[]).await;
    assert_eq!(other.status, 401, "the signature is for w_20");
}

#[tokio::test]
async fn named_and_eager_transformations() {
    use axum::http::Method;
    use serde_json::json;
    let t = TestApp::new().await;
    t.upload_api("image", "upload", &[("public_id", "n")], Some(("p.jpg", &photo_jpeg(400, 300)))).await;
    let created = t
        .admin(
            Method::POST,
            "transformations",
            Some(json!({"name": "thumb", "transformation": "w_100,c_fill,h_100/e_grayscale"})),
        )
        .await;
    assert_eq!(created.status, 200, "{:?}", String::from_utf8_lossy(&created.body));
    assert_eq!(
        t.admin(Method::POST, "transformations", Some(json!({"name": "thumb", "transformation": "w_1"}))).await.status,
        409
    );
    let bad = t.admin(Method::POST, "transformations", Some(json!({"name": "x", "transformation": "w_abc"}))).await;
    assert_eq!(bad.status, 400);
    // t_ expands in place; extra parameters of the component apply after it.
    assert_eq!(image_info(&t.get("/demo/image/upload/t_thumb/n.jpg", &[]).await.body), (100, 100, "jpg"));
    assert_eq!(image_info(&t.get("/demo/image/upload/t_thumb,w_50/n.png", &[]).await.body), (50, 50, "png"));
    let missing = t.get("/demo/image/upload/t_nope/n.jpg", &[]).await;
    assert_eq!(
        (missing.status.as_u16(), missing.header("x-cld-error")),
        (400, Some("Named transformation nope does not exist"))
    );
    // Admin API: list, get, update, delete.
    let list = t.admin(Method::GET, "transformations?named=true", None).await.json();
    assert_eq!(list["transformations"][0]["name"], "t_thumb");
    let one = t.admin(Method::GET, "transformations?transformation=thumb", None).await.json();
    assert_eq!((one["named"].as_bool(), one["info"][0]["width"].as_i64()), (Some(true), Some(100)));
    let upd = t
        .admin(
            Method::PUT,
            "transformations",
            Some(json!({"transformation": "thumb", "allowed_for_strict": true, "unsafe_update": "w_60"})),
        )
        .await;
    assert_eq!(upd.status, 200);
    assert_eq!(
        image_info(&t.get("/demo/image/upload/t_thumb/n.jpg", &[]).await.body).0,
        60,
        "the new definition applies"
    );
    assert_eq!(t.admin(Method::DELETE, "transformations", Some(json!({"transformation": "thumb"}))).await.status, 200);
    assert_eq!(t.admin(Method::GET, "transformations?transformation=thumb", None).await.status, 404);
    // A name that refers to itself cannot be created.
    let r = t.admin(Method::POST, "transformations", Some(json!({"name": "loop", "transformation": "t_loop"}))).await;
    assert_eq!(r.status, 400);

    // Eager derivatives on upload: rendered and stored before the response.
    let up = t
        .upload_api(
            "image",
            "upload",
            &[("public_id", "e"), ("eager", "c_fill,h_20,w_30|w_40/png")],
            Some(("p.jpg", &photo_jpeg(400, 300))),
        )
        .await
        .json();
    let eager = up["eager"].as_array().unwrap();
    assert_eq!(eager.len(), 2);
    assert_eq!(
        (eager[0]["width"].as_u64(), eager[0]["height"].as_u64(), eager[0]["format"].as_str()),
        (Some(30), Some(20), Some("jpg"))
    );
    assert_eq!((eager[1]["width"].as_u64(), eager[1]["format"].as_str()), (Some(40), Some("png")));
    let url = eager[1]["url"].as_str().unwrap().trim_start_matches("http://nimbus.test").to_owned();
    assert_eq!(image_info(&t.get(&url, &[]).await.body), (40, 30, "png"));
    let bad = t
        .upload_api("image", "upload", &[("public_id", "e2"), ("eager", "w_abc")], Some(("p.jpg", &photo_jpeg(40, 30))))
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(t.admin(Method::GET, "resources/image/upload/e2", None).await.status, 404, "refused before storing");
}

#[tokio::test]
async fn strict_transformations_allow_only_signed_eager_or_allowed() {
    use axum::http::Method;
    use serde_json::json;
    let t = TestApp::new().await;
    t.upload_api("image", "upload", &[("public_id", "s"), ("eager", "w_30")], Some(("p.jpg", &photo_jpeg(120, 90))))
        .await;
    // Named transformations are allowed for strict when created, unless created otherwise.
    t.admin(Method::POST, "transformations", Some(json!({"name": "ok", "transformation": "w_20"}))).await;
    let no = json!({"name": "no", "transformation": "w_10", "allowed_for_strict": false});
    t.admin(Method::POST, "transformations", Some(no)).await;
    t.app.set_strict_transformations("demo", true).await.unwrap();
    let r = t.get("/demo/image/upload/w_40/s.jpg", &[]).await;
    assert_eq!((r.status.as_u16(), r.header("x-cld-error")), (401, Some("Transformation w_40 is not allowed")));
    assert_eq!(t.get("/demo/image/upload/w_30/s.jpg", &[]).await.status, 200, "the eager derivative exists");
    assert_eq!(t.get("/demo/image/upload/t_ok/s.jpg", &[]).await.status, 200, "allowed for strict");
    assert_eq!(t.get("/demo/image/upload/t_no/s.jpg", &[]).await.status, 401);
    t.admin(Method::PUT, "transformations", Some(json!({"transformation": "no", "allowed_for_strict": true}))).await;
    assert_eq!(t.get("/demo/image/upload/t_no/s.jpg", &[]).await.status, 200, "allowed by update");
    let sig = url_signature("w_40/s.jpg", SECRET, Algorithm::Sha1, false);
    assert_eq!(t.get(&format!("/demo/image/upload/s--{sig}--/w_40/s.jpg"), &[]).await.status, 200, "signed");
    assert_eq!(t.get("/demo/image/upload/s.jpg", &[]).await.status, 200, "originals are not affected");
    t.app.set_strict_transformations("demo", false).await.unwrap();
    assert_eq!(t.get("/demo/image/upload/w_41/s.jpg", &[]).await.status, 200);
}

#[tokio::test]
async fn image_overlays_come_from_other_assets() {
    let t = TestApp::new().await;
    t.upload_api("image", "upload", &[("public_id", "base")], Some(("p.jpg", &photo_jpeg(300, 200)))).await;
    t.upload_api("image", "upload", &[("public_id", "brand/logo")], Some(("l.jpg", &photo_jpeg(60, 40)))).await;
    let url = "/demo/image/upload/l_brand:logo,w_30,g_south_east,x_5,y_5/base.jpg";
    let r = t.get(url, &[]).await;
    assert_eq!((r.status.as_u16(), image_info(&r.body)), (200, (300, 200, "jpg")), "{:?}", r.header("x-cld-error"));
    let block = t.get("/demo/image/upload/l_brand:logo/c_scale,w_100/fl_layer_apply,g_north/base.png", &[]).await;
    assert_eq!(image_info(&block.body), (300, 200, "png"));
    let missing = t.get("/demo/image/upload/l_nothing/base.jpg", &[]).await;
    assert_eq!((missing.status.as_u16(), missing.header("x-cld-error")), (404, Some("Resource not found - nothing")));
    // A new version of the layer makes a new derivative.
    let before = r.header("etag").unwrap().to_owned();
    t.clock.advance(10);
    t.upload_api("image", "upload", &[("public_id", "brand/logo")], Some(("l.jpg", &photo_jpeg(80, 40)))).await;
    assert_ne!(t.get(url, &[]).await.header("etag").unwrap(), before);
}
