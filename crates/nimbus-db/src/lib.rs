//! Nimbus's catalog on SQL: SQLite (embedded default) and PostgreSQL (scale-out), behind the
//! repository ports of `nimbus-app`.
//!
//! One implementation serves both dialects through sqlx's `Any` driver: the queries use only
//! SQL both understand (`$n` placeholders, `ON CONFLICT`, `RETURNING`), and the few real
//! differences (row locks, write serialisation, schema types) live in [`Dialect`] and in one
//! migrations tree per dialect. Must not depend on axum or object_store.

mod accounts;
mod assets;
mod binds;
mod bulk;
mod changes;
mod desk;
mod envs;
mod erasure;
mod folders;
mod jobs;
mod metadata;
mod migrate;
mod outbox;
mod presets;
mod rows;
mod search;
mod transformations;
mod triggers;
mod versions;
mod write;

use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use nimbus_app::ports::{Catalog, CatalogError, CatalogResult, RemoteChanges};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor as _};
use tokio::sync::Mutex;

pub use bulk::{DroppedIndexes, PgBulkLoader};

/// The SQL dialect behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// Row lock for read-then-write transactions (SQLite serialises writers instead).
    fn for_update(self) -> &'static str {
        match self {
            Self::Sqlite => "",
            Self::Postgres => " FOR UPDATE",
        }
    }

    /// Shared row lock: concurrent readers go on, writers of the row wait.
    fn for_share(self) -> &'static str {
        match self {
            Self::Sqlite => "",
            Self::Postgres => " FOR SHARE",
        }
    }
}

/// The catalog over one database.
#[derive(Clone)]
pub struct SqlCatalog {
    pool: AnyPool,
    dialect: Dialect,
    /// SQLite has one writer at a time; taking this before a write transaction turns
    /// would-be `SQLITE_BUSY` upgrades into a short wait. Unused on PostgreSQL.
    write_lock: Arc<Mutex<()>>,
    /// Matches beyond which a search page is read by probing rows in sort order.
    probe_above: i64,
    /// PostgreSQL: the URL other nodes' writes are followed on.
    url: Arc<str>,
    /// PostgreSQL: this catalog's name in its write announcements (its own are skipped).
    origin: Arc<str>,
}

/// The PostgreSQL advisory lock held while one node migrates the catalog.
const MIGRATION_LOCK: i64 = 0x6e69_6d62_7573;

/// How long start-up waits for the catalog database to answer.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A database URL fit for a message: any password replaced by `***`.
fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let (authority, tail) = rest.split_once('/').map_or((rest, None), |(a, t)| (a, Some(t)));
    let authority = match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{name}:***@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    match tail {
        Some(t) => format!("{scheme}://{authority}/{t}"),
        None => format!("{scheme}://{authority}"),
    }
}

fn db_err(e: sqlx::Error) -> CatalogError {
    CatalogError(e.to_string())
}

impl SqlCatalog {
    /// Connects (creating a SQLite file if needed) and applies pending migrations.
    /// `url`: `sqlite://path/to/file.db` or `postgres://...`.
    pub async fn connect(url: &str) -> CatalogResult<Self> {
        sqlx::any::install_default_drivers();
        let dialect = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Dialect::Postgres
        } else if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else {
            return Err(CatalogError(format!(
                "unsupported database URL scheme {} (use sqlite://FILE or postgres://...)",
                url.split(':').next().unwrap_or("")
            )));
        };
        let url = match dialect {
            Dialect::Sqlite if !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            }
            _ => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url).map_err(db_err)?;
        // One connection first, bounded in time, so that a wrong address or credentials fail
        // start-up at once with the reason (the pool would retry for half a minute and then
        // report only a timeout).
        let unreachable =
            |why: String| CatalogError(format!("cannot open the catalog database {}: {why}", redacted(&url)));
        match tokio::time::timeout(CONNECT_TIMEOUT, <sqlx::AnyConnection as sqlx::Connection>::connect_with(&options))
            .await
        {
            Err(_) => return Err(unreachable(format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()))),
            Ok(Err(e)) => return Err(unreachable(e.to_string())),
            Ok(Ok(conn)) => {
                let _ = sqlx::Connection::close(conn).await;
            }
        }
        let pool = AnyPoolOptions::new()
            // Two warm SQLite connections: a broad search counts on both at once.
            .min_connections(match dialect {
                Dialect::Sqlite => 2,
                Dialect::Postgres => 0,
            })
            .max_connections(match dialect {
                Dialect::Sqlite => 8,
                Dialect::Postgres => 16,
            })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if dialect == Dialect::Sqlite {
                        // Reads go through a shared memory map of the file (no copy per
                        // connection) and each connection keeps 16 MB of hot pages. Freed
                        // space inside a page is zeroed (a deleted or rewritten row leaves
                        // no copy behind; this costs no extra writes).
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                             PRAGMA busy_timeout = 10000; PRAGMA secure_delete = FAST; PRAGMA mmap_size = 4294967296; PRAGMA cache_size = -16384;",
                        )
                        .await?;
                    } else {
                        // Search statements cost enough to be compiled just in time, which
                        // takes longer than running them (tens of milliseconds a statement).
                        conn.execute("SET jit = off").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(db_err)?;
        let catalog = Self {
            pool,
            dialect,
            write_lock: Arc::new(Mutex::new(())),
            probe_above: search::PROBE_ABOVE,
            url: url.as_str().into(),
            origin: changes::new_origin().into(),
        };
        // Nodes starting together on one PostgreSQL: one migrates, the others wait for it
        // (even creating the bookkeeping table races otherwise).
        let mut lock = match dialect {
            Dialect::Postgres => {
                let mut conn = catalog.pool.acquire().await.map_err(db_err)?;
                sqlx::query("SELECT pg_advisory_lock($1)")
                    .bind(MIGRATION_LOCK)
                    .execute(&mut *conn)
                    .await
                    .map_err(db_err)?;
                Some(conn)
            }
            Dialect::Sqlite => None,
        };
        let migrated = catalog.migrate().await;
        if let Some(conn) = lock.as_mut() {
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(MIGRATION_LOCK)
                .execute(&mut **conn)
                .await
                .map_err(db_err)?;
        }
        drop(lock);
        migrated?;
        catalog.optimize().await?;
        Ok(catalog)
    }

    /// Applies pending migrations, then fills the search index once for assets written before
    /// it existed (every later write indexes its asset in the same transaction).
    async fn migrate(&self) -> CatalogResult<()> {
        migrate::run(self).await?;
        if !migrate::done(self, migrate::SEARCH_INDEX_FILLED).await? {
            let n = self.backfill_search_index().await?;
            if n > 0 {
                tracing::info!(assets = n, "search index filled for existing assets");
            }
            migrate::mark(self, migrate::SEARCH_INDEX_FILLED).await?;
        }
        if !migrate::done(self, migrate::LONG_TAGS_INDEXED).await? {
            self.reindex_long_tags().await?;
            // The search tables were rebuilt: no statistics, no page marked all-visible.
            self.refresh_statistics().await?;
            migrate::mark(self, migrate::LONG_TAGS_INDEXED).await?;
        }
        Ok(())
    }

    /// Refreshes the query planner's statistics when the catalog has grown or shrunk by half
    /// since they were taken. SQLite: a full `ANALYZE` (sampled statistics take a column with
    /// one value, `env_id`, for a selective one and send searches down the wrong index; about
    /// 5 s at a million assets). PostgreSQL: `ANALYZE` of the search tables, which its
    /// autovacuum would otherwise reach only some minutes after a bulk load.
    pub async fn optimize(&self) -> CatalogResult<()> {
        let rows: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM assets").fetch_one(&self.pool).await.map_err(db_err)?;
        let analyzed: Option<i64> = match self.dialect {
            // No statistics table yet reads as none.
            Dialect::Sqlite => sqlx::query_scalar::<_, String>(
                "SELECT stat FROM sqlite_stat1 WHERE tbl = 'assets' AND idx = 'assets_by_public_id'",
            )
            .fetch_optional(&self.pool)
            .await
            .unwrap_or(None)
            .and_then(|s| s.split(' ').next().and_then(|n| n.parse().ok())),
            // -1 until the table was first analysed.
            Dialect::Postgres => sqlx::query_scalar::<_, f64>(
                "SELECT CAST(reltuples AS DOUBLE PRECISION) FROM pg_class WHERE oid = 'assets'::regclass",
            )
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .filter(|n| *n >= 0.0)
            .map(|n| n as i64),
        };
        let stale = match analyzed {
            None => rows > 0,
            Some(n) => rows > 2 * n + 1000 || rows * 2 + 1000 < n,
        };
        if stale { self.refresh_statistics().await } else { Ok(()) }
    }

    /// Takes the planner's statistics afresh (see [`Self::optimize`]).
    async fn refresh_statistics(&self) -> CatalogResult<()> {
        let started = std::time::Instant::now();
        let sql = match self.dialect {
            // A schema change afterwards makes every pooled connection reload the schema with
            // the new statistics and re-plan its cached statements (ANALYZE alone reaches only
            // the connection that ran it).
            Dialect::Sqlite => {
                "PRAGMA analysis_limit = 0; ANALYZE; CREATE TABLE nimbus_replan (x INTEGER); DROP TABLE nimbus_replan;"
            }
            // VACUUM too: it marks the pages all-visible, without which the index-only scans
            // search relies on visit every row they count (autovacuum gets there only later).
            Dialect::Postgres => "VACUUM (ANALYZE) assets, asset_tags, search_terms, search_numbers",
        };
        sqlx::raw_sql(sql).execute(&self.pool).await.map_err(db_err)?;
        tracing::info!(ms = started.elapsed().as_millis() as u64, "planner statistics refreshed");
        Ok(())
    }

    /// Inserts many new assets (with tags and search index) in one transaction: imports and
    /// benchmarks. Assets whose key exists already are skipped; returns how many were added.
    pub async fn import_assets(&self, env: i64, assets: &[nimbus_core::Asset]) -> CatalogResult<u64> {
        let mut tx = self.write_tx().await?;
        let n = assets::import(&mut tx.tx, env, assets).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// The same catalog with another threshold between reading a search page's matches first
    /// and probing rows in sort order (both give the same results; tests force each).
    pub fn with_probe_above(mut self, matches: i64) -> Self {
        self.probe_above = matches;
        self
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The SQLite writer lock, for a single write statement outside a transaction.
    async fn sqlite_writer(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.dialect {
            Dialect::Sqlite => Some(self.write_lock.lock().await),
            Dialect::Postgres => None,
        }
    }

    /// Begins a write transaction (on SQLite, after taking the writer lock) whose commit is
    /// announced to the other nodes: what they cache of the catalog may change.
    async fn write_tx(&self) -> CatalogResult<WriteTx<'_>> {
        self.begin_write(true).await
    }

    /// A write transaction of bookkeeping no node caches (job leases, sessions): not
    /// announced.
    async fn quiet_tx(&self) -> CatalogResult<WriteTx<'_>> {
        self.begin_write(false).await
    }

    async fn begin_write(&self, announced: bool) -> CatalogResult<WriteTx<'_>> {
        let guard = match self.dialect {
            Dialect::Sqlite => Some(self.write_lock.lock().await),
            Dialect::Postgres => None,
        };
        let tx = self.pool.begin().await.map_err(db_err)?;
        let origin = (announced && self.dialect == Dialect::Postgres).then_some(&*self.origin);
        Ok(WriteTx { tx, _guard: guard, origin })
    }
}

/// A write transaction holding the SQLite writer lock for its whole life.
struct WriteTx<'a> {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    _guard: Option<tokio::sync::MutexGuard<'a, ()>>,
    /// Announce the commit to other nodes under this name.
    origin: Option<&'a str>,
}

impl WriteTx<'_> {
    async fn commit(mut self) -> CatalogResult<()> {
        if let Some(origin) = self.origin {
            changes::announce(&mut self.tx, origin).await?;
        }
        self.tx.commit().await.map_err(db_err)
    }

    /// Rolls back now, before the writer lock is released (a dropped transaction would roll
    /// back only when its connection is next used, holding SQLite's write lock until then).
    async fn rollback(self) -> CatalogResult<()> {
        self.tx.rollback().await.map_err(db_err)
    }
}

#[async_trait]
impl Catalog for SqlCatalog {
    async fn ping(&self) -> CatalogResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(db_err)?;
        Ok(())
    }

    async fn remote_changes(&self) -> CatalogResult<Option<Box<dyn RemoteChanges>>> {
        match self.dialect {
            Dialect::Sqlite => Ok(None),
            Dialect::Postgres => Ok(Some(Box::new(changes::PeerWrites::listen(&self.url, self.origin.clone()).await?))),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(super::redacted("postgres://nimbus:s3cret@db:5432/n"), "postgres://nimbus:***@db:5432/n");
        assert_eq!(super::redacted("postgres://nimbus@db/n"), "postgres://nimbus@db/n");
        assert_eq!(super::redacted("sqlite:///var/lib/nimbus/catalog.db"), "sqlite:///var/lib/nimbus/catalog.db");
    }
}
