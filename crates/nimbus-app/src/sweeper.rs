//! The orphan sweeper: blobs of originals that no catalog row references (left by a crash
//! between the blob put and the catalog commit, or by a failed delete) are removed once
//! they are older than a grace period, so an upload in flight is never swept.

use crate::App;
use crate::error::AppResult;

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
        if removed > 0 {
            tracing::info!(removed, "swept orphan blobs");
        }
        Ok(removed)
    }
}
