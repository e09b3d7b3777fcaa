//! Search: the index rows every asset write keeps current, and checked queries translated to
//! SQL both dialects run. Every leaf of a translated query is a non-NULL boolean, so `NOT`
//! means what the in-memory evaluator says it means.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use async_trait::async_trait;
use nimbus_app::ports::{CatalogResult, SearchRepo};
use nimbus_app::search::{
    Aggregation, Bucket, Cursor, RangeAgg, SearchPage, SearchQuery, SortField, SortKey, SortValue, ValueAgg,
};
use nimbus_core::Asset;
use nimbus_core::search::{
    Attr, MAX_EXACT_BYTES, NumField, NumRange, Query, TextField, TextMatch, exact_term, field, index_entries,
    prefix_end, prefix_matchable,
};
use sqlx::{AnyConnection, Row as _};

use crate::binds::{Binds, IN_CHUNK};
use crate::rows::{self, ASSET_COLS};
use crate::{Dialect, SqlCatalog, db_err};

/// Rows per multi-row INSERT (4 values each; well under both dialects' bind limits).
const INSERT_CHUNK: usize = 500;
/// Matches beyond which a page is read by probing rows in sort order.
pub(crate) const PROBE_ABOVE: i64 = 2000;
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

impl Facets<'_> {
    /// The facets as SQL values, bound once per asset and chunk.
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
    let mut facets = Vec::with_capacity(assets.len());
    for (i, (_, a)) in assets.iter().enumerate() {
        let e = index_entries(a);
        terms.extend(e.terms.into_iter().map(|(f, t)| (i, f, t)));
        numbers.extend(e.numbers.into_iter().map(|(f, v)| (i, f, v)));
        facets.push(Facets {
            format: a.format.as_deref(),
            resource_type: a.resource_type.as_str(),
            delivery_type: a.delivery_type.as_str(),
        });
    }
    // Each asset's position and facets, bound once per statement.
    let bound = |b: &mut Binds, seen: &mut HashMap<usize, String>, i: usize| {
        seen.entry(i).or_insert_with(|| format!("{}, {}", b.int(assets[i].0), facets[i].bind(b))).clone()
    };
    for chunk in terms.chunks(INSERT_CHUNK) {
        let mut b = Binds::default();
        let mut seen = HashMap::new();
        let env_p = b.int(env);
        let rows: Vec<String> = chunk
            .iter()
            .map(|(i, f, t)| {
                let f = b.text(f.as_str());
                let t = b.text(t.as_str());
                format!("({env_p}, {f}, {t}, {})", bound(&mut b, &mut seen, *i))
            })
            .collect();
        let sql = format!(
            "INSERT INTO search_terms (env_id, field, term, asset_pk, format, resource_type, delivery_type) VALUES {}",
            rows.join(", ")
        );
        b.apply(&sql).execute(&mut *conn).await.map_err(db_err)?;
    }
    for chunk in numbers.chunks(INSERT_CHUNK) {
        let mut b = Binds::default();
        let mut seen = HashMap::new();
        let env_p = b.int(env);
        let rows: Vec<String> = chunk
            .iter()
            .map(|(i, f, v)| {
                let f = b.text(f.as_str());
                let v = b.float(*v);
                format!("({env_p}, {f}, {v}, {})", bound(&mut b, &mut seen, *i))
            })
            .collect();
        let sql = format!(
            "INSERT INTO search_numbers (env_id, field, value, asset_pk, format, resource_type, delivery_type) \
             VALUES {} ON CONFLICT DO NOTHING",
            rows.join(", ")
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
            let mut tx = self.write_tx().await?;
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
            let mut by_env: HashMap<i64, Vec<i64>> = HashMap::new();
            for (pk, env) in &missing {
                by_env.entry(*env).or_default().push(*pk);
            }
            for (env, pks) in by_env {
                reindex(&mut tx.tx, env, &pks).await?;
            }
            tx.commit().await?;
            done += missing.len() as u64;
        }
    }
}

impl SqlCatalog {
    /// Re-indexes the assets with a tag longer than an exact term, whose `e:tags` entries
    /// (a hash) migration 12 could not write in SQL.
    pub(crate) async fn reindex_long_tags(&self) -> CatalogResult<()> {
        let mut tx = self.write_tx().await?;
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
        let mut by_env: HashMap<i64, Vec<i64>> = HashMap::new();
        for (pk, env) in &long {
            by_env.entry(*env).or_default().push(*pk);
        }
        for (env, pks) in by_env {
            reindex(&mut tx.tx, env, &pks).await?;
        }
        tx.commit().await
    }
}

/// How a condition on an index table is written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Membership {
    /// Read the matching ids first (`id IN (...)`).
    In,
    /// Test each row (`EXISTS`, an index probe per row): right when most rows match and the
    /// rows are walked in an index's order anyway (a page of a broad search).
    Probe,
    /// Count the index rows alone (`(SELECT COUNT(*) ...)`): only for a leaf whose index
    /// rows are one per matching asset (see [`countable`]).
    Count,
    /// Count the index rows up to [`ESTIMATE_CAP`]: how selective a leaf is, cheaply.
    Estimate,
    /// The bare `SELECT asset_pk ...` of a leaf, for a union of leaves (see [`Sql::union`]).
    Ids,
    /// `SELECT asset_pk` with the row's facets, from index rows that carry them (see
    /// [`facet_rows`]).
    Facets,
}

/// Index rows an estimate reads at most.
const ESTIMATE_CAP: i64 = 5000;

/// Which parts of a query test membership row by row whatever the mode: with a selective
/// conjunct reading the matching ids (the driver), the other conjuncts are probed for each
/// of those rows instead of each reading its own, possibly huge, list of ids.
struct Plan {
    /// Addresses of the probed subqueries (nodes of the query being translated).
    probed: HashSet<usize>,
    /// What ends a probe's subquery: on PostgreSQL `OFFSET 0`, which keeps the planner from
    /// turning the probe back into a join that reads the whole list of the probed leaf (it
    /// estimates words per field poorly and would pick it as the outer side).
    fence: &'static str,
}

impl Plan {
    fn none(dialect: Dialect) -> Self {
        let fence = match dialect {
            Dialect::Sqlite => "",
            Dialect::Postgres => " OFFSET 0",
        };
        Self { probed: HashSet::new(), fence }
    }
}

fn addr(q: &Query) -> usize {
    std::ptr::from_ref(q) as usize
}

/// A SQL condition for a query, over the `assets` table.
struct Sql<'a> {
    b: &'a mut Binds,
    env: String,
    mode: Membership,
    plan: &'a Plan,
    /// Index tables the translation has tested membership in so far.
    members: usize,
    /// The last membership test written.
    last: String,
}

impl<'a> Sql<'a> {
    fn new(b: &'a mut Binds, env: String, mode: Membership, plan: &'a Plan) -> Self {
        Self { b, env, mode, plan, members: 0, last: String::new() }
    }
}

/// `part` as one bare `SELECT` of index rows (`mode` is [`Membership::Ids`] or
/// [`Membership::Facets`]) when its whole translation is one membership test, else `None`.
/// Tried on scratch parameters first: a refusal leaves no parameter behind.
fn bare_select(b: &mut Binds, env: &str, part: &Query, mode: Membership, plan: &Plan) -> Option<String> {
    if !matches!(part, Query::Text(..) | Query::Num(..)) || plan.probed.contains(&addr(part)) {
        return None;
    }
    let mut scratch = Binds::default();
    let mut sql = Sql::new(&mut scratch, env.to_owned(), mode, plan);
    let text = sql.cond(part);
    // A one-word leaf is wrapped in parentheses; anything more is not one membership.
    if sql.members != 1 || (text != sql.last && text != format!("({})", sql.last)) {
        return None;
    }
    let mut sql = Sql::new(b, env.to_owned(), mode, plan);
    sql.cond(part);
    Some(sql.last)
}

const TRUE: &str = "(1 = 1)";
const FALSE: &str = "(1 = 0)";

/// Whether `q` is one leaf whose index rows are one per matching asset: an exact tag, an
/// exact value, or a single word, so its total is a count of index rows with no join.
fn countable(q: &Query) -> bool {
    match q {
        Query::And(v) | Query::Or(v) if v.len() == 1 => countable(&v[0]),
        Query::Text(TextField::Tags | TextField::Context(_) | TextField::Metadata(_), TextMatch::Exact(_)) => true,
        Query::Text(TextField::Attr(Attr::Folder), TextMatch::Exact(_)) => true,
        Query::Text(
            TextField::Tags | TextField::Context(_) | TextField::Metadata(_) | TextField::Any,
            TextMatch::Tokens { all, prefix: None },
        ) => all.len() == 1,
        Query::Text(TextField::Attr(Attr::DisplayName | Attr::Filename), TextMatch::Tokens { all, prefix: None }) => {
            all.len() == 1
        }
        _ => false,
    }
}

impl Sql<'_> {
    fn member(&mut self, table: &str, conds: &str) -> String {
        self.members += 1;
        self.last = match self.mode {
            Membership::In => format!("id IN (SELECT asset_pk FROM {table} WHERE {conds})"),
            Membership::Probe => {
                format!("EXISTS (SELECT 1 FROM {table} WHERE asset_pk = assets.id AND {conds}{})", self.plan.fence)
            }
            Membership::Count => format!("(SELECT COUNT(*) FROM {table} WHERE {conds})"),
            Membership::Estimate => {
                format!("(SELECT COUNT(*) FROM (SELECT 1 FROM {table} WHERE {conds} LIMIT {ESTIMATE_CAP}) e)")
            }
            Membership::Ids => format!("SELECT asset_pk FROM {table} WHERE {conds}"),
            Membership::Facets => {
                format!("SELECT asset_pk, format, resource_type, delivery_type FROM {table} WHERE {conds}")
            }
        };
        self.last.clone()
    }

    /// An OR of leaves that each read one index table, as one `id IN (... UNION ALL ...)`:
    /// one list of ids instead of one per leaf (PostgreSQL otherwise tests every asset row
    /// against each list). `None` when some part is not such a leaf.
    fn union(&mut self, parts: &[Query]) -> Option<String> {
        if self.mode != Membership::In || parts.len() < 2 {
            return None;
        }
        // Checked on scratch parameters first: a refusal must leave no parameter behind.
        let mut scratch = Binds::default();
        if !parts.iter().all(|p| bare_select(&mut scratch, &self.env, p, Membership::Ids, self.plan).is_some()) {
            return None;
        }
        let selects: Vec<String> =
            parts.iter().filter_map(|p| bare_select(self.b, &self.env, p, Membership::Ids, self.plan)).collect();
        self.members += selects.len();
        Some(format!("id IN ({})", selects.join(" UNION ALL ")))
    }

    fn cond(&mut self, q: &Query) -> String {
        if self.mode == Membership::In && self.plan.probed.contains(&addr(q)) {
            self.mode = Membership::Probe;
            let c = self.cond(q);
            self.mode = Membership::In;
            return c;
        }
        match q {
            Query::All => TRUE.into(),
            Query::And(v) if v.is_empty() => TRUE.into(),
            Query::Or(v) if v.is_empty() => FALSE.into(),
            Query::And(v) => format!("({})", v.iter().map(|q| self.cond(q)).collect::<Vec<_>>().join(" AND ")),
            Query::Or(v) => match self.union(v) {
                Some(ids) => ids,
                None => format!("({})", v.iter().map(|q| self.cond(q)).collect::<Vec<_>>().join(" OR ")),
            },
            Query::Not(q) => format!("(NOT {})", self.cond(q)),
            Query::Text(f, m) => self.text(f, m),
            Query::Num(f, r) => self.num(f, r),
        }
    }

    /// Assets with an index term of `field` matching `m` (exact, prefix or any).
    fn terms(&mut self, index_field: &str, m: &TextMatch) -> String {
        let f = self.b.text(index_field);
        let term = match m {
            TextMatch::Exact(v) => format!(" AND term = {}", self.b.text(exact_term(v))),
            TextMatch::Prefix(p) if !prefix_matchable(p) => return FALSE.into(),
            TextMatch::Prefix(p) => {
                // Hashed long values never match a prefix.
                let hashed = if p.starts_with('#') { " AND term NOT LIKE '#sha256:%'" } else { "" };
                format!(" AND term >= {} AND term < {}{hashed}", self.b.text(p.as_str()), self.b.text(prefix_end(p)))
            }
            TextMatch::Present | TextMatch::Tokens { .. } => String::new(),
        };
        self.member("search_terms", &format!("env_id = {} AND field = {f}{term}", self.env))
    }

    /// Every token (and the prefix) occurs among `index_field`'s token terms.
    fn tokens(&mut self, index_field: &str, all: &[String], prefix: Option<&str>) -> String {
        let mut parts: Vec<String> =
            all.iter().map(|t| self.terms(index_field, &TextMatch::Exact(t.clone()))).collect();
        if let Some(p) = prefix {
            parts.push(self.terms(index_field, &TextMatch::Prefix(p.to_owned())));
        }
        if parts.is_empty() { FALSE.into() } else { format!("({})", parts.join(" AND ")) }
    }

    fn column(&mut self, col: &str, m: &TextMatch) -> String {
        match m {
            TextMatch::Exact(v) => format!("({col} IS NOT NULL AND {col} = {})", self.b.text(v.as_str())),
            TextMatch::Prefix(p) => format!(
                "({col} IS NOT NULL AND {col} >= {} AND {col} < {})",
                self.b.text(p.as_str()),
                self.b.text(prefix_end(p))
            ),
            TextMatch::Present => format!("({col} IS NOT NULL AND {col} <> '')"),
            TextMatch::Tokens { .. } => FALSE.into(),
        }
    }

    fn text(&mut self, f: &TextField, m: &TextMatch) -> String {
        let tokens = |s: &mut Self, idx: &str| match m {
            TextMatch::Tokens { all, prefix } => Some(s.tokens(idx, all, prefix.as_deref())),
            _ => None,
        };
        match f {
            TextField::Attr(a) => match a {
                Attr::PublicId => self.column("public_id", m),
                Attr::AssetId => self.column("asset_id", m),
                Attr::AssetFolder => self.column("asset_folder", m),
                Attr::ResourceType => self.column("resource_type", m),
                Attr::Type => self.column("delivery_type", m),
                Attr::Format => self.column("format", m),
                Attr::DisplayName => {
                    tokens(self, field::DISPLAY_NAME_TOKENS).unwrap_or_else(|| self.column("display_name", m))
                }
                Attr::Folder => match m {
                    TextMatch::Present => {
                        let f = self.b.text(field::FOLDER);
                        self.member("search_terms", &format!("env_id = {} AND field = {f} AND term <> ''", self.env))
                    }
                    _ => self.terms(field::FOLDER, m),
                },
                Attr::Filename => match m {
                    TextMatch::Tokens { all, prefix } => self.tokens(field::FILENAME_TOKENS, all, prefix.as_deref()),
                    TextMatch::Present => TRUE.into(),
                    _ => self.terms(field::FILENAME, m),
                },
                Attr::AccessMode => self.column("access_mode", m),
                Attr::Status => constant("active", m),
            },
            TextField::Tags => match m {
                TextMatch::Tokens { all, prefix } => self.tokens(field::TAG_TOKENS, all, prefix.as_deref()),
                // The tag rows carry no facets; the whole-tag index rows do.
                TextMatch::Exact(_) if self.mode == Membership::Facets => self.terms(field::TAGS, m),
                TextMatch::Exact(v) => {
                    let c = format!("env_id = {} AND tag = {}", self.env, self.b.text(v.as_str()));
                    self.member("asset_tags", &c)
                }
                TextMatch::Prefix(p) => {
                    let c = format!(
                        "env_id = {} AND tag >= {} AND tag < {}",
                        self.env,
                        self.b.text(p.as_str()),
                        self.b.text(prefix_end(p))
                    );
                    self.member("asset_tags", &c)
                }
                TextMatch::Present => {
                    let c = format!("env_id = {}", self.env);
                    self.member("asset_tags", &c)
                }
            },
            TextField::Context(k) => match m {
                TextMatch::Tokens { all, prefix } => self.tokens(&field::context_tokens(k), all, prefix.as_deref()),
                _ => self.terms(&field::context_exact(k), m),
            },
            TextField::Metadata(k) => match m {
                TextMatch::Tokens { all, prefix } => self.tokens(&field::metadata_tokens(k), all, prefix.as_deref()),
                TextMatch::Present => {
                    let text = self.terms(&field::metadata_exact(k), m);
                    let f = self.b.text(field::metadata_number(k));
                    let c = format!("env_id = {} AND field = {f}", self.env);
                    format!("({text} OR {})", self.member("search_numbers", &c))
                }
                _ => self.terms(&field::metadata_exact(k), m),
            },
            TextField::Any => tokens(self, field::ANY).unwrap_or_else(|| FALSE.into()),
        }
    }

    fn num(&mut self, f: &NumField, r: &NumRange) -> String {
        let col = match f {
            NumField::Bytes => "bytes",
            NumField::Width => "width",
            NumField::Height => "height",
            NumField::CreatedAt => "created_at",
            NumField::UploadedAt => "version",
            NumField::Pixels => "(width * height)",
            NumField::AspectRatio => {
                let mut parts = vec!["width IS NOT NULL AND height IS NOT NULL AND height > 0".to_owned()];
                let e = "(CAST(width AS DOUBLE PRECISION) / height)";
                if let Some((v, incl)) = r.lo {
                    parts.push(format!("{e} {} {}", if incl { ">=" } else { ">" }, self.b.float(v)));
                }
                if let Some((v, incl)) = r.hi {
                    parts.push(format!("{e} {} {}", if incl { "<=" } else { "<" }, self.b.float(v)));
                }
                return format!("({})", parts.join(" AND "));
            }
            NumField::Metadata(k) => {
                let mut parts = vec![
                    format!("env_id = {}", self.env),
                    format!("field = {}", self.b.text(field::metadata_number(k))),
                ];
                if let Some((v, incl)) = r.lo {
                    parts.push(format!("value {} {}", if incl { ">=" } else { ">" }, self.b.float(v)));
                }
                if let Some((v, incl)) = r.hi {
                    parts.push(format!("value {} {}", if incl { "<=" } else { "<" }, self.b.float(v)));
                }
                return self.member("search_numbers", &parts.join(" AND "));
            }
        };
        let guard = match f {
            NumField::Pixels => "width IS NOT NULL AND height IS NOT NULL",
            NumField::Width => "width IS NOT NULL",
            NumField::Height => "height IS NOT NULL",
            _ => "1 = 1",
        };
        let Some((lo, hi)) = r.integer_bounds() else { return FALSE.into() };
        let mut parts = vec![guard.to_owned()];
        if let Some(lo) = lo {
            parts.push(format!("{col} >= {}", self.b.int(lo)));
        }
        if let Some(hi) = hi {
            parts.push(format!("{col} <= {}", self.b.int(hi)));
        }
        format!("({})", parts.join(" AND "))
    }
}

/// A field with one value for every asset.
fn constant(value: &str, m: &TextMatch) -> String {
    let hit = match m {
        TextMatch::Exact(v) => v == value,
        TextMatch::Prefix(p) => value.starts_with(p.as_str()),
        TextMatch::Present => true,
        TextMatch::Tokens { .. } => false,
    };
    if hit { TRUE.into() } else { FALSE.into() }
}

fn sort_expr(f: SortField) -> &'static str {
    match f {
        SortField::CreatedAt => "created_at",
        SortField::UploadedAt => "version",
        SortField::PublicId => "public_id",
        SortField::DisplayName => "display_name",
        SortField::AssetFolder => "asset_folder",
        SortField::Format => "COALESCE(format, '')",
        SortField::ResourceType => "resource_type",
        SortField::Type => "delivery_type",
        SortField::Bytes => "bytes",
        SortField::Width => "COALESCE(width, -1)",
        SortField::Height => "COALESCE(height, -1)",
    }
}

/// Rows after the cursor in the sort order: `(k1 > v1) OR (k1 = v1 AND k2 > v2) OR ... OR
/// (all equal AND id > pk)`, with each comparison in its key's direction.
fn after_cursor(b: &mut Binds, sort: &[SortKey], c: &Cursor) -> String {
    let mut ors = Vec::new();
    let mut eqs: Vec<String> = Vec::new();
    let bind = |b: &mut Binds, v: &SortValue| match v {
        SortValue::Int(i) => b.int(*i),
        SortValue::Text(s) => b.text(s.as_str()),
    };
    for (k, v) in sort.iter().zip(&c.values) {
        let e = sort_expr(k.field);
        let p = bind(b, v);
        let op = if k.ascending { ">" } else { "<" };
        let mut clause = eqs.clone();
        clause.push(format!("{e} {op} {p}"));
        ors.push(format!("({})", clause.join(" AND ")));
        eqs.push(format!("{e} = {p}"));
    }
    let op = if sort.first().is_none_or(|k| k.ascending) { ">" } else { "<" };
    eqs.push(format!("id {op} {}", b.int(c.pk)));
    ors.push(format!("({})", eqs.join(" AND ")));
    format!("({})", ors.join(" OR "))
}

fn range_expr(f: RangeAgg) -> &'static str {
    match f {
        RangeAgg::Bytes => "bytes",
        RangeAgg::Pixels => "(width * height)",
        RangeAgg::Width => "width",
        RangeAgg::Height => "height",
        RangeAgg::AspectRatio => "(CAST(width AS DOUBLE PRECISION) / NULLIF(height, 0))",
        RangeAgg::Duration => "CAST(NULL AS DOUBLE PRECISION)",
    }
}

fn bucket_case(b: &mut Binds, e: &str, bucket: &Bucket) -> String {
    let mut conds = vec![format!("{e} IS NOT NULL")];
    if let Some(from) = bucket.from {
        conds.push(format!("{e} >= {}", b.float(from)));
    }
    if let Some(to) = bucket.to {
        conds.push(format!("{e} < {}", b.float(to)));
    }
    format!("COUNT(CASE WHEN {} THEN 1 END)", conds.join(" AND "))
}

/// The asset columns the value aggregations group by.
fn value_column(v: ValueAgg) -> Option<&'static str> {
    match v {
        ValueAgg::Format => Some("format"),
        ValueAgg::ResourceType => Some("resource_type"),
        ValueAgg::Type => Some("delivery_type"),
        ValueAgg::Tags => None,
    }
}

/// Counts sorted as the API lists them: most first, then by key.
fn sorted_counts(counts: HashMap<String, i64>) -> Vec<(String, i64)> {
    let mut v: Vec<(String, i64)> = counts.into_iter().filter(|(_, n)| *n > 0).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

/// How many index-table lookups the translation of `q` makes (translated on scratch
/// parameters, so nothing is bound).
fn index_reads(q: &Query, plan: &Plan) -> usize {
    let mut scratch = Binds::default();
    let mut sql = Sql::new(&mut scratch, String::new(), Membership::In, plan);
    sql.cond(q);
    sql.members
}

fn where_clause(b: &mut Binds, env: i64, q: &Query, mode: Membership, plan: &Plan) -> String {
    let env_p = b.int(env);
    let cond = Sql::new(b, env_p.clone(), mode, plan).cond(q);
    format!("env_id = {env_p} AND {cond}")
}

/// Chooses a driver among the conjuncts of `q` that read index tables: the one with the
/// fewest index rows, if it has fewer than [`ESTIMATE_CAP`]; the other such conjuncts are
/// then probed per row. SQLite materialises every `IN (subquery)` list in full, so without
/// this a selective `folder=x AND metadata.rating>=4` would read 40% of the catalog.
async fn plan(conn: &mut AnyConnection, dialect: Dialect, env: i64, q: &Query) -> CatalogResult<Plan> {
    let none = Plan::none(dialect);
    let Query::And(parts) = q else { return Ok(none) };
    let mut members: Vec<(usize, Option<i64>)> = Vec::new();
    for part in parts {
        let mut b = Binds::default();
        let env_p = b.int(env);
        let mut sql = Sql::new(&mut b, env_p, Membership::Estimate, &none);
        let expr = sql.cond(part);
        match sql.members {
            0 => continue,
            // A leaf reading one index table: its estimate is a count of index rows.
            1 if matches!(part, Query::Text(..) | Query::Num(..)) => {
                let row = b.apply(&format!("SELECT {expr} AS n")).fetch_one(&mut *conn).await.map_err(db_err)?;
                members.push((addr(part), Some(row.try_get("n").map_err(db_err)?)));
            }
            _ => members.push((addr(part), None)),
        }
    }
    let driver = members.iter().filter_map(|(a, n)| n.map(|n| (n, *a))).min();
    match driver {
        Some((n, driver)) if n < ESTIMATE_CAP => {
            Ok(Plan { probed: members.into_iter().map(|(a, _)| a).filter(|a| *a != driver).collect(), ..none })
        }
        _ => Ok(none),
    }
}

impl SqlCatalog {
    /// The matches of a driven conjunction that the index rows answer alone (see
    /// [`driven_facet_rows`]), read once when they are few: their number is the total and
    /// the page reads just their rows, instead of finding them twice (count, then page).
    /// `None` when the query is not such a conjunction or has more than `probe_above` matches.
    async fn few_matches(
        &self,
        conn: &mut AnyConnection,
        env: i64,
        q: &Query,
        plan: &Plan,
    ) -> CatalogResult<Option<Vec<i64>>> {
        if !matches!(q, Query::And(_)) || plan.probed.is_empty() {
            return Ok(None);
        }
        let mut b = Binds::default();
        let env_p = b.int(env);
        let Some(rows) = facet_rows(&mut b, &env_p, q, plan, &[]) else { return Ok(None) };
        // One bound list of ids at most.
        let most = self.probe_above.clamp(0, IN_CHUNK as i64);
        let cap = b.int(most + 1);
        let sql = format!("SELECT asset_pk FROM ({rows}) m LIMIT {cap}");
        let ids: Vec<i64> = b
            .apply(&sql)
            .fetch_all(&mut *conn)
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()
            .map_err(db_err)?;
        Ok((ids.len() as i64 <= most).then_some(ids))
    }

    /// The total and every aggregation over asset columns, in one pass over the matches
    /// (grouped by the value columns asked for, with a count per range bucket); a single
    /// countable leaf with nothing to aggregate is counted from its index rows alone.
    async fn count_and_aggregate(
        &self,
        conn: &mut AnyConnection,
        env: i64,
        q: &SearchQuery,
        plan: &Plan,
    ) -> CatalogResult<Counted> {
        let columns: Vec<&'static str> = q
            .aggregate
            .iter()
            .filter_map(|a| match a {
                Aggregation::Values(v) => value_column(*v),
                Aggregation::Ranges { .. } => None,
            })
            .collect();
        let ranges: Vec<(&'static str, RangeAgg, &[Bucket])> = q
            .aggregate
            .iter()
            .filter_map(|a| match a {
                Aggregation::Ranges { field, buckets } => Some((a.name(), *field, buckets.as_slice())),
                Aggregation::Values(_) => None,
            })
            .collect();
        if columns.is_empty() && ranges.is_empty() && countable(&q.query) {
            let mut b = Binds::default();
            let env_p = b.int(env);
            let count = Sql::new(&mut b, env_p, Membership::Count, &Plan::none(self.dialect)).cond(&q.query);
            let row = b.apply(&format!("SELECT {count} AS n")).fetch_one(&mut *conn).await.map_err(db_err)?;
            return Ok((row.try_get("n").map_err(db_err)?, HashMap::new()));
        }
        // Value aggregations and the total of a query the index rows answer alone.
        if ranges.is_empty() {
            let mut b = Binds::default();
            let env_p = b.int(env);
            if let Some(rows) = facet_rows(&mut b, &env_p, &q.query, plan, &columns) {
                let select: Vec<String> = columns.iter().map(|c| format!("{c} AS g_{c}")).collect();
                let group =
                    if columns.is_empty() { String::new() } else { format!(" GROUP BY {}", columns.join(", ")) };
                let sql = format!(
                    "SELECT {}COUNT(*) AS n FROM ({rows}) m{group}",
                    select.iter().map(|c| format!("{c}, ")).collect::<String>()
                );
                let rows = b.apply(&sql).fetch_all(&mut *conn).await.map_err(db_err)?;
                return grouped_counts(&rows, &columns, &ranges);
            }
        }
        // A grouped pass over the assets with positions in `ids` (all when `None`).
        let grouped = |ids: Option<(i64, i64)>| {
            let mut b = Binds::default();
            // A countable leaf joins its index rows to the assets (one per match, no
            // duplicates), which saves building the list of ids first; anything else filters
            // the assets.
            let mut from = if countable(&q.query) {
                let env_p = b.int(env);
                let ids = Sql::new(&mut b, env_p.clone(), Membership::Ids, plan).cond(&q.query);
                let ids = ids.trim_start_matches('(').trim_end_matches(')');
                format!("({ids}) m JOIN assets ON assets.id = m.asset_pk WHERE assets.env_id = {env_p}")
            } else {
                format!("assets WHERE {}", where_clause(&mut b, env, &q.query, Membership::In, plan))
            };
            if let Some((lo, hi)) = ids {
                from = format!("{from} AND assets.id >= {} AND assets.id < {}", b.int(lo), b.int(hi));
            }
            let mut select: Vec<String> = columns.iter().map(|c| format!("{c} AS g_{c}")).collect();
            select.push("COUNT(*) AS n".into());
            for (ri, (_, field, buckets)) in ranges.iter().enumerate() {
                for (bi, bucket) in buckets.iter().enumerate() {
                    select.push(format!("{} AS r{ri}_{bi}", bucket_case(&mut b, range_expr(*field), bucket)));
                }
            }
            let group = if columns.is_empty() { String::new() } else { format!(" GROUP BY {}", columns.join(", ")) };
            (format!("SELECT {} FROM {from}{group}", select.join(", ")), b)
        };
        // SQLite runs one statement on one core: a broad pass (no selective driver) over lists
        // of ids is split in two halves of the positions, counted on two connections at once
        // and summed. A filter on asset columns alone is left whole (it scans a covering index,
        // which a range of positions would turn into a table scan), and so is a pass that finds
        // no second connection within a few milliseconds (a busy pool must not deadlock).
        let second = if self.dialect == Dialect::Sqlite && plan.probed.is_empty() && index_reads(&q.query, plan) > 0 {
            tokio::time::timeout(std::time::Duration::from_millis(5), self.pool.acquire())
                .await
                .ok()
                .and_then(Result::ok)
        } else {
            None
        };
        let rows = if let Some(mut other) = second {
            let last: Option<i64> =
                sqlx::query_scalar("SELECT MAX(id) FROM assets").fetch_one(&mut *conn).await.map_err(db_err)?;
            let pivot = last.unwrap_or(0) / 2 + 1;
            let (sql_a, b_a) = grouped(Some((i64::MIN, pivot)));
            let (sql_b, b_b) = grouped(Some((pivot, i64::MAX)));
            let (a, b) =
                tokio::join!(b_a.apply(&sql_a).fetch_all(&mut *conn), b_b.apply(&sql_b).fetch_all(&mut *other));
            let mut rows = a.map_err(db_err)?;
            rows.extend(b.map_err(db_err)?);
            rows
        } else {
            let (sql, b) = grouped(None);
            b.apply(&sql).fetch_all(&mut *conn).await.map_err(db_err)?
        };

        grouped_counts(&rows, &columns, &ranges)
    }
}

/// A search's total and its aggregations by name (each a list of keys and counts).
type Counted = (i64, HashMap<&'static str, Vec<(String, i64)>>);

/// The total and the aggregations from the rows of a grouped pass (a count `n` per group of
/// the value columns, `g_<column>`, and a count per range bucket, `r<range>_<bucket>`).
fn grouped_counts(
    rows: &[sqlx::any::AnyRow],
    columns: &[&'static str],
    ranges: &[(&'static str, RangeAgg, &[Bucket])],
) -> CatalogResult<Counted> {
    let mut total = 0;
    let mut values: Vec<HashMap<String, i64>> = vec![HashMap::new(); columns.len()];
    let mut buckets: Vec<Vec<i64>> = ranges.iter().map(|(_, _, bs)| vec![0; bs.len()]).collect();
    for row in rows {
        let n: i64 = row.try_get("n").map_err(db_err)?;
        total += n;
        for (ci, c) in columns.iter().enumerate() {
            let k: Option<String> = row.try_get(format!("g_{c}").as_str()).map_err(db_err)?;
            if let Some(k) = k {
                *values[ci].entry(k).or_default() += n;
            }
        }
        for (ri, counts) in buckets.iter_mut().enumerate() {
            for (bi, count) in counts.iter_mut().enumerate() {
                let n: Option<i64> = row.try_get(format!("r{ri}_{bi}").as_str()).map_err(db_err)?;
                *count += n.unwrap_or(0);
            }
        }
    }
    let mut out = HashMap::new();
    for (c, counts) in columns.iter().zip(values) {
        out.insert(*c, sorted_counts(counts));
    }
    for ((name, _, bs), counts) in ranges.iter().zip(buckets) {
        out.insert(*name, bs.iter().zip(counts).map(|(bk, n)| (bk.key.clone(), n)).collect());
    }
    Ok((total, out))
}

/// The matches of a conjunction with a driver (see [`plan`]) as index rows with their facets:
/// the driver's rows, each kept when the probes of the other parts pass, when those parts test
/// index rows only. The asset rows are not read at all: counting the matches of
/// `folder=x AND metadata.rating>=4` costs the driver's index rows and one probe each.
fn driven_facet_rows(b: &mut Binds, env_p: &str, parts: &[Query], plan: &Plan, facets: &[&str]) -> Option<String> {
    let (driver, probed): (Vec<&Query>, Vec<&Query>) = parts.iter().partition(|p| !plan.probed.contains(&addr(p)));
    let [driver] = driver.as_slice() else { return None };
    if probed.is_empty() || !probed.iter().all(|p| index_only(p)) {
        return None;
    }
    // A leaf drives (see `plan`); checked on scratch parameters first.
    if !matches!(driver, Query::Text(..) | Query::Num(..))
        || facet_rows(&mut Binds::default(), env_p, driver, plan, facets).is_none()
    {
        return None;
    }
    let select = facet_rows(b, env_p, driver, plan, facets)?;
    let mut sql = Sql::new(b, env_p.to_owned(), Membership::Probe, plan);
    let probes: Vec<String> = probed.iter().map(|p| sql.cond(p)).collect();
    // The probes test `assets.id`: the driver's rows go by that name.
    let cols = facet_list(facets);
    Some(format!(
        "SELECT id AS asset_pk{cols} FROM (SELECT asset_pk AS id{cols} FROM ({select}) d) assets WHERE {}",
        probes.join(" AND ")
    ))
}

/// Whether every leaf of `q` tests index rows (or is a constant), never an asset column.
fn index_only(q: &Query) -> bool {
    match q {
        Query::All => true,
        Query::And(v) | Query::Or(v) => v.iter().all(index_only),
        Query::Not(q) => index_only(q),
        Query::Num(f, _) => matches!(f, NumField::Metadata(_)),
        Query::Text(f, m) => match f {
            TextField::Tags | TextField::Context(_) | TextField::Metadata(_) | TextField::Any => true,
            TextField::Attr(Attr::Folder | Attr::Filename | Attr::Status) => true,
            TextField::Attr(Attr::DisplayName) => matches!(m, TextMatch::Tokens { .. }),
            TextField::Attr(_) => false,
        },
    }
}

/// The matches of `q` as index rows with their facets, one row per matching asset, when `q`
/// is a leaf reading one index table that carries facets, an OR of such leaves, or a driven
/// conjunction of index tests: a broad search is then counted and aggregated from the index
/// alone (an index-only scan), where joining a few hundred thousand matches to their asset
/// rows costs several times more (measured at a million assets: 4× on PostgreSQL, 3× on
/// SQLite). `None` for anything else.
fn facet_rows(b: &mut Binds, env_p: &str, q: &Query, plan: &Plan, facets: &[&str]) -> Option<String> {
    let parts = match q {
        Query::Or(v) if !v.is_empty() => v.as_slice(),
        Query::Text(..) | Query::Num(..) => std::slice::from_ref(q),
        Query::And(v) => return driven_facet_rows(b, env_p, v, plan, facets),
        _ => return None,
    };
    let mut scratch = Binds::default();
    for part in parts {
        let select = bare_select(&mut scratch, env_p, part, Membership::Facets, plan)?;
        // The tag rows (prefix and presence tests) carry no facets.
        if select.contains(" FROM asset_tags ") {
            return None;
        }
    }
    let selects: Vec<String> =
        parts.iter().filter_map(|p| bare_select(b, env_p, p, Membership::Facets, plan)).collect();
    if parts.len() == 1 && countable(q) {
        // One index row per match already.
        return selects.into_iter().next();
    }
    // Several rows of one asset (two words of an OR, two terms of a prefix) count once; the
    // fewer columns the set of distinct rows holds, the faster it is built.
    Some(format!("SELECT DISTINCT asset_pk{} FROM ({}) u", facet_list(facets), selects.join(" UNION ALL ")))
}

/// `, format, ...`: the facets asked for after a leading column.
fn facet_list(facets: &[&str]) -> String {
    facets.iter().map(|f| format!(", {f}")).collect()
}

#[async_trait]
impl SearchRepo for SqlCatalog {
    async fn search_assets(&self, env: i64, q: &SearchQuery) -> CatalogResult<SearchPage> {
        let started = Instant::now();
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let plan = plan(&mut conn, self.dialect, env, &q.query).await?;
        let few = if q.aggregate.is_empty() { self.few_matches(&mut conn, env, &q.query, &plan).await? } else { None };
        let (total, mut computed) = match &few {
            Some(ids) => (ids.len() as i64, HashMap::new()),
            None => self.count_and_aggregate(&mut conn, env, q, &plan).await?,
        };

        // A page of many matches walks the sort order and probes each row; a page of few
        // reads the matches and sorts them.
        let mut b = Binds::default();
        let mode = if total > self.probe_above { Membership::Probe } else { Membership::In };
        // The matches from the index alone, then only their asset rows: a driven conjunction
        // otherwise reads the row of every driver match before probing it.
        let mut scratch = Binds::default();
        let env_s = scratch.int(env);
        let from_index = mode == Membership::In && facet_rows(&mut scratch, &env_s, &q.query, &plan, &[]).is_some();
        let mut w = if let Some(ids) = &few {
            let env_p = b.int(env);
            if ids.is_empty() {
                format!("env_id = {env_p} AND {FALSE}")
            } else {
                format!("env_id = {env_p} AND id IN {}", b.int_list(ids.iter().copied()))
            }
        } else if from_index {
            let env_p = b.int(env);
            let rows = facet_rows(&mut b, &env_p, &q.query, &plan, &[]).unwrap_or_default();
            format!("env_id = {env_p} AND id IN (SELECT asset_pk FROM ({rows}) m)")
        } else {
            where_clause(&mut b, env, &q.query, mode, &plan)
        };
        if let Some(c) = &q.after {
            w = format!("{w} AND {}", after_cursor(&mut b, &q.sort, c));
        }
        let id_dir = if q.sort.first().is_none_or(|k| k.ascending) { "ASC" } else { "DESC" };
        let order: Vec<String> = q
            .sort
            .iter()
            .map(|k| format!("{} {}", sort_expr(k.field), if k.ascending { "ASC" } else { "DESC" }))
            .chain(std::iter::once(format!("id {id_dir}")))
            .collect();
        let limit = i64::from(q.limit.max(1));
        let sql = format!(
            "SELECT {ASSET_COLS} FROM assets WHERE {w} ORDER BY {} LIMIT {}",
            order.join(", "),
            b.int(limit + 1)
        );
        let found = b.apply(&sql).fetch_all(&mut *conn).await.map_err(db_err)?;
        let mut page = found.iter().map(rows::asset).collect::<CatalogResult<Vec<_>>>()?;
        let more = page.len() as i64 > limit;
        page.truncate(limit as usize);
        crate::rows::attach_tags(&mut conn, &mut page).await?;
        let next = if more {
            page.last().map(|(pk, a)| Cursor {
                values: q.sort.iter().map(|k| nimbus_app::search::sort_value(a, k.field)).collect(),
                pk: *pk,
            })
        } else {
            None
        };

        let mut aggregations = Vec::new();
        for agg in &q.aggregate {
            let counts = if *agg == Aggregation::Values(ValueAgg::Tags) {
                let mut b = Binds::default();
                let w = where_clause(&mut b, env, &q.query, Membership::In, &plan);
                let sql = format!(
                    "SELECT tag AS k, COUNT(*) AS n FROM asset_tags WHERE asset_pk IN (SELECT id FROM assets WHERE {w}) GROUP BY tag ORDER BY n DESC, k"
                );
                let found = b.apply(&sql).fetch_all(&mut *conn).await.map_err(db_err)?;
                found
                    .iter()
                    .map(|r| Ok((r.try_get("k").map_err(db_err)?, r.try_get("n").map_err(db_err)?)))
                    .collect::<CatalogResult<_>>()?
            } else {
                computed.remove(agg.name()).unwrap_or_default()
            };
            aggregations.push((agg.name().to_owned(), counts));
        }
        tracing::debug!(total, ms = started.elapsed().as_millis() as u64, "search");
        Ok(SearchPage { total, assets: page.into_iter().map(|(_, a)| a).collect(), next, aggregations })
    }
}
