//! The Metadata API: fields and their datasources, as typed definitions ([`FieldDoc`]). They
//! are stored as Cloudinary's JSON documents; every change is checked by parsing the
//! resulting document with the same parser that loads it.
//!
//! Docs: <https://cloudinary.com/documentation/admin_api#metadata_fields>.

use std::collections::HashMap;

use nimbus_core::metadata::doc::{
    FieldDoc, MAX_DATASOURCE_VALUES, check_datasource_len, check_external_id, field_json, parse_field,
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

fn with_datasource(loaded: &LoadedSchema, id: &str) -> AppResult<(FieldRecord, FieldDoc)> {
    let (rec, doc) = loaded.doc(id).ok_or_else(|| not_found(id))?;
    if !doc.field.field_type.has_datasource() {
        return Err(bad(format!("Metadata field {id} has no datasource (type {})", doc.field.field_type.as_str())));
    }
    Ok((rec.clone(), doc.clone()))
}

/// Values to upsert into a datasource: known ids get the new value (and state, where
/// `states_given` says a state was given); new ids are appended.
#[derive(Debug, Clone, Default)]
pub struct DatasourceUpsert {
    pub entries: Vec<DatasourceEntry>,
    /// Per entry, whether its state was given (else a known value keeps its state).
    pub states_given: Vec<bool>,
}

/// How `order_metadata_fields` orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldOrder {
    Label,
    ExternalId,
    CreatedAt,
}

/// How `order_datasource` orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueOrder {
    Value,
    ExternalId,
}

/// One pass over each list (ids are looked up by hash).
fn merge_entries(current: &mut Vec<DatasourceEntry>, upsert: DatasourceUpsert) {
    let mut at: HashMap<String, usize> = current.iter().enumerate().map(|(i, c)| (c.external_id.clone(), i)).collect();
    for (e, state_given) in upsert.entries.into_iter().zip(upsert.states_given.iter().copied()) {
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
    /// A new external id, for a field or datasource value given without one.
    pub fn new_external_id(&self) -> String {
        self.ids.token(GENERATED_ID_LEN)
    }

    pub async fn list_metadata_fields(&self, env: i64) -> AppResult<Vec<FieldDoc>> {
        let loaded = self.metadata_schema(env).await?;
        Ok(loaded.docs.iter().map(|(_, d)| d.clone()).collect())
    }

    pub async fn get_metadata_field(&self, env: i64, id: &str) -> AppResult<FieldDoc> {
        let loaded = self.metadata_schema(env).await?;
        loaded.doc(id).map(|(_, d)| d.clone()).ok_or_else(|| not_found(id))
    }

    /// Adds a field (its external id and its values' ids already chosen).
    pub async fn create_metadata_field(&self, caller: &Caller, doc: &FieldDoc) -> AppResult<FieldDoc> {
        check_datasource_len(doc.field.datasource.len()).map_err(bad)?;
        let doc = reparse(doc)?;
        check_default_active(&doc)?;
        let now = self.now();
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
            Ok((vec![MetadataChange::PutField(record(&doc, position, now))], doc.clone()))
        })
        .await
    }

    /// Changes a field: `edit` makes the new definition from the current one (it may be
    /// called again if another change lands first); its external id and type cannot change.
    /// `datasource` values are then upserted by external id.
    pub async fn update_metadata_field(
        &self,
        caller: &Caller,
        id: &str,
        edit: impl Fn(&FieldDoc) -> AppResult<FieldDoc>,
        datasource: Option<DatasourceUpsert>,
    ) -> AppResult<FieldDoc> {
        if let Some(d) = &datasource {
            check_datasource_len(d.entries.len()).map_err(bad)?;
        }
        self.change_schema(caller, |loaded| {
            let (rec, old) = loaded.doc(id).ok_or_else(|| not_found(id))?;
            let mut doc = edit(old)?;
            doc.field.external_id.clone_from(&old.field.external_id);
            doc.field.field_type = old.field.field_type;
            if !old.field.field_type.has_datasource() {
                doc.field.datasource.clear();
            } else {
                doc.field.datasource.clone_from(&old.field.datasource);
            }
            if let Some(upsert) = datasource.clone() {
                if !doc.field.field_type.has_datasource() {
                    return Err(bad(format!(
                        "A datasource is only valid for enum and set fields, not {}",
                        old.field.field_type.as_str()
                    )));
                }
                merge_entries(&mut doc.field.datasource, upsert);
                check_datasource_len(doc.field.datasource.len()).map_err(bad)?;
            }
            let doc = reparse(&doc)?;
            check_default_active(&doc)?;
            check_label_free(loaded, &doc.field.label, id)?;
            Ok((vec![MetadataChange::PutField(record(&doc, rec.position, rec.created_at))], doc))
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

    /// `PUT metadata_fields/{id}/datasource`: upserts values; returns the field.
    pub async fn update_datasource(&self, caller: &Caller, id: &str, upsert: DatasourceUpsert) -> AppResult<FieldDoc> {
        check_datasource_len(upsert.entries.len()).map_err(bad)?;
        self.change_schema(caller, |loaded| {
            let (rec, mut doc) = with_datasource(loaded, id)?;
            merge_entries(&mut doc.field.datasource, upsert.clone());
            check_datasource_len(doc.field.datasource.len()).map_err(bad)?;
            let doc = reparse(&doc)?;
            Ok((vec![MetadataChange::PutField(record(&doc, rec.position, rec.created_at))], doc))
        })
        .await
    }

    /// Soft delete (`active = false`) or restore of datasource values; unknown ids are an
    /// error. Returns the field.
    pub async fn set_datasource_state(
        &self,
        caller: &Caller,
        id: &str,
        ids: &[String],
        active: bool,
    ) -> AppResult<FieldDoc> {
        // A datasource has no more values than this to name.
        check_ids("external_ids", ids.len(), MAX_DATASOURCE_VALUES)?;
        self.change_schema(caller, |loaded| {
            let (rec, mut doc) = with_datasource(loaded, id)?;
            let at: HashMap<&str, usize> =
                doc.field.datasource.iter().enumerate().map(|(i, e)| (e.external_id.as_str(), i)).collect();
            let mut positions = Vec::with_capacity(ids.len());
            for want in ids {
                let i = at
                    .get(want.as_str())
                    .ok_or_else(|| bad(format!("Datasource value {want} not found in metadata field {id}")))?;
                positions.push(*i);
            }
            for i in positions {
                doc.field.datasource[i].active = active;
            }
            let doc = reparse(&doc)?;
            Ok((vec![MetadataChange::PutField(record(&doc, rec.position, rec.created_at))], doc))
        })
        .await
    }

    /// Reorders datasource values. Returns the field.
    pub async fn order_datasource(
        &self,
        caller: &Caller,
        id: &str,
        order: ValueOrder,
        descending: bool,
    ) -> AppResult<FieldDoc> {
        self.change_schema(caller, |loaded| {
            let (rec, mut doc) = with_datasource(loaded, id)?;
            doc.field.datasource.sort_by(|a, b| {
                let o = match order {
                    ValueOrder::Value => a.value.cmp(&b.value),
                    ValueOrder::ExternalId => a.external_id.cmp(&b.external_id),
                };
                if descending { o.reverse() } else { o }
            });
            Ok((vec![MetadataChange::PutField(record(&doc, rec.position, rec.created_at))], doc))
        })
        .await
    }

    /// Datasource values whose value contains `term` (case-insensitive), active or not.
    pub async fn search_datasource(&self, env: i64, id: &str, term: &str) -> AppResult<Vec<DatasourceEntry>> {
        let loaded = self.metadata_schema(env).await?;
        let (_, doc) = with_datasource(&loaded, id)?;
        let term = term.to_lowercase();
        Ok(doc.field.datasource.into_iter().filter(|e| e.value.to_lowercase().contains(&term)).collect())
    }

    /// `PUT metadata_fields/order`: reorders the fields; returns them in the new order.
    pub async fn order_metadata_fields(
        &self,
        caller: &Caller,
        order: FieldOrder,
        descending: bool,
    ) -> AppResult<Vec<FieldDoc>> {
        self.change_schema(caller, |loaded| {
            let mut docs: Vec<&(FieldRecord, FieldDoc)> = loaded.docs.iter().collect();
            docs.sort_by(|(ra, a), (rb, b)| {
                let o = match order {
                    FieldOrder::Label => a.field.label.cmp(&b.field.label),
                    FieldOrder::ExternalId => a.field.external_id.cmp(&b.field.external_id),
                    FieldOrder::CreatedAt => ra.created_at.cmp(&rb.created_at).then(ra.position.cmp(&rb.position)),
                };
                if descending { o.reverse() } else { o }
            });
            let changes = docs
                .iter()
                .enumerate()
                .map(|(i, (r, _))| MetadataChange::PutField(FieldRecord { position: i as i64, ..r.clone() }))
                .collect();
            Ok((changes, docs.iter().map(|(_, d)| d.clone()).collect()))
        })
        .await
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
