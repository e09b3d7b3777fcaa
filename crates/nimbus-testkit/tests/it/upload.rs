//! Upload API: the happy paths.

use nimbus_core::signature::{Algorithm, response_signature};
use nimbus_testkit::{KEY, Multipart, SECRET, T0, TestApp, jpeg, png};

#[tokio::test]
async fn upload_by_file_returns_cloudinarys_fields() {
    let t = TestApp::new().await;
    let r = t
        .upload_api(
            "image",
            "upload",
            &[("public_id", "f1/sample"), ("tags", "a,b"), ("context", r"caption=a\=b\|c|alt=x")],
            Some(("/tmp/cap/small.png", &png(64, 48))),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    assert_eq!(v["public_id"], "f1/sample");
    assert_eq!((v["width"].as_i64(), v["height"].as_i64(), v["format"].as_str()), (Some(64), Some(48), Some("png")));
    assert_eq!(
        (v["resource_type"].as_str(), v["type"].as_str(), v["version"].as_i64()),
        (Some("image"), Some("upload"), Some(T0))
    );
    assert_eq!(v["tags"], serde_json::json!(["a", "b"]));
    assert_eq!(v["context"]["custom"]["caption"], "a=b|c");
    assert_eq!(
        (v["asset_folder"].as_str(), v["display_name"].as_str(), v["original_filename"].as_str()),
        (Some("f1"), Some("sample"), Some("small"))
    );
    assert_eq!(v["url"], format!("http://nimbus.test/demo/image/upload/v{T0}/f1/sample.png"));
    assert_eq!(v["signature"].as_str().unwrap(), response_signature("f1/sample", T0, SECRET, Algorithm::Sha1));
    assert_eq!(v["created_at"], "2023-11-14T22:13:20Z");
    assert_eq!((v["api_key"].as_str(), v["placeholder"].as_bool()), (Some(KEY), Some(false)));
    assert_eq!(v["asset_id"].as_str().unwrap().len(), 32);
    assert_eq!(v["etag"].as_str().unwrap().len(), 32);
    assert_eq!(v["bytes"].as_u64(), Some(png(64, 48).len() as u64));
}

#[tokio::test]
async fn data_uri_generated_ids_filenames_and_auto() {
    use base64::Engine as _;
    let t = TestApp::new().await;
    let uri = format!("data:image/jpeg;base64,{}", base64::engine::general_purpose::STANDARD.encode(jpeg(30, 20)));
    let v = t.upload_api("image", "upload", &[("file", &uri)], None).await.json();
    assert_eq!((v["format"].as_str(), v["width"].as_i64()), (Some("jpg"), Some(30)));
    let id = v["public_id"].as_str().unwrap();
    assert!(id.len() == 20 && id.chars().all(|c| c.is_ascii_alphanumeric()), "{id}");

    let v = t
        .upload_api(
            "image",
            "upload",
            &[("use_filename", "1"), ("unique_filename", "0"), ("folder", "docs")],
            Some(("my photo.png", &png(2, 2))),
        )
        .await
        .json();
    assert_eq!(v["public_id"], "docs/my_photo");
    let v = t.upload_api("image", "upload", &[("use_filename", "1")], Some(("cat.png", &png(2, 2)))).await.json();
    assert!(v["public_id"].as_str().unwrap().starts_with("cat_"), "{v}");

    let v = t.upload_api("auto", "upload", &[], Some(("notes.txt", b"hello"))).await.json();
    assert_eq!(v["resource_type"], "raw");
    assert!(v["public_id"].as_str().unwrap().ends_with(".txt"));
    assert!(v.get("format").is_none() && v.get("width").is_none());
    let v = t.upload_api("auto", "upload", &[], Some(("x.png", &png(3, 3)))).await.json();
    assert_eq!(v["resource_type"], "image");
}

#[tokio::test]
async fn overwrite_rules() {
    let t = TestApp::new().await;
    let first = t.upload_api("image", "upload", &[("public_id", "same")], Some(("a.png", &png(1, 1)))).await.json();
    t.clock.advance(5);
    let kept = t
        .upload_api("image", "upload", &[("public_id", "same"), ("overwrite", "0")], Some(("b.png", &png(2, 2))))
        .await
        .json();
    assert_eq!((kept["existing"].as_bool(), kept["width"].as_i64()), (Some(true), Some(1)));
    let over = t.upload_api("image", "upload", &[("public_id", "same")], Some(("b.png", &png(2, 2)))).await.json();
    assert_eq!((over["overwritten"].as_bool(), over["width"].as_i64()), (Some(true), Some(2)));
    assert_eq!(over["asset_id"], first["asset_id"]);
    assert!(over["version"].as_i64() > first["version"].as_i64());
    assert_ne!(over["version_id"], first["version_id"]);
    let again = t.upload_api("image", "upload", &[("public_id", "same")], Some(("c.png", &png(3, 3)))).await.json();
    assert!(again["version"].as_i64() > over["version"].as_i64(), "same second, still a newer version");
    assert_eq!(
        (again["asset_id"].clone(), again["created_at"].clone()),
        (first["asset_id"].clone(), first["created_at"].clone())
    );
    let url = again["url"].as_str().unwrap().trim_start_matches("http://nimbus.test").to_owned();
    assert_eq!(t.get(&url, &[]).await.body, png(3, 3));
}

#[tokio::test]
async fn presets_signed_and_unsigned() {
    let t = TestApp::new().await;
    let r = t
        .admin(
            axum::http::Method::POST,
            "upload_presets",
            Some(serde_json::json!({"name": "open", "unsigned": true, "folder": "inbox", "tags": "from-preset"})),
        )
        .await;
    assert_eq!(r.json()["message"], "created");
    // Unsigned: no api_key, no signature.
    let mp = Multipart::new(&[("upload_preset", "open"), ("timestamp", "1")]).file(Some(("p.png", &png(4, 4))));
    let r = t.post_multipart("/v1_1/demo/image/upload", mp).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    assert!(v["public_id"].as_str().unwrap().starts_with("inbox/"));
    assert_eq!(v["tags"], serde_json::json!(["from-preset"]));
    assert!(v.get("signature").is_none());
    // Signed with a preset: request values win.
    let v = t
        .upload_api("image", "upload", &[("upload_preset", "open"), ("tags", "mine")], Some(("p.png", &png(4, 4))))
        .await
        .json();
    assert_eq!(v["tags"], serde_json::json!(["mine"]));
    let r = t.admin(axum::http::Method::GET, "upload_presets/open", None).await.json();
    assert_eq!((r["unsigned"].as_bool(), r["settings"]["folder"].as_str()), (Some(true), Some("inbox")));
}

#[tokio::test]
async fn destroy_rename_explicit_tags_context() {
    let t = TestApp::new().await;
    t.upload_api("image", "upload", &[("public_id", "a")], Some(("a.png", &png(1, 1)))).await;
    t.upload_api("image", "upload", &[("public_id", "b")], Some(("b.png", &png(1, 1)))).await;

    let r = t
        .upload_api(
            "image",
            "tags",
            &[("command", "add"), ("tag", "x"), ("public_ids[]", "a"), ("public_ids[]", "b"), ("public_ids[]", "zz")],
            None,
        )
        .await;
    assert_eq!(r.json()["public_ids"], serde_json::json!(["a", "b"]));
    let r =
        t.upload_api("image", "context", &[("command", "add"), ("context", "k=v"), ("public_ids[]", "a")], None).await;
    assert_eq!(r.json()["public_ids"], serde_json::json!(["a"]));
    let v = t.upload_api("image", "explicit", &[("public_id", "a"), ("type", "upload")], None).await.json();
    assert_eq!(
        (v["tags"].clone(), v["context"]["custom"]["k"].clone()),
        (serde_json::json!(["x"]), serde_json::json!("v"))
    );

    let v = t.upload_api("image", "rename", &[("from_public_id", "a"), ("to_public_id", "c/d")], None).await.json();
    assert_eq!(v["public_id"], "c/d");
    let r = t.upload_api("image", "rename", &[("from_public_id", "b"), ("to_public_id", "c/d")], None).await;
    assert_eq!(r.status, 400, "target exists without overwrite");
    let r = t
        .upload_api("image", "rename", &[("from_public_id", "b"), ("to_public_id", "c/d"), ("overwrite", "1")], None)
        .await;
    assert_eq!(r.status, 200);

    assert_eq!(t.upload_api("image", "destroy", &[("public_id", "c/d")], None).await.json()["result"], "ok");
    assert_eq!(t.upload_api("image", "destroy", &[("public_id", "c/d")], None).await.json()["result"], "not found");
    let r = t.upload_api("image", "tags", &[("command", "remove_all"), ("public_ids[]", "nothing")], None).await;
    assert_eq!(r.json()["public_ids"], serde_json::json!([]));
}

#[tokio::test]
async fn sweeper_removes_only_old_orphans() {
    let t = TestApp::new().await;
    let v = t.upload_api("image", "upload", &[("public_id", "keep")], Some(("a.png", &png(1, 1)))).await.json();
    assert_eq!(v["public_id"], "keep");
    let orphan = t.dir.path().join("orphan.bin");
    std::fs::write(&orphan, b"left by a crash").unwrap();
    t.app.blobs.put_file("originals/zz/orphan", &orphan).await.unwrap();
    // Blobs are stamped with the real time; move the test clock past the grace period.
    let real_now = i64::try_from(std::time::UNIX_EPOCH.elapsed().unwrap().as_secs()).unwrap();
    t.clock.set(real_now);
    assert_eq!(t.app.sweep_orphans(3600).await.unwrap(), 0, "young orphans stay (an upload may be in flight)");
    t.clock.set(real_now + 7200);
    assert_eq!(t.app.sweep_orphans(3600).await.unwrap(), 1);
    assert!(t.app.blobs.head("originals/zz/orphan").await.unwrap().is_none());
    let r = t.get(&format!("/demo/image/upload/v{}/keep.png", v["version"]), &[]).await;
    assert_eq!(r.status, 200, "referenced blobs survive");
}

#[tokio::test]
async fn chunked_uploads_assemble_the_file() {
    let t = TestApp::new().await;
    let whole: Vec<u8> = (0..30u8).collect();
    // Python sends the real total on every chunk; Node sends -1 until the last one.
    for (id, totals) in [("py", ["30", "30", "30"]), ("node", ["-1", "-1", "30"])] {
        let mut public_id = String::new();
        for (i, total) in totals.iter().enumerate() {
            let (a, b) = (i * 12, (i * 12 + 11).min(29));
            let mut fields = vec![];
            if !public_id.is_empty() && id == "py" {
                fields.push(("public_id", public_id.as_str()));
            }
            let (ct, body) =
                Multipart::signed(&fields, T0, KEY, SECRET).file(Some(("big.bin", &whole[a..=b]))).finish();
            let req = axum::http::Request::post("/v1_1/demo/raw/upload")
                .header("content-type", ct)
                .header("x-unique-upload-id", format!("{id}upload"))
                .header("content-range", format!("bytes {a}-{b}/{total}"))
                .body(axum::body::Body::from(body))
                .unwrap();
            let r = t.call(req).await;
            assert_eq!(r.status, 200, "{id} chunk {i}: {}", String::from_utf8_lossy(&r.body));
            let v = r.json();
            // Intermediate answers name no public id unless one was asked for (clients send
            // it back): the last chunk names the asset as a one-request upload would.
            public_id = v["public_id"].as_str().unwrap_or_default().to_owned();
            if i == 2 {
                assert_eq!(v["bytes"].as_u64(), Some(30), "{id}");
                assert!(public_id.ends_with(".bin"), "{id}: {public_id}");
                let url = v["url"].as_str().unwrap().trim_start_matches("http://nimbus.test").to_owned();
                assert_eq!(t.get(&url, &[]).await.body, whole, "{id}: the assembled file");
            } else {
                assert_eq!(v["done"].as_bool(), Some(false));
            }
        }
    }
    // A chunk that does not follow an earlier one is refused.
    let (ct, body) = Multipart::signed(&[], T0, KEY, SECRET).file(Some(("x.bin", &whole[..5]))).finish();
    let req = axum::http::Request::post("/v1_1/demo/raw/upload")
        .header("content-type", ct)
        .header("x-unique-upload-id", "orphanchunk")
        .header("content-range", "bytes 10-14/30")
        .body(axum::body::Body::from(body))
        .unwrap();
    assert_eq!(t.call(req).await.status, 400);
}
