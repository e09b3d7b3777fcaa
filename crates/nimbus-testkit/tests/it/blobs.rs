//! The blob store adapters: the object_store-backed store and its read cache.

use std::sync::Arc;

use futures_util::StreamExt as _;
use nimbus_app::ports::{BlobRead, BlobStore};
use nimbus_blob::{CachedBlobStore, ObjectBlobStore};
use nimbus_testkit::ScratchDir;

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
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 253) as u8).collect();
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
        assert_eq!(store.head(&key).await.unwrap().size, bytes.len() as u64);
    }
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
