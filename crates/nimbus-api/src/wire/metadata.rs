//! Structured-metadata requests and answers in Cloudinary's JSON: the `metadata` of an
//! evaluation request, and the evaluation (`metadata_rules/evaluate`, a Nimbus extension).

use nimbus_app::AppError;
use nimbus_app::metadata::rules::Evaluation;
use nimbus_app::metadata::values::{MetadataInput, RawInput, parse_input};
use nimbus_core::metadata::doc::value_json;
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
