//! Chunked uploads (`upload_large` in the SDKs): each chunk is a complete signed upload
//! request with `X-Unique-Upload-Id` and `Content-Range: bytes START-END/TOTAL` (TOTAL is
//! `-1` until the last chunk from the Node SDK). Chunks are appended to one staged file per
//! environment and upload id; the last one hands the whole file to the normal upload flow.
//!
//! The partial file lives in this node's staging directory, so with several nodes the
//! chunks of one upload must reach the same node (sticky sessions) for now.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::PathBuf;

use md5::{Digest as _, Md5};

use crate::error::AppResult;
use crate::staging::{HEAD_LEN, StagedFile};
use crate::{App, AppError};

/// Where one chunk goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkInfo {
    pub upload_id: String,
    pub start: u64,
    /// Inclusive.
    pub end: u64,
    /// Known on the last chunk at least.
    pub total: Option<u64>,
}

impl ChunkInfo {
    /// From the `X-Unique-Upload-Id` and `Content-Range` headers.
    pub fn parse(upload_id: &str, content_range: &str) -> AppResult<Self> {
        let bad = || AppError::InvalidParam { name: "Content-Range", value: content_range.to_owned() };
        if upload_id.is_empty()
            || upload_id.len() > 64
            || !upload_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(AppError::InvalidParam { name: "X-Unique-Upload-Id", value: upload_id.to_owned() });
        }
        let spec = content_range.trim().strip_prefix("bytes ").ok_or_else(bad)?;
        let (range, total) = spec.split_once('/').ok_or_else(bad)?;
        let (a, b) = range.split_once('-').ok_or_else(bad)?;
        let (start, end): (u64, u64) = (a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?);
        let total = match total.trim() {
            "-1" | "*" => None,
            t => Some(t.parse::<u64>().map_err(|_| bad())?),
        };
        if end < start || total.is_some_and(|t| end >= t) {
            return Err(bad());
        }
        Ok(Self { upload_id: upload_id.to_owned(), start, end, total })
    }

    /// Whether this chunk completes the file.
    pub fn is_last(&self) -> bool {
        self.total == Some(self.end + 1)
    }
}

impl App {
    /// Appends a staged chunk; returns the whole file once the last chunk is in.
    pub async fn append_chunk(&self, env: i64, info: &ChunkInfo, chunk: StagedFile) -> AppResult<Option<StagedFile>> {
        if chunk.bytes != info.end - info.start + 1 {
            return Err(AppError::InvalidParam {
                name: "Content-Range",
                value: format!("{}-{} for {} bytes", info.start, info.end, chunk.bytes),
            });
        }
        let max = self.config.max_file_bytes;
        if info.end + 1 > max {
            return Err(AppError::FileTooLarge { got: info.end + 1, max });
        }
        let partial = self.config.staging_dir.join(format!("chunked-{env}-{}.part", info.upload_id));
        let done = self.config.staging_dir.join(format!("{}.part", self.ids.hex32()));
        let info = info.clone();
        let chunk_path = chunk.path.clone();
        let filename = chunk.filename.clone();
        let finished = self.cpu.run(move || append(&partial, &chunk_path, &info, &done)).await??;
        drop(chunk);
        Ok(finished.map(|(path, bytes, md5, head)| StagedFile { path, bytes, md5, head, filename }))
    }
}

type Finished = (PathBuf, u64, String, Vec<u8>);

fn append(partial: &PathBuf, chunk: &PathBuf, info: &ChunkInfo, done: &PathBuf) -> AppResult<Option<Finished>> {
    let mut out = if info.start == 0 {
        File::create(partial)?
    } else {
        OpenOptions::new().read(true).write(true).open(partial).map_err(|_| AppError::InvalidParam {
            name: "X-Unique-Upload-Id",
            value: format!("{} (no earlier chunks)", info.upload_id),
        })?
    };
    let have = out.metadata()?.len();
    if info.start > have {
        return Err(AppError::InvalidParam {
            name: "Content-Range",
            value: format!("gap: starts at {} but {have} bytes received", info.start),
        });
    }
    // A resent chunk overwrites what was there.
    out.set_len(info.start)?;
    out.seek(SeekFrom::Start(info.start))?;
    std::io::copy(&mut File::open(chunk)?, &mut out)?;
    if !info.is_last() {
        return Ok(None);
    }
    drop(out);
    std::fs::rename(partial, done)?;
    let mut f = File::open(done)?;
    let mut hasher = Md5::new();
    let mut head = Vec::with_capacity(HEAD_LEN);
    let mut buf = vec![0u8; 256 * 1024];
    let mut bytes = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        if head.len() < HEAD_LEN {
            head.extend_from_slice(&buf[..n.min(HEAD_LEN - head.len())]);
        }
        hasher.update(&buf[..n]);
        bytes += n as u64;
    }
    Ok(Some((done.clone(), bytes, hex::encode(hasher.finalize()), head)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges() {
        let c = ChunkInfo::parse("abc123", "bytes 0-11/30").unwrap();
        assert_eq!((c.start, c.end, c.total, c.is_last()), (0, 11, Some(30), false));
        assert!(ChunkInfo::parse("abc", "bytes 24-29/30").unwrap().is_last());
        assert_eq!(ChunkInfo::parse("abc", "bytes 12-23/-1").unwrap().total, None);
        for bad in ["0-1/2", "bytes 5-1/10", "bytes 0-10/10", "bytes a-b/c"] {
            assert!(ChunkInfo::parse("abc", bad).is_err(), "{bad}");
        }
        assert!(ChunkInfo::parse("../x", "bytes 0-1/2").is_err());
    }
}
