//! Queries built at run time: SQL text with `$n` placeholders plus the values to bind.

use sqlx::Any;
use sqlx::any::AnyArguments;
use sqlx::query::Query;

/// Most values one `IN` list binds: lists longer than this are split into several
/// statements. SQLite refuses a statement with more than 32 766 bound parameters (999 before
/// 3.32) and PostgreSQL one with more than 65 535, so a list of any length stays far below
/// both whatever else its statement binds.
pub(crate) const IN_CHUNK: usize = 500;

#[derive(Debug, Clone)]
pub(crate) enum Value {
    Int(i64),
    Float(f64),
    Text(String),
}

/// Collects bind values and hands out their placeholders.
#[derive(Debug, Default)]
pub(crate) struct Binds(Vec<Value>);

impl Binds {
    /// Adds a value; returns its placeholder (`$n`).
    pub(crate) fn int(&mut self, v: i64) -> String {
        self.0.push(Value::Int(v));
        format!("${}", self.0.len())
    }

    pub(crate) fn float(&mut self, v: f64) -> String {
        self.0.push(Value::Float(v));
        format!("${}", self.0.len())
    }

    pub(crate) fn text(&mut self, v: impl Into<String>) -> String {
        self.0.push(Value::Text(v.into()));
        format!("${}", self.0.len())
    }

    /// `($a, $b, ...)` for an `IN` list of texts.
    pub(crate) fn text_list<'a>(&mut self, vs: impl IntoIterator<Item = &'a str>) -> String {
        let ps: Vec<String> = vs.into_iter().map(|v| self.text(v)).collect();
        format!("({})", ps.join(", "))
    }

    pub(crate) fn int_list(&mut self, vs: impl IntoIterator<Item = i64>) -> String {
        let ps: Vec<String> = vs.into_iter().map(|v| self.int(v)).collect();
        format!("({})", ps.join(", "))
    }

    /// How many values are bound so far: a point to [`Self::rewind`] to.
    pub(crate) fn mark(&self) -> usize {
        self.0.len()
    }

    /// Drops the values bound since `mark`: a translation tried and refused leaves no
    /// parameter behind, and the next placeholder is numbered as if it never ran.
    pub(crate) fn rewind(&mut self, mark: usize) {
        self.0.truncate(mark);
    }

    pub(crate) fn apply<'q>(self, sql: &'q str) -> Query<'q, Any, AnyArguments<'q>> {
        let mut q = sqlx::query(sql);
        for v in self.0 {
            q = match v {
                Value::Int(i) => q.bind(i),
                Value::Float(f) => q.bind(f),
                Value::Text(s) => q.bind(s),
            };
        }
        q
    }
}
