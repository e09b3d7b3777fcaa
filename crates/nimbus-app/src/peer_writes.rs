//! Writes committed by the other nodes of a deployment: each one makes this node's caches
//! forget (delivery lookups, with the key secrets signed URLs are checked with) and wakes its
//! job worker, so that a job another node enqueued starts here at once when this node is free.
//! The caches' own short lifetime remains the bound when no feed is available.

use std::future::Future;
use std::time::Duration;

use crate::App;

/// Wait before following again after the feed failed.
const RETRY_AFTER: Duration = Duration::from_secs(1);

impl App {
    /// Follows other nodes' writes until `shutdown`; returns at once on a catalog without a
    /// feed (SQLite: one node).
    pub async fn follow_peer_writes(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let mut feed = match self.catalog.remote_changes().await {
                Ok(Some(feed)) => feed,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot follow other nodes' writes; retrying");
                    tokio::select! {
                        () = &mut shutdown => return,
                        () = tokio::time::sleep(RETRY_AFTER) => continue,
                    }
                }
            };
            // Whatever was cached while the feed was down may be stale.
            self.peer_wrote();
            loop {
                tokio::select! {
                    () = &mut shutdown => return,
                    next = feed.next() => match next {
                        Ok(()) => self.peer_wrote(),
                        Err(e) => {
                            tracing::warn!(error = %e, "lost the feed of other nodes' writes; following again");
                            break;
                        }
                    },
                }
            }
        }
    }

    fn peer_wrote(&self) {
        self.delivery_cache.clear();
        self.wake.notify_one();
    }
}
