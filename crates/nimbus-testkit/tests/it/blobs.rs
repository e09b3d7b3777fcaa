//! The blob store adapters: the object_store-backed store and its read cache.

use std::sync::Arc;

use futures_util::StreamExt as _;
use nimbus_app::ports::{BlobRead, BlobStore};
use nimbus_blob::{CachedBlobStore, ObjectBlobStore};
use nimbus_testkit::{Db, ScratchDir, TestApp, png};

async fn read(r: BlobRead) -> Vec<u8> {
    let mut out = Vec::new();
    let mut s = r.stream;
    while let Some(c) = s.next().await {
        out.extend_from_slice(&c.unwrap());
    }
    out
}

async fn suite(store: &dyn BlobStore, dir: &ScratchDir) {
    let small: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    // Above the single-request size: stored in parts.
    let big: Vec<u8> = (0..9_000_000u32).map(|i| (i % 253) as u8).collect();
    for (name, bytes) in [("small", &small), ("big", &big)] {
        let f = dir.path().join(name);
        std::fs::write(&f, bytes).unwrap();
        let key = format!("originals/{name}");
        store.put_file(&key, &f).await.unwrap();
        let r = store.get(&key, None).await.unwrap();
        assert_eq!(r.size, bytes.len() as u64);
        assert_eq!(&read(r).await, bytes, "{name}");
        // Twice: the second read may come from a cache.
        assert_eq!(&read(store.get(&key, Some(10..20)).await.unwrap()).await, &bytes[10..20], "{name} range");
        assert_eq!(&read(store.get(&key, Some(5..15)).await.unwrap()).await, &bytes[5..15], "{name} cached range");
        assert_eq!(store.head(&key).await.unwrap().unwrap().size, bytes.len() as u64);
    }
    assert!(store.head("originals/none").await.unwrap().is_none(), "absent is not an error");
    store.put_bytes("derived/x/1.png", bytes::Bytes::from_static(b"png")).await.unwrap();
    assert_eq!(read(store.get("derived/x/1.png", None).await.unwrap()).await, b"png");
    store.delete("derived/x/1.png").await.unwrap();
    let keys: Vec<String> = store.list("originals/").await.unwrap().into_iter().map(|m| m.key).collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    store.delete("originals/small").await.unwrap();
    store.delete("originals/small").await.unwrap();
    assert!(store.get("originals/small", None).await.is_err(), "deleted blobs are gone, cached or not");
    store.ping().await.unwrap();
}

#[tokio::test]
async fn local_filesystem() {
    let dir = ScratchDir::new("blobs");
    let store = ObjectBlobStore::local(&dir.path().join("store")).unwrap();
    suite(&store, &dir).await;
}

#[tokio::test]
async fn cached_local_filesystem() {
    let dir = ScratchDir::new("blobs");
    let store =
        CachedBlobStore::new(Arc::new(ObjectBlobStore::local(&dir.path().join("store")).unwrap()), 1 << 20, 4096);
    suite(&store, &dir).await;
}

#[tokio::test]
async fn in_memory() {
    let dir = ScratchDir::new("blobs");
    suite(&ObjectBlobStore::in_memory(), &dir).await;
}

/// A real S3-compatible server (Garage, started by scripts/garage.sh): `NIMBUS_TEST_BLOB_URL`
/// and the `AWS_*` variables name it. Skipped when unset, unless `NIMBUS_REQUIRE_S3=1`.
#[tokio::test]
async fn s3_compatible_server() {
    let Ok(base) = std::env::var("NIMBUS_TEST_BLOB_URL") else {
        assert!(std::env::var("NIMBUS_REQUIRE_S3").as_deref() != Ok("1"), "NIMBUS_TEST_BLOB_URL is required");
        eprintln!("skipping S3: NIMBUS_TEST_BLOB_URL is not set");
        return;
    };
    let dir = ScratchDir::new("blobs");
    let url = format!("{}/t{:016x}", base.trim_end_matches('/'), rand::random::<u64>());
    let store = ObjectBlobStore::from_url(&url).unwrap();
    suite(&store, &dir).await;
    suite(&CachedBlobStore::new(Arc::new(ObjectBlobStore::from_url(&format!("{url}c")).unwrap()), 1 << 20, 4096), &dir)
        .await;
}

/// A store that does not answer is an error, never "absent" (which would make delivery
/// render a derivative again).
#[tokio::test]
async fn an_unreachable_store_is_an_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let s3 = object_store::aws::AmazonS3Builder::new()
        .with_bucket_name("b")
        .with_endpoint(format!("http://127.0.0.1:{port}"))
        .with_allow_http(true)
        .with_region("garage")
        .with_access_key_id("k")
        .with_secret_access_key("s")
        .with_retry(object_store::RetryConfig { max_retries: 0, ..Default::default() })
        .build()
        .unwrap();
    let store = ObjectBlobStore::from_store(Arc::new(s3));
    assert!(store.head("originals/x").await.is_err());
    assert!(store.get("originals/x", None).await.is_err());
    assert!(store.ping().await.is_err());

    // Through the API: 503 with Retry-After, and no asset without its blob.
    let t = TestApp::on_store(Db::Sqlite, Some(Arc::new(store)), |_| {}).await.unwrap();
    let r = t.upload_api("image", "upload", &[("public_id", "down")], Some(("a.png", &png(4, 4)))).await;
    assert_eq!((r.status.as_u16(), r.header("retry-after")), (503, Some("5")), "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.error(), "Storage is unavailable, try again shortly");
    assert_eq!(t.admin(axum::http::Method::GET, "resources/image/upload/down", None).await.status, 404);
    assert_eq!(t.get("/readyz", &[]).await.status.as_u16(), 503);
}
