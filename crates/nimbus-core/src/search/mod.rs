//! Cloudinary's search expression language: parsing with positions and hints, checking
//! against the searchable fields, and an in-memory evaluator that is the reference for the
//! storage translations.
//!
//! ```text
//! expression ::= or
//! or         ::= and ( ("OR" | "||") and )*
//! and        ::= unary ( ["AND" | "&&"] unary )*          ; juxtaposition is AND
//! unary      ::= ("NOT" | "!" | "-") unary | primary       ; "-" only at the start of a word
//! primary    ::= "(" expression ")" | FIELD op value | FIELD ":" range
//!              | FIELD (":" | "=") "(" expression ")"      ; the field and op apply to every value inside
//!              | value                                     ; a bare term: words of the default fields
//! op         ::= ":" | "=" | ">" | ">=" | "<" | "<=" | ":>" | ":>=" | ":<" | ":<="
//! range      ::= ("[" | "{") bound "TO" bound ("]" | "}") ; [ ] inclusive, { } exclusive
//! bound      ::= value | "*"
//! value      ::= '"' ( [^"\\] | "\\" any )* '"' | ( [^ reserved] | "\\" any )+ ["*"]
//! FIELD      ::= public_id | asset_id | folder | asset_folder | filename | display_name
//!              | resource_type | type | format | access_mode | status | tags | bytes | width
//!              | height | pixels | aspect_ratio | created_at | uploaded_at
//!              | "context." KEY | "metadata." EXTERNAL_ID
//! reserved   ::= whitespace ! ( ) { } [ ] ^ ~ ? : \ = & > < | "
//! ```
//!
//! Meaning, as Nimbus implements it:
//! - `field:value` on text matches words: values are cut into lower-cased runs of letters and
//!   digits, and every word of the query must occur in the field (word order is not checked);
//!   a trailing `*` makes the last word a prefix. On `public_id`, `folder`, `asset_folder`,
//!   `asset_id` and the keyword fields (`resource_type`, `type`, `format`, `access_mode`,
//!   `status`) `:` compares the whole value, like `=`.
//! - `field=value` is the exact, case-sensitive value (keyword fields are lower-case); a
//!   trailing `*` matches values starting with it; `folder:a/b/*` is `a/b` and every folder below.
//! - `field:*` means the field has a value; `-field:*` that it has none.
//! - Numbers take `kb`, `mb`, `gb` (powers of 1024); `aspect_ratio` takes `"16:9"` and compares
//!   equal within 0.005. Dates are `YYYY-MM-DD` (a whole day for `:`/`=`), quoted RFC 3339
//!   times, Unix seconds, or ages counted back from now: `3h`, `2d`, `1w`, `6m` (30 days),
//!   `1y` (365 days), so `uploaded_at>1w` is "uploaded within the last week".
//! - Bare terms search the words of the public id, display name, asset folder, tags, context
//!   values and metadata text.
//! - `metadata.FIELD` must name an existing field; its type picks text or number semantics.

mod doc;
mod folders;
mod query;
mod syntax;
mod tokens;
mod values;

#[cfg(test)]
mod tests;

use std::fmt;

pub use doc::{IndexEntries, field, filename_of, folder_of, index_entries, matches};
pub use folders::{compile_folders, folder_doc};
pub use query::{Attr, NumField, NumRange, Query, RATIO_TOLERANCE, Schema, TextField, TextMatch};
pub use syntax::{Expr, MAX_DEPTH, MAX_LEN, MAX_TERMS, parse};
pub use tokens::{MAX_EXACT_BYTES, exact_term, prefix_end, prefix_matchable, tokens};

/// A rejected expression: what is wrong, where (a character position), and a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchError {
    /// Byte offset in the expression.
    pub at: usize,
    pub message: String,
    pub hint: String,
}

impl SearchError {
    pub(crate) fn at(at: usize, message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self { at, message: message.into(), hint: hint.into() }
    }
}

impl fmt::Display for SearchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Invalid search expression at position {}: {} ({})", self.at, self.message, self.hint)
    }
}

impl std::error::Error for SearchError {}

/// Parses and checks an expression in one step.
pub fn compile(expression: &str, schema: &Schema, now: i64) -> Result<Query, SearchError> {
    let expr = parse(expression)?;
    query::check(expr.as_ref(), schema, now)
}
