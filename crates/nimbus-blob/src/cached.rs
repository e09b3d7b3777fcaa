//! A read cache in front of any blob store: small blobs are kept in memory, weighted by
//! their size. Blob keys are immutable (a new version is a new key), so a cached blob can
//! never be stale; deletes through this store drop it.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures_util::{StreamExt as _, stream};
use moka::sync::Cache;
use nimbus_app::ports::{BlobError, BlobMeta, BlobRead, BlobStore};

#[derive(Clone)]
struct Cached {
    bytes: Bytes,
    last_modified: i64,
}

/// [`BlobStore`] decorator caching whole blobs up to `max_item` bytes, `capacity` in all.
pub struct CachedBlobStore {
    inner: Arc<dyn BlobStore>,
    cache: Cache<String, Cached>,
    max_item: u64,
}

impl CachedBlobStore {
    pub fn new(inner: Arc<dyn BlobStore>, capacity: u64, max_item: u64) -> Self {
        let cache = Cache::builder()
            .weigher(|k: &String, v: &Cached| u32::try_from(k.len() + v.bytes.len()).unwrap_or(u32::MAX))
            .max_capacity(capacity)
            .build();
        Self { inner, cache, max_item }
    }
}

fn serve(c: &Cached, range: Option<Range<u64>>) -> BlobRead {
    let size = c.bytes.len() as u64;
    let part = match range {
        Some(r) => c.bytes.slice(r.start.min(size) as usize..r.end.min(size) as usize),
        None => c.bytes.clone(),
    };
    BlobRead { size, last_modified: c.last_modified, stream: stream::once(async move { Ok(part) }).boxed() }
}

#[async_trait]
impl BlobStore for CachedBlobStore {
    async fn put_file(&self, key: &str, path: &Path) -> Result<(), BlobError> {
        self.cache.invalidate(key);
        self.inner.put_file(key, path).await
    }

    async fn put_bytes(&self, key: &str, bytes: Bytes) -> Result<(), BlobError> {
        self.cache.invalidate(key);
        self.inner.put_bytes(key, bytes.clone()).await?;
        // What was just written (a fresh derivative) is about to be read.
        if bytes.len() as u64 <= self.max_item {
            let last_modified = self.inner.head(key).await.ok().flatten().map_or(0, |m| m.last_modified);
            self.cache.insert(key.to_owned(), Cached { bytes, last_modified });
        }
        Ok(())
    }

    async fn get(&self, key: &str, range: Option<Range<u64>>) -> Result<BlobRead, BlobError> {
        if let Some(c) = self.cache.get(key) {
            return Ok(serve(&c, range));
        }
        let whole = self.inner.get(key, None).await?;
        if whole.size > self.max_item {
            drop(whole);
            return self.inner.get(key, range).await;
        }
        let mut buf = BytesMut::with_capacity(whole.size as usize);
        let mut s = whole.stream;
        while let Some(chunk) = s.next().await {
            buf.extend_from_slice(&chunk.map_err(|e| BlobError::Other(e.to_string()))?);
        }
        let c = Cached { bytes: buf.freeze(), last_modified: whole.last_modified };
        self.cache.insert(key.to_owned(), c.clone());
        Ok(serve(&c, range))
    }

    async fn head(&self, key: &str) -> Result<Option<BlobMeta>, BlobError> {
        if let Some(c) = self.cache.get(key) {
            return Ok(Some(BlobMeta {
                key: key.to_owned(),
                size: c.bytes.len() as u64,
                last_modified: c.last_modified,
            }));
        }
        self.inner.head(key).await
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        self.cache.invalidate(key);
        self.inner.delete(key).await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<BlobMeta>, BlobError> {
        self.inner.list(prefix).await
    }

    async fn ping(&self) -> Result<(), BlobError> {
        self.inner.ping().await
    }
}
