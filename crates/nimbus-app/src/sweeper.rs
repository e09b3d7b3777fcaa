//! The orphan sweeper: blobs of originals that no catalog row references (left by a crash
//! between the blob put and the catalog commit, or by a failed delete) are removed once
//! they are older than a grace period, so an upload in flight is never swept.

use crate::App;
use crate::error::AppResult;

/// How long the parts of an unfinished chunked upload are kept, at least.
const CHUNK_PARTS_GRACE_SECS: i64 = 24 * 3600;

/// Prefix of all original blobs.
pub const ORIGINALS_PREFIX: &str = "originals/";

impl App {
    /// Deletes unreferenced original blobs older than `grace_secs`; returns how many.
    pub async fn sweep_orphans(&self, grace_secs: i64) -> AppResult<usize> {
        let now = self.now();
        let old: Vec<String> = self
            .blobs
            .list(ORIGINALS_PREFIX)
            .await?
            .into_iter()
            .filter(|b| now - b.last_modified >= grace_secs)
            .map(|b| b.key)
            .collect();
        let mut removed = 0;
        for chunk in old.chunks(500) {
            let used = self.catalog.blob_keys_in_use(chunk).await?;
            for key in chunk.iter().filter(|k| !used.contains(*k)) {
                self.blobs.delete(key).await?;
                removed += 1;
            }
        }
        // Derivatives of versions no asset holds any more: `derived/{version_id}/...`.
        let derived: Vec<(String, String)> = self
            .blobs
            .list(crate::derive::DERIVED_PREFIX)
            .await?
            .into_iter()
            .filter(|b| now - b.last_modified >= grace_secs)
            .filter_map(|b| {
                let vid = b.key.strip_prefix(crate::derive::DERIVED_PREFIX)?.split('/').next()?.to_owned();
                (vid.len() >= 2).then(|| (format!("{ORIGINALS_PREFIX}{}/{vid}", &vid[..2]), b.key))
            })
            .collect();
        for chunk in derived.chunks(500) {
            let originals: Vec<String> = chunk.iter().map(|(o, _)| o.clone()).collect();
            let used = self.catalog.blob_keys_in_use(&originals).await?;
            for (_, key) in chunk.iter().filter(|(o, _)| !used.contains(o)) {
                self.blobs.delete(key).await?;
                removed += 1;
            }
        }
        // Parts of chunked uploads nobody finished (a day at least: uploads can be slow).
        let chunk_grace = grace_secs.max(CHUNK_PARTS_GRACE_SECS);
        for part in self.blobs.list(crate::chunked::CHUNKS_PREFIX).await? {
            if now - part.last_modified >= chunk_grace {
                self.blobs.delete(&part.key).await?;
                removed += 1;
            }
        }
        if removed > 0 {
            tracing::info!(removed, "swept orphan blobs");
        }
        Ok(removed)
    }
}
