//! The Search API: a request body (`expression`, `sort_by`, `max_results`, `next_cursor`,
//! `aggregate`, `with_field`, `fields`) checked into a [`SearchQuery`] the catalog runs, and
//! the opaque cursors of its pages.

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

/// Strings of a value given as a string, a comma-separated string or an array.
fn strings(v: &Value, what: &str) -> Result<Vec<String>, AppError> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => Ok(s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned).ok_or_else(|| bad(format!("{what} must hold strings"))))
            .collect(),
        _ => Err(bad(format!("{what} must be a string or an array of strings"))),
    }
}

fn sort_keys(v: &Value) -> Result<Vec<SortKey>, AppError> {
    let mut out: Vec<SortKey> = Vec::new();
    let mut push = |name: &str, dir: &str| -> Result<(), AppError> {
        let field = SortField::ALL.iter().find(|(n, _)| *n == name).map(|(_, f)| *f).ok_or_else(|| {
            let names: Vec<&str> = SortField::ALL.iter().map(|(n, _)| *n).collect();
            bad(format!("Invalid sort_by field '{name}': sortable fields are {}", names.join(", ")))
        })?;
        let ascending = match dir.to_ascii_lowercase().as_str() {
            "asc" | "1" => true,
            "desc" | "-1" => false,
            _ => return Err(bad(format!("Invalid sort_by direction '{dir}' for '{name}': use asc or desc"))),
        };
        match out.iter_mut().find(|k| k.field == field) {
            Some(k) => k.ascending = ascending,
            None => out.push(SortKey { field, ascending }),
        }
        Ok(())
    };
    let items = match v {
        Value::Null => Vec::new(),
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    };
    for item in items {
        match item {
            Value::Object(m) => {
                for (k, d) in m {
                    push(&k, d.as_str().unwrap_or("desc"))?;
                }
            }
            // `sort_by=created_at:asc` style (GET) or a JSON text of the object.
            Value::String(s) => {
                if let Ok(parsed @ (Value::Object(_) | Value::Array(_))) = serde_json::from_str::<Value>(&s) {
                    for k in sort_keys(&parsed)? {
                        push(k.field.name(), if k.ascending { "asc" } else { "desc" })?;
                    }
                } else {
                    let (name, dir) = s.split_once(':').unwrap_or((&s, "desc"));
                    push(name.trim(), dir.trim())?;
                }
            }
            _ => return Err(bad("sort_by must be a list of {field: direction} objects")),
        }
    }
    if out.is_empty() {
        out.push(SortKey { field: SortField::CreatedAt, ascending: false });
    }
    Ok(out)
}

const KB: f64 = 1024.0;

fn default_buckets(field: RangeAgg) -> Vec<Bucket> {
    let b = |key: &str, from: Option<f64>, to: Option<f64>| Bucket { key: key.to_owned(), from, to };
    match field {
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
            vec![b("small", None, Some(500.0)), b("medium", Some(500.0), Some(2000.0)), b("large", Some(2000.0), None)]
        }
        RangeAgg::AspectRatio => {
            vec![b("portrait", None, Some(0.95)), b("square", Some(0.95), Some(1.05)), b("landscape", Some(1.05), None)]
        }
        RangeAgg::Duration => {
            vec![b("short", None, Some(30.0)), b("medium", Some(30.0), Some(300.0)), b("long", Some(300.0), None)]
        }
    }
}

fn aggregation(v: &Value) -> Result<Aggregation, AppError> {
    let (name, ranges) = match v {
        Value::String(s) => (s.as_str(), None),
        Value::Object(m) => (
            m.get("type").and_then(Value::as_str).ok_or_else(|| bad("an aggregation object needs a 'type'"))?,
            m.get("ranges"),
        ),
        _ => return Err(bad("aggregate must hold field names or {type, ranges} objects")),
    };
    let range_field = match name {
        "format" => return Ok(Aggregation::Values(ValueAgg::Format)),
        "resource_type" => return Ok(Aggregation::Values(ValueAgg::ResourceType)),
        "type" => return Ok(Aggregation::Values(ValueAgg::Type)),
        "tags" => return Ok(Aggregation::Values(ValueAgg::Tags)),
        "bytes" => RangeAgg::Bytes,
        "pixels" => RangeAgg::Pixels,
        "width" => RangeAgg::Width,
        "height" => RangeAgg::Height,
        "aspect_ratio" => RangeAgg::AspectRatio,
        "duration" => RangeAgg::Duration,
        other => {
            return Err(bad(format!(
                "Invalid aggregate '{other}': use format, resource_type, type, tags, bytes, pixels, width, height, aspect_ratio or duration"
            )));
        }
    };
    let buckets = match ranges {
        None | Some(Value::Null) => default_buckets(range_field),
        Some(Value::Array(items)) => {
            let mut out = Vec::new();
            for (i, r) in items.iter().enumerate() {
                let num = |k: &str| -> Result<Option<f64>, AppError> {
                    match r.get(k) {
                        None | Some(Value::Null) => Ok(None),
                        Some(v) => v
                            .as_f64()
                            .map(Some)
                            .ok_or_else(|| bad(format!("range {i} of '{name}': '{k}' must be a number"))),
                    }
                };
                let key = match r.get("key") {
                    Some(Value::String(s)) => s.clone(),
                    _ => return Err(bad(format!("range {i} of '{name}' needs a string 'key'"))),
                };
                out.push(Bucket { key, from: num("from")?, to: num("to")? });
            }
            if out.is_empty() || out.len() > 50 {
                return Err(bad(format!("'{name}' needs 1 to 50 ranges")));
            }
            out
        }
        Some(_) => return Err(bad(format!("ranges of '{name}' must be a list"))),
    };
    Ok(Aggregation::Ranges { field: range_field, buckets })
}

/// The request body, checked. `now` resolves relative dates.
pub fn parse_request(body: &Value, schema: &Schema, now: i64) -> Result<(SearchQuery, Shape), AppError> {
    let obj = match body {
        Value::Object(m) => m.clone(),
        Value::Null => serde_json::Map::new(),
        _ => return Err(bad("the search request must be a JSON object")),
    };
    let expression = match obj.get("expression") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(bad("expression must be a string")),
    };
    let query = search::compile(&expression, schema, now).map_err(|e| bad(e.to_string()))?;
    let sort = sort_keys(obj.get("sort_by").unwrap_or(&Value::Null))?;
    let limit = match obj.get("max_results") {
        None | Some(Value::Null) => DEFAULT_MAX_RESULTS,
        Some(v) => {
            let n = v.as_u64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()));
            match n {
                Some(n) if (1..=u64::from(MAX_MAX_RESULTS)).contains(&n) => n as u32,
                _ => return Err(bad(format!("max_results must be between 1 and {MAX_MAX_RESULTS}"))),
            }
        }
    };
    let after = match obj.get("next_cursor") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(decode_cursor(s, &sort)?),
        Some(_) => return Err(bad("next_cursor must be a string")),
    };
    let mut aggregate: Vec<Aggregation> = Vec::new();
    let aggs = match obj.get("aggregate") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(other) => vec![other.clone()],
    };
    for a in &aggs {
        // A comma-separated string is several simple aggregations.
        let parts = match a {
            Value::String(s) => s.split(',').map(|p| Value::String(p.trim().to_owned())).collect(),
            other => vec![other.clone()],
        };
        for p in parts {
            let agg = aggregation(&p)?;
            if !aggregate.iter().any(|x| x.name() == agg.name()) {
                aggregate.push(agg);
            }
        }
    }
    let with = strings(obj.get("with_field").unwrap_or(&Value::Null), "with_field")?;
    let fields = match obj.get("fields") {
        None | Some(Value::Null) => None,
        Some(v) => Some(strings(v, "fields")?),
    };
    let asked = |f: &str| with.iter().any(|w| w == f) || fields.as_ref().is_some_and(|fs| fs.iter().any(|x| x == f));
    let shape = Shape {
        tags: asked("tags"),
        context: asked("context"),
        metadata: asked("metadata"),
        image_metadata: asked("image_metadata"),
        only: fields,
    };
    Ok((SearchQuery { query, sort, limit, after, aggregate }, shape))
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
    /// Runs a Search API request of an environment.
    /// How many assets (of every type) are in asset folder `folder`, from the search index.
    pub async fn count_in_asset_folder(&self, env: i64, folder: &str) -> Result<i64, AppError> {
        let quoted: String =
            folder.chars().flat_map(|c| if matches!(c, '\\' | '"' | '*') { vec!['\\', c] } else { vec![c] }).collect();
        let body = serde_json::json!({ "expression": format!("asset_folder=\"{quoted}\""), "max_results": 1 });
        Ok(self.search(env, &body).await?.2.total)
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
            None => sort_keys(&Value::Null)?,
        };
        let after = cursor.filter(|c| !c.is_empty()).map(|c| decode_cursor(c, &sort)).transpose()?;
        let q = SearchQuery { query, sort, limit: limit.clamp(1, MAX_MAX_RESULTS), after, aggregate: Vec::new() };
        let page = self.catalog.search_assets(env, &q).await?;
        let next = page.next.as_ref().map(|n| encode_cursor(n, &q.sort));
        Ok((page, next))
    }

    pub async fn search(&self, env: i64, body: &Value) -> Result<(SearchQuery, Shape, SearchPage), AppError> {
        let loaded = self.metadata_schema(env).await?;
        let schema = Schema {
            metadata: loaded.docs.iter().map(|(_, d)| (d.field.external_id.clone(), d.field.field_type)).collect(),
        };
        let (q, shape) = parse_request(body, &schema, self.now())?;
        let page = self.catalog.search_assets(env, &q).await?;
        Ok((q, shape, page))
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
    pub async fn search_folders(&self, env: i64, body: &Value) -> Result<FolderPage, AppError> {
        let expression = body.get("expression").and_then(Value::as_str).unwrap_or("");
        let query = search::compile_folders(expression, self.now()).map_err(|e| bad(e.to_string()))?;
        let limit = match body.get("max_results") {
            None | Some(Value::Null) => DEFAULT_MAX_RESULTS as usize,
            Some(v) => match v.as_u64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())) {
                Some(n) if (1..=u64::from(MAX_MAX_RESULTS)).contains(&n) => n as usize,
                _ => return Err(bad(format!("max_results must be between 1 and {MAX_MAX_RESULTS}"))),
            },
        };
        let after = match body.get("next_cursor").and_then(Value::as_str).filter(|s| !s.is_empty()) {
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
    use serde_json::json;

    fn req(v: Value) -> Result<(SearchQuery, Shape), AppError> {
        parse_request(&v, &Schema::default(), 1_700_000_000)
    }

    #[test]
    fn reads_the_sdk_bodies() {
        let (q, shape) = req(json!({"expression": "resource_type:image AND tags=kitten AND uploaded_at>1d", "sort_by": [{"public_id": "desc"}], "aggregate": ["format"], "with_field": ["tags", "context"], "max_results": 10})).unwrap();
        assert_eq!(q.limit, 10);
        assert_eq!(q.sort, vec![SortKey { field: SortField::PublicId, ascending: false }]);
        assert_eq!(q.aggregate, vec![Aggregation::Values(ValueAgg::Format)]);
        assert!(shape.tags && shape.context && !shape.metadata);
        let (q, _) = req(json!({})).unwrap();
        assert_eq!((q.query, q.limit), (Query::All, DEFAULT_MAX_RESULTS));
        assert_eq!(q.sort, vec![SortKey { field: SortField::CreatedAt, ascending: false }]);
        let (q, _) = req(json!({"aggregate": ["format", {"type": "bytes", "ranges": [{"key": "tiny", "to": 500}, {"key": "big", "from": 500}]}]})).unwrap();
        assert_eq!(q.aggregate.len(), 2);
        let (q, _) = req(json!({"aggregate": ["duration"]})).unwrap();
        assert!(
            matches!(&q.aggregate[..], [Aggregation::Ranges { field: RangeAgg::Duration, buckets }] if buckets.len() == 3)
        );
        let (_, shape) = req(json!({"fields": ["public_id", "tags"]})).unwrap();
        assert!(shape.tags && shape.only.is_some());
    }

    #[test]
    fn rejects_bad_requests_clearly() {
        let msg = |v| match req(v) {
            Err(AppError::InvalidSearch(m)) => m,
            other => panic!("{other:?}"),
        };
        assert!(msg(json!({"expression": "tags:(a"})).contains("missing ')'"));
        assert!(msg(json!({"max_results": 501})).contains("between 1 and 500"));
        assert!(msg(json!({"sort_by": [{"colour": "asc"}]})).contains("Invalid sort_by field"));
        assert!(msg(json!({"sort_by": [{"bytes": "up"}]})).contains("direction"));
        assert!(msg(json!({"aggregate": ["colour"]})).contains("Invalid aggregate"));
        assert!(msg(json!({"next_cursor": "bm9wZQ"})).contains("Invalid next_cursor"));
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
