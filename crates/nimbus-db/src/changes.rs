//! Writes announced to the other nodes on one PostgreSQL: a write transaction that changes
//! what nodes cache ends with `pg_notify` on one channel, delivered to every listener when it
//! commits (and never when it rolls back); each catalog listens and skips its own. SQLite is
//! one node: no feed.

use async_trait::async_trait;
use nimbus_app::ports::{CatalogResult, RemoteChanges};
use sqlx::AnyConnection;
use sqlx::postgres::PgListener;

use crate::db_err;

/// The channel every node of a deployment listens on.
const CHANNEL: &str = "nimbus_writes";

/// A name for one catalog, distinct from every other catalog's of the deployment: process,
/// start time and a count within the process.
pub(crate) fn new_origin() -> String {
    static COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}.{nanos:x}.{n}", std::process::id())
}

/// Queues the announcement of this transaction's write (sent by PostgreSQL at commit;
/// several in one transaction are sent once).
pub(crate) async fn announce(conn: &mut AnyConnection, origin: &str) -> CatalogResult<()> {
    sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(origin).execute(conn).await.map_err(db_err)?;
    Ok(())
}

/// Other catalogs' announcements, on a connection of their own.
pub(crate) struct PeerWrites {
    listener: PgListener,
    origin: std::sync::Arc<str>,
}

impl PeerWrites {
    pub(crate) async fn listen(url: &str, origin: std::sync::Arc<str>) -> CatalogResult<Self> {
        let mut listener = PgListener::connect(url).await.map_err(db_err)?;
        listener.listen(CHANNEL).await.map_err(db_err)?;
        Ok(Self { listener, origin })
    }
}

#[async_trait]
impl RemoteChanges for PeerWrites {
    async fn next(&mut self) -> CatalogResult<()> {
        loop {
            // `None`: the connection was lost (and is re-established on the next call);
            // announcements sent meanwhile are lost, so this counts as a change.
            match self.listener.try_recv().await.map_err(db_err)? {
                Some(n) if n.payload() == &*self.origin => continue,
                _ => return Ok(()),
            }
        }
    }
}
