//! Configuration as code: a schema file (`{"metadata_fields": [...], "metadata_rules": [...]}`
//! in the Metadata API's own shapes) applied idempotently by external id, in one schema
//! change. Fields and rules in the file are created or brought up to date; a field's
//! datasource becomes exactly the file's (values left out are deactivated, never removed);
//! fields and rules that are not in the file are left alone.

use serde_json::Value as Json;

use nimbus_core::metadata::doc::{field_json, parse_field};

use super::LoadedSchema;
use super::fields::record;
use super::rules::check;
use crate::error::AppResult;
use crate::events::Caller;
use crate::ports::{MetadataChange, MetadataSnapshot, RuleRecord};
use crate::{App, AppError};

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

fn list<'a>(doc: &'a Json, key: &str) -> AppResult<&'a [Json]> {
    match doc.get(key) {
        None | Some(Json::Null) => Ok(&[]),
        Some(Json::Array(a)) => Ok(a),
        Some(_) => Err(bad(format!("'{key}' must be an array"))),
    }
}

fn required_id(item: &Json, what: &str) -> AppResult<String> {
    item.get("external_id").and_then(Json::as_str).map(str::to_owned).ok_or_else(|| {
        bad(format!("Every {what} in a schema file needs an external_id (it is how re-applying finds it)"))
    })
}

/// The file's datasource is authoritative: values it leaves out are deactivated.
fn datasource_as_declared(desired: &mut Json, current: &Json) {
    let (Some(want), Some(have)) = (
        desired.get("datasource").and_then(|d| d.get("values")).and_then(Json::as_array).cloned(),
        current.get("datasource").and_then(|d| d.get("values")).and_then(Json::as_array),
    ) else {
        return;
    };
    let mut values = want.clone();
    for old in have {
        let id = old.get("external_id");
        if !want.iter().any(|w| w.get("external_id") == id) {
            let mut gone = old.clone();
            gone["state"] = Json::String("inactive".into());
            values.push(gone);
        }
    }
    desired["datasource"]["values"] = Json::Array(values);
}

/// Plans the changes that bring `loaded` to the file's state.
fn plan(loaded: &LoadedSchema, doc: &Json, now: i64) -> AppResult<(Vec<MetadataChange>, ApplyReport)> {
    let mut snap = MetadataSnapshot {
        version: loaded.version,
        fields: loaded.docs.iter().map(|(r, _)| r.clone()).collect(),
        rules: loaded.rules.clone(),
        deleted_fields: loaded.deleted_fields.clone(),
    };
    let mut changes = Vec::new();
    let mut report = ApplyReport::default();
    for item in list(doc, "metadata_fields")? {
        let id = required_id(item, "metadata field")?;
        let mut desired = item.clone();
        let current = snap.fields.iter().position(|f| f.external_id == id);
        if let Some(i) = current {
            datasource_as_declared(&mut desired, &snap.fields[i].doc);
        }
        let parsed = parse_field(&desired, &mut String::new).map_err(|e| bad(format!("Metadata field {id}: {e}")))?;
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
    for item in list(doc, "metadata_rules")? {
        let id = required_id(item, "metadata rule")?;
        let text = |k: &str| item.get(k).and_then(Json::as_str).map(str::to_owned);
        let field = text("metadata_field_id")
            .ok_or_else(|| bad(format!("Metadata rule {id}: metadata_field_id is required")))?;
        let active = match text("state").as_deref() {
            None | Some("active") => true,
            Some("inactive") => false,
            Some(s) => return Err(bad(format!("Metadata rule {id}: invalid state '{s}'"))),
        };
        let current = snap.rules.iter().position(|r| r.external_id == id);
        let rec = RuleRecord {
            external_id: id.clone(),
            seq: current.map_or(next_seq, |i| snap.rules[i].seq),
            name: text("name").unwrap_or_else(|| id.clone()),
            field,
            condition: item
                .get("condition")
                .cloned()
                .ok_or_else(|| bad(format!("Metadata rule {id}: condition is required")))?,
            result: item
                .get("result")
                .cloned()
                .ok_or_else(|| bad(format!("Metadata rule {id}: result is required")))?,
            active,
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
    pub async fn apply_metadata_schema(&self, caller: &Caller, doc: &Json, dry_run: bool) -> AppResult<ApplyReport> {
        let now = self.now();
        self.change_schema(caller, |loaded| {
            let (changes, report) = plan(loaded, doc, now)?;
            Ok((if dry_run { Vec::new() } else { changes }, report))
        })
        .await
    }
}
