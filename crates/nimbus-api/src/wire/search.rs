//! Search API requests as Cloudinary's clients send them: a JSON body (`expression`,
//! `sort_by`, `max_results`, `next_cursor`, `aggregate`, `with_field`, `fields`), read into
//! the app's typed [`SearchRequest`] and [`FolderSearchRequest`].
//! Docs: <https://cloudinary.com/documentation/search_method>.

use nimbus_app::AppError;
use nimbus_app::search::{
    Aggregation, Bucket, FolderSearchRequest, MAX_MAX_RESULTS, RangeAgg, SearchRequest, Shape, SortField, SortKey,
    ValueAgg,
};
use serde_json::Value;

fn bad(msg: impl Into<String>) -> AppError {
    AppError::InvalidSearch(msg.into())
}

/// A search request body (`null` is an empty one).
pub fn search_request(body: &Value) -> Result<SearchRequest, AppError> {
    let obj = object(body)?;
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
        only: fields.clone(),
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
    Ok(SearchRequest {
        expression: expression(obj)?,
        sort: sort_keys(obj.get("sort_by").unwrap_or(&Value::Null))?,
        limit: max_results(obj)?,
        cursor: cursor(obj)?,
        aggregate,
        shape,
    })
}

/// A folder search request body.
pub fn folder_search_request(body: &Value) -> Result<FolderSearchRequest, AppError> {
    let obj = object(body)?;
    Ok(FolderSearchRequest { expression: expression(obj)?, limit: max_results(obj)?, cursor: cursor(obj)? })
}

type Object = serde_json::Map<String, Value>;

fn object(body: &Value) -> Result<&Object, AppError> {
    static EMPTY: std::sync::OnceLock<Object> = std::sync::OnceLock::new();
    match body {
        Value::Object(m) => Ok(m),
        Value::Null => Ok(EMPTY.get_or_init(Object::new)),
        _ => Err(bad("the search request must be a JSON object")),
    }
}

fn expression(obj: &Object) -> Result<String, AppError> {
    match obj.get("expression") {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(bad("expression must be a string")),
    }
}

fn max_results(obj: &Object) -> Result<Option<u32>, AppError> {
    match obj.get("max_results") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())) {
            Some(n) if (1..=u64::from(MAX_MAX_RESULTS)).contains(&n) => Ok(Some(n as u32)),
            _ => Err(bad(format!("max_results must be between 1 and {MAX_MAX_RESULTS}"))),
        },
    }
}

fn cursor(obj: &Object) -> Result<Option<String>, AppError> {
    match obj.get("next_cursor") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad("next_cursor must be a string")),
    }
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

/// `sort_by`: `[{field: direction}]`, a `field:direction` string (GET), or a JSON text of
/// either. Empty when not given (the app's default order).
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
    Ok(out)
}

/// One `aggregate` entry: a field name, or `{type, ranges: [{key, from, to}]}`.
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
        None | Some(Value::Null) => range_field.default_buckets(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_sdk_bodies() {
        let r = search_request(&json!({"expression": "resource_type:image AND tags=kitten AND uploaded_at>1d", "sort_by": [{"public_id": "desc"}], "aggregate": ["format"], "with_field": ["tags", "context"], "max_results": 10})).unwrap();
        assert_eq!(r.limit, Some(10));
        assert_eq!(r.expression, "resource_type:image AND tags=kitten AND uploaded_at>1d");
        assert_eq!(r.sort, vec![SortKey { field: SortField::PublicId, ascending: false }]);
        assert_eq!(r.aggregate, vec![Aggregation::Values(ValueAgg::Format)]);
        assert!(r.shape.tags && r.shape.context && !r.shape.metadata);
        let r = search_request(&json!({})).unwrap();
        assert_eq!((r.expression.as_str(), r.limit, r.sort.len(), r.cursor), ("", None, 0, None));
        let r = search_request(&json!({"aggregate": ["format", {"type": "bytes", "ranges": [{"key": "tiny", "to": 500}, {"key": "big", "from": 500}]}]})).unwrap();
        assert_eq!(r.aggregate.len(), 2);
        let r = search_request(&json!({"aggregate": "duration, format"})).unwrap();
        assert!(
            matches!(&r.aggregate[..], [Aggregation::Ranges { field: RangeAgg::Duration, buckets }, Aggregation::Values(ValueAgg::Format)] if buckets.len() == 3)
        );
        let r = search_request(&json!({"fields": ["public_id", "tags"], "sort_by": ["bytes:asc"]})).unwrap();
        assert!(r.shape.tags && r.shape.only.is_some());
        assert_eq!(r.sort, vec![SortKey { field: SortField::Bytes, ascending: true }]);
    }

    #[test]
    fn rejects_bad_requests_clearly() {
        let msg = |v| match search_request(&v) {
            Err(AppError::InvalidSearch(m)) => m,
            other => panic!("{other:?}"),
        };
        assert!(msg(json!({"max_results": 501})).contains("between 1 and 500"));
        assert!(msg(json!({"sort_by": [{"colour": "asc"}]})).contains("Invalid sort_by field"));
        assert!(msg(json!({"sort_by": [{"bytes": "up"}]})).contains("direction"));
        assert!(msg(json!({"aggregate": ["colour"]})).contains("Invalid aggregate"));
        assert!(msg(json!({"expression": 3})).contains("expression must be a string"));
        assert!(msg(json!([1])).contains("JSON object"));
    }
}
