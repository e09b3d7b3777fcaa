//! An asset as search sees it: the derived field values, the index entries storage keeps
//! for it, and the in-memory evaluation of a [`Query`] (the reference every storage
//! translation is tested against).

use std::collections::BTreeSet;

use super::query::{Attr, NumField, NumRange, Query, TextField, TextMatch};
use super::tokens::{exact_term, prefix_matchable, tokens};
use super::values::stored_date;
use crate::Asset;

/// Index field names: `t:` token entries, `e:` exact entries; `t:` alone holds the tokens of
/// every default text field (bare terms).
pub mod field {
    pub const ANY: &str = "t:";
    pub const FOLDER: &str = "e:folder";
    pub const FILENAME: &str = "e:filename";
    pub const FILENAME_TOKENS: &str = "t:filename";
    pub const DISPLAY_NAME_TOKENS: &str = "t:display_name";
    pub const TAG_TOKENS: &str = "t:tags";
    /// Each tag whole (the tag rows answer exact matches too; these carry the asset's facets,
    /// so counts and aggregations of a tag never join the asset rows).
    pub const TAGS: &str = "e:tags";

    pub fn context_exact(key: &str) -> String {
        format!("e:context.{key}")
    }
    pub fn context_tokens(key: &str) -> String {
        format!("t:context.{key}")
    }
    pub fn metadata_exact(key: &str) -> String {
        format!("e:metadata.{key}")
    }
    pub fn metadata_tokens(key: &str) -> String {
        format!("t:metadata.{key}")
    }
    /// Numeric entries (integers, dates as Unix seconds) of a metadata field.
    pub fn metadata_number(key: &str) -> String {
        format!("metadata.{key}")
    }
}

/// What storage indexes for one asset: `(field, term)` and `(field, number)` pairs, each once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndexEntries {
    pub terms: BTreeSet<(String, String)>,
    pub numbers: Vec<(String, f64)>,
}

/// The folder part of a public id (empty at the root).
pub fn folder_of(public_id: &str) -> &str {
    public_id.rsplit_once('/').map_or("", |(f, _)| f)
}

/// The last path segment of a public id.
pub fn filename_of(public_id: &str) -> &str {
    public_id.rsplit_once('/').map_or(public_id, |(_, n)| n)
}

/// Every searchable status is `active` and every access mode `public` for now.
const STATUS: &str = "active";

fn metadata_texts(v: &serde_json::Value) -> Vec<&str> {
    match v {
        serde_json::Value::String(s) => vec![s.as_str()],
        serde_json::Value::Array(items) => items.iter().filter_map(serde_json::Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn metadata_number(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => stored_date(s).map(|d| d as f64),
        _ => None,
    }
}

/// The tokens bare terms search: public id, display name, asset folder, tags, context
/// values and metadata text.
fn any_tokens(a: &Asset) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut add = |s: &str| out.extend(tokens(s));
    add(a.public_id.as_str());
    add(&a.display_name);
    add(&a.asset_folder);
    a.tags.iter().for_each(|t| add(t));
    a.context.iter().for_each(|(_, v)| add(v));
    a.metadata.values().flat_map(metadata_texts).for_each(&mut add);
    out
}

/// The index entries of an asset.
pub fn index_entries(a: &Asset) -> IndexEntries {
    let mut e = IndexEntries::default();
    let pid = a.public_id.as_str();
    let mut term = |f: &str, t: String| {
        e.terms.insert((f.to_owned(), t));
    };
    term(field::FOLDER, exact_term(folder_of(pid)));
    term(field::FILENAME, exact_term(filename_of(pid)));
    tokens(filename_of(pid)).into_iter().for_each(|t| term(field::FILENAME_TOKENS, t));
    tokens(&a.display_name).into_iter().for_each(|t| term(field::DISPLAY_NAME_TOKENS, t));
    a.tags.iter().flat_map(|t| tokens(t)).for_each(|t| term(field::TAG_TOKENS, t));
    a.tags.iter().for_each(|t| term(field::TAGS, exact_term(t)));
    for (k, v) in &a.context {
        term(&field::context_exact(k), exact_term(v));
        tokens(v).into_iter().for_each(|t| term(&field::context_tokens(k), t));
    }
    for (k, v) in &a.metadata {
        for s in metadata_texts(v) {
            term(&field::metadata_exact(k), exact_term(s));
            tokens(s).into_iter().for_each(|t| term(&field::metadata_tokens(k), t));
        }
    }
    any_tokens(a).into_iter().for_each(|t| term(field::ANY, t));
    for (k, v) in &a.metadata {
        if let Some(n) = metadata_number(v) {
            e.numbers.push((field::metadata_number(k), n));
        }
    }
    e
}

fn attr_value(a: &Asset, attr: Attr) -> Option<&str> {
    let pid = a.public_id.as_str();
    Some(match attr {
        Attr::PublicId => pid,
        Attr::AssetId => &a.asset_id,
        Attr::Folder => folder_of(pid),
        Attr::AssetFolder => &a.asset_folder,
        Attr::Filename => filename_of(pid),
        Attr::DisplayName => &a.display_name,
        Attr::ResourceType => a.resource_type.as_str(),
        Attr::Type => a.delivery_type.as_str(),
        Attr::Format => a.format.as_deref()?,
        Attr::AccessMode => a.access_mode.as_str(),
        Attr::Status => STATUS,
    })
}

/// Fields storage keeps only as index terms (long values hashed, so not prefix-matchable).
fn hashed(attr: Attr) -> bool {
    matches!(attr, Attr::Folder | Attr::Filename)
}

fn text_matches(values: &[&str], m: &TextMatch, hashed: bool) -> bool {
    match m {
        TextMatch::Exact(q) => values.iter().any(|v| v == q),
        TextMatch::Prefix(p) => values.iter().any(|v| v.starts_with(p.as_str()) && (!hashed || prefix_matchable(v))),
        TextMatch::Present => !values.is_empty(),
        TextMatch::Tokens { all, prefix } => {
            let have: BTreeSet<String> = values.iter().flat_map(|v| tokens(v)).collect();
            token_set_matches(&have, all, prefix.as_deref())
        }
    }
}

fn token_set_matches(have: &BTreeSet<String>, all: &[String], prefix: Option<&str>) -> bool {
    all.iter().all(|t| have.contains(t)) && prefix.is_none_or(|p| have.iter().any(|t| t.starts_with(p)))
}

fn number(a: &Asset, f: &NumField) -> Option<f64> {
    let dims = a.width.zip(a.height);
    match f {
        NumField::Bytes => Some(a.bytes as f64),
        NumField::Width => a.width.map(|w| w as f64),
        NumField::Height => a.height.map(|h| h as f64),
        NumField::Pixels => dims.map(|(w, h)| (w * h) as f64),
        NumField::AspectRatio => dims.filter(|(_, h)| *h > 0).map(|(w, h)| w as f64 / h as f64),
        NumField::CreatedAt => Some(a.created_at as f64),
        NumField::UploadedAt => Some(a.version as f64),
        NumField::Metadata(k) => a.metadata.get(k).and_then(metadata_number),
    }
}

fn num_matches(v: Option<f64>, r: &NumRange) -> bool {
    v.is_some_and(|v| r.contains(v))
}

/// Whether `a` matches `q`.
pub fn matches(q: &Query, a: &Asset) -> bool {
    match q {
        Query::All => true,
        Query::And(v) => v.iter().all(|q| matches(q, a)),
        Query::Or(v) => v.iter().any(|q| matches(q, a)),
        Query::Not(q) => !matches(q, a),
        Query::Num(f, r) => num_matches(number(a, f), r),
        Query::Text(f, m) => match f {
            TextField::Attr(attr) => {
                let v: Vec<&str> = attr_value(a, *attr).into_iter().collect();
                // An empty value (the root folder, no display name) is not "present", but
                // `folder=""` finds it.
                if matches!(m, TextMatch::Present) {
                    return v.first().is_some_and(|v| !v.is_empty());
                }
                text_matches(&v, m, hashed(*attr))
            }
            TextField::Tags => {
                let v: Vec<&str> = a.tags.iter().map(String::as_str).collect();
                text_matches(&v, m, false)
            }
            TextField::Context(k) => {
                let v: Vec<&str> = a.context.iter().filter(|(ck, _)| ck == k).map(|(_, v)| v.as_str()).collect();
                if matches!(m, TextMatch::Present) {
                    return !v.is_empty();
                }
                text_matches(&v, m, true)
            }
            TextField::Metadata(k) => {
                let Some(value) = a.metadata.get(k) else { return false };
                if matches!(m, TextMatch::Present) {
                    return !metadata_texts(value).is_empty() || metadata_number(value).is_some();
                }
                text_matches(&metadata_texts(value), m, true)
            }
            TextField::Any => match m {
                TextMatch::Tokens { all, prefix } => token_set_matches(&any_tokens(a), all, prefix.as_deref()),
                _ => false,
            },
        },
    }
}
