//! Search: the index rows every asset write keeps current ([`mod@index`]), checked queries
//! translated to SQL ([`sql`]), matches read from the index rows alone ([`facets`]), and the
//! search itself: a plan, the total and aggregations, then a page.

mod facets;
mod index;
mod sql;

use std::collections::HashMap;
use std::time::Instant;

use async_trait::async_trait;
use nimbus_app::ports::{CatalogResult, SearchRepo};
use nimbus_app::search::{
    Aggregation, Bucket, Cursor, RangeAgg, SearchPage, SearchQuery, SortField, SortKey, SortValue, ValueAgg,
};
use nimbus_core::search::Query;
use sqlx::{AnyConnection, Row as _};

use self::facets::facet_rows;
pub(crate) use self::index::{index, reindex, unindex};
use self::sql::{FALSE, Membership, Plan, Sql, countable, index_reads, plan, where_clause};
use crate::binds::{Binds, IN_CHUNK};
use crate::rows::{self, ASSET_COLS};
use crate::{Dialect, SqlCatalog, db_err};

/// Matches beyond which a page may be read by probing rows in sort order (see
/// [`SqlCatalog::walks_sort_order`]).
pub(crate) const PROBE_ABOVE: i64 = 2000;

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

impl SqlCatalog {
    /// Whether a page of `total` matches is read by walking the sort order and probing each
    /// row rather than by reading the matches and sorting them. The walk meets a match every
    /// `rows / total` rows, so it reads about `(limit + 1) * rows / total` rows for a page
    /// where the other way reads `total`: it pays when `total² > (limit + 1) * rows`. At five
    /// million assets a folder of 4,000 matches is read and sorted (a walk in `public_id`
    /// order crosses every folder before it: seconds), a tag on a third of them is walked.
    /// `rows` is the highest position in the catalog, an upper bound read from the primary
    /// key. A negative `probe_above` walks always (tests).
    async fn walks_sort_order(&self, conn: &mut AnyConnection, total: i64, limit: u32) -> CatalogResult<bool> {
        if total <= self.probe_above {
            return Ok(false);
        }
        if self.probe_above < 0 {
            return Ok(true);
        }
        let rows: Option<i64> =
            sqlx::query_scalar("SELECT MAX(id) FROM assets").fetch_one(&mut *conn).await.map_err(db_err)?;
        let (total, page, rows) = (total as f64, f64::from(limit.max(1)) + 1.0, rows.unwrap_or(0) as f64);
        Ok(total * total > page * rows)
    }

    /// The matches of a driven conjunction that the index rows answer alone (see
    /// `facets::driven_facet_rows`), read once when they are few: their number is the total and
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
                let distinct_union = rows.starts_with(facets::DISTINCT_UNION);
                let sql = format!(
                    "SELECT {}COUNT(*) AS n FROM ({rows}) m{group}",
                    select.iter().map(|c| format!("{c}, ")).collect::<String>()
                );
                let rows = if distinct_union && self.dialect == Dialect::Postgres {
                    // PostgreSQL estimates the distinct rows of a union at 200 per column; a
                    // hash aggregate sized for 40,000 that meets a million spills and spills
                    // again (`dog OR beach` at 5,000,000 assets: minutes with the default 4 MB
                    // of `work_mem`), where a sort degrades gracefully to disk (0.5 s).
                    let mut tx = sqlx::Connection::begin(&mut *conn).await.map_err(db_err)?;
                    sqlx::query("SET LOCAL enable_hashagg = off").execute(&mut *tx).await.map_err(db_err)?;
                    let rows = b.apply(&sql).fetch_all(&mut *tx).await.map_err(db_err)?;
                    tx.commit().await.map_err(db_err)?;
                    rows
                } else {
                    b.apply(&sql).fetch_all(&mut *conn).await.map_err(db_err)?
                };
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

#[async_trait]
impl SearchRepo for SqlCatalog {
    async fn search_assets(&self, env: i64, q: &SearchQuery) -> CatalogResult<SearchPage> {
        let started = Instant::now();
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let plan = plan(&mut conn, self.dialect, env, &q.query).await?;
        // A first page of a driven conjunction whose driver is too small to be walked (nor
        // are its matches, no more than its rows) is read with its total, in one pass: the
        // page sorts every match anyway.
        let one_pass = q.aggregate.is_empty()
            && q.after.is_none()
            && match plan.driver_rows {
                Some(n) => !self.walks_sort_order(&mut conn, n, q.limit).await?,
                None => false,
            };
        let few = if q.aggregate.is_empty() && !one_pass {
            self.few_matches(&mut conn, env, &q.query, &plan).await?
        } else {
            None
        };
        let (mut total, mut computed) = match &few {
            Some(ids) => (ids.len() as i64, HashMap::new()),
            None if one_pass => (0, HashMap::new()),
            None => self.count_and_aggregate(&mut conn, env, q, &plan).await?,
        };

        // A page of many matches walks the sort order and probes each row; a page of few
        // reads the matches and sorts them.
        let mut b = Binds::default();
        let mode = if !one_pass && self.walks_sort_order(&mut conn, total, q.limit).await? {
            Membership::Probe
        } else {
            Membership::In
        };
        // The matches from the index alone, then only their asset rows: a driven conjunction
        // otherwise reads the row of every driver match before probing it.
        let env_p = b.int(env);
        let matches = if let Some(ids) = &few {
            if ids.is_empty() { FALSE.to_owned() } else { format!("id IN {}", b.int_list(ids.iter().copied())) }
        } else if let Some(rows) =
            (mode == Membership::In).then(|| facet_rows(&mut b, &env_p, &q.query, &plan, &[])).flatten()
        {
            format!("id IN (SELECT asset_pk FROM ({rows}) m)")
        } else {
            Sql::new(&mut b, env_p.clone(), mode, &plan).cond(&q.query)
        };
        let mut w = format!("env_id = {env_p} AND {matches}");
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
        let counted = if one_pass { ", COUNT(*) OVER () AS nimbus_total" } else { "" };
        let sql = format!(
            "SELECT {ASSET_COLS}{counted} FROM assets WHERE {w} ORDER BY {} LIMIT {}",
            order.join(", "),
            b.int(limit + 1)
        );
        let found = b.apply(&sql).fetch_all(&mut *conn).await.map_err(db_err)?;
        if one_pass {
            total = match found.first() {
                Some(row) => row.try_get("nimbus_total").map_err(db_err)?,
                None => 0,
            };
        }
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
