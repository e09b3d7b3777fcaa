//! Configuration as code: a schema file (fields and rules, read from the Metadata API's own
//! shapes by the API crate) applied idempotently by external id, in one schema change. Fields and rules in the file are created or brought up to date; a field's
//! datasource becomes exactly the file's (values left out are deactivated, never removed);
//! fields and rules that are not in the file are left alone.

use serde_json::Value as Json;

use nimbus_core::metadata::doc::{FieldDoc, field_json, parse_field};

use super::LoadedSchema;
use super::fields::record;
use super::rules::{RuleDraft, check};
use crate::error::AppResult;
use crate::events::Caller;
use crate::ports::{MetadataChange, MetadataSnapshot, RuleRecord};
use crate::{App, AppError};

/// A schema file: the fields and rules it declares, each with its external id.
#[derive(Debug, Clone, Default)]
pub struct SchemaFile {
    pub fields: Vec<FieldDoc>,
    pub rules: Vec<RuleDraft>,
}

/// What applying a schema file did (or, in a dry run, would do), one line per object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub unchanged: Vec<String>,
    /// Non-blocking advice about rules (aliases used, conflicting defaults).
    pub warnings: Vec<String>,
}

fn bad(msg: impl Into<String>) -> AppError {
    AppError::MetadataSchema(msg.into())
}

/// The file's datasource is authoritative: values it leaves out are deactivated.
fn datasource_as_declared(desired: &mut FieldDoc, current: &FieldDoc) {
    for old in &current.field.datasource {
        if !desired.field.datasource.iter().any(|d| d.external_id == old.external_id) {
            let mut gone = old.clone();
            gone.active = false;
            desired.field.datasource.push(gone);
        }
    }
}

/// Plans the changes that bring `loaded` to the file's state.
fn plan(loaded: &LoadedSchema, file: &SchemaFile, now: i64) -> AppResult<(Vec<MetadataChange>, ApplyReport)> {
    let mut snap = MetadataSnapshot {
        version: loaded.version,
        fields: loaded.docs.iter().map(|(r, _)| r.clone()).collect(),
        rules: loaded.rules.clone(),
        deleted_fields: loaded.deleted_fields.clone(),
    };
    let mut changes = Vec::new();
    let mut report = ApplyReport::default();
    for desired in &file.fields {
        let id = desired.field.external_id.clone();
        let mut desired = desired.clone();
        let current = snap.fields.iter().position(|f| f.external_id == id);
        if let Some(i) = current {
            let old = parse_field(&snap.fields[i].doc, &mut String::new).map_err(bad)?;
            datasource_as_declared(&mut desired, &old);
        }
        // Checked as a whole, as the Metadata API checks a field.
        let parsed = parse_field(&field_json(&desired), &mut String::new)
            .map_err(|e| bad(format!("Metadata field {id}: {e}")))?;
        if snap
            .fields
            .iter()
            .any(|f| f.external_id != id && f.doc.get("label") == Some(&Json::String(parsed.field.label.clone())))
        {
            return Err(AppError::AlreadyExists(format!("Metadata field with label '{}'", parsed.field.label)));
        }
        match current {
            None if snap.deleted_fields.contains(&id) => {
                return Err(bad(format!(
                    "A metadata field with external id {id} already exists (deleted fields keep their external id)"
                )));
            }
            None => {
                let position = snap.fields.iter().map(|f| f.position).max().map_or(0, |p| p + 1);
                let rec = record(&parsed, position, now);
                snap.fields.push(rec.clone());
                changes.push(MetadataChange::PutField(rec));
                report.created.push(format!("field {id}"));
            }
            Some(i) => {
                let old = &snap.fields[i];
                if old.doc.get("type") != Some(&Json::String(parsed.field.field_type.as_str().into())) {
                    return Err(bad(format!("Metadata field {id}: its type cannot change")));
                }
                let rec = record(&parsed, old.position, old.created_at);
                if rec.doc == field_json(&parse_field(&old.doc, &mut String::new).map_err(bad)?) {
                    report.unchanged.push(format!("field {id}"));
                } else {
                    snap.fields[i] = rec.clone();
                    changes.push(MetadataChange::PutField(rec));
                    report.updated.push(format!("field {id}"));
                }
            }
        }
    }
    let mut next_seq = snap.rules.iter().map(|r| r.seq).max().unwrap_or(0) + 1;
    for draft in &file.rules {
        let id = draft.external_id.clone().ok_or_else(|| {
            bad("Every metadata rule in a schema file needs an external_id (it is how re-applying finds it)")
        })?;
        let required = |v: &Option<Json>, what: &str| {
            v.clone().ok_or_else(|| bad(format!("Metadata rule {id}: {what} is required")))
        };
        let field =
            draft.field.clone().ok_or_else(|| bad(format!("Metadata rule {id}: metadata_field_id is required")))?;
        let current = snap.rules.iter().position(|r| r.external_id == id);
        let rec = RuleRecord {
            external_id: id.clone(),
            seq: current.map_or(next_seq, |i| snap.rules[i].seq),
            name: draft.name.clone().unwrap_or_else(|| id.clone()),
            field,
            condition: required(&draft.condition, "condition")?,
            result: required(&draft.result, "result")?,
            active: draft.active.unwrap_or(true),
            created_at: current.map_or(now, |i| snap.rules[i].created_at),
        };
        // Each rule is checked against the schema as changed so far (fields and earlier rules).
        let staged = LoadedSchema::compile(snap.clone())?;
        let warnings = check(&staged, &rec).map_err(|e| bad(format!("Metadata rule {id}: {e}")))?;
        report.warnings.extend(warnings.into_iter().map(|w| format!("rule {id}: {w}")));
        match current {
            Some(i) if snap.rules[i] == rec => report.unchanged.push(format!("rule {id}")),
            Some(i) => {
                snap.rules[i] = rec.clone();
                changes.push(MetadataChange::PutRule(rec));
                report.updated.push(format!("rule {id}"));
            }
            None => {
                next_seq += 1;
                snap.rules.push(rec.clone());
                changes.push(MetadataChange::PutRule(rec));
                report.created.push(format!("rule {id}"));
            }
        }
    }
    Ok((changes, report))
}

impl App {
    /// Applies a schema file; with `dry_run` nothing is written and the report says what
    /// would change.
    pub async fn apply_metadata_schema(
        &self,
        caller: &Caller,
        file: &SchemaFile,
        dry_run: bool,
    ) -> AppResult<ApplyReport> {
        let now = self.now();
        self.change_schema(caller, |loaded| {
            let (changes, report) = plan(loaded, file, now)?;
            Ok((if dry_run { Vec::new() } else { changes }, report))
        })
        .await
    }
}
