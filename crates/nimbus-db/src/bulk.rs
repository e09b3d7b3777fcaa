//! Bulk loading on PostgreSQL (imports, benchmarks): the rows [`SqlCatalog::import_assets`]
//! writes, sent with `COPY ... FROM STDIN` on a connection of its own instead of one statement
//! per row, optionally with the loaded tables' indexes and constraints dropped during the load
//! and rebuilt (each sorted once) after it.

use nimbus_app::ports::{CatalogError, CatalogResult};
use nimbus_core::Asset;
use nimbus_core::search::index_entries;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions as _, Connection as _, Executor as _};

use crate::rows::{context_to_json, metadata_to_text};
use crate::{Dialect, SqlCatalog, db_err};

/// The tables a load writes.
const TABLES: &str = "'assets'::regclass, 'asset_tags'::regclass, 'search_terms'::regclass, 'search_numbers'::regclass";
/// Bytes per `CopyData` message.
const SEND_CHUNK: usize = 1 << 20;

/// A connection loading assets into one PostgreSQL catalog (see [`SqlCatalog::pg_bulk_loader`]).
pub struct PgBulkLoader {
    conn: PgConnection,
}

/// The statements that recreate the indexes and constraints [`PgBulkLoader::drop_indexes`]
/// dropped, in order.
#[derive(Debug, Clone)]
pub struct DroppedIndexes(Vec<String>);

impl SqlCatalog {
    /// A bulk loader on a new connection to this catalog's PostgreSQL database (several may
    /// load at once). Other dialects: an error (use [`Self::import_assets`]).
    pub async fn pg_bulk_loader(&self) -> CatalogResult<PgBulkLoader> {
        if self.dialect != Dialect::Postgres {
            return Err(CatalogError("bulk loading with COPY needs PostgreSQL".into()));
        }
        let url = self.pool.connect_options().database_url.clone();
        let conn = PgConnectOptions::from_url(&url).map_err(db_err)?.connect().await.map_err(db_err)?;
        Ok(PgBulkLoader { conn })
    }
}

impl PgBulkLoader {
    /// Inserts new assets with their tags and search index rows, in one transaction: the rows
    /// `import_assets` writes for them, but every asset is taken as new (a key already stored
    /// fails the load, or the rebuild of its unique index after it). An asset's repeated tags
    /// and numbers are written once, as `import_assets` does. Returns how many were added.
    pub async fn import(&mut self, env: i64, assets: &[Asset]) -> CatalogResult<u64> {
        let mut tx = self.conn.begin().await.map_err(db_err)?;
        let mut pks: Vec<i64> =
            sqlx::query_scalar("SELECT nextval(pg_get_serial_sequence('assets', 'id')) FROM generate_series(1, $1)")
                .bind(assets.len() as i64)
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err)?;
        pks.sort_unstable();
        let (mut rows, mut tags, mut terms, mut numbers) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let env_s = env.to_string();
        for (pk, a) in pks.iter().zip(assets) {
            let f = Fields::new(*pk, a);
            copy_row(
                &mut rows,
                &[
                    &pk.to_string(),
                    &env_s,
                    &a.asset_id,
                    f.resource_type,
                    f.delivery_type,
                    a.public_id.as_str(),
                    &a.version.to_string(),
                    &a.version_id,
                    &opt(a.format.as_deref()),
                    &opt(a.width.map(|w| w.to_string()).as_deref()),
                    &opt(a.height.map(|h| h.to_string()).as_deref()),
                    &a.bytes.to_string(),
                    &a.etag,
                    &a.blob_key,
                    &opt(a.original_filename.as_deref()),
                    &a.display_name,
                    &a.asset_folder,
                    &context_to_json(&a.context),
                    &metadata_to_text(&a.metadata),
                    &context_to_json(&a.image_metadata),
                    &a.created_at.to_string(),
                    &a.updated_at.to_string(),
                    a.access_mode.as_str(),
                    &context_to_json(&a.headers),
                ],
            );
            for (i, t) in a.tags.iter().enumerate() {
                // (asset, tag) is the key: a repeated tag keeps its first position.
                if !a.tags[..i].contains(t) {
                    copy_row(&mut tags, &[&f.pk, &env_s, t, &i.to_string()]);
                }
            }
            let e = index_entries(a);
            for (field, term) in &e.terms {
                copy_row(&mut terms, &[&env_s, field, term, &f.pk, &f.format, f.resource_type, f.delivery_type]);
            }
            for (i, (field, v)) in e.numbers.iter().enumerate() {
                // Equal as PostgreSQL compares them (0 = -0, NaN = NaN): the first is kept.
                if !e.numbers[..i].iter().any(|(g, w)| g == field && (w == v || (w.is_nan() && v.is_nan()))) {
                    let v = format!("{v:?}");
                    copy_row(&mut numbers, &[&env_s, field, &v, &f.pk, &f.format, f.resource_type, f.delivery_type]);
                }
            }
        }
        for (table, columns, data) in [
            (
                "assets",
                "id, env_id, asset_id, resource_type, delivery_type, public_id, version, version_id, format, width, height, bytes, etag, blob_key, original_filename, display_name, asset_folder, context, metadata, image_metadata, created_at, updated_at, access_mode, headers",
                rows,
            ),
            ("asset_tags", "asset_pk, env_id, tag, position", tags),
            ("search_terms", "env_id, field, term, asset_pk, format, resource_type, delivery_type", terms),
            ("search_numbers", "env_id, field, value, asset_pk, format, resource_type, delivery_type", numbers),
        ] {
            let mut copy = tx.copy_in_raw(&format!("COPY {table} ({columns}) FROM STDIN")).await.map_err(db_err)?;
            for chunk in data.chunks(SEND_CHUNK) {
                copy.send(chunk).await.map_err(db_err)?;
            }
            copy.finish().await.map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(assets.len() as u64)
    }

    /// Drops the indexes and constraints (keys, uniques, foreign keys) of the tables a load
    /// writes, and of foreign keys pointing at them, so that the load only appends rows; the
    /// tables are then unchecked until [`Self::restore_indexes`] rebuilds them from what this
    /// returns (the schema as it was, names included).
    pub async fn drop_indexes(&mut self) -> CatalogResult<DroppedIndexes> {
        // Dropped foreign keys first, then the other indexes, then keys and uniques, each
        // group smallest first (those of search_terms, the largest table, last): rebuilt in the
        // reverse order, the largest index is sorted before the others exist, which lowers the
        // disk used at the peak of a large load (the sort's temporary files and the tables).
        let sql = format!(
            "SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname), \
                    format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid)), \
                    CASE contype WHEN 'f' THEN 0 ELSE 2 END AS stage, \
                    conrelid = 'search_terms'::regclass, pg_relation_size(conindid) \
             FROM pg_constraint WHERE contype IN ('p', 'u', 'f') \
               AND (conrelid IN ({TABLES}) OR (contype = 'f' AND confrelid IN ({TABLES}))) \
             UNION ALL \
             SELECT format('DROP INDEX %s', indexrelid::regclass), pg_get_indexdef(indexrelid), 1, \
                    indrelid = 'search_terms'::regclass, pg_relation_size(indexrelid) \
             FROM pg_index i WHERE indrelid IN ({TABLES}) \
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x')) \
             ORDER BY 3, 4, 5, 1"
        );
        let found: Vec<(String, String, i32, bool, i64)> =
            sqlx::query_as(&sql).fetch_all(&mut self.conn).await.map_err(db_err)?;
        let mut tx = self.conn.begin().await.map_err(db_err)?;
        for (drop, ..) in &found {
            tx.execute(drop.as_str()).await.map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(DroppedIndexes(found.into_iter().rev().map(|(_, create, ..)| create).collect()))
    }

    /// Rebuilds what [`Self::drop_indexes`] dropped (2 GB of sort memory each), indexes first
    /// and foreign keys last, then takes the planner's statistics and marks the pages
    /// all-visible (`VACUUM (ANALYZE)`): the builds record the tables' row counts, after which
    /// [`SqlCatalog::optimize`] would take the statistics for current.
    pub async fn restore_indexes(&mut self, dropped: DroppedIndexes) -> CatalogResult<()> {
        self.conn.execute("SET maintenance_work_mem = '2GB'").await.map_err(db_err)?;
        for create in dropped
            .0
            .iter()
            .map(String::as_str)
            .chain(["VACUUM (ANALYZE) assets, asset_tags, search_terms, search_numbers"])
        {
            let started = std::time::Instant::now();
            self.conn.execute(create).await.map_err(db_err)?;
            tracing::info!(ms = started.elapsed().as_millis() as u64, "{create}");
        }
        self.conn.execute("RESET maintenance_work_mem").await.map_err(db_err)?;
        Ok(())
    }
}

/// An asset's values repeated on each of its index rows, as COPY text.
struct Fields<'a> {
    pk: String,
    format: String,
    resource_type: &'a str,
    delivery_type: &'a str,
}

impl<'a> Fields<'a> {
    fn new(pk: i64, a: &'a Asset) -> Self {
        Self {
            pk: pk.to_string(),
            format: opt(a.format.as_deref()),
            resource_type: a.resource_type.as_str(),
            delivery_type: a.delivery_type.as_str(),
        }
    }
}

/// The text of a value, or [`NULL`].
fn opt(v: Option<&str>) -> String {
    v.unwrap_or(NULL).to_owned()
}

/// What [`copy_row`] writes as COPY's NULL (`\N`): no text value holds a NUL character.
const NULL: &str = "\u{0}";

/// Appends one row in COPY's text format: tab-separated, with backslash, tab, newline and
/// carriage return escaped.
fn copy_row(out: &mut Vec<u8>, values: &[&str]) {
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(b'\t');
        }
        if *v == NULL {
            out.extend_from_slice(b"\\N");
            continue;
        }
        for b in v.bytes() {
            match b {
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\t' => out.extend_from_slice(b"\\t"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                _ => out.push(b),
            }
        }
    }
    out.push(b'\n');
}
