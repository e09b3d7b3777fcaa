//! The index rows every asset write keeps current: terms and numbers of each asset, with its
//! facets (see [`nimbus_core::search::index_entries`]), written in the write's transaction.

use std::collections::HashMap;

use nimbus_app::ports::CatalogResult;
use nimbus_core::Asset;
use nimbus_core::search::{MAX_EXACT_BYTES, field, index_entries};
use sqlx::AnyConnection;

use crate::binds::{Binds, IN_CHUNK};
use crate::rows::{self, ASSET_COLS};
use crate::{Dialect, SqlCatalog, db_err};

/// Rows per multi-row INSERT (up to 9 values each; well under both dialects' bind limits).
const INSERT_CHUNK: usize = 500;
/// Assets re-indexed per batch when filling the index for existing assets.
const BACKFILL_BATCH: i64 = 500;

/// Removes the index rows of `pks`.
pub(crate) async fn unindex(conn: &mut AnyConnection, pks: &[i64]) -> CatalogResult<()> {
    for chunk in pks.chunks(IN_CHUNK) {
        for table in ["search_terms", "search_numbers"] {
            let mut b = Binds::default();
            let sql = format!("DELETE FROM {table} WHERE asset_pk IN {}", b.int_list(chunk.iter().copied()));
            b.apply(&sql).execute(&mut *conn).await.map_err(db_err)?;
        }
    }
    Ok(())
}

/// The facets an index row carries: its asset's format, resource type and delivery type.
struct Facets<'a> {
    format: Option<&'a str>,
    resource_type: &'a str,
    delivery_type: &'a str,
}

impl<'a> Facets<'a> {
    fn of(a: &'a Asset) -> Self {
        Self {
            format: a.format.as_deref(),
            resource_type: a.resource_type.as_str(),
            delivery_type: a.delivery_type.as_str(),
        }
    }

    /// The facets as SQL values.
    fn bind(&self, b: &mut Binds) -> String {
        let format = self.format.map_or_else(|| "NULL".to_owned(), |f| b.text(f));
        format!("{format}, {}, {}", b.text(self.resource_type), b.text(self.delivery_type))
    }
}

/// Writes the index rows of assets (with their tags), replacing any they had.
pub(crate) async fn index(conn: &mut AnyConnection, env: i64, assets: &[(i64, &Asset)]) -> CatalogResult<()> {
    let pks: Vec<i64> = assets.iter().map(|(pk, _)| *pk).collect();
    unindex(conn, &pks).await?;
    let mut terms: Vec<(usize, String, String)> = Vec::new();
    let mut numbers: Vec<(usize, String, f64)> = Vec::new();
    for (i, (_, a)) in assets.iter().enumerate() {
        let e = index_entries(a);
        terms.extend(e.terms.into_iter().map(|(f, t)| (i, f, t)));
        numbers.extend(e.numbers.into_iter().map(|(f, v)| (i, f, v)));
    }
    let owners: Vec<(i64, Facets)> = assets.iter().map(|(pk, a)| (*pk, Facets::of(a))).collect();
    insert_rows(conn, env, &TERMS, &owners, &terms, |b, t| b.text(t.as_str())).await?;
    insert_rows(conn, env, &NUMBERS, &owners, &numbers, |b, v| b.float(*v)).await
}

/// An index table as [`insert_rows`] writes it.
struct IndexTable {
    name: &'static str,
    value_column: &'static str,
    on_conflict: &'static str,
}

/// Words and exact values (a set per asset: no duplicates).
const TERMS: IndexTable = IndexTable { name: "search_terms", value_column: "term", on_conflict: "" };
/// Metadata numbers (a repeated entry of one asset is written once).
const NUMBERS: IndexTable =
    IndexTable { name: "search_numbers", value_column: "value", on_conflict: " ON CONFLICT DO NOTHING" };

/// Inserts index rows `(env, field, value, asset, facets)`, each naming its asset by position
/// in `owners`, a chunk at a time; an asset's position and facets are bound once a statement.
async fn insert_rows<T>(
    conn: &mut AnyConnection,
    env: i64,
    table: &IndexTable,
    owners: &[(i64, Facets<'_>)],
    rows: &[(usize, String, T)],
    value: impl Fn(&mut Binds, &T) -> String,
) -> CatalogResult<()> {
    for chunk in rows.chunks(INSERT_CHUNK) {
        let mut b = Binds::default();
        let mut seen: HashMap<usize, String> = HashMap::new();
        let env_p = b.int(env);
        let values: Vec<String> = chunk
            .iter()
            .map(|(i, f, v)| {
                let f = b.text(f.as_str());
                let v = value(&mut b, v);
                let owner = match seen.get(i) {
                    Some(o) => o.clone(),
                    None => {
                        let (pk, facets) = &owners[*i];
                        let o = format!("{}, {}", b.int(*pk), facets.bind(&mut b));
                        seen.insert(*i, o.clone());
                        o
                    }
                };
                format!("({env_p}, {f}, {v}, {owner})")
            })
            .collect();
        let sql = format!(
            "INSERT INTO {} (env_id, field, {}, asset_pk, format, resource_type, delivery_type) VALUES {}{}",
            table.name,
            table.value_column,
            values.join(", "),
            table.on_conflict
        );
        b.apply(&sql).execute(&mut *conn).await.map_err(db_err)?;
    }
    Ok(())
}

/// Re-reads assets by position and re-indexes them, a chunk at a time.
pub(crate) async fn reindex(conn: &mut AnyConnection, env: i64, pks: &[i64]) -> CatalogResult<()> {
    for chunk in pks.chunks(IN_CHUNK) {
        let mut b = Binds::default();
        let sql = format!("SELECT {ASSET_COLS} FROM assets WHERE id IN {}", b.int_list(chunk.iter().copied()));
        let found = b.apply(&sql).fetch_all(&mut *conn).await.map_err(db_err)?;
        let mut assets = found.iter().map(rows::asset).collect::<CatalogResult<Vec<_>>>()?;
        crate::rows::attach_tags(conn, &mut assets).await?;
        let refs: Vec<(i64, &Asset)> = assets.iter().map(|(pk, a)| (*pk, a)).collect();
        index(conn, env, &refs).await?;
    }
    Ok(())
}

impl SqlCatalog {
    /// Indexes assets written before the search index existed (each indexed asset has a
    /// folder entry, so the ones without are the ones missing). Runs at start-up.
    pub(crate) async fn backfill_search_index(&self) -> CatalogResult<u64> {
        let mut done = 0;
        loop {
            let mut tx = self.quiet_tx().await?;
            let missing: Vec<(i64, i64)> = sqlx::query_as(
                "SELECT id, env_id FROM assets a WHERE NOT EXISTS \
                 (SELECT 1 FROM search_terms t WHERE t.env_id = a.env_id AND t.field = $1 AND t.asset_pk = a.id) \
                 ORDER BY id LIMIT $2",
            )
            .bind(field::FOLDER)
            .bind(BACKFILL_BATCH)
            .fetch_all(&mut *tx.tx)
            .await
            .map_err(db_err)?;
            if missing.is_empty() {
                tx.rollback().await?;
                return Ok(done);
            }
            reindex_by_env(&mut tx.tx, &missing).await?;
            tx.commit().await?;
            done += missing.len() as u64;
        }
    }

    /// Re-indexes the assets with a tag longer than an exact term, whose `e:tags` entries
    /// (a hash) migration 12 could not write in SQL.
    pub(crate) async fn reindex_long_tags(&self) -> CatalogResult<()> {
        let mut tx = self.quiet_tx().await?;
        let bytes = match self.dialect {
            Dialect::Sqlite => "LENGTH(CAST(t.tag AS BLOB))",
            Dialect::Postgres => "OCTET_LENGTH(t.tag)",
        };
        let long: Vec<(i64, i64)> = sqlx::query_as(&format!(
            "SELECT DISTINCT a.id, a.env_id FROM asset_tags t JOIN assets a ON a.id = t.asset_pk \
             WHERE {bytes} > $1 ORDER BY a.id"
        ))
        .bind(i64::try_from(MAX_EXACT_BYTES).unwrap_or(i64::MAX))
        .fetch_all(&mut *tx.tx)
        .await
        .map_err(db_err)?;
        reindex_by_env(&mut tx.tx, &long).await?;
        tx.commit().await
    }
}

/// Re-indexes assets given as `(position, environment)`, an environment at a time.
async fn reindex_by_env(conn: &mut AnyConnection, assets: &[(i64, i64)]) -> CatalogResult<()> {
    let mut by_env: HashMap<i64, Vec<i64>> = HashMap::new();
    for (pk, env) in assets {
        by_env.entry(*env).or_default().push(*pk);
    }
    for (env, pks) in by_env {
        reindex(conn, env, &pks).await?;
    }
    Ok(())
}
