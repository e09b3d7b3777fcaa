//! Nimbus's blob store: originals (and later derived images) as objects, through the
//! `object_store` crate — the local filesystem for the embedded default, an in-memory store
//! for tests, S3-compatible storage for scale-out (same adapter, another backend).
//!
//! Implements `nimbus_app::ports::BlobStore`. Must not depend on axum or sqlx.

use std::ops::Range;
use std::path::Path as FsPath;
use std::sync::Arc;

use async_trait::async_trait;
use futures_util::{StreamExt as _, TryStreamExt as _};
use nimbus_app::ports::{BlobError, BlobMeta, BlobRead, BlobStore};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{GetOptions, GetRange, GetResultPayload, ObjectStore, PutPayload, RetryConfig, WriteMultipart};
use std::io::SeekFrom;
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};
use tokio_util::io::ReaderStream;

mod cached;
pub use cached::CachedBlobStore;

/// Read size when streaming a local file.
const READ_CHUNK: usize = 256 * 1024;

/// Files up to this size are put in one request; larger ones in parts of this size.
const PART_SIZE: usize = 8 * 1024 * 1024;

/// A [`BlobStore`] over any `object_store` backend.
#[derive(Clone)]
pub struct ObjectBlobStore {
    store: Arc<dyn ObjectStore>,
}

impl std::fmt::Debug for ObjectBlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ObjectBlobStore({})", self.store)
    }
}

fn err(e: object_store::Error) -> BlobError {
    match e {
        object_store::Error::NotFound { path, .. } => BlobError::NotFound(path),
        other => BlobError::Other(other.to_string()),
    }
}

fn io_err(e: std::io::Error) -> BlobError {
    BlobError::Other(e.to_string())
}

fn path(key: &str) -> Result<Path, BlobError> {
    Path::parse(key).map_err(|e| BlobError::Other(format!("invalid blob key {key:?}: {e}")))
}

impl ObjectBlobStore {
    /// Blobs under `dir` on the local filesystem (created if missing).
    pub fn local(dir: &FsPath) -> Result<Self, BlobError> {
        std::fs::create_dir_all(dir).map_err(io_err)?;
        let store = LocalFileSystem::new_with_prefix(dir).map_err(err)?;
        Ok(Self { store: Arc::new(store) })
    }

    /// Blobs in memory, for tests.
    pub fn in_memory() -> Self {
        Self { store: Arc::new(InMemory::new()) }
    }

    /// The store a URL names: `file:///path` (a directory) or `s3://BUCKET[/PREFIX]`, the
    /// latter configured by object_store's standard `AWS_*` variables (`AWS_ENDPOINT`,
    /// `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_ALLOW_HTTP`, ...).
    pub fn from_url(url: &str) -> Result<Self, BlobError> {
        if let Some(dir) = url.strip_prefix("file://") {
            if !dir.starts_with('/') {
                return Err(BlobError::Other(format!("blob URL {url}: file:// needs an absolute path")));
            }
            return Self::local(FsPath::new(dir));
        }
        let Some(rest) = url.strip_prefix("s3://") else {
            return Err(BlobError::Other(format!("blob URL {url}: use file:///DIR or s3://BUCKET[/PREFIX]")));
        };
        let (bucket, prefix) = rest.split_once('/').map_or((rest, ""), |(b, p)| (b, p.trim_matches('/')));
        if bucket.is_empty() {
            return Err(BlobError::Other(format!("blob URL {url}: no bucket")));
        }
        let s3 = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_retry(RetryConfig {
                max_retries: 3,
                retry_timeout: std::time::Duration::from_secs(10),
                ..Default::default()
            })
            .build()
            .map_err(|e| BlobError::Other(format!("blob URL {url}: {e}")))?;
        let store: Arc<dyn ObjectStore> =
            if prefix.is_empty() { Arc::new(s3) } else { Arc::new(PrefixStore::new(s3, prefix)) };
        Ok(Self { store })
    }

    /// Any other backend (S3-compatible, ...).
    pub fn from_store(store: Arc<dyn ObjectStore>) -> Self {
        Self { store }
    }
}

#[async_trait]
impl BlobStore for ObjectBlobStore {
    async fn put_bytes(&self, key: &str, bytes: bytes::Bytes) -> Result<(), BlobError> {
        self.store.put(&path(key)?, PutPayload::from(bytes)).await.map_err(err)?;
        Ok(())
    }

    async fn put_file(&self, key: &str, file: &FsPath) -> Result<(), BlobError> {
        let location = path(key)?;
        // Small files (the common case) are read in one blocking hop.
        let p = file.to_owned();
        let small = tokio::task::spawn_blocking(move || -> std::io::Result<Option<Vec<u8>>> {
            let len = std::fs::metadata(&p)?.len();
            if len <= PART_SIZE as u64 { std::fs::read(&p).map(Some) } else { Ok(None) }
        })
        .await
        .map_err(|e| BlobError::Other(e.to_string()))?
        .map_err(io_err)?;
        if let Some(buf) = small {
            self.store.put(&location, PutPayload::from(buf)).await.map_err(err)?;
            return Ok(());
        }
        let mut f = tokio::fs::File::open(file).await.map_err(io_err)?;
        let upload = self.store.put_multipart(&location).await.map_err(err)?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut buf = vec![0u8; 1024 * 1024];
        loop {
            let n = f.read(&mut buf).await.map_err(io_err)?;
            if n == 0 {
                break;
            }
            writer.wait_for_capacity(2).await.map_err(err)?;
            writer.write(&buf[..n]);
        }
        writer.finish().await.map_err(err)?;
        Ok(())
    }

    async fn get(&self, key: &str, range: Option<Range<u64>>) -> Result<BlobRead, BlobError> {
        let opts = GetOptions { range: range.map(GetRange::Bounded), ..Default::default() };
        let res = self.store.get_opts(&path(key)?, opts).await.map_err(err)?;
        let size = res.meta.size;
        let last_modified = res.meta.last_modified.timestamp();
        let stream = match res.payload {
            // object_store reads local files 8 KiB per blocking hop; read bigger pieces.
            GetResultPayload::File(file, _) => {
                let mut file = tokio::fs::File::from_std(file);
                file.seek(SeekFrom::Start(res.range.start)).await.map_err(io_err)?;
                let reader = file.take(res.range.end - res.range.start);
                ReaderStream::with_capacity(reader, READ_CHUNK).boxed()
            }
            GetResultPayload::Stream(s) => s.map_err(|e| std::io::Error::other(e.to_string())).boxed(),
        };
        Ok(BlobRead { size, last_modified, stream })
    }

    async fn head(&self, key: &str) -> Result<Option<BlobMeta>, BlobError> {
        match self.store.head(&path(key)?).await {
            Ok(m) => {
                Ok(Some(BlobMeta { key: key.to_owned(), size: m.size, last_modified: m.last_modified.timestamp() }))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(err(e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        match self.store.delete(&path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(err(e)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<BlobMeta>, BlobError> {
        let p = path(prefix.trim_end_matches('/'))?;
        self.store
            .list(Some(&p))
            .map_ok(|m| BlobMeta {
                key: m.location.to_string(),
                size: m.size,
                last_modified: m.last_modified.timestamp(),
            })
            .try_collect()
            .await
            .map_err(err)
    }

    async fn ping(&self) -> Result<(), BlobError> {
        match self.store.head(&Path::from("nimbus-readiness-probe")).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(err(e)),
        }
    }
}
