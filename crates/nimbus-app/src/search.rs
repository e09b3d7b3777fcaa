//! The Search API: a [`SearchRequest`] (read from Cloudinary's request body by the API crate,
//! or made by the console) checked into a [`SearchQuery`] the catalog runs, and the opaque
//! cursors of its pages.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use nimbus_core::Asset;
use nimbus_core::search::{self, Query, Schema};
use serde_json::Value;

use crate::AppError;

/// Default and largest page sizes.
pub const DEFAULT_MAX_RESULTS: u32 = 50;
pub const MAX_MAX_RESULTS: u32 = 500;

/// Sortable fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    CreatedAt,
    UploadedAt,
    PublicId,
    DisplayName,
    AssetFolder,
    Format,
    ResourceType,
    Type,
    Bytes,
    Width,
    Height,
}

impl SortField {
    pub const ALL: [(&'static str, Self); 11] = [
        ("created_at", Self::CreatedAt),
        ("uploaded_at", Self::UploadedAt),
        ("public_id", Self::PublicId),
        ("display_name", Self::DisplayName),
        ("asset_folder", Self::AssetFolder),
        ("format", Self::Format),
        ("resource_type", Self::ResourceType),
        ("type", Self::Type),
        ("bytes", Self::Bytes),
        ("width", Self::Width),
        ("height", Self::Height),
    ];

    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(_, f)| *f == self).map_or("", |(n, _)| n)
    }

    /// Whether values are numbers (else text).
    pub fn numeric(self) -> bool {
        matches!(self, Self::CreatedAt | Self::UploadedAt | Self::Bytes | Self::Width | Self::Height)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    pub field: SortField,
    pub ascending: bool,
}

/// A sort value of the last row of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortValue {
    Int(i64),
    Text(String),
}

/// Where the next page starts: the sort values and position of the last row returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub values: Vec<SortValue>,
    pub pk: i64,
}

/// Fields counted by value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueAgg {
    Format,
    ResourceType,
    Type,
    Tags,
}

/// Fields counted in ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeAgg {
    Bytes,
    Pixels,
    Width,
    Height,
    AspectRatio,
    /// Seconds of video or audio. Nimbus does not read media durations yet, so every
    /// bucket counts zero.
    Duration,
}

/// One range bucket: `from <= v < to`, either end open.
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    pub key: String,
    pub from: Option<f64>,
    pub to: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Aggregation {
    Values(ValueAgg),
    Ranges { field: RangeAgg, buckets: Vec<Bucket> },
}

impl Aggregation {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Values(ValueAgg::Format) => "format",
            Self::Values(ValueAgg::ResourceType) => "resource_type",
            Self::Values(ValueAgg::Type) => "type",
            Self::Values(ValueAgg::Tags) => "tags",
            Self::Ranges { field: RangeAgg::Bytes, .. } => "bytes",
            Self::Ranges { field: RangeAgg::Pixels, .. } => "pixels",
            Self::Ranges { field: RangeAgg::Width, .. } => "width",
            Self::Ranges { field: RangeAgg::Height, .. } => "height",
            Self::Ranges { field: RangeAgg::AspectRatio, .. } => "aspect_ratio",
            Self::Ranges { field: RangeAgg::Duration, .. } => "duration",
        }
    }
}

/// A checked search.
#[derive(Debug, Clone)]
pub struct SearchQuery {
    pub query: Query,
    /// Never empty; the catalog breaks ties by position in the direction of the first key.
    pub sort: Vec<SortKey>,
    pub limit: u32,
    pub after: Option<Cursor>,
    pub aggregate: Vec<Aggregation>,
}

/// One page of results.
#[derive(Debug, Clone)]
pub struct SearchPage {
    pub total: i64,
    pub assets: Vec<Asset>,
    pub next: Option<Cursor>,
    /// Per aggregation, its name and `(value or bucket key, count)` pairs.
    pub aggregations: Vec<(String, Vec<(String, i64)>)>,
}

/// Which optional fields responses carry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shape {
    pub tags: bool,
    pub context: bool,
    pub metadata: bool,
    pub image_metadata: bool,
    /// `fields`: only these (plus the identifying ones), when given.
    pub only: Option<Vec<String>>,
}

fn bad(msg: impl Into<String>) -> AppError {
    AppError::InvalidSearch(msg.into())
}

/// The order when a request names none: newest first.
fn default_sort() -> Vec<SortKey> {
    vec![SortKey { field: SortField::CreatedAt, ascending: false }]
}

const KB: f64 = 1024.0;

impl RangeAgg {
    /// Cloudinary's buckets when a request gives no ranges.
    pub fn default_buckets(self) -> Vec<Bucket> {
        let b = |key: &str, from: Option<f64>, to: Option<f64>| Bucket { key: key.to_owned(), from, to };
        match self {
            RangeAgg::Bytes => vec![
                b("tiny", None, Some(50.0 * KB)),
                b("small", Some(50.0 * KB), Some(500.0 * KB)),
                b("medium", Some(500.0 * KB), Some(5.0 * KB * KB)),
                b("large", Some(5.0 * KB * KB), None),
            ],
            RangeAgg::Pixels => vec![
                b("tiny", None, Some(100_000.0)),
                b("small", Some(100_000.0), Some(1_000_000.0)),
                b("medium", Some(1_000_000.0), Some(10_000_000.0)),
                b("large", Some(10_000_000.0), None),
            ],
            RangeAgg::Width | RangeAgg::Height => {
                vec![
                    b("small", None, Some(500.0)),
                    b("medium", Some(500.0), Some(2000.0)),
                    b("large", Some(2000.0), None),
                ]
            }
            RangeAgg::AspectRatio => {
                vec![
                    b("portrait", None, Some(0.95)),
                    b("square", Some(0.95), Some(1.05)),
                    b("landscape", Some(1.05), None),
                ]
            }
            RangeAgg::Duration => {
                vec![b("short", None, Some(30.0)), b("medium", Some(30.0), Some(300.0)), b("long", Some(300.0), None)]
            }
        }
    }
}

/// A search as the API and the console ask it: the expression unchecked, the rest typed.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    pub expression: String,
    /// Empty: newest first.
    pub sort: Vec<SortKey>,
    /// `None`: [`DEFAULT_MAX_RESULTS`].
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    pub aggregate: Vec<Aggregation>,
    pub shape: Shape,
}

/// A folder search (`folders/search`).
#[derive(Debug, Clone, Default)]
pub struct FolderSearchRequest {
    pub expression: String,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

fn checked_limit(limit: Option<u32>) -> Result<u32, AppError> {
    match limit {
        None => Ok(DEFAULT_MAX_RESULTS),
        Some(n) if (1..=MAX_MAX_RESULTS).contains(&n) => Ok(n),
        Some(_) => Err(bad(format!("max_results must be between 1 and {MAX_MAX_RESULTS}"))),
    }
}

/// The request, checked against the schema. `now` resolves relative dates.
pub fn check_request(r: &SearchRequest, schema: &Schema, now: i64) -> Result<SearchQuery, AppError> {
    let query = search::compile(&r.expression, schema, now).map_err(|e| bad(e.to_string()))?;
    let sort = if r.sort.is_empty() { default_sort() } else { r.sort.clone() };
    let after = r.cursor.as_deref().filter(|c| !c.is_empty()).map(|c| decode_cursor(c, &sort)).transpose()?;
    Ok(SearchQuery { query, sort, limit: checked_limit(r.limit)?, after, aggregate: r.aggregate.clone() })
}

/// The sort keys' names and directions, bound into cursors so a cursor is only used with the
/// sort it came from.
fn sort_signature(sort: &[SortKey]) -> String {
    sort.iter()
        .map(|k| format!("{}:{}", k.field.name(), if k.ascending { "asc" } else { "desc" }))
        .collect::<Vec<_>>()
        .join(",")
}

/// An opaque cursor: URL-safe base64 of `[signature, pk, values...]`.
pub fn encode_cursor(c: &Cursor, sort: &[SortKey]) -> String {
    let mut items = vec![Value::from(sort_signature(sort)), Value::from(c.pk)];
    items.extend(c.values.iter().map(|v| match v {
        SortValue::Int(i) => Value::from(*i),
        SortValue::Text(s) => Value::from(s.as_str()),
    }));
    URL_SAFE_NO_PAD.encode(Value::Array(items).to_string())
}

fn decode_cursor(s: &str, sort: &[SortKey]) -> Result<Cursor, AppError> {
    let invalid = || bad("Invalid next_cursor: it belongs to another search or was altered");
    let bytes = URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).map_err(|_| invalid())?;
    let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(&bytes) else { return Err(invalid()) };
    if items.len() != sort.len() + 2 || items[0].as_str() != Some(sort_signature(sort).as_str()) {
        return Err(invalid());
    }
    let pk = items[1].as_i64().ok_or_else(invalid)?;
    let values = sort
        .iter()
        .zip(&items[2..])
        .map(|(k, v)| match (k.field.numeric(), v) {
            (true, Value::Number(n)) => n.as_i64().map(SortValue::Int).ok_or_else(invalid),
            (false, Value::String(s)) => Ok(SortValue::Text(s.clone())),
            _ => Err(invalid()),
        })
        .collect::<Result<_, _>>()?;
    Ok(Cursor { values, pk })
}

/// The sort value of an asset for a key (as the catalog sorts: missing numbers are -1,
/// missing text is empty).
pub fn sort_value(a: &Asset, f: SortField) -> SortValue {
    match f {
        SortField::CreatedAt => SortValue::Int(a.created_at),
        SortField::UploadedAt => SortValue::Int(a.version),
        SortField::Bytes => SortValue::Int(a.bytes),
        SortField::Width => SortValue::Int(a.width.unwrap_or(-1)),
        SortField::Height => SortValue::Int(a.height.unwrap_or(-1)),
        SortField::PublicId => SortValue::Text(a.public_id.to_string()),
        SortField::DisplayName => SortValue::Text(a.display_name.clone()),
        SortField::AssetFolder => SortValue::Text(a.asset_folder.clone()),
        SortField::Format => SortValue::Text(a.format.clone().unwrap_or_default()),
        SortField::ResourceType => SortValue::Text(a.resource_type.as_str().to_owned()),
        SortField::Type => SortValue::Text(a.delivery_type.as_str().to_owned()),
    }
}

impl crate::App {
    /// How many assets (of every type) are in asset folder `folder`, from the search index.
    pub async fn count_in_asset_folder(&self, env: i64, folder: &str) -> Result<i64, AppError> {
        let quoted: String =
            folder.chars().flat_map(|c| if matches!(c, '\\' | '"' | '*') { vec!['\\', c] } else { vec![c] }).collect();
        let request =
            SearchRequest { expression: format!("asset_folder=\"{quoted}\""), limit: Some(1), ..Default::default() };
        Ok(self.search(env, &request).await?.1.total)
    }

    /// Checks an expression against the environment's metadata schema. The inner error keeps
    /// the position, for showing where the expression went wrong.
    pub async fn compile_expression(
        &self,
        env: i64,
        expression: &str,
    ) -> Result<Result<Query, search::SearchError>, AppError> {
        let loaded = self.metadata_schema(env).await?;
        let schema = Schema {
            metadata: loaded.docs.iter().map(|(_, d)| (d.field.external_id.clone(), d.field.field_type)).collect(),
        };
        Ok(search::compile(expression, &schema, self.now()))
    }

    /// A checked query in the order of `sort` (newest first when `None`), a page at a time;
    /// returns the page and the cursor of the next one. The console's library comes here.
    pub async fn search_sorted(
        &self,
        env: i64,
        query: Query,
        sort: Option<SortKey>,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<(SearchPage, Option<String>), AppError> {
        let sort = match sort {
            Some(k) => vec![k],
            None => default_sort(),
        };
        let after = cursor.filter(|c| !c.is_empty()).map(|c| decode_cursor(c, &sort)).transpose()?;
        let q = SearchQuery { query, sort, limit: limit.clamp(1, MAX_MAX_RESULTS), after, aggregate: Vec::new() };
        let mut page = self.catalog.search_assets(env, &q).await?;
        self.hide_restricted(env, &q.query, &q.aggregate, &mut page).await?;
        let next = page.next.as_ref().map(|n| encode_cursor(n, &q.sort));
        Ok((page, next))
    }

    /// Runs a search of an environment: the checked query (its sort names the cursors) and
    /// the page.
    pub async fn search(&self, env: i64, request: &SearchRequest) -> Result<(SearchQuery, SearchPage), AppError> {
        let loaded = self.metadata_schema(env).await?;
        let schema = Schema {
            metadata: loaded.docs.iter().map(|(_, d)| (d.field.external_id.clone(), d.field.field_type)).collect(),
        };
        let q = check_request(request, &schema, self.now())?;
        let mut page = self.catalog.search_assets(env, &q).await?;
        self.hide_restricted(env, &q.query, &q.aggregate, &mut page).await?;
        Ok((q, page))
    }
}

/// One page of a folder search.
#[derive(Debug, Clone)]
pub struct FolderPage {
    pub total: usize,
    /// Path and creation time.
    pub folders: Vec<(String, i64)>,
    pub next_cursor: Option<String>,
}

impl crate::App {
    /// Runs a folder search (`folders/search`): `expression` over name, path and created_at,
    /// `max_results`, `next_cursor`; folders sorted by path.
    pub async fn search_folders(&self, env: i64, request: &FolderSearchRequest) -> Result<FolderPage, AppError> {
        let query = search::compile_folders(&request.expression, self.now()).map_err(|e| bad(e.to_string()))?;
        let limit = checked_limit(request.limit)? as usize;
        let after = match request.cursor.as_deref().filter(|s| !s.is_empty()) {
            Some(c) => Some(
                URL_SAFE_NO_PAD
                    .decode(c.trim_end_matches('='))
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| bad("Invalid next_cursor"))?,
            ),
            None => None,
        };
        let all = self.catalog.all_folders(env).await?;
        let matching: Vec<(String, i64)> = all
            .into_iter()
            .filter(|(p, at)| search::folder_doc(p, *at).is_some_and(|d| search::matches(&query, &d)))
            .collect();
        let total = matching.len();
        let page: Vec<(String, i64)> =
            matching.into_iter().filter(|(p, _)| after.as_ref().is_none_or(|a| p > a)).take(limit + 1).collect();
        let more = page.len() > limit;
        let folders: Vec<(String, i64)> = page.into_iter().take(limit).collect();
        let next_cursor = if more { folders.last().map(|(p, _)| URL_SAFE_NO_PAD.encode(p)) } else { None };
        Ok(FolderPage { total, folders, next_cursor })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_checked_clearly() {
        let msg = |r: SearchRequest| match check_request(&r, &Schema::default(), 1_700_000_000) {
            Err(AppError::InvalidSearch(m)) => m,
            other => panic!("{other:?}"),
        };
        let q = check_request(&SearchRequest::default(), &Schema::default(), 0).unwrap();
        assert_eq!((q.query, q.limit), (Query::All, DEFAULT_MAX_RESULTS));
        assert_eq!(q.sort, vec![SortKey { field: SortField::CreatedAt, ascending: false }]);
        assert!(msg(SearchRequest { expression: "tags:(a".into(), ..Default::default() }).contains("missing ')'"));
        assert!(msg(SearchRequest { limit: Some(501), ..Default::default() }).contains("between 1 and 500"));
        assert!(
            msg(SearchRequest { cursor: Some("bm9wZQ".into()), ..Default::default() }).contains("Invalid next_cursor")
        );
    }

    #[test]
    fn cursors_round_trip_and_belong_to_their_sort() {
        let sort = vec![
            SortKey { field: SortField::CreatedAt, ascending: false },
            SortKey { field: SortField::PublicId, ascending: true },
        ];
        let c = Cursor { values: vec![SortValue::Int(5), SortValue::Text("a/b".into())], pk: 42 };
        let s = encode_cursor(&c, &sort);
        assert_eq!(decode_cursor(&s, &sort).unwrap(), c);
        assert!(decode_cursor(&s, &sort[..1]).is_err());
    }
}
