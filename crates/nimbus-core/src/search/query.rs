//! The checked query: every field known and typed, every value converted, relative dates
//! resolved. Storage adapters translate this (never the raw syntax), and [`super::eval`]
//! evaluates it in memory as the reference.

use std::collections::HashMap;

use super::SearchError;
use super::syntax::{Bound, Expr, FieldName, Op, Value};
use super::tokens::tokens;
use super::values::{self, DateValue};
use crate::metadata::FieldType;

/// Whole-value fields of the asset row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Attr {
    PublicId,
    AssetId,
    /// The folder part of the public id (`a/b` of `a/b/c`; empty at the root).
    Folder,
    AssetFolder,
    Filename,
    DisplayName,
    ResourceType,
    Type,
    Format,
    AccessMode,
    Status,
}

impl Attr {
    pub fn name(self) -> &'static str {
        match self {
            Self::PublicId => "public_id",
            Self::AssetId => "asset_id",
            Self::Folder => "folder",
            Self::AssetFolder => "asset_folder",
            Self::Filename => "filename",
            Self::DisplayName => "display_name",
            Self::ResourceType => "resource_type",
            Self::Type => "type",
            Self::Format => "format",
            Self::AccessMode => "access_mode",
            Self::Status => "status",
        }
    }

    /// Fields whose `:` matches words rather than the whole value.
    fn tokenized(self) -> bool {
        matches!(self, Self::Filename | Self::DisplayName)
    }

    /// Fields of a fixed lower-case vocabulary: matched case-insensitively.
    fn keyword(self) -> bool {
        matches!(self, Self::ResourceType | Self::Type | Self::Format | Self::AccessMode | Self::Status)
    }

    fn path(self) -> bool {
        matches!(self, Self::PublicId | Self::Folder | Self::AssetFolder)
    }
}

/// Fields holding text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TextField {
    Attr(Attr),
    Tags,
    Context(String),
    /// A structured-metadata field of type string, enum or set (enum and set hold
    /// datasource external ids).
    Metadata(String),
    /// Every default text field at once (bare terms).
    Any,
}

/// How text is matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextMatch {
    /// The whole value, case-sensitive.
    Exact(String),
    /// Values starting with this, case-sensitive.
    Prefix(String),
    /// Every token occurs in the field; the last may be a prefix.
    Tokens { all: Vec<String>, prefix: Option<String> },
    /// The field has any value.
    Present,
}

/// Fields holding numbers (dates are Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NumField {
    Bytes,
    Width,
    Height,
    Pixels,
    AspectRatio,
    CreatedAt,
    UploadedAt,
    /// An integer or date structured-metadata field.
    Metadata(String),
}

impl NumField {
    /// Whether stored values are whole numbers (bounds are then rounded to integers).
    pub fn integral(&self) -> bool {
        !matches!(self, Self::AspectRatio)
    }
}

/// A numeric interval; `None` ends are open. An interval with both ends open matches any value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NumRange {
    pub lo: Option<(f64, bool)>,
    pub hi: Option<(f64, bool)>,
}

impl NumRange {
    pub fn contains(&self, v: f64) -> bool {
        self.lo.is_none_or(|(lo, incl)| if incl { v >= lo } else { v > lo })
            && self.hi.is_none_or(|(hi, incl)| if incl { v <= hi } else { v < hi })
    }

    /// The same range as inclusive integer bounds (`None` when it holds no integer).
    pub fn integer_bounds(&self) -> Option<(Option<i64>, Option<i64>)> {
        let lo = self.lo.map(|(v, incl)| if incl { v.ceil() } else { v.floor() + 1.0 });
        let hi = self.hi.map(|(v, incl)| if incl { v.floor() } else { v.ceil() - 1.0 });
        let clamp = |v: f64| v.clamp(i64::MIN as f64, i64::MAX as f64) as i64;
        let (lo, hi) = (lo.map(clamp), hi.map(clamp));
        if let (Some(l), Some(h)) = (lo, hi) {
            if l > h {
                return None;
            }
        }
        Some((lo, hi))
    }
}

/// A checked query.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    All,
    And(Vec<Query>),
    Or(Vec<Query>),
    Not(Box<Query>),
    Text(TextField, TextMatch),
    Num(NumField, NumRange),
}

/// What an expression may refer to beyond the built-in fields.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    /// Structured-metadata fields by external id.
    pub metadata: HashMap<String, FieldType>,
}

/// Aspect ratios compare equal within this (so `aspect_ratio=1.78` finds 16:9 images).
pub const RATIO_TOLERANCE: f64 = 0.005;

enum Kind {
    Text(TextField),
    Num(NumField, NumKind),
}

#[derive(Clone, Copy, PartialEq)]
enum NumKind {
    Number,
    Ratio,
    Date,
}

const BUILT_IN: &[&str] = &[
    "public_id",
    "asset_id",
    "folder",
    "asset_folder",
    "filename",
    "display_name",
    "resource_type",
    "type",
    "format",
    "access_mode",
    "status",
    "bytes",
    "width",
    "height",
    "pixels",
    "aspect_ratio",
    "created_at",
    "uploaded_at",
    "tags",
    "context.KEY",
    "metadata.FIELD",
];

fn kind(f: &FieldName, schema: &Schema) -> Result<Kind, SearchError> {
    let attr = |a| Ok(Kind::Text(TextField::Attr(a)));
    let num = |n, k| Ok(Kind::Num(n, k));
    match f.name.as_str() {
        "public_id" => attr(Attr::PublicId),
        "asset_id" => attr(Attr::AssetId),
        "folder" => attr(Attr::Folder),
        "asset_folder" => attr(Attr::AssetFolder),
        "filename" => attr(Attr::Filename),
        "display_name" => attr(Attr::DisplayName),
        "resource_type" => attr(Attr::ResourceType),
        "type" => attr(Attr::Type),
        "format" => attr(Attr::Format),
        "access_mode" => attr(Attr::AccessMode),
        "status" => attr(Attr::Status),
        "tags" => Ok(Kind::Text(TextField::Tags)),
        "bytes" => num(NumField::Bytes, NumKind::Number),
        "width" => num(NumField::Width, NumKind::Number),
        "height" => num(NumField::Height, NumKind::Number),
        "pixels" => num(NumField::Pixels, NumKind::Number),
        "aspect_ratio" => num(NumField::AspectRatio, NumKind::Ratio),
        "created_at" => num(NumField::CreatedAt, NumKind::Date),
        "uploaded_at" => num(NumField::UploadedAt, NumKind::Date),
        name => {
            if let Some(key) = name.strip_prefix("context.").filter(|k| !k.is_empty()) {
                return Ok(Kind::Text(TextField::Context(key.to_owned())));
            }
            if let Some(key) = name.strip_prefix("metadata.").filter(|k| !k.is_empty()) {
                return match schema.metadata.get(key) {
                    Some(FieldType::Integer) => num(NumField::Metadata(key.to_owned()), NumKind::Number),
                    Some(FieldType::Date) => num(NumField::Metadata(key.to_owned()), NumKind::Date),
                    Some(_) => Ok(Kind::Text(TextField::Metadata(key.to_owned()))),
                    None => Err(SearchError::at(
                        f.at,
                        format!("unknown metadata field '{key}'"),
                        "use the external_id of a structured metadata field",
                    )),
                };
            }
            let close = BUILT_IN.iter().find(|b| b.eq_ignore_ascii_case(name)).map_or_else(
                || format!("searchable fields: {}", BUILT_IN.join(", ")),
                |b| format!("field names are case-sensitive: did you mean '{b}'?"),
            );
            Err(SearchError::at(f.at, format!("unknown field '{name}'"), close))
        }
    }
}

/// Checks a parsed expression (`None` = every asset) against the fields; `now` resolves
/// relative dates.
pub fn check(expr: Option<&Expr>, schema: &Schema, now: i64) -> Result<Query, SearchError> {
    match expr {
        None => Ok(Query::All),
        Some(e) => Checker { schema, now }.expr(e),
    }
}

struct Checker<'a> {
    schema: &'a Schema,
    now: i64,
}

impl Checker<'_> {
    fn expr(&self, e: &Expr) -> Result<Query, SearchError> {
        Ok(match e {
            Expr::And(v) => Query::And(v.iter().map(|e| self.expr(e)).collect::<Result<_, _>>()?),
            Expr::Or(v) => Query::Or(v.iter().map(|e| self.expr(e)).collect::<Result<_, _>>()?),
            Expr::Not(e) => Query::Not(Box::new(self.expr(e)?)),
            Expr::Term { field: None, value, .. } => bare(value)?,
            Expr::Term { field: Some(f), op, value } => match kind(f, self.schema)? {
                Kind::Text(t) => text(t, f, *op, value)?,
                Kind::Num(n, k) => self.number(n, k, f, *op, value)?,
            },
            Expr::Range { field, lo, hi } => match kind(field, self.schema)? {
                Kind::Num(n, k) => {
                    let lo = self.bound(k, lo, true)?;
                    let hi = self.bound(k, hi, false)?;
                    Query::Num(n, NumRange { lo, hi })
                }
                Kind::Text(_) => {
                    return Err(SearchError::at(
                        field.at,
                        format!("'{}' is text: ranges apply to numbers and dates", field.name),
                        "use field:value or field=value",
                    ));
                }
            },
        })
    }

    fn value(&self, k: NumKind, f: Option<&FieldName>, v: &Value) -> Result<(f64, Option<f64>), SearchError> {
        let bad = |what: &str, hint: &str| {
            let name = f.map_or(String::new(), |f| format!(" for '{}'", f.name));
            SearchError::at(v.at, format!("'{}' is not {what}{name}", v.text), hint)
        };
        if v.wildcard {
            return Err(bad("a number or date", "wildcards apply to text; use a range such as [10 TO *]"));
        }
        match k {
            NumKind::Number => values::number(&v.text)
                .map(|n| (n, None))
                .ok_or_else(|| bad("a number", "write digits, optionally with kb, mb or gb")),
            NumKind::Ratio => values::ratio(&v.text)
                .map(|n| (n, None))
                .ok_or_else(|| bad("an aspect ratio", "write a number or a quoted ratio such as \"16:9\"")),
            NumKind::Date => values::date(&v.text, self.now)
                .map(|DateValue { at, day_end }| (at as f64, day_end.map(|e| e as f64)))
                .ok_or_else(|| {
                    bad(
                        "a date",
                        "write YYYY-MM-DD, a quoted RFC 3339 time, Unix seconds or a relative age such as 1d, 2w, 3m",
                    )
                }),
        }
    }

    fn bound(&self, k: NumKind, b: &Bound, low: bool) -> Result<Option<(f64, bool)>, SearchError> {
        let Some(v) = &b.value else { return Ok(None) };
        let (at, day_end) = self.value(k, None, v)?;
        // A whole day as the upper end of an inclusive range includes that day.
        Ok(Some(match (low, day_end, b.inclusive) {
            (false, Some(end), true) => (end, false),
            _ => (at, b.inclusive),
        }))
    }

    fn number(&self, n: NumField, k: NumKind, f: &FieldName, op: Op, v: &Value) -> Result<Query, SearchError> {
        if v.is_any() && matches!(op, Op::Colon | Op::Eq) {
            return Ok(Query::Num(n, NumRange { lo: None, hi: None }));
        }
        let (x, day_end) = self.value(k, Some(f), v)?;
        let range = match op {
            Op::Colon | Op::Eq => match (day_end, k) {
                (Some(end), _) => NumRange { lo: Some((x, true)), hi: Some((end, false)) },
                (None, NumKind::Ratio) => {
                    NumRange { lo: Some((x - RATIO_TOLERANCE, true)), hi: Some((x + RATIO_TOLERANCE, true)) }
                }
                (None, _) => NumRange { lo: Some((x, true)), hi: Some((x, true)) },
            },
            Op::Gt => NumRange { lo: Some((day_end.unwrap_or(x), day_end.is_some())), hi: None },
            Op::Ge => NumRange { lo: Some((x, true)), hi: None },
            Op::Lt => NumRange { lo: None, hi: Some((x, false)) },
            Op::Le => NumRange { lo: None, hi: Some((day_end.unwrap_or(x), day_end.is_none())) },
        };
        Ok(Query::Num(n, range))
    }
}

fn bare(v: &Value) -> Result<Query, SearchError> {
    if v.is_any() {
        return Ok(Query::All);
    }
    token_match(TextField::Any, v).ok_or_else(|| {
        SearchError::at(
            v.at,
            format!("'{}' has no letters or digits to search for", v.text),
            "search for words, or name a field: field=value",
        )
    })
}

fn token_match(field: TextField, v: &Value) -> Option<Query> {
    let mut all = tokens(&v.text);
    let prefix = if v.wildcard && !ends_with_separator(&v.text) { all.pop() } else { None };
    (!all.is_empty() || prefix.is_some()).then_some(Query::Text(field, TextMatch::Tokens { all, prefix }))
}

fn ends_with_separator(s: &str) -> bool {
    s.chars().last().is_none_or(|c| !c.is_alphanumeric())
}

fn text(field: TextField, f: &FieldName, op: Op, v: &Value) -> Result<Query, SearchError> {
    if !matches!(op, Op::Colon | Op::Eq) {
        return Err(SearchError::at(
            f.at,
            format!("'{}' is text: {} applies to numbers and dates", f.name, op.as_str()),
            "use field:value or field=value",
        ));
    }
    if v.is_any() {
        return Ok(Query::Text(field, TextMatch::Present));
    }
    let by_tokens = op == Op::Colon
        && match &field {
            TextField::Attr(a) => a.tokenized(),
            TextField::Tags | TextField::Context(_) => true,
            // String values, and the ids of enum and set values, are matched by their words.
            TextField::Metadata(_) => true,
            TextField::Any => true,
        };
    if by_tokens {
        return token_match(field, v).ok_or_else(|| {
            SearchError::at(
                v.at,
                format!("'{}' has no letters or digits to search for", v.text),
                format!("use {}=\"...\" to match the value exactly", f.name),
            )
        });
    }
    let value = match &field {
        TextField::Attr(a) if a.keyword() => v.text.to_lowercase(),
        _ => v.text.clone(),
    };
    let path = matches!(&field, TextField::Attr(a) if a.path());
    Ok(match (v.wildcard, path) {
        // `folder:a/b/*`: the folder and everything below it.
        (true, true) if value.ends_with('/') && value.len() > 1 => {
            let base = value.trim_end_matches('/').to_owned();
            Query::Or(vec![
                Query::Text(field.clone(), TextMatch::Exact(base)),
                Query::Text(field, TextMatch::Prefix(value)),
            ])
        }
        (true, _) => Query::Text(field, TextMatch::Prefix(value)),
        (false, _) => Query::Text(field, TextMatch::Exact(value)),
    })
}
