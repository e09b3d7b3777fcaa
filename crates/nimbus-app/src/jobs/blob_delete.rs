//! The blob-deletion job: bytes an overwrite, a rename over a target or a delete left
//! unreferenced, queued by the outbox relay once the write committed.

use super::{Job, JobError};
use crate::App;

impl App {
    /// Runs a blob-deletion job: the originals it names and their versions' derivatives.
    pub(crate) async fn delete_unreferenced(&self, job: &Job) -> Result<(), JobError> {
        let strings = |name: &str| -> Vec<String> {
            job.payload[name].as_array().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_owned)).collect()
        };
        let retry = |e: crate::ports::BlobError| JobError::Retry(e.to_string());
        for key in strings("keys") {
            self.blobs.delete(&key).await.map_err(retry)?;
        }
        for version in strings("versions") {
            if version.is_empty() || version.contains('/') {
                continue;
            }
            for d in self.blobs.list(&format!("{}{version}/", crate::derive::DERIVED_PREFIX)).await.map_err(retry)? {
                self.blobs.delete(&d.key).await.map_err(retry)?;
            }
        }
        Ok(())
    }
}
