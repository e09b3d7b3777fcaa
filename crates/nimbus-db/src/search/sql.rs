//! Checked queries translated to SQL both dialects run. Every leaf of a translated query is a
//! non-NULL boolean, so `NOT` means what the in-memory evaluator says it means.

use std::collections::HashSet;

use nimbus_app::ports::CatalogResult;
use nimbus_core::search::{
    Attr, NumField, NumRange, Query, TextField, TextMatch, exact_term, field, prefix_end, prefix_matchable,
};
use sqlx::{AnyConnection, Row as _};

use crate::binds::Binds;
use crate::{Dialect, db_err};

/// How a condition on an index table is written.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Membership {
    /// Read the matching ids first (`id IN (...)`).
    In,
    /// Test each row (`EXISTS`, an index probe per row): right when most rows match and the
    /// rows are walked in an index's order anyway (a page of a broad search).
    Probe,
    /// Count the index rows alone (`(SELECT COUNT(*) ...)`): only for a leaf whose index
    /// rows are one per matching asset (see [`countable`]).
    Count,
    /// Count the index rows up to a cap (see [`plan`]): how selective a leaf is, cheaply.
    Estimate,
    /// The bare `SELECT asset_pk ...` of a leaf, for a union of leaves (see [`Sql::union`]).
    Ids,
    /// `SELECT asset_pk` with the row's facets, from index rows that carry them (see
    /// `facets::facet_rows`).
    Facets,
}

/// Which parts of a query test membership row by row whatever the mode: with a selective
/// conjunct reading the matching ids (the driver), the other conjuncts are probed for each
/// of those rows instead of each reading its own, possibly huge, list of ids.
pub(super) struct Plan {
    /// Addresses of the probed subqueries (nodes of the query being translated).
    pub(super) probed: HashSet<usize>,
    /// The driver's index rows (as counted), when there is a driver: at most the matches.
    pub(super) driver_rows: Option<i64>,
    /// What ends a probe's subquery: on PostgreSQL `OFFSET 0`, which keeps the planner from
    /// turning the probe back into a join that reads the whole list of the probed leaf (it
    /// estimates words per field poorly and would pick it as the outer side).
    fence: &'static str,
}

impl Plan {
    pub(super) fn none(dialect: Dialect) -> Self {
        let fence = match dialect {
            Dialect::Sqlite => "",
            Dialect::Postgres => " OFFSET 0",
        };
        Self { probed: HashSet::new(), driver_rows: None, fence }
    }
}

pub(super) fn addr(q: &Query) -> usize {
    std::ptr::from_ref(q) as usize
}

/// A SQL condition for a query, over the `assets` table.
pub(super) struct Sql<'a> {
    b: &'a mut Binds,
    env: String,
    mode: Membership,
    plan: &'a Plan,
    /// Index tables the translation has tested membership in so far.
    members: usize,
    /// Index rows an estimate counts at most.
    cap: i64,
    /// The last membership test written.
    last: String,
}

impl<'a> Sql<'a> {
    pub(super) fn new(b: &'a mut Binds, env: String, mode: Membership, plan: &'a Plan) -> Self {
        Self { b, env, mode, plan, members: 0, cap: DRIVE_BELOW_NUMBER_PROBES, last: String::new() }
    }
}

/// `part` as one bare `SELECT` of index rows (`mode` is [`Membership::Ids`] or
/// [`Membership::Facets`]) when its whole translation is one membership test, else `None`.
/// A refusal leaves no parameter behind.
pub(super) fn bare_select(b: &mut Binds, env: &str, part: &Query, mode: Membership, plan: &Plan) -> Option<String> {
    if !matches!(part, Query::Text(..) | Query::Num(..)) || plan.probed.contains(&addr(part)) {
        return None;
    }
    let mark = b.mark();
    let mut sql = Sql::new(b, env.to_owned(), mode, plan);
    let text = sql.cond(part);
    // A one-word leaf is wrapped in parentheses; anything more is not one membership.
    if sql.members == 1 && (text == sql.last || text == format!("({})", sql.last)) {
        return Some(sql.last);
    }
    b.rewind(mark);
    None
}

pub(super) const TRUE: &str = "(1 = 1)";
pub(super) const FALSE: &str = "(1 = 0)";

/// Whether `q` is one leaf whose index rows are one per matching asset: an exact tag, an
/// exact value, or a single word, so its total is a count of index rows with no join.
pub(super) fn countable(q: &Query) -> bool {
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
    /// `q`'s index rows counted up to `cap` ([`Membership::Estimate`]).
    pub(super) fn estimate(&mut self, q: &Query, cap: i64) -> String {
        self.cap = cap;
        self.cond(q)
    }

    fn member(&mut self, table: &str, conds: &str) -> String {
        self.members += 1;
        self.last = match self.mode {
            Membership::In => format!("id IN (SELECT asset_pk FROM {table} WHERE {conds})"),
            Membership::Probe => {
                format!("EXISTS (SELECT 1 FROM {table} WHERE asset_pk = assets.id AND {conds}{})", self.plan.fence)
            }
            Membership::Count => format!("(SELECT COUNT(*) FROM {table} WHERE {conds})"),
            Membership::Estimate => {
                format!("(SELECT COUNT(*) FROM (SELECT 1 FROM {table} WHERE {conds} LIMIT {}) e)", self.cap)
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
        // A refusal must leave no parameter behind.
        let mark = self.b.mark();
        let selects: Option<Vec<String>> =
            parts.iter().map(|p| bare_select(self.b, &self.env, p, Membership::Ids, self.plan)).collect();
        let Some(selects) = selects else {
            self.b.rewind(mark);
            return None;
        };
        self.members += selects.len();
        Some(format!("id IN ({})", selects.join(" UNION ALL ")))
    }

    pub(super) fn cond(&mut self, q: &Query) -> String {
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

/// How many index-table lookups the translation of `q` makes (translated on scratch
/// parameters, so nothing is bound).
pub(super) fn index_reads(q: &Query, plan: &Plan) -> usize {
    let mut scratch = Binds::default();
    let mut sql = Sql::new(&mut scratch, String::new(), Membership::In, plan);
    sql.cond(q);
    sql.members
}

pub(super) fn where_clause(b: &mut Binds, env: i64, q: &Query, mode: Membership, plan: &Plan) -> String {
    let env_p = b.int(env);
    let cond = Sql::new(b, env_p.clone(), mode, plan).cond(q);
    format!("env_id = {env_p} AND {cond}")
}

/// Index rows below which a leaf drives a conjunction whose probes read only the metadata
/// numbers (`search_numbers_by_asset` answers a probe from the index alone): a few
/// milliseconds of counting, and large enough that a folder of a catalog of millions
/// (10,000 assets in 5,000,000) drives.
const DRIVE_BELOW_NUMBER_PROBES: i64 = 50_000;
/// The same when a probe reads index terms: that index names the asset only, so a probe
/// visits the asset's term rows (some 30 per asset), several times the cost of reading an
/// entry of a list (at 5,000,000 assets a driver of 15,000 probing `metadata.category`
/// took 400 ms where reading both lists whole took 125).
const DRIVE_BELOW_TERM_PROBES: i64 = 5_000;

/// Chooses a driver among the conjuncts of `q` that read index tables: the one with the
/// fewest index rows, if it is small (see [`DRIVE_BELOW_NUMBER_PROBES`]) and another
/// conjunct is much larger (four times, large, or of unknown size); the other such
/// conjuncts are then probed per row. Without this a selective `folder=x AND
/// metadata.rating>=4` would read 40% of the catalog (SQLite materialises every `IN
/// (subquery)` list in full, PostgreSQL hashes it); when every list is small, reading them
/// whole is cheaper than a probe per row. Nothing is estimated for fewer than two such
/// conjuncts.
pub(super) async fn plan(conn: &mut AnyConnection, dialect: Dialect, env: i64, q: &Query) -> CatalogResult<Plan> {
    let none = Plan::none(dialect);
    let Query::And(parts) = q else { return Ok(none) };
    let mut members: Vec<Member> = Vec::new();
    for part in parts {
        let mut b = Binds::default();
        let env_p = b.int(env);
        let mut sql = Sql::new(&mut b, env_p, Membership::Count, &none);
        let expr = sql.cond(part);
        let reads_terms = expr.contains(" search_terms ") || expr.contains(" asset_tags ");
        match sql.members {
            0 => continue,
            // A leaf reading one index table: its size is a count of index rows.
            1 if matches!(part, Query::Text(..) | Query::Num(..)) => {
                members.push(Member { addr: addr(part), leaf: true, reads_terms, rows: None });
            }
            _ => members.push(Member { addr: addr(part), leaf: false, reads_terms: true, rows: None }),
        }
    }
    if members.len() < 2 {
        return Ok(none);
    }
    // Each leaf is counted up to the most rows it may drive with: that depends on what the
    // others are.
    for i in 0..members.len() {
        if !members[i].leaf {
            continue;
        }
        let others_read_terms = members.iter().enumerate().any(|(j, m)| j != i && m.reads_terms);
        let below = if others_read_terms { DRIVE_BELOW_TERM_PROBES } else { DRIVE_BELOW_NUMBER_PROBES };
        let part = parts.iter().find(|p| addr(p) == members[i].addr).expect("a member is a part");
        let mut b = Binds::default();
        let env_p = b.int(env);
        let expr = Sql::new(&mut b, env_p, Membership::Estimate, &none).estimate(part, below);
        let row = b.apply(&format!("SELECT {expr} AS n")).fetch_one(&mut *conn).await.map_err(db_err)?;
        let n: i64 = row.try_get("n").map_err(db_err)?;
        members[i].rows = Some((n, below));
    }
    let Some((n, below, driver)) = members.iter().filter_map(|m| m.rows.map(|(n, below)| (n, below, m.addr))).min()
    else {
        return Ok(none);
    };
    // Another part much larger: four times, counted up to its cap, or of unknown size.
    let larger = |m: &Member| m.rows.is_none_or(|(e, cap)| e >= cap || e >= 4 * n.max(1));
    if n < below && members.iter().any(|m| m.addr != driver && larger(m)) {
        let probed = members.iter().map(|m| m.addr).filter(|a| *a != driver).collect();
        Ok(Plan { probed, driver_rows: Some(n), ..none })
    } else {
        Ok(none)
    }
}

/// A conjunct that reads index tables, as [`plan`] sizes it.
struct Member {
    addr: usize,
    /// One leaf reading one index table (its index rows can be counted).
    leaf: bool,
    /// Whether probing it reads index terms (or tags) rather than numbers.
    reads_terms: bool,
    /// Its index rows counted up to a cap, and the cap.
    rows: Option<(i64, i64)>,
}
