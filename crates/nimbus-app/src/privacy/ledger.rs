//! The erasure ledger and the installation's pepper, both kept in the blob store so that a
//! catalog restored from a backup still finds them.
//!
//! The pepper keys every name an erased person leaves behind (see
//! [`nimbus_core::erasure`]). Nodes starting at once may each store one; all of them then use
//! the one whose key sorts first, so they agree without a lock.

use nimbus_core::erasure::{LedgerEntry, PEPPER_BYTES};

use super::BLOB_PREFIX;
use crate::error::AppResult;
use crate::{App, AppError};

fn pepper_prefix() -> String {
    format!("{BLOB_PREFIX}pepper/")
}

fn ledger_prefix() -> String {
    format!("{BLOB_PREFIX}erasure-ledger/")
}

impl App {
    /// The installation's pepper, made on first use.
    pub(crate) async fn pepper(&self) -> AppResult<Vec<u8>> {
        let p = self
            .pepper
            .get_or_try_init(|| async {
                if let Some(p) = self.stored_pepper().await? {
                    return Ok::<_, AppError>(p);
                }
                let bytes: [u8; PEPPER_BYTES] = rand::random();
                let key = format!("{}{}", pepper_prefix(), self.ids.hex32());
                self.blobs.put_bytes(&key, bytes::Bytes::copy_from_slice(&bytes)).await?;
                self.stored_pepper().await?.ok_or_else(|| AppError::Blob("the pepper just stored is not there".into()))
            })
            .await?;
        Ok(p.clone())
    }

    async fn stored_pepper(&self) -> AppResult<Option<Vec<u8>>> {
        let mut keys: Vec<String> = self.blobs.list(&pepper_prefix()).await?.into_iter().map(|b| b.key).collect();
        keys.sort();
        match keys.first() {
            Some(k) => {
                let p = self.read_blob(k).await?;
                if p.len() != PEPPER_BYTES {
                    return Err(AppError::Blob(format!("{k} is not a pepper")));
                }
                Ok(Some(p))
            }
            None => Ok(None),
        }
    }

    /// Records an erasure in the blob store (before the catalog erases: a crash between the
    /// two is finished by the replay).
    pub(crate) async fn record_erasure(&self, entry: &LedgerEntry) -> AppResult<()> {
        let key = format!("{}{}.json", ledger_prefix(), entry.subject_hash);
        let body = serde_json::to_vec(entry).map_err(|e| AppError::Blob(e.to_string()))?;
        self.blobs.put_bytes(&key, body.into()).await?;
        Ok(())
    }

    /// Every erasure recorded in the blob store.
    pub async fn erasure_ledger(&self) -> AppResult<Vec<LedgerEntry>> {
        let mut out = Vec::new();
        for b in self.blobs.list(&ledger_prefix()).await? {
            let bytes = self.read_blob(&b.key).await?;
            match serde_json::from_slice::<LedgerEntry>(&bytes) {
                Ok(e) => out.push(e),
                Err(e) => tracing::warn!(key = %b.key, error = %e, "unreadable erasure ledger entry skipped"),
            }
        }
        Ok(out)
    }

    /// Erases again every account the ledger names (a catalog restored from a backup taken
    /// before their erasure brings them back). Run at every start; returns how many.
    pub async fn replay_erasure_ledger(&self) -> AppResult<usize> {
        let entries = self.erasure_ledger().await?;
        if entries.is_empty() {
            return Ok(0);
        }
        let pepper = self.pepper().await?;
        let mut erased = 0;
        for user in self.catalog.list_users().await? {
            let subject = nimbus_core::erasure::subject_hash(&pepper, user.id, user.created_at);
            if let Some(entry) = entries.iter().find(|e| e.subject_hash == subject) {
                self.erase_account(&user, entry.clone()).await?;
                erased += 1;
            }
        }
        // A restored catalog's ledger table lacks the later entries: they come back too.
        let known: std::collections::HashSet<String> =
            self.catalog.ledger().await?.into_iter().map(|e| e.subject_hash).collect();
        for e in entries.iter().filter(|e| !known.contains(&e.subject_hash)) {
            self.catalog.add_to_ledger(e).await?;
        }
        if erased > 0 {
            tracing::info!(accounts = erased, "erased again: accounts named by the erasure ledger");
        }
        Ok(erased)
    }
}
