//! Structured-metadata requests and answers in Cloudinary's JSON: field definitions and
//! their datasources (the Metadata API), the `metadata` of an evaluation request, and the
//! evaluation (`metadata_rules/evaluate`, a Nimbus extension).
//! Docs: <https://cloudinary.com/documentation/admin_api#metadata_fields>.

use nimbus_app::metadata::apply::SchemaFile;
use nimbus_app::metadata::fields::{DatasourceUpsert, FieldOrder, ValueOrder};
use nimbus_app::metadata::rules::Evaluation;
use nimbus_app::metadata::rules::RuleDraft;
use nimbus_app::metadata::values::{MetadataInput, RawInput, parse_input};
use nimbus_app::{App, AppError};
use nimbus_core::metadata::DatasourceEntry;
use nimbus_core::metadata::doc::{FieldDoc, entry_json, field_json, parse_datasource_values, parse_field, value_json};
use serde_json::{Map, Value, json};

/// `metadata` of a request body: an object, or Cloudinary's `key=value|...` text.
pub fn metadata_input(body: &Value) -> Result<MetadataInput, AppError> {
    match body.get("metadata") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => parse_input(s),
        Some(Value::Object(o)) => Ok(o.iter().map(|(k, v)| (k.clone(), RawInput::Json(v.clone()))).collect()),
        Some(other) => Err(AppError::MetadataSchema(format!("'metadata' must be an object, got {other}"))),
    }
}

/// An evaluation: `{schema_version, fields: {id: state}, fired}`.
pub fn evaluation_json(e: &Evaluation) -> Value {
    let fields: Map<String, Value> = e
        .fields
        .iter()
        .map(|(id, st)| {
            let state = json!({
                "enabled": st.enabled,
                "hidden": st.hidden,
                "mandatory": st.mandatory,
                "allowed_values": st.allowed_values,
                "default_value": st.default_value.as_ref().map(value_json),
                "value": st.value.as_ref().map(value_json),
                "fired": st.fired,
            });
            (id.clone(), state)
        })
        .collect();
    json!({ "schema_version": e.schema_version, "fields": fields, "fired": e.fired })
}

/// `{"metadata_fields": [...]}`.
pub fn fields_json(docs: &[FieldDoc]) -> Value {
    json!({ "metadata_fields": docs.iter().map(field_json).collect::<Vec<_>>() })
}

/// The datasource as the datasource endpoints show it: the active values.
pub fn datasource_json(doc: &FieldDoc) -> Value {
    let values: Vec<Value> = doc.field.datasource.iter().filter(|e| e.active).map(|e| entry_json(e, false)).collect();
    json!({ "values": values })
}

/// Datasource values with their state (`datasource/search`).
pub fn entries_json(entries: &[DatasourceEntry]) -> Value {
    json!({ "values": entries.iter().map(|e| entry_json(e, true)).collect::<Vec<_>>() })
}

fn schema_error(msg: String) -> AppError {
    AppError::MetadataSchema(msg)
}

/// A new field's definition. The field and values given without an external id get one.
pub fn new_field(app: &App, body: &Value) -> Result<FieldDoc, AppError> {
    parse_field(body, &mut || app.new_external_id()).map_err(schema_error)
}

/// A field update body's changes to the definition: given keys replace the current ones
/// (`external_id`, `type` and `datasource` are not among them).
pub struct FieldPatch(Map<String, Value>);

impl FieldPatch {
    /// The new definition: `old` with the patch's keys.
    pub fn apply(&self, app: &App, old: &FieldDoc) -> Result<FieldDoc, AppError> {
        let Value::Object(mut merged) = field_json(old) else { unreachable!("a field renders as an object") };
        merged.extend(self.0.clone());
        parse_field(&Value::Object(merged), &mut || app.new_external_id()).map_err(schema_error)
    }
}

/// A field update body: its patch, and the datasource values to upsert, if any.
pub fn field_update(app: &App, body: &Value) -> Result<(FieldPatch, Option<DatasourceUpsert>), AppError> {
    let Value::Object(patch) = body else {
        return Err(schema_error("A metadata field must be a JSON object".into()));
    };
    let datasource = match patch.get("datasource") {
        None | Some(Value::Null) => None,
        Some(d) => Some(datasource_upsert(app, d.get("values").unwrap_or(d))?),
    };
    let patch = patch
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "external_id" | "type" | "datasource"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok((FieldPatch(patch), datasource))
}

/// Datasource `values` to upsert; a value without an external id gets one.
pub fn datasource_upsert(app: &App, values: &Value) -> Result<DatasourceUpsert, AppError> {
    let entries = parse_datasource_values(values, &mut || app.new_external_id()).map_err(schema_error)?;
    let states_given =
        values.as_array().map(|a| a.iter().map(|v| v.get("state").is_some()).collect()).unwrap_or_default();
    Ok(DatasourceUpsert { entries, states_given })
}

/// Ids listed in a body's `external_ids` (an array, or a comma-separated string).
pub fn external_ids(body: &Value) -> Result<Vec<String>, AppError> {
    match body.get("external_ids") {
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or_else(|| schema_error("external_ids must be strings".into())))
            .collect(),
        Some(Value::String(s)) => {
            Ok(s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
        }
        _ => Err(AppError::MissingParam("external_ids")),
    }
}

/// `direction`: `asc` (or empty) or `desc`; true for descending.
pub fn descending(direction: &str) -> Result<bool, AppError> {
    match direction {
        "" | "asc" => Ok(false),
        "desc" => Ok(true),
        other => Err(AppError::InvalidParam { name: "direction", value: other.to_owned() }),
    }
}

pub fn field_order(order_by: &str) -> Result<FieldOrder, AppError> {
    match order_by {
        "label" => Ok(FieldOrder::Label),
        "external_id" => Ok(FieldOrder::ExternalId),
        "created_at" => Ok(FieldOrder::CreatedAt),
        other => Err(AppError::InvalidParam { name: "order_by", value: other.to_owned() }),
    }
}

pub fn value_order(order_by: &str) -> Result<ValueOrder, AppError> {
    match order_by {
        "value" => Ok(ValueOrder::Value),
        "external_id" => Ok(ValueOrder::ExternalId),
        other => Err(AppError::InvalidParam { name: "order_by", value: other.to_owned() }),
    }
}

fn rule_text(body: &Map<String, Value>, key: &str) -> Result<Option<String>, AppError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(schema_error(format!("'{key}' must be a string, got {other}"))),
    }
}

/// A JSON object given in full, or as JSON text (form-encoded clients); `{}` counts as absent.
fn rule_object(body: &Map<String, Value>, key: &str) -> Result<Option<Value>, AppError> {
    let v = match body.get(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => {
            serde_json::from_str::<Value>(s).map_err(|_| schema_error(format!("'{key}' must be a JSON object")))?
        }
        Some(v) => v.clone(),
    };
    match &v {
        Value::Object(o) if o.is_empty() => Ok(None),
        Value::Object(_) => Ok(Some(v)),
        other => Err(schema_error(format!("'{key}' must be a JSON object, got {other}"))),
    }
}

/// A rule from a request body of the rules API (or an entry of a schema file).
pub fn rule_draft(body: &Value) -> Result<RuleDraft, AppError> {
    let Value::Object(body) = body else { return Err(schema_error("A metadata rule must be a JSON object".into())) };
    let active = match rule_text(body, "state")?.as_deref() {
        None => None,
        Some("active") => Some(true),
        Some("inactive") => Some(false),
        Some(other) => return Err(schema_error(format!("Invalid rule state '{other}'; expected active or inactive"))),
    };
    Ok(RuleDraft {
        external_id: rule_text(body, "external_id")?,
        field: rule_text(body, "metadata_field_id")?,
        name: rule_text(body, "name")?,
        condition: rule_object(body, "condition")?,
        result: rule_object(body, "result")?,
        active,
    })
}

/// A schema file (`{"metadata_fields": [...], "metadata_rules": [...]}`, in the Metadata and
/// rules APIs' own shapes). Every field and rule names its external id: it is how applying the
/// file again finds it.
pub fn schema_file(doc: &Value) -> Result<SchemaFile, AppError> {
    let list = |key: &str| -> Result<Vec<Value>, AppError> {
        match doc.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(a)) => Ok(a.clone()),
            Some(_) => Err(schema_error(format!("'{key}' must be an array"))),
        }
    };
    let required_id = |item: &Value, what: &str| -> Result<String, AppError> {
        item.get("external_id").and_then(Value::as_str).map(str::to_owned).ok_or_else(|| {
            schema_error(format!("Every {what} in a schema file needs an external_id (it is how re-applying finds it)"))
        })
    };
    let mut file = SchemaFile::default();
    for item in list("metadata_fields")? {
        let id = required_id(&item, "metadata field")?;
        let doc =
            parse_field(&item, &mut String::new).map_err(|e| schema_error(format!("Metadata field {id}: {e}")))?;
        file.fields.push(doc);
    }
    for item in list("metadata_rules")? {
        let id = required_id(&item, "metadata rule")?;
        file.rules.push(rule_draft(&item).map_err(|e| schema_error(format!("Metadata rule {id}: {e}")))?);
    }
    Ok(file)
}
