//! Every upload error the foundation issue names, with Cloudinary's status and a clear message.

use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use nimbus_testkit::{Db, KEY, Multipart, SECRET, T0, TestApp, png};

#[tokio::test]
async fn file_problems() {
    let t = TestApp::on(Db::Sqlite, |c| c.max_file_bytes = 1000).await.unwrap();
    let r = t.upload_api("image", "upload", &[("public_id", "x")], None).await;
    assert_eq!((r.status.as_u16(), r.error()), (400, "Missing required parameter - file".to_owned()));
    let r = t.upload_api("image", "upload", &[], Some(("empty.png", b""))).await;
    assert_eq!((r.status.as_u16(), r.error()), (400, "Empty file".to_owned()));
    let r = t.upload_api("image", "upload", &[], Some(("big.png", &vec![7u8; 1001]))).await;
    assert_eq!(r.status, 400);
    assert!(r.error().starts_with("File size too large. Got"), "{}", r.error());
    let r = t.upload_api("image", "upload", &[], Some(("bad.png", b"this is not an image"))).await;
    assert_eq!((r.status.as_u16(), r.error()), (400, "Invalid image file".to_owned()));
    let r = t.upload_api("image", "upload", &[], Some(("trunc.png", &png(1, 1)[..12]))).await;
    assert_eq!((r.status.as_u16(), r.error()), (400, "Invalid image file".to_owned()));
    // Nothing half-written: no asset, no staged or stored file left behind.
    let list = t.admin(axum::http::Method::GET, "resources/image", None).await.json();
    assert_eq!(list["resources"], serde_json::json!([]));
    assert_eq!(std::fs::read_dir(&t.app.config.staging_dir).unwrap().count(), 0, "staging is clean");
    assert!(t.app.blobs.list("originals/").await.unwrap().is_empty(), "no blob stored");
}

#[tokio::test]
async fn identifiers() {
    let t = TestApp::new().await;
    let r = t.upload_api("foo", "upload", &[], Some(("a.png", &png(1, 1)))).await;
    assert_eq!((r.status.as_u16(), r.error()), (400, "Invalid resource type - foo".to_owned()));
    for bad in ["../etc/passwd", "/abs", "a/../b", "a//b"] {
        let r = t.upload_api("image", "upload", &[("public_id", bad)], Some(("a.png", &png(1, 1)))).await;
        assert_eq!(r.status, 400, "{bad}");
        assert!(r.error().starts_with("Invalid public_id"), "{bad}: {}", r.error());
    }
    let mp = Multipart::signed(&[], T0, KEY, SECRET).file(Some(("a.png", &png(1, 1))));
    let r = t.post_multipart("/v1_1/nosuchcloud/image/upload", mp).await;
    assert_eq!((r.status.as_u16(), r.error()), (401, "Invalid cloud_name nosuchcloud".to_owned()));
}

#[tokio::test]
async fn signatures_keys_and_time() {
    let t = TestApp::new().await;
    let file = Some(("a.png", &png(1, 1)[..]));
    let mp = Multipart::signed(&[("public_id", "x")], T0, KEY, "wrong-secret").file(file);
    let r = t.post_multipart("/v1_1/demo/image/upload", mp).await;
    assert_eq!(r.status, 401);
    assert!(
        r.error().starts_with("Invalid Signature") && r.error().contains("public_id=x&timestamp="),
        "{}",
        r.error()
    );

    let mp = Multipart::new(&[("public_id", "x"), ("timestamp", "1700000000"), ("api_key", KEY)]).file(file);
    let r = t.post_multipart("/v1_1/demo/image/upload", mp).await;
    assert_eq!((r.status.as_u16(), r.error()), (400, "Missing required parameter - signature".to_owned()));

    let mp = Multipart::new(&[("public_id", "x")]).file(file);
    let r = t.post_multipart("/v1_1/demo/image/upload", mp).await;
    assert_eq!((r.status.as_u16(), r.error()), (401, "Must supply api_key".to_owned()));

    let mp = Multipart::signed(&[], T0 - 3601, KEY, SECRET).file(file);
    let r = t.post_multipart("/v1_1/demo/image/upload", mp).await;
    assert_eq!(r.status, 400);
    assert!(r.error().starts_with("Stale request"), "{}", r.error());
    let mp = Multipart::signed(&[], T0 - 3600, KEY, SECRET).file(file);
    assert_eq!(t.post_multipart("/v1_1/demo/image/upload", mp).await.status, 200, "an hour old is still fine");

    let mp = Multipart::signed(&[], T0, "999999999999999", SECRET).file(file);
    let r = t.post_multipart("/v1_1/demo/image/upload", mp).await;
    assert_eq!((r.status.as_u16(), r.error()), (401, "Unknown API key 999999999999999".to_owned()));

    let new = t.app.create_api_key("demo").await.unwrap();
    let mp = Multipart::signed(&[], T0, &new.api_key, &new.api_secret).file(file);
    assert_eq!(t.post_multipart("/v1_1/demo/image/upload", mp).await.status, 200, "a second key works");
    t.app.revoke_api_key(&new.api_key).await.unwrap();
    let mp = Multipart::signed(&[], T0, &new.api_key, &new.api_secret).file(file);
    let r = t.post_multipart("/v1_1/demo/image/upload", mp).await;
    assert_eq!(r.status, 401);
    assert!(r.error().contains("revoked"), "{}", r.error());
    let r = t.admin_as(&new.api_key, &new.api_secret, axum::http::Method::GET, "/v1_1/demo/ping", None).await;
    assert_eq!(r.status, 401, "revoked keys fail on the Admin API too");
}

#[tokio::test]
async fn sha256_signatures_are_accepted() {
    let t = TestApp::new().await;
    let ts = T0.to_string();
    let to_sign = nimbus_core::signature::string_to_sign([("public_id", "s256"), ("timestamp", ts.as_str())], true);
    let sig = nimbus_core::signature::hex_digest(nimbus_core::signature::Algorithm::Sha256, &to_sign, SECRET);
    let mp = Multipart::new(&[("public_id", "s256"), ("timestamp", &ts), ("api_key", KEY), ("signature", &sig)])
        .file(Some(("a.png", &png(1, 1))));
    let r = t.post_multipart("/v1_1/demo/image/upload", mp).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
}

#[tokio::test]
async fn malformed_multipart() {
    let t = TestApp::new().await;
    let req = Request::post("/v1_1/demo/image/upload")
        .header("content-type", "multipart/form-data; boundary=XYZ")
        .body(Body::from("--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nabc"))
        .unwrap();
    let r = t.call(req).await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("multipart"), "{}", r.error());
}

#[tokio::test]
async fn remote_urls() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    // A server that accepts and never answers.
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let t = TestApp::on(Db::Sqlite, |c| c.remote_timeout_secs = 1).await.unwrap();
    for url in [
        "http://10.1.2.3/x.png",
        "http://169.254.169.254/latest/meta-data",
        &format!("http://127.0.0.1:{port}/x.png"),
        &format!("http://localhost:{port}/x.png"),
    ] {
        let r = t.upload_api("image", "upload", &[("file", url)], None).await;
        assert_eq!(r.status, 400, "{url}");
        assert!(r.error().starts_with("Error in loading") && r.error().contains("not allowed"), "{url}: {}", r.error());
    }
    let t = TestApp::on(Db::Sqlite, |c| {
        c.remote_timeout_secs = 1;
        c.remote_allowlist = vec!["127.0.0.1".into()];
    })
    .await
    .unwrap();
    let started = std::time::Instant::now();
    let r = t.upload_api("image", "upload", &[("file", &format!("http://127.0.0.1:{port}/x.png"))], None).await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("timed out"), "{}", r.error());
    assert!(started.elapsed() < Duration::from_secs(10));
    silent.abort();
}

#[tokio::test]
async fn remote_url_from_an_allowed_host() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let body = png(5, 6);
    let served = body.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await;
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", served.len());
            let _ = s.write_all(head.as_bytes()).await;
            let _ = s.write_all(&served).await;
        }
    });
    let t = TestApp::on(Db::Sqlite, |c| c.remote_allowlist = vec!["127.0.0.1".into()]).await.unwrap();
    let r = t
        .upload_api("image", "upload", &[("file", &format!("http://127.0.0.1:{port}/dir/remote%20pic.png"))], None)
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    assert_eq!((v["width"].as_i64(), v["original_filename"].as_str()), (Some(5), Some("remote pic")));
    assert_eq!(v["bytes"].as_u64(), Some(body.len() as u64));
}

#[tokio::test]
async fn unknown_assets() {
    let t = TestApp::new().await;
    let r = t.upload_api("image", "rename", &[("from_public_id", "ghost"), ("to_public_id", "x")], None).await;
    assert_eq!((r.status.as_u16(), r.error()), (404, "Resource not found - ghost".to_owned()));
    let r = t.upload_api("image", "destroy", &[("public_id", "ghost")], None).await;
    assert_eq!((r.status.as_u16(), r.json()["result"].as_str()), (200, Some("not found")));
    let r = t.admin(axum::http::Method::GET, "resources/image/upload/ghost", None).await;
    assert_eq!((r.status.as_u16(), r.error()), (404, "Resource not found - ghost".to_owned()));
    let r = t.upload_api("image", "explicit", &[("public_id", "ghost")], None).await;
    assert_eq!(r.status, 404);
    let r = t.admin(axum::http::Method::GET, "nonsense/path", None).await;
    assert_eq!(r.status, 404);
    r.error();
}

#[tokio::test]
async fn unsigned_presets_must_exist_and_be_unsigned() {
    let t = TestApp::new().await;
    t.admin(axum::http::Method::POST, "upload_presets", Some(serde_json::json!({"name": "closed", "unsigned": false})))
        .await;
    let mp = Multipart::new(&[("upload_preset", "closed")]).file(Some(("a.png", &png(1, 1))));
    let r = t.post_multipart("/v1_1/demo/image/upload", mp).await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("unsigned"), "{}", r.error());
    let mp = Multipart::new(&[("upload_preset", "missing")]).file(Some(("a.png", &png(1, 1))));
    let r = t.post_multipart("/v1_1/demo/image/upload", mp).await;
    assert_eq!(r.status, 400);
    assert!(r.error().starts_with("Upload preset not found"), "{}", r.error());
    let mp = Multipart::new(&[("upload_preset", "closed"), ("public_id", "x")]);
    let r = t.post_multipart("/v1_1/demo/image/destroy", mp).await;
    assert_eq!(r.status, 401, "presets never authorise other actions");
}
