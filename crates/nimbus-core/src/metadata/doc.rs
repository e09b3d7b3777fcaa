//! Metadata fields and values in their wire form (Cloudinary's Metadata API JSON): parsing a
//! field definition into a [`Field`] plus the keys the engine does not use, rendering it
//! back, and converting an asset's values between typed and JSON form.

use std::collections::BTreeSet;

use serde_json::{Map, Value as Json, json};

use super::rules::Fields;
use super::schema::{DatasourceEntry, Field, FieldType, Metadata, RawValue, Validation, Value};

/// Most values a datasource may hold. Cloudinary's documentation states no number; 3000 is
/// Nimbus's own bound, chosen because a field definition is one stored JSON document that is
/// re-parsed, and compiled into the rules engine (one bit per value), on every schema load
/// and change, and an editor's picker list is unusable long before that size. It is checked
/// before anything in the list is parsed or compared.
pub const MAX_DATASOURCE_VALUES: usize = 3000;
/// Longest external id or label accepted.
pub const MAX_ID_LEN: usize = 255;

/// A field definition: the engine's [`Field`] plus what is only stored and shown.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDoc {
    pub field: Field,
    /// `validation` as the client sent it (shown back unchanged).
    pub validation: Json,
    pub restrictions: Json,
    pub allow_dynamic_list_values: bool,
    /// Nimbus extension: a write that leaves this field disabled clears its stored value
    /// (by default disabled fields keep their values).
    pub clear_when_disabled: bool,
}

fn boolean(obj: &Map<String, Json>, key: &str) -> Result<Option<bool>, String> {
    match obj.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Bool(b)) => Ok(Some(*b)),
        Some(Json::String(s)) if s == "true" || s == "1" => Ok(Some(true)),
        Some(Json::String(s)) if s == "false" || s == "0" => Ok(Some(false)),
        Some(other) => Err(format!("'{key}' must be true or false, got {other}")),
    }
}

/// Checks an external id (of a field, a datasource value or a rule).
pub fn check_external_id(what: &str, id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > MAX_ID_LEN || id.contains(['/', '?', '#']) || id.chars().any(char::is_control) {
        return Err(format!(
            "Invalid {what} external_id '{id}': 1 to {MAX_ID_LEN} characters, without '/', '?' or '#'"
        ));
    }
    Ok(())
}

/// Refuses a datasource of more than [`MAX_DATASOURCE_VALUES`] values.
pub fn check_datasource_len(len: usize) -> Result<(), String> {
    if len > MAX_DATASOURCE_VALUES {
        return Err(format!("A datasource holds at most {MAX_DATASOURCE_VALUES} values; got {len}"));
    }
    Ok(())
}

/// Parses datasource values; entries without an id get `new_id()`. The size is checked
/// first, and duplicates are found in one pass, so an oversized list costs nothing.
pub fn parse_datasource_values(
    values: &Json,
    new_id: &mut dyn FnMut() -> String,
) -> Result<Vec<DatasourceEntry>, String> {
    let Json::Array(items) = values else { return Err("datasource 'values' must be an array".to_owned()) };
    check_datasource_len(items.len())?;
    let mut out: Vec<DatasourceEntry> = Vec::with_capacity(items.len());
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for item in items {
        let Json::Object(o) = item else { return Err("Each datasource value must be an object".to_owned()) };
        let value = match o.get("value") {
            Some(Json::String(s)) if !s.is_empty() => s.clone(),
            Some(Json::Number(n)) => n.to_string(),
            _ => return Err("Each datasource value must have a non-empty 'value'".to_owned()),
        };
        let external_id = match o.get("external_id") {
            Some(Json::String(s)) => s.clone(),
            None | Some(Json::Null) => new_id(),
            Some(other) => return Err(format!("Datasource external_id must be a string, got {other}")),
        };
        check_external_id("datasource value", &external_id)?;
        let active = match o.get("state").and_then(Json::as_str) {
            None | Some("active") => true,
            Some("inactive") => false,
            Some(s) => return Err(format!("Datasource value state must be active or inactive, got '{s}'")),
        };
        if !seen.insert(external_id.clone()) {
            return Err(format!("Datasource value external_id '{external_id}' appears twice"));
        }
        out.push(DatasourceEntry { external_id, value, active });
    }
    Ok(out)
}

fn parse_validation(json: &Json, t: FieldType, depth: usize) -> Result<Option<Validation>, String> {
    let obj = match json {
        Json::Null => return Ok(None),
        Json::Object(o) => o,
        other => return Err(format!("'validation' must be an object, got {other}")),
    };
    if depth > 4 {
        return Err("'validation' is nested too deeply".to_owned());
    }
    let bound = |key: &str| -> Result<Value, String> {
        let raw = obj.get(key).ok_or_else(|| format!("validation needs a '{key}'"))?;
        match t {
            FieldType::Integer => raw
                .as_i64()
                .or_else(|| raw.as_str().and_then(|s| s.parse().ok()))
                .map(Value::Int)
                .ok_or_else(|| format!("validation value must be an integer, got {raw}")),
            FieldType::Date => {
                let probe = Field { field_type: FieldType::Date, ..blank(String::new()) };
                probe
                    .parse_value(&RawValue::Json(raw))
                    .map_err(|_| format!("validation value must be a date, got {raw}"))
            }
            _ => Err(format!("greater_than and less_than apply to integer and date fields, not {}", t.as_str())),
        }
    };
    let equals = boolean(obj, "equals")?.unwrap_or(false);
    let v = match obj.get("type").and_then(Json::as_str) {
        Some("greater_than") => Validation::GreaterThan { value: bound("value")?, equals },
        Some("less_than") => Validation::LessThan { value: bound("value")?, equals },
        Some("strlen") => {
            if t != FieldType::String {
                return Err(format!("strlen validation applies to string fields, not {}", t.as_str()));
            }
            let num = |k: &str| match obj.get(k) {
                None | Some(Json::Null) => Ok(None),
                Some(j) => j.as_u64().map(Some).ok_or_else(|| format!("strlen '{k}' must be a non-negative integer")),
            };
            let (min, max) = (num("min")?, num("max")?);
            if min.is_none() && max.is_none() {
                return Err("strlen validation needs 'min' or 'max'".to_owned());
            }
            Validation::Strlen { min, max }
        }
        Some("and") => {
            let Some(Json::Array(rules)) = obj.get("rules") else {
                return Err("'and' validation needs a 'rules' array".to_owned());
            };
            let parts = rules
                .iter()
                .map(|r| {
                    parse_validation(r, t, depth + 1)?.ok_or_else(|| "validation rule must not be null".to_owned())
                })
                .collect::<Result<Vec<_>, _>>()?;
            Validation::And(parts)
        }
        Some(other) => return Err(format!("Unknown validation type '{other}'")),
        None => return Err("validation needs a 'type'".to_owned()),
    };
    Ok(Some(v))
}

fn blank(external_id: String) -> Field {
    Field {
        label: external_id.clone(),
        external_id,
        field_type: FieldType::String,
        mandatory: false,
        default_value: None,
        default_disabled: false,
        validation: None,
        datasource: Vec::new(),
    }
}

/// Parses a field definition (create, or a stored document). `new_id` names the field and
/// datasource values given without an external id.
pub fn parse_field(json: &Json, new_id: &mut dyn FnMut() -> String) -> Result<FieldDoc, String> {
    let Json::Object(obj) = json else { return Err("A metadata field must be a JSON object".to_owned()) };
    let field_type = match obj.get("type") {
        Some(Json::String(t)) => FieldType::parse(t)
            .ok_or_else(|| format!("Invalid metadata field type '{t}'; expected string, integer, date, enum or set"))?,
        _ => return Err("Missing required parameter - type".to_owned()),
    };
    let external_id = match obj.get("external_id") {
        Some(Json::String(s)) => s.clone(),
        None | Some(Json::Null) => new_id(),
        Some(other) => return Err(format!("external_id must be a string, got {other}")),
    };
    check_external_id("metadata field", &external_id)?;
    let label = match obj.get("label") {
        Some(Json::String(s)) if !s.trim().is_empty() => s.clone(),
        None | Some(Json::Null) => external_id.clone(),
        _ => return Err("label must be a non-empty string".to_owned()),
    };
    if label.len() > MAX_ID_LEN {
        return Err(format!("label is longer than {MAX_ID_LEN} characters"));
    }
    let mut field = Field { label, field_type, ..blank(external_id) };
    field.mandatory = boolean(obj, "mandatory")?.unwrap_or(false);
    field.default_disabled = boolean(obj, "default_disabled")?.unwrap_or(false);
    if field_type.has_datasource() {
        let values = match obj.get("datasource") {
            Some(Json::Object(ds)) => ds.get("values").cloned().unwrap_or(Json::Array(Vec::new())),
            Some(Json::Array(a)) => Json::Array(a.clone()),
            _ => return Err(format!("A datasource is required for {} fields", field_type.as_str())),
        };
        field.datasource = parse_datasource_values(&values, new_id)?;
        if field.datasource.is_empty() {
            return Err("The datasource must have at least one value".to_owned());
        }
    } else if obj.get("datasource").is_some_and(|d| !d.is_null()) {
        return Err(format!("A datasource is only valid for enum and set fields, not {}", field_type.as_str()));
    }
    let validation_json = obj.get("validation").cloned().unwrap_or(Json::Null);
    field.validation = parse_validation(&validation_json, field_type, 0)?;
    if let Some(raw) = obj.get("default_value").filter(|d| !d.is_null()) {
        let v =
            field.parse_value(&RawValue::Json(raw)).map_err(|i| format!("default_value is invalid: {}", i.message))?;
        if !v.is_populated() {
            return Err("default_value must not be empty".to_owned());
        }
        field.validate(&v).map_err(|why| format!("default_value is invalid: {} {why}", v.display()))?;
        field.default_value = Some(v);
    }
    if field.mandatory && field.default_value.is_none() {
        return Err("A mandatory metadata field needs a default_value".to_owned());
    }
    let restrictions = match obj.get("restrictions") {
        None | Some(Json::Null) => json!({}),
        Some(r @ Json::Object(_)) => r.clone(),
        Some(other) => return Err(format!("restrictions must be an object, got {other}")),
    };
    let allow_dynamic_list_values = boolean(obj, "allow_dynamic_list_values")?.unwrap_or(false);
    let clear_when_disabled = boolean(obj, "clear_when_disabled")?.unwrap_or(false);
    Ok(FieldDoc { field, validation: validation_json, restrictions, allow_dynamic_list_values, clear_when_disabled })
}

/// A typed value as JSON: integers as numbers, sets as arrays, the rest as strings.
pub fn value_json(v: &Value) -> Json {
    match v {
        Value::Text(s) | Value::Date(s) | Value::Id(s) => Json::String(s.clone()),
        Value::Int(i) => Json::from(*i),
        Value::Ids(ids) => Json::Array(ids.iter().map(|i| Json::String(i.clone())).collect()),
    }
}

/// A datasource entry as JSON; `with_state` adds its `state`.
pub fn entry_json(e: &DatasourceEntry, with_state: bool) -> Json {
    let mut o = Map::new();
    o.insert("external_id".into(), Json::String(e.external_id.clone()));
    o.insert("value".into(), Json::String(e.value.clone()));
    if with_state {
        o.insert("state".into(), Json::String(if e.active { "active" } else { "inactive" }.into()));
    }
    Json::Object(o)
}

/// The field definition as the Metadata API shows it (and as it is stored).
pub fn field_json(doc: &FieldDoc) -> Json {
    let f = &doc.field;
    let mut o = Map::new();
    o.insert("type".into(), Json::String(f.field_type.as_str().into()));
    o.insert("external_id".into(), Json::String(f.external_id.clone()));
    o.insert("label".into(), Json::String(f.label.clone()));
    o.insert("mandatory".into(), Json::Bool(f.mandatory));
    o.insert("default_value".into(), f.default_value.as_ref().map_or(Json::Null, value_json));
    o.insert("validation".into(), doc.validation.clone());
    o.insert("default_disabled".into(), Json::Bool(f.default_disabled));
    o.insert("restrictions".into(), doc.restrictions.clone());
    if f.field_type.has_datasource() {
        let values: Vec<Json> = f.datasource.iter().map(|e| entry_json(e, true)).collect();
        o.insert("datasource".into(), json!({ "values": values }));
        if f.field_type == FieldType::Set {
            o.insert("allow_dynamic_list_values".into(), Json::Bool(doc.allow_dynamic_list_values));
        }
    }
    if doc.clear_when_disabled {
        o.insert("clear_when_disabled".into(), Json::Bool(true));
    }
    Json::Object(o)
}

/// An asset's typed metadata as a JSON object.
pub fn metadata_json(m: &Metadata) -> Map<String, Json> {
    m.iter().map(|(k, v)| (k.clone(), value_json(v))).collect()
}

/// Typed metadata from stored JSON. Values of fields that no longer exist, or that no
/// longer parse, are left out (they are not part of the schema any more).
pub fn metadata_from_json(fields: &Fields, stored: &Map<String, Json>) -> Metadata {
    stored
        .iter()
        .filter_map(|(k, raw)| {
            let f = fields.get(k)?;
            f.parse_value(&RawValue::Json(raw)).ok().map(|v| (k.clone(), v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> impl FnMut() -> String {
        let mut n = 0;
        move || {
            n += 1;
            format!("gen{n}")
        }
    }

    #[test]
    fn parses_and_renders_a_set_field() {
        let j = json!({"type":"set","external_id":"colors","datasource":{"values":[
            {"external_id":"r","value":"Red"},{"value":"Blue","state":"inactive"}]},
            "default_value":["r"]});
        let doc = parse_field(&j, &mut ids()).unwrap();
        assert_eq!(doc.field.label, "colors");
        assert_eq!(doc.field.datasource[1].external_id, "gen1");
        assert!(!doc.field.datasource[1].active);
        let out = field_json(&doc);
        assert_eq!(out["default_value"], json!(["r"]));
        assert_eq!(out["datasource"]["values"][1]["state"], "inactive");
        assert_eq!(parse_field(&out, &mut ids()).unwrap(), doc, "a rendered field parses back to itself");
    }

    #[test]
    fn default_must_pass_validation_and_mandatory_needs_default() {
        let v = json!({"type":"less_than","equals":true,"value":5});
        assert!(parse_field(&json!({"type":"integer","default_value":5,"validation":v}), &mut ids()).is_ok());
        let e = parse_field(&json!({"type":"integer","default_value":6,"validation":v}), &mut ids()).unwrap_err();
        assert!(e.contains("must be less than or equal to 5"), "{e}");
        let e = parse_field(&json!({"type":"string","mandatory":true}), &mut ids()).unwrap_err();
        assert!(e.contains("needs a default_value"), "{e}");
        let e = parse_field(&json!({"type":"enum","datasource":{"values":[]}}), &mut ids()).unwrap_err();
        assert!(e.contains("at least one value"), "{e}");
        let dates = json!({"type":"and","rules":[{"type":"greater_than","value":"2026-01-01"}]});
        let e = parse_field(&json!({"type":"date","default_value":"2025-12-31","validation":dates}), &mut ids())
            .unwrap_err();
        assert!(e.contains("greater than 2026-01-01"), "{e}");
    }

    #[test]
    fn datasource_size_is_checked_before_its_contents() {
        let values = |n: usize| Json::Array((0..n).map(|i| json!({"value": format!("v{i}")})).collect());
        assert_eq!(parse_datasource_values(&values(MAX_DATASOURCE_VALUES), &mut ids()).unwrap().len(), 3000);
        // Not even the first entry is looked at: it is not an object.
        let mut over = vec![json!(1)];
        over.extend((0..MAX_DATASOURCE_VALUES).map(|i| json!({"value": format!("v{i}")})));
        let e = parse_datasource_values(&Json::Array(over), &mut ids()).unwrap_err();
        assert_eq!(e, "A datasource holds at most 3000 values; got 3001");
        let twice = json!([{"external_id": "a", "value": "A"}, {"value": "B"}, {"external_id": "a", "value": "C"}]);
        let e = parse_datasource_values(&twice, &mut ids()).unwrap_err();
        assert_eq!(e, "Datasource value external_id 'a' appears twice");
        // A generated id that collides with a given one is a duplicate too.
        let clash = json!([{"external_id": "gen1", "value": "A"}, {"value": "B"}]);
        assert!(parse_datasource_values(&clash, &mut ids()).unwrap_err().contains("'gen1' appears twice"));
    }

    #[test]
    fn metadata_round_trip_drops_unknown_fields() {
        let doc = parse_field(&json!({"type":"integer","external_id":"n"}), &mut ids()).unwrap();
        let fields: Fields = [("n".to_owned(), doc.field)].into_iter().collect();
        let stored: Map<String, Json> = json!({"n": 12, "gone": "x"}).as_object().unwrap().clone();
        let m = metadata_from_json(&fields, &stored);
        assert_eq!(m.get("n"), Some(&Value::Int(12)));
        assert_eq!(metadata_json(&m), json!({"n": 12}).as_object().unwrap().clone());
    }
}
