//! The Metadata API: fields and their datasources. Definitions are JSON documents; every
//! change is checked by parsing the resulting document with the same parser that loads it.
//!
//! Docs: <https://cloudinary.com/documentation/admin_api#metadata_fields>.

use std::collections::HashMap;

use serde_json::{Map, Value as Json, json};

use nimbus_core::metadata::doc::{
    FieldDoc, MAX_DATASOURCE_VALUES, check_datasource_len, check_external_id, entry_json, field_json,
    parse_datasource_values, parse_field,
};
use nimbus_core::metadata::{DatasourceEntry, FieldType};

use super::LoadedSchema;
use crate::error::AppResult;
use crate::events::Caller;
use crate::limits::check_ids;
use crate::ports::{FieldRecord, MetadataChange};
use crate::{App, AppError};

/// Most fields an environment may define (Cloudinary's limit).
pub const MAX_FIELDS: usize = 100;

/// Length of generated external ids.
const GENERATED_ID_LEN: usize = 16;

fn not_found(id: &str) -> AppError {
    AppError::MetadataFieldNotFound(id.to_owned())
}

fn bad(msg: impl Into<String>) -> AppError {
    AppError::MetadataSchema(msg.into())
}

/// The datasource as the datasource endpoints show it: the active values.
pub fn datasource_json(doc: &FieldDoc) -> Json {
    let values: Vec<Json> = doc.field.datasource.iter().filter(|e| e.active).map(|e| entry_json(e, false)).collect();
    json!({ "values": values })
}

fn with_datasource(loaded: &LoadedSchema, id: &str) -> AppResult<(FieldRecord, FieldDoc)> {
    let (rec, doc) = loaded.doc(id).ok_or_else(|| not_found(id))?;
    if !doc.field.field_type.has_datasource() {
        return Err(bad(format!("Metadata field {id} has no datasource (type {})", doc.field.field_type.as_str())));
    }
    Ok((rec.clone(), doc.clone()))
}

/// Upserts entries into a datasource: known ids get the new value (and state, if given);
/// new ids are appended. One pass over each list (ids are looked up by hash).
fn merge_entries(current: &mut Vec<DatasourceEntry>, incoming: Vec<DatasourceEntry>, states_given: &[bool]) {
    let mut at: HashMap<String, usize> = current.iter().enumerate().map(|(i, c)| (c.external_id.clone(), i)).collect();
    for (e, state_given) in incoming.into_iter().zip(states_given.iter().copied()) {
        match at.get(&e.external_id) {
            Some(&i) => {
                let c = &mut current[i];
                c.value = e.value;
                if state_given {
                    c.active = e.active;
                }
            }
            None => {
                at.insert(e.external_id.clone(), current.len());
                current.push(e);
            }
        }
    }
}

/// How many values a field body's datasource lists (`{"values": [...]}` or a bare array).
fn datasource_len(body: &Json) -> Option<usize> {
    match body.get("datasource")? {
        Json::Object(ds) => ds.get("values")?.as_array().map(Vec::len),
        Json::Array(a) => Some(a.len()),
        _ => None,
    }
}

fn states_given(values: &Json) -> Vec<bool> {
    values.as_array().map(|a| a.iter().map(|v| v.get("state").is_some()).collect()).unwrap_or_default()
}

/// Ids listed in a body's `external_ids`.
fn external_ids(body: &Json) -> AppResult<Vec<String>> {
    match body.get("external_ids") {
        Some(Json::Array(a)) => {
            a.iter().map(|v| v.as_str().map(str::to_owned).ok_or_else(|| bad("external_ids must be strings"))).collect()
        }
        Some(Json::String(s)) => Ok(s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()),
        _ => Err(AppError::MissingParam("external_ids")),
    }
}

pub(crate) fn record(doc: &FieldDoc, position: i64, created_at: i64) -> FieldRecord {
    FieldRecord { external_id: doc.field.external_id.clone(), position, doc: field_json(doc), created_at }
}

fn check_label_free(loaded: &LoadedSchema, label: &str, except: &str) -> AppResult<()> {
    if loaded.docs.iter().any(|(_, d)| d.field.label == label && d.field.external_id != except) {
        return Err(AppError::AlreadyExists(format!("Metadata field with label '{label}'")));
    }
    Ok(())
}

impl App {
    fn generated_id(&self) -> String {
        self.ids.token(GENERATED_ID_LEN)
    }

    pub async fn list_metadata_fields(&self, env: i64) -> AppResult<Json> {
        let loaded = self.metadata_schema(env).await?;
        let fields: Vec<Json> = loaded.docs.iter().map(|(_, d)| field_json(d)).collect();
        Ok(json!({ "metadata_fields": fields }))
    }

    pub async fn get_metadata_field(&self, env: i64, id: &str) -> AppResult<Json> {
        let loaded = self.metadata_schema(env).await?;
        loaded.doc(id).map(|(_, d)| field_json(d)).ok_or_else(|| not_found(id))
    }

    pub async fn create_metadata_field(&self, caller: &Caller, body: &Json) -> AppResult<Json> {
        // The size first: ids are generated below for every value given without one.
        if let Some(n) = datasource_len(body) {
            check_datasource_len(n).map_err(bad)?;
        }
        let now = self.now();
        // Generated ids are fixed before the first attempt so a retry does not rename them.
        let mut body = body.clone();
        if let Some(o) = body.as_object_mut() {
            if o.get("external_id").is_none_or(Json::is_null) {
                o.insert("external_id".into(), Json::String(self.generated_id()));
            }
            if let Some(Json::Array(values)) = o.get_mut("datasource").and_then(|d| d.get_mut("values")) {
                for v in values.iter_mut().filter_map(Json::as_object_mut) {
                    if v.get("external_id").is_none_or(Json::is_null) {
                        v.insert("external_id".into(), Json::String(self.generated_id()));
                    }
                }
            }
        }
        let doc = parse_field(&body, &mut || self.generated_id()).map_err(bad)?;
        check_default_active(&doc)?;
        self.change_schema(caller, |loaded| {
            let id = &doc.field.external_id;
            if loaded.doc(id).is_some() {
                return Err(AppError::AlreadyExists(format!("A metadata field with external id {id}")));
            }
            if loaded.deleted_fields.iter().any(|d| d == id) {
                return Err(bad(format!(
                    "A metadata field with external id {id} already exists (deleted fields keep their external id)"
                )));
            }
            if loaded.docs.len() >= MAX_FIELDS {
                return Err(bad(format!("An environment has at most {MAX_FIELDS} metadata fields")));
            }
            check_label_free(loaded, &doc.field.label, id)?;
            let position = loaded.docs.iter().map(|(r, _)| r.position).max().map_or(0, |p| p + 1);
            Ok((vec![MetadataChange::PutField(record(&doc, position, now))], field_json(&doc)))
        })
        .await
    }

    /// Partial update: given keys replace the stored ones; `external_id` and `type` cannot
    /// change and are ignored; datasource values are upserted by external id.
    pub async fn update_metadata_field(&self, caller: &Caller, id: &str, body: &Json) -> AppResult<Json> {
        let Json::Object(patch) = body else { return Err(bad("A metadata field must be a JSON object")) };
        if let Some(n) = datasource_len(body) {
            check_datasource_len(n).map_err(bad)?;
        }
        self.change_schema(caller, |loaded| {
            let (rec, old) = loaded.doc(id).ok_or_else(|| not_found(id))?;
            let mut merged: Map<String, Json> = match field_json(old) {
                Json::Object(o) => o,
                _ => Map::new(),
            };
            for (k, v) in patch {
                if !matches!(k.as_str(), "external_id" | "type" | "datasource") {
                    merged.insert(k.clone(), v.clone());
                }
            }
            let mut doc = parse_field(&Json::Object(merged), &mut || self.generated_id()).map_err(bad)?;
            if let Some(values) = patch.get("datasource").and_then(|d| d.get("values").or(Some(d))) {
                if !doc.field.field_type.has_datasource() {
                    return Err(bad(format!(
                        "A datasource is only valid for enum and set fields, not {}",
                        old.field.field_type.as_str()
                    )));
                }
                let incoming = parse_datasource_values(values, &mut || self.generated_id()).map_err(bad)?;
                merge_entries(&mut doc.field.datasource, incoming, &states_given(values));
                doc = reparse(&doc)?;
            }
            check_default_active(&doc)?;
            check_label_free(loaded, &doc.field.label, id)?;
            Ok((vec![MetadataChange::PutField(record(&doc, rec.position, rec.created_at))], field_json(&doc)))
        })
        .await
    }

    /// Deletes a field. Rules that use it (as target or in a condition) block the delete
    /// with 409, unless `force`, which deletes them in the same change.
    pub async fn delete_metadata_field(&self, caller: &Caller, id: &str, force: bool) -> AppResult<()> {
        self.change_schema(caller, |loaded| {
            loaded.doc(id).ok_or_else(|| not_found(id))?;
            let users: Vec<&str> = loaded
                .schema
                .rules
                .iter()
                .filter(|r| r.field == id || r.condition.fields().contains(id))
                .map(|r| r.external_id.as_str())
                .collect();
            let active: Vec<&str> = loaded
                .schema
                .rules
                .iter()
                .filter(|r| r.active && users.contains(&r.external_id.as_str()))
                .map(|r| r.external_id.as_str())
                .collect();
            if !active.is_empty() && !force {
                return Err(AppError::Conflict(format!(
                    "Metadata field {id} is used by active metadata rules: {}; delete or deactivate them first, or delete with force=true",
                    active.join(", ")
                )));
            }
            // Inactive rules that use the field go with it: they could never be activated again.
            let mut changes: Vec<MetadataChange> =
                users.iter().map(|r| MetadataChange::DeleteRule((*r).to_owned())).collect();
            changes.push(MetadataChange::DeleteField(id.to_owned()));
            Ok((changes, ()))
        })
        .await
    }

    /// `PUT metadata_fields/{id}/datasource`: upserts values; returns the active values.
    pub async fn update_datasource(&self, caller: &Caller, id: &str, body: &Json) -> AppResult<Json> {
        let values = body.get("values").ok_or(AppError::MissingParam("values"))?;
        let incoming = parse_datasource_values(values, &mut || self.generated_id()).map_err(bad)?;
        let given = states_given(values);
        self.change_schema(caller, |loaded| {
            let (rec, mut doc) = with_datasource(loaded, id)?;
            merge_entries(&mut doc.field.datasource, incoming.clone(), &given);
            check_datasource_len(doc.field.datasource.len()).map_err(bad)?;
            let doc = reparse(&doc)?;
            Ok((vec![MetadataChange::PutField(record(&doc, rec.position, rec.created_at))], datasource_json(&doc)))
        })
        .await
    }

    /// Soft delete (`active = false`) or restore of datasource values; unknown ids are an error.
    pub async fn set_datasource_state(&self, caller: &Caller, id: &str, body: &Json, active: bool) -> AppResult<Json> {
        let ids = external_ids(body)?;
        // A datasource has no more values than this to name.
        check_ids("external_ids", ids.len(), MAX_DATASOURCE_VALUES)?;
        self.change_schema(caller, |loaded| {
            let (rec, mut doc) = with_datasource(loaded, id)?;
            let at: HashMap<&str, usize> =
                doc.field.datasource.iter().enumerate().map(|(i, e)| (e.external_id.as_str(), i)).collect();
            let mut positions = Vec::with_capacity(ids.len());
            for want in &ids {
                let i = at
                    .get(want.as_str())
                    .ok_or_else(|| bad(format!("Datasource value {want} not found in metadata field {id}")))?;
                positions.push(*i);
            }
            for i in positions {
                doc.field.datasource[i].active = active;
            }
            let doc = reparse(&doc)?;
            Ok((vec![MetadataChange::PutField(record(&doc, rec.position, rec.created_at))], datasource_json(&doc)))
        })
        .await
    }

    /// Reorders datasource values by `value` (or `external_id`), `asc` or `desc`.
    pub async fn order_datasource(
        &self,
        caller: &Caller,
        id: &str,
        order_by: &str,
        direction: &str,
    ) -> AppResult<Json> {
        let desc = parse_direction(direction)?;
        let by_value = match order_by {
            "value" => true,
            "external_id" => false,
            other => return Err(AppError::InvalidParam { name: "order_by", value: other.to_owned() }),
        };
        self.change_schema(caller, |loaded| {
            let (rec, mut doc) = with_datasource(loaded, id)?;
            doc.field.datasource.sort_by(|a, b| {
                let o = if by_value { a.value.cmp(&b.value) } else { a.external_id.cmp(&b.external_id) };
                if desc { o.reverse() } else { o }
            });
            Ok((vec![MetadataChange::PutField(record(&doc, rec.position, rec.created_at))], datasource_json(&doc)))
        })
        .await
    }

    /// Datasource values whose value contains `term` (case-insensitive), with their state.
    pub async fn search_datasource(&self, env: i64, id: &str, term: &str) -> AppResult<Json> {
        let loaded = self.metadata_schema(env).await?;
        let (_, doc) = with_datasource(&loaded, id)?;
        let term = term.to_lowercase();
        let values: Vec<Json> = doc
            .field
            .datasource
            .iter()
            .filter(|e| e.value.to_lowercase().contains(&term))
            .map(|e| entry_json(e, true))
            .collect();
        Ok(json!({ "values": values }))
    }

    /// `PUT metadata_fields/order`: by `label`, `external_id` or `created_at`.
    pub async fn order_metadata_fields(&self, caller: &Caller, order_by: &str, direction: &str) -> AppResult<Json> {
        let desc = parse_direction(direction)?;
        if !matches!(order_by, "label" | "external_id" | "created_at") {
            return Err(AppError::InvalidParam { name: "order_by", value: order_by.to_owned() });
        }
        self.change_schema(caller, |loaded| {
            let mut docs: Vec<&(FieldRecord, FieldDoc)> = loaded.docs.iter().collect();
            docs.sort_by(|(ra, a), (rb, b)| {
                let o = match order_by {
                    "label" => a.field.label.cmp(&b.field.label),
                    "external_id" => a.field.external_id.cmp(&b.field.external_id),
                    _ => ra.created_at.cmp(&rb.created_at).then(ra.position.cmp(&rb.position)),
                };
                if desc { o.reverse() } else { o }
            });
            let changes = docs
                .iter()
                .enumerate()
                .map(|(i, (r, _))| MetadataChange::PutField(FieldRecord { position: i as i64, ..r.clone() }))
                .collect();
            let fields: Vec<Json> = docs.iter().map(|(_, d)| field_json(d)).collect();
            Ok((changes, json!({ "metadata_fields": fields })))
        })
        .await
    }
}

fn parse_direction(d: &str) -> AppResult<bool> {
    match d {
        "" | "asc" => Ok(false),
        "desc" => Ok(true),
        other => Err(AppError::InvalidParam { name: "direction", value: other.to_owned() }),
    }
}

/// Checks a changed definition as a whole by parsing its rendered form.
fn reparse(doc: &FieldDoc) -> AppResult<FieldDoc> {
    parse_field(&field_json(doc), &mut String::new).map_err(bad)
}

/// A default must be an active value when it is set (stored defaults may later go inactive).
fn check_default_active(doc: &FieldDoc) -> AppResult<()> {
    let f = &doc.field;
    if f.field_type == FieldType::Enum || f.field_type == FieldType::Set {
        if let Some(v) = &f.default_value {
            if let Some(bad_id) = v.ids().into_iter().find(|i| f.entry(i).is_some_and(|e| !e.active)) {
                return Err(bad(format!("default_value '{bad_id}' is an inactive datasource value")));
            }
        }
    }
    check_external_id("metadata field", &f.external_id).map_err(bad)
}
