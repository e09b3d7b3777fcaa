//! Structured metadata and conditional metadata rules: the schema ([`schema`]), rules and
//! their write-time checks ([`rules`]), the effective state of a metadata map ([`engine`])
//! and the write path every asset write goes through ([`write`]).
//!
//! Semantics follow Nimbus's normative notes on Cloudinary's conditional rules: conditions
//! see only enabled fields; fields are evaluated once each, in the topological order of the
//! (acyclic) rule graph; combinations of rules are order-independent except for value
//! effects, where the oldest rule (lowest `seq`) wins. Docs of the wire shapes:
//! <https://cloudinary.com/documentation/conditional_metadata_rules_api>.

mod allowed;
mod compiled;
pub mod doc;
pub mod engine;
pub mod issue;
pub mod rules;
pub mod schema;
pub mod summary;
pub mod write;

pub use engine::{Allowed, Effective, FieldState, Schema};
pub use issue::{Issue, IssueCode};
pub use rules::{Activate, ApplyMode, Condition, Criterion, Rule, RuleResult};
pub use schema::{DatasourceEntry, Field, FieldType, Metadata, Value};

#[cfg(test)]
mod reference;
#[cfg(test)]
mod tests;
