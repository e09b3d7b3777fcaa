//! Staging of incoming files: bytes are streamed to a temp file while being hashed and
//! counted, with the size limit enforced as they arrive. The blob store takes the finished
//! file; the temp file is removed when the [`StagedFile`] is dropped.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use md5::{Digest as _, Md5};

use crate::AppError;

/// Bytes kept from the start of the file, for sniffing its type.
pub const HEAD_LEN: usize = 512;
/// Chunks are gathered to this size before each hop to a blocking thread.
const FLUSH_AT: usize = 256 * 1024;

/// A complete staged file.
#[derive(Debug)]
pub struct StagedFile {
    pub path: PathBuf,
    pub bytes: u64,
    /// MD5 of the content, hex (the asset's `etag`).
    pub md5: String,
    /// The first bytes of the file.
    pub head: Vec<u8>,
    /// The client's file name, if it sent one (multipart `filename`, URL path).
    pub filename: Option<String>,
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

struct Sink {
    file: File,
    hasher: Md5,
}

/// Writes a file chunk by chunk. Create with [`StagingWriter::create`], feed with
/// [`StagingWriter::push`], end with [`StagingWriter::finish`]. Dropped unfinished, it
/// removes its temp file.
pub struct StagingWriter {
    path: PathBuf,
    sink: Option<Sink>,
    buf: Vec<u8>,
    head: Vec<u8>,
    bytes: u64,
    max: u64,
    filename: Option<String>,
}

impl StagingWriter {
    pub async fn create(dir: &Path, name: String, max: u64, filename: Option<String>) -> Result<Self, AppError> {
        let path = dir.join(format!("{name}.part"));
        let p = path.clone();
        let file = tokio::task::spawn_blocking(move || File::create(&p))
            .await
            .map_err(|_| AppError::Cpu("staging task failed"))??;
        Ok(Self {
            path,
            sink: Some(Sink { file, hasher: Md5::new() }),
            buf: Vec::with_capacity(FLUSH_AT),
            head: Vec::new(),
            bytes: 0,
            max,
            filename,
        })
    }

    /// Appends a chunk; fails as soon as the total passes the maximum.
    pub async fn push(&mut self, chunk: &[u8]) -> Result<(), AppError> {
        self.bytes += chunk.len() as u64;
        if self.bytes > self.max {
            return Err(AppError::FileTooLarge { got: self.bytes, max: self.max });
        }
        if self.head.len() < HEAD_LEN {
            let take = (HEAD_LEN - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        self.buf.extend_from_slice(chunk);
        if self.buf.len() >= FLUSH_AT {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), AppError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let mut sink = self.sink.take().ok_or(AppError::Cpu("staging writer poisoned"))?;
        let buf = std::mem::replace(&mut self.buf, Vec::with_capacity(FLUSH_AT));
        let sink = tokio::task::spawn_blocking(move || -> std::io::Result<Sink> {
            sink.hasher.update(&buf);
            sink.file.write_all(&buf)?;
            Ok(sink)
        })
        .await
        .map_err(|_| AppError::Cpu("staging task failed"))??;
        self.sink = Some(sink);
        Ok(())
    }

    /// Flushes and closes the file. An empty file is an error.
    pub async fn finish(mut self) -> Result<StagedFile, AppError> {
        self.flush().await?;
        if self.bytes == 0 {
            return Err(AppError::EmptyFile);
        }
        let sink = self.sink.take().ok_or(AppError::Cpu("staging writer poisoned"))?;
        // No fsync: the staged file is scratch (cleared on restart); the blob store holds the
        // copy that matters.
        let md5 = hex::encode(sink.hasher.finalize());
        Ok(StagedFile {
            path: std::mem::take(&mut self.path),
            bytes: self.bytes,
            md5,
            head: std::mem::take(&mut self.head),
            filename: self.filename.take(),
        })
    }
}

impl Drop for StagingWriter {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Decodes a `data:<mime>;base64,<payload>` URI.
pub fn decode_data_uri(uri: &str) -> Result<Vec<u8>, AppError> {
    use base64::Engine as _;
    let rest = uri.strip_prefix("data:").ok_or(AppError::InvalidDataUri("not a data URI"))?;
    let (meta, payload) = rest.split_once(',').ok_or(AppError::InvalidDataUri("data URI without a comma"))?;
    if !meta.ends_with(";base64") {
        return Err(AppError::InvalidDataUri("only base64 data URIs are supported"));
    }
    let cleaned: String = payload.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(cleaned.as_bytes())
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(cleaned.as_bytes()))
        .map_err(|_| AppError::InvalidDataUri("invalid base64"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stages_hashes_and_limits() {
        let dir = std::env::temp_dir().join(format!("nimbus-staging-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut w = StagingWriter::create(&dir, "a".into(), 10, None).await.unwrap();
        w.push(b"hello").await.unwrap();
        let f = w.finish().await.unwrap();
        assert_eq!((f.bytes, f.md5.as_str()), (5, "5d41402abc4b2a76b9719d911017c592"));
        assert_eq!(std::fs::read(&f.path).unwrap(), b"hello");
        let path = f.path.clone();
        drop(f);
        assert!(!path.exists());

        let mut w = StagingWriter::create(&dir, "b".into(), 4, None).await.unwrap();
        assert!(matches!(w.push(b"hello").await, Err(AppError::FileTooLarge { got: 5, max: 4 })));
        drop(w);
        assert!(!dir.join("b.part").exists());

        let w = StagingWriter::create(&dir, "c".into(), 4, None).await.unwrap();
        assert!(matches!(w.finish().await, Err(AppError::EmptyFile)));
    }

    #[test]
    fn data_uris() {
        assert_eq!(decode_data_uri("data:text/plain;base64,aGVsbG8=").unwrap(), b"hello");
        assert!(decode_data_uri("data:text/plain,hello").is_err());
        assert!(decode_data_uri("data:;base64,!!!").is_err());
    }
}
