//! The write path every asset write goes through (upload, explicit, admin update,
//! `update_metadata`, preset metadata): explicit values win; rule values are applied once
//! per field in topological order (overrides and defaults edge-triggered on existing
//! assets); then the result is validated, telling values invalidated by this request from
//! values grandfathered by an earlier admin change.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use super::engine::{Allowed, Effective, FieldState, Schema, effective, field_state};
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
    let e0 = effective(schema, stored);
    let Pass { values, rule_written, warnings, states, .. } = pass(schema, stored, &e0, delta, is_new);
    let names = &schema.compiled().layout.names;
    Resolved {
        metadata: written(schema, stored, delta, values, &rule_written),
        rule_written: names.iter().zip(&rule_written).filter(|(_, w)| **w).map(|(n, _)| n.clone()).collect(),
        warnings,
        states: Effective::from_states(schema, states),
    }
}

/// The write pass, by field position.
struct Pass<'a> {
    /// Values after the request and rule effects.
    values: Vec<Option<Cow<'a, Value>>>,
    /// The request's assignment of each field, if any (`Some(None)` clears it).
    explicit: Vec<Option<Option<&'a Value>>>,
    /// Whether a rule (or a field default) wrote the field's value in this request.
    rule_written: Vec<bool>,
    warnings: Vec<Issue>,
    /// The effective state of the values: each field was computed once, after every field
    /// it depends on was final.
    states: Vec<FieldState>,
}

/// [`resolve`] by field position, with the effective state `e0` of `stored` at hand.
fn pass<'a>(schema: &'a Schema, stored: &'a Metadata, e0: &Effective, delta: &'a Delta, is_new: bool) -> Pass<'a> {
    let c = schema.compiled();
    let n = c.fields.len();
    let mut values: Vec<Option<Cow<'a, Value>>> = vec![None; n];
    c.layout.join(stored, |i, v| values[i] = Some(Cow::Borrowed(v)));
    let mut explicit = vec![None; n];
    c.layout.join(delta, |i, v: &'a Option<Value>| {
        explicit[i] = Some(v.as_ref());
        values[i] = v.as_ref().map(Cow::Borrowed);
    });
    // Rules whose condition held for the stored metadata: exactly the fired rules of e0.
    let mut held = vec![false; schema.rules.len()];
    for r in e0.values().flat_map(|st| &st.fired) {
        held[*r] = true;
    }
    let mut pass = Pass {
        values: Vec::new(),
        explicit,
        rule_written: vec![false; n],
        warnings: Vec::new(),
        states: Vec::with_capacity(n),
    };
    for at in 0..n {
        let st = field_state(schema, at, &values, &pass.states);
        if pass.explicit[at].is_none() && st.enabled {
            let edge = Edge { is_new, was_enabled: e0.states()[at].enabled, held: &held };
            let (changed, warning) = apply_rule_values(schema, at, &st, &mut values[at], &edge);
            pass.rule_written[at] = changed;
            pass.warnings.extend(warning);
        }
        pass.states.push(st);
    }
    pass.values = values;
    pass
}

/// What decides whether a rule value fires on this write (they are edge-triggered on
/// existing assets: only rules whose condition was false for the stored metadata fire).
struct Edge<'h> {
    is_new: bool,
    /// Whether the field was enabled for the stored metadata.
    was_enabled: bool,
    /// By rule position: whether the rule's condition held for the stored metadata.
    held: &'h [bool],
}

impl Edge<'_> {
    fn fires(&self, rule: usize) -> bool {
        self.is_new || !self.held[rule]
    }
}

/// Applies the rule values of field `at` (enabled, not assigned by the request) to `value`.
/// Returns whether the value changed, and the warning when a rule value was not allowed.
fn apply_rule_values<'a>(
    schema: &'a Schema,
    at: usize,
    st: &FieldState,
    value: &mut Option<Cow<'a, Value>>,
    edge: &Edge<'_>,
) -> (bool, Option<Issue>) {
    let cf = &schema.compiled().fields[at];
    let before = value.clone();
    let mut by: Vec<usize> = Vec::new();
    if let Some(r) = st.override_value.as_ref().map(|(_, r)| *r).filter(|r| edge.fires(*r)) {
        *value = schema.rule_value(r).map(Cow::Borrowed);
        by.push(r);
    } else if !value.as_deref().is_some_and(Value::is_populated) {
        if let Some((_, r)) = &st.default_value {
            if edge.is_new || !edge.was_enabled || r.is_some_and(|r| edge.fires(r)) {
                let v = match r {
                    Some(r) => schema.rule_value(*r),
                    None => cf.base.default_value.as_ref().map(|(v, _)| v),
                };
                *value = v.map(Cow::Borrowed);
                by.extend(*r);
            }
        }
    }
    if let (Some((Value::Ids(add), rules)), Some(ids)) = (&st.append_values, &cf.ids) {
        if rules.iter().any(|r| edge.fires(*r)) {
            let mut words = ids.empty();
            if let Some(Value::Ids(have)) = value.as_deref() {
                ids.add(&mut words, have.iter().map(String::as_str));
            }
            ids.add(&mut words, add.iter().map(String::as_str));
            *value = Some(Cow::Owned(Value::Ids(ids.ids_in(&words).map(str::to_owned).collect())));
            by.extend(rules.iter().copied());
        }
    }
    if *value == before {
        return (false, None);
    }
    let Some(v) = value.take_if(|v| !st.allows(v)) else { return (true, None) };
    // Rule values never block a write: keep what is allowed, say what was dropped.
    let id = &schema.compiled().layout.names[at];
    *value = match (&*v, &before) {
        (Value::Ids(ids), prior) => {
            let prior: Vec<&str> = prior.as_deref().map(Value::ids).unwrap_or_default();
            let ok = ids.iter().map(String::as_str).filter(|i| prior.contains(i) || st.allows_id(i));
            let ok = schema.fields.get(id).map(|f| f.in_datasource_order(ok)).unwrap_or_default();
            Some(Value::Ids(ok)).filter(Value::is_populated).map(Cow::Owned)
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
    w.allowed = allowed_ids(st);
    (*value != before, Some(w))
}

/// `stored` with the request's assignments and the values rules wrote.
fn written(
    schema: &Schema,
    stored: &Metadata,
    delta: &Delta,
    values: Vec<Option<Cow<'_, Value>>>,
    rule_written: &[bool],
) -> Metadata {
    let mut m = stored.clone();
    for (k, v) in delta {
        match v {
            Some(v) => m.insert(k.clone(), v.clone()),
            None => m.remove(k),
        };
    }
    let names = &schema.compiled().layout.names;
    for ((id, v), _) in names.iter().zip(values).zip(rule_written).filter(|(_, w)| **w) {
        match v {
            Some(v) => m.insert(id.clone(), v.into_owned()),
            None => m.remove(id),
        };
    }
    m
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
    let Pass { values, explicit, rule_written, mut warnings, states: e1 } = pass(schema, stored, &e0, delta, is_new);
    let c = schema.compiled();
    let mut errors = Vec::new();
    for (at, id) in c.layout.names.iter().enumerate() {
        let id = id.as_str();
        let (st, before) = (&e1[at], &e0.states()[at]);
        let explicit = explicit[at];
        let value = values[at].as_deref();
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
                let bad: Vec<&str> = v.ids().into_iter().filter(|i| !st.allows_id(i)).collect();
                let allowed = allowed_ids(st);
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
        } else if !rule_written[at] && st.enabled {
            if let Some(v) = value.filter(|v| v.is_populated() && !st.allows(v)) {
                let was_valid = before.enabled && before.allows(v);
                if was_valid {
                    let controllers = controlling_fields(schema, id);
                    // Name what changed: "'country' changed to 'ca'".
                    let changed: Vec<String> = controllers
                        .iter()
                        .filter_map(|cf| {
                            let now = values[c.layout.names.iter().position(|n| n == cf)?].as_deref();
                            (now != stored.get(cf.as_str())).then(|| match now {
                                Some(v) => format!("'{cf}' changed to '{}'", v.display()),
                                None => format!("'{cf}' was cleared"),
                            })
                        })
                        .collect();
                    let why = if changed.is_empty() {
                        let names: Vec<String> = controllers.iter().map(|c| format!("'{c}'")).collect();
                        format!("{} changed", names.join(" or "))
                    } else {
                        changed.join(" and ")
                    };
                    let mut e = Issue::new(
                        IssueCode::ValueInvalidated,
                        id,
                        format!(
                            "Value '{}' of '{id}' is no longer allowed because {why}; send a new value or clear it",
                            v.display()
                        ),
                    );
                    e.value = Some(v.display());
                    e.allowed = allowed_ids(st);
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
        if (explicit.is_some_and(|e| e.is_some()) || rule_written[at]) && c.fields[at].has_validation {
            if let (Some(v), Some(field)) = (value, schema.fields.get(id)) {
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
    if errors.is_empty() {
        Ok(Written { metadata: written(schema, stored, delta, values, &rule_written), warnings })
    } else {
        Err(errors)
    }
}

/// The allowed ids of a state (none for fields without a datasource).
fn allowed_ids(st: &FieldState) -> Vec<String> {
    st.allowed.as_ref().map(Allowed::to_vec).unwrap_or_default()
}

pub(super) fn list(ids: &[String]) -> String {
    if ids.is_empty() { "none".to_owned() } else { ids.iter().take(20).cloned().collect::<Vec<_>>().join(", ") }
}

/// Rules that narrowed the allowed values of a field in state `st`.
pub(super) fn narrowing_rules(schema: &Schema, st: &FieldState) -> Vec<String> {
    st.fired
        .iter()
        .filter_map(|i| schema.rules.get(*i))
        .filter(|r| r.result.activate_values.is_some())
        .map(|r| r.external_id.clone())
        .collect()
}

/// Fields whose values decide which values of `id` are allowed.
pub(super) fn controlling_fields(schema: &Schema, id: &str) -> Vec<String> {
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
