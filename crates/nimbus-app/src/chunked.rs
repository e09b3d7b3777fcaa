//! Chunked uploads (`upload_large` in the SDKs): each chunk is a complete signed upload
//! request with `X-Unique-Upload-Id` and `Content-Range: bytes START-END/TOTAL` (TOTAL is
//! `-1` until the last chunk from the Node SDK). Each chunk is kept as a part in the blob
//! store, so the chunks of one upload may reach different nodes; the last one assembles the
//! parts into one staged file and hands it to the normal upload flow. Parts of an upload
//! never finished are removed by the sweeper.

use futures_util::StreamExt as _;

use crate::error::AppResult;
use crate::staging::StagedFile;
use crate::{App, AppError};

/// Prefix of the staged parts: `chunks/{env}/{upload id}/{start}-{end}`.
pub const CHUNKS_PREFIX: &str = "chunks/";

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
    /// Keeps a staged chunk as a part; returns the whole file once the last chunk is in.
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
        let prefix = format!("{CHUNKS_PREFIX}{env}/{}/", info.upload_id);
        if info.start > 0 {
            let parts = self.chunk_parts(&prefix).await?;
            if parts.is_empty() {
                return Err(AppError::InvalidParam {
                    name: "X-Unique-Upload-Id",
                    value: format!("{} (no earlier chunks)", info.upload_id),
                });
            }
            let have = contiguous(&parts, None).1;
            if info.start > have {
                return Err(AppError::InvalidParam {
                    name: "Content-Range",
                    value: format!("gap: starts at {} but {have} bytes received", info.start),
                });
            }
        }
        // A resent chunk replaces the part of the same range.
        self.blobs.put_file(&format!("{prefix}{:020}-{:020}", info.start, info.end), &chunk.path).await?;
        let filename = chunk.filename.clone();
        drop(chunk);
        if !info.is_last() {
            return Ok(None);
        }
        let parts = self.chunk_parts(&prefix).await?;
        let (chain, have) = contiguous(&parts, Some(info.end + 1));
        if have != info.end + 1 {
            return Err(AppError::InvalidParam {
                name: "Content-Range",
                value: format!("gap: {have} of {} bytes received", info.end + 1),
            });
        }
        let mut writer = self.staging_writer(filename).await?;
        for (_, _, key) in &chain {
            let mut read = self.blobs.get(key, None).await?.stream;
            while let Some(piece) = read.next().await {
                writer.push(&piece.map_err(AppError::Io)?).await?;
            }
        }
        let whole = writer.finish().await?;
        for (_, _, key) in &parts {
            self.delete_blob_quietly(key).await;
        }
        Ok(Some(whole))
    }

    /// The parts under `prefix`: (start, end inclusive, key), by start.
    async fn chunk_parts(&self, prefix: &str) -> AppResult<Vec<(u64, u64, String)>> {
        let mut parts: Vec<(u64, u64, String)> = self
            .blobs
            .list(prefix)
            .await?
            .into_iter()
            .filter_map(|m| {
                let (a, b) = m.key.rsplit('/').next()?.split_once('-')?;
                Some((a.parse().ok()?, b.parse().ok()?, m.key))
            })
            .collect();
        parts.sort();
        Ok(parts)
    }
}

/// The parts that follow each other from byte 0 (up to `total` bytes when known), and how
/// many bytes they cover. Where two parts start at the same byte (a chunk resent with
/// another size), the longer one that fits is taken.
fn contiguous(parts: &[(u64, u64, String)], total: Option<u64>) -> (Vec<(u64, u64, String)>, u64) {
    let mut chain = Vec::new();
    let mut have = 0u64;
    loop {
        let next =
            parts.iter().filter(|(a, b, _)| *a == have && total.is_none_or(|t| *b < t)).max_by_key(|(_, b, _)| *b);
        match next {
            Some(p) => {
                have = p.1 + 1;
                chain.push(p.clone());
            }
            None => return (chain, have),
        }
    }
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

    #[test]
    fn parts_chain_from_the_first_byte() {
        let p = |a: u64, b: u64| (a, b, format!("{a}-{b}"));
        let parts = vec![p(0, 9), p(10, 14), p(10, 19), p(20, 29), p(40, 49)];
        let (chain, have) = contiguous(&parts, None);
        assert_eq!((chain.len(), have), (3, 30));
        let (chain, have) = contiguous(&parts, Some(15));
        assert_eq!((chain.iter().map(|c| c.1).collect::<Vec<_>>(), have), (vec![9, 14], 15));
        assert_eq!(contiguous(&[p(5, 9)], None).1, 0);
    }
}
