//! The write path every asset write goes through (upload, explicit, admin update,
//! `update_metadata`, preset metadata): explicit values win; rule values are applied once
//! per field in topological order (overrides and defaults edge-triggered on existing
//! assets); then the result is validated, telling values invalidated by this request from
//! values grandfathered by an earlier admin change.

use std::collections::{BTreeMap, BTreeSet};

use super::engine::{Effective, FieldState, Schema, effective, field_state, holds};
use super::issue::{Issue, IssueCode};
use super::rules::{Condition, Criterion, Rule};
use super::schema::{Metadata, RawValue, Value};

/// Explicit assignments of a request; `None` clears the field.
pub type Delta = BTreeMap<String, Option<Value>>;

/// Parses request metadata; an empty value clears the field. All problems are reported.
pub fn parse_delta(schema: &Schema, raw: &[(String, RawValue<'_>)]) -> Result<Delta, Vec<Issue>> {
    let mut delta = Delta::new();
    let mut errors = Vec::new();
    for (id, value) in raw {
        let Some(field) = schema.fields.get(id) else {
            errors.push(Issue::new(IssueCode::UnknownField, id, format!("Metadata field '{id}' does not exist")));
            continue;
        };
        let empty = match value {
            RawValue::Text(t) => t.is_empty(),
            RawValue::Json(j) => j.is_null() || j.as_str() == Some("") || j.as_array().is_some_and(Vec::is_empty),
        };
        if empty {
            delta.insert(id.clone(), None);
            continue;
        }
        match field.parse_value(value) {
            Ok(v) => {
                delta.insert(id.clone(), Some(v));
            }
            Err(e) => errors.push(*e),
        }
    }
    if errors.is_empty() { Ok(delta) } else { Err(errors) }
}

/// Metadata after rule effects, before validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub metadata: Metadata,
    /// Fields whose value a rule (or a field default) wrote in this request.
    pub rule_written: BTreeSet<String>,
    pub warnings: Vec<Issue>,
    /// The effective state of `metadata`: each field was computed once, after every field
    /// it depends on was final, so this equals `effective(schema, &metadata)`.
    pub states: Effective,
}

/// The outcome of a valid write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub metadata: Metadata,
    pub warnings: Vec<Issue>,
}

/// Step 4 of the write path: one pass in topological order applying rule values.
pub fn resolve(schema: &Schema, stored: &Metadata, delta: &Delta, is_new: bool) -> Resolved {
    resolve_from(schema, stored, &effective(schema, stored), delta, is_new)
}

/// [`resolve`] with the effective state of `stored` already at hand.
fn resolve_from(schema: &Schema, stored: &Metadata, e0: &Effective, delta: &Delta, is_new: bool) -> Resolved {
    let mut m = stored.clone();
    for (k, v) in delta {
        match v {
            Some(v) => m.insert(k.clone(), v.clone()),
            None => m.remove(k),
        };
    }
    let was_false = |rule: usize| schema.rules.get(rule).is_some_and(|r| !holds(&r.condition, stored, e0));
    let mut states = Effective::new();
    let mut rule_written = BTreeSet::new();
    let mut warnings = Vec::new();
    for id in schema.order() {
        let Some(field) = schema.fields.get(id) else { continue };
        let st = field_state(schema, field, &m, &states);
        if !delta.contains_key(id) && st.enabled {
            let before = m.get(id).cloned();
            let mut by: Vec<usize> = Vec::new();
            if let Some((v, r)) = st.override_value.as_ref().filter(|(_, r)| is_new || was_false(*r)) {
                m.insert(id.clone(), v.clone());
                by.push(*r);
            } else if !m.get(id).is_some_and(Value::is_populated) {
                if let Some((v, r)) = &st.default_value {
                    let fire = is_new || !e0.get(id).is_some_and(|s| s.enabled) || r.is_some_and(was_false);
                    if fire {
                        m.insert(id.clone(), v.clone());
                        by.extend(*r);
                    }
                }
            }
            if let Some((Value::Ids(add), rules)) = &st.append_values {
                if is_new || rules.iter().any(|r| was_false(*r)) {
                    let mut ids: Vec<&str> = match m.get(id) {
                        Some(Value::Ids(have)) => have.iter().map(String::as_str).collect(),
                        _ => Vec::new(),
                    };
                    ids.extend(add.iter().map(String::as_str));
                    m.insert(id.clone(), Value::Ids(field.in_datasource_order(ids)));
                    by.extend(rules.iter().cloned());
                }
            }
            let now = m.get(id).cloned();
            if now != before {
                if let Some(v) = now.as_ref().filter(|v| !st.allows(v)) {
                    // Rule values never block a write: keep what is allowed, say what was dropped.
                    let kept = match (v, &before) {
                        (Value::Ids(ids), prior) => {
                            let prior: Vec<&str> = prior.as_ref().map(Value::ids).unwrap_or_default();
                            let ok: Vec<&str> = ids
                                .iter()
                                .map(String::as_str)
                                .filter(|i| prior.contains(i) || st.allows(&Value::Id((*i).to_owned())))
                                .collect();
                            Some(Value::Ids(field.in_datasource_order(ok))).filter(Value::is_populated)
                        }
                        _ => before.clone(),
                    };
                    let rules = schema.rule_ids(&by);
                    let mut w = Issue::new(
                        IssueCode::RuleValueNotAllowed,
                        id,
                        format!(
                            "Value {} applied by rule '{}' is not an allowed value of '{id}'; it was not applied",
                            v.display(),
                            rules.join("', '")
                        ),
                    );
                    w.rule = rules.first().cloned();
                    w.value = Some(v.display());
                    w.allowed = st.allowed.as_deref().unwrap_or_default().to_vec();
                    warnings.push(w);
                    match kept {
                        Some(k) => m.insert(id.clone(), k),
                        None => m.remove(id),
                    };
                }
                if m.get(id) != before.as_ref() {
                    rule_written.insert(id.clone());
                }
            }
        }
        states.insert(id.clone(), st);
    }
    Resolved { metadata: m, rule_written, warnings, states }
}

/// The whole write path: resolve rule values, then validate. `strict` turns grandfathered
/// values into errors.
pub fn apply(
    schema: &Schema,
    stored: &Metadata,
    delta: &Delta,
    is_new: bool,
    strict: bool,
) -> Result<Written, Vec<Issue>> {
    let e0 = effective(schema, stored);
    let Resolved { metadata: m, rule_written, mut warnings, states: e1 } =
        resolve_from(schema, stored, &e0, delta, is_new);
    let mut errors = Vec::new();
    let default_state = FieldState::default();
    for id in schema.order() {
        let (Some(field), Some(st)) = (schema.fields.get(id), e1.get(id)) else { continue };
        let before = e0.get(id).unwrap_or(&default_state);
        let explicit = delta.get(id);
        let value = m.get(id);
        if let Some(Some(v)) = explicit {
            if v.is_populated() && !st.enabled {
                let enablers: Vec<&Rule> =
                    schema.rules_for(id).map(|(_, r)| r).filter(|r| r.result.enable == Some(true)).collect();
                let how = match enablers.first() {
                    Some(r) => format!("; it is enabled by rule '{}' when {}", r.name, describe(&r.condition)),
                    None => String::new(),
                };
                let mut e = Issue::new(
                    IssueCode::FieldDisabled,
                    id,
                    format!("Metadata field '{id}' is disabled for this asset{how}"),
                );
                e.value = Some(v.display());
                e.controlled_by = enablers.iter().map(|r| r.external_id.clone()).collect();
                errors.push(e);
                continue;
            }
            if !st.allows(v) {
                let bad: Vec<&str> = v.ids().into_iter().filter(|i| !st.allows(&Value::Id((*i).to_owned()))).collect();
                let allowed = st.allowed.as_deref().unwrap_or_default().to_vec();
                let mut e = Issue::new(
                    IssueCode::ValueNotAllowed,
                    id,
                    format!(
                        "Value '{}' is not allowed for metadata field '{id}'; allowed: {}",
                        bad.join("', '"),
                        list(&allowed)
                    ),
                );
                e.value = Some(v.display());
                e.allowed = allowed.into_iter().take(20).collect();
                e.controlled_by = narrowing_rules(schema, st);
                errors.push(e);
                continue;
            }
        } else if !rule_written.contains(id) && st.enabled {
            if let Some(v) = value.filter(|v| v.is_populated() && !st.allows(v)) {
                let was_valid = before.enabled && before.allows(v);
                if was_valid {
                    let controllers = controlling_fields(schema, id);
                    let mut e = Issue::new(
                        IssueCode::ValueInvalidated,
                        id,
                        format!(
                            "Value '{}' of '{id}' is no longer allowed because {} changed; send a new value or clear it",
                            v.display(),
                            controllers.iter().map(|c| format!("'{c}'")).collect::<Vec<_>>().join(" or ")
                        ),
                    );
                    e.value = Some(v.display());
                    e.allowed = st.allowed.as_deref().unwrap_or_default().to_vec();
                    e.controlled_by = controllers;
                    errors.push(e);
                } else {
                    let mut w = Issue::new(
                        IssueCode::GrandfatheredValue,
                        id,
                        format!("Stored value '{}' of '{id}' is no longer an allowed value; it was kept", v.display()),
                    );
                    w.value = Some(v.display());
                    if strict {
                        w.code = IssueCode::ValueNotAllowed;
                        errors.push(w);
                    } else {
                        warnings.push(w);
                    }
                }
            }
        }
        if st.mandatory && !value.is_some_and(Value::is_populated) {
            let by = schema
                .rules_for(id)
                .find(|(i, r)| r.result.set_mandatory == Some(true) && st.fired.contains(i))
                .map(|(_, r)| r);
            let why = by.map(|r| format!(" (rule '{}': when {})", r.name, describe(&r.condition))).unwrap_or_default();
            let mut e = Issue::new(IssueCode::MandatoryMissing, id, format!("Metadata field '{id}' is mandatory{why}"));
            e.rule = by.map(|r| r.external_id.clone());
            if is_new || explicit.is_some() || !(before.enabled && before.mandatory) {
                errors.push(e);
            } else {
                e.code = IssueCode::GrandfatheredMissing;
                e.message = format!("Metadata field '{id}' is mandatory and still missing{why}");
                warnings.push(e);
            }
        }
        if explicit.is_some_and(Option::is_some) || rule_written.contains(id) {
            if let Some(v) = value {
                if let Err(why) = field.validate(v) {
                    let mut e = Issue::new(
                        IssueCode::ValidationFailed,
                        id,
                        format!("Value '{}' of metadata field '{id}' {why}", v.display()),
                    );
                    e.value = Some(v.display());
                    errors.push(e);
                }
            }
        }
    }
    if errors.is_empty() { Ok(Written { metadata: m, warnings }) } else { Err(errors) }
}

fn list(ids: &[String]) -> String {
    if ids.is_empty() { "none".to_owned() } else { ids.iter().take(20).cloned().collect::<Vec<_>>().join(", ") }
}

/// Rules that narrowed the allowed values of a field in state `st`.
fn narrowing_rules(schema: &Schema, st: &FieldState) -> Vec<String> {
    st.fired
        .iter()
        .filter_map(|i| schema.rules.get(*i))
        .filter(|r| r.result.activate_values.is_some())
        .map(|r| r.external_id.clone())
        .collect()
}

/// Fields whose values decide which values of `id` are allowed.
fn controlling_fields(schema: &Schema, id: &str) -> Vec<String> {
    let mut out = BTreeSet::new();
    for (_, r) in schema.rules_for(id).filter(|(_, r)| r.result.activate_values.is_some() || r.result.enable.is_some())
    {
        out.extend(r.condition.fields().into_iter().map(str::to_owned));
    }
    out.into_iter().collect()
}

/// A condition in words, for messages.
pub fn describe(c: &Condition) -> String {
    match c {
        Condition::Leaf { field, criterion } => match criterion {
            Criterion::Populated(true) => format!("'{field}' is populated"),
            Criterion::Populated(false) => format!("'{field}' is empty"),
            Criterion::Equals(v) => format!("'{field}' equals '{}'", v.display()),
            Criterion::Includes(ids) => format!("'{field}' includes {}", ids.join(", ")),
        },
        Condition::And(cs) => cs.iter().map(describe).collect::<Vec<_>>().join(" and "),
        Condition::Or(cs) => format!("({})", cs.iter().map(describe).collect::<Vec<_>>().join(" or ")),
    }
}
