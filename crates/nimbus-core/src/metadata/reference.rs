//! The rules semantics written plainly, by field id, for the tests' fixed-point oracle:
//! the compiled engine must agree with it. Kept free of the engine's compiled form.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::allowed::{Allowed, DatasourceIds};
use super::engine::{FieldState, Schema};
use super::issue::{Issue, IssueCode};
use super::rules::{Activate, ApplyMode, Condition, Criterion, Rule};
use super::schema::{Field, FieldType, Metadata, Value};
use super::write::{Delta, Written, controlling_fields, describe, list, narrowing_rules};

/// States by field id.
pub type States = BTreeMap<String, FieldState>;

/// Whether `cond` holds for `m`, given the states of the fields it reads.
pub fn holds(cond: &Condition, m: &Metadata, states: &States) -> bool {
    match cond {
        Condition::And(cs) => cs.iter().all(|c| holds(c, m, states)),
        Condition::Or(cs) => cs.iter().any(|c| holds(c, m, states)),
        Condition::Leaf { field, criterion } => {
            let enabled = states.get(field).is_some_and(|s| s.enabled);
            let value = m.get(field).filter(|_| enabled);
            match criterion {
                Criterion::Populated(want) => value.is_some_and(Value::is_populated) == *want,
                Criterion::Equals(v) => value == Some(v),
                Criterion::Includes(ids) => match value {
                    Some(Value::Ids(have)) => ids.iter().all(|i| have.contains(i)),
                    _ => false,
                },
            }
        }
    }
}

/// `ids` (datasource ids of `field`) as the engine's allowed set.
fn allowed(field: &Field, ids: &[String]) -> Allowed {
    let ds = DatasourceIds::new(field.datasource.iter().map(|e| e.external_id.clone()).collect());
    let mut bits = ds.empty();
    ds.add(&mut bits, ids.iter().map(String::as_str));
    Allowed::new(Arc::new(ds), bits.into())
}

/// The state of `field` given the metadata and the states of the other fields.
pub fn field_state(schema: &Schema, field: &Field, m: &Metadata, states: &States) -> FieldState {
    let matched: Vec<(usize, &Rule)> = schema
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.active && r.field == field.external_id && holds(&r.condition, m, states))
        .collect();
    let any = |p: &dyn Fn(&Rule) -> bool| matched.iter().any(|(_, r)| p(r));
    let enabled =
        (!field.default_disabled || any(&|r| r.result.enable == Some(true))) && !any(&|r| r.result.disables());
    let mandatory = enabled
        && if any(&|r| r.result.set_mandatory == Some(true)) {
            true
        } else if any(&|r| r.result.set_mandatory == Some(false)) {
            false
        } else {
            field.mandatory
        };
    let allowed = field.field_type.has_datasource().then(|| {
        let active = field.active_ids();
        let narrowing = !any(&|r| r.result.activate_values == Some(Activate::All))
            && any(&|r| matches!(r.result.activate_values, Some(Activate::Override(_))));
        if !narrowing {
            return allowed(field, &active);
        }
        let mut listed: BTreeSet<&str> = BTreeSet::new();
        for (_, r) in &matched {
            if let Some(Activate::Override(ids) | Activate::Append(ids)) = &r.result.activate_values {
                listed.extend(ids.iter().map(String::as_str));
            }
        }
        let narrowed: Vec<String> = active.into_iter().filter(|a| listed.contains(a.as_str())).collect();
        allowed(field, &narrowed)
    });
    let with_mode = |mode: ApplyMode| {
        matched.iter().find_map(|(i, r)| match &r.result.apply_value {
            Some((v, m)) if *m == mode => Some((v.clone(), *i)),
            _ => None,
        })
    };
    let override_value = with_mode(ApplyMode::Override);
    let default_value = with_mode(ApplyMode::Default)
        .map(|(v, r)| (v, Some(r)))
        .or_else(|| field.default_value.clone().map(|v| (v, None)));
    let mut append_ids: Vec<&str> = Vec::new();
    let mut append_rules = Vec::new();
    for (i, r) in &matched {
        if let Some((v, ApplyMode::Append)) = &r.result.apply_value {
            append_ids.extend(v.ids());
            append_rules.push(*i);
        }
    }
    let append_values = (field.field_type == FieldType::Set && !append_rules.is_empty())
        .then(|| (Value::Ids(field.in_datasource_order(append_ids)), append_rules));
    FieldState {
        enabled,
        hidden: any(&|r| r.result.hide),
        mandatory,
        allowed,
        override_value,
        default_value,
        append_values,
        fired: matched.iter().map(|(i, _)| *i).collect(),
    }
}

/// Every field's state for `m`, one pass in evaluation order.
pub fn effective(schema: &Schema, m: &Metadata) -> States {
    let mut states = States::new();
    for id in schema.order() {
        if let Some(field) = schema.fields.get(id) {
            let st = field_state(schema, field, m, &states);
            states.insert(id.clone(), st);
        }
    }
    states
}

/// The write pass's outcome, by field id.
#[derive(Debug)]
pub struct Resolved {
    pub metadata: Metadata,
    pub rule_written: BTreeSet<String>,
    pub warnings: Vec<Issue>,
    pub states: States,
}

fn allowed_ids(st: &FieldState) -> Vec<String> {
    st.allowed.as_ref().map(Allowed::to_vec).unwrap_or_default()
}

/// [`resolve`] with the effective state of `stored` already at hand.
pub fn resolve_from(schema: &Schema, stored: &Metadata, e0: &States, delta: &Delta, is_new: bool) -> Resolved {
    let mut m = stored.clone();
    for (k, v) in delta {
        match v {
            Some(v) => m.insert(k.clone(), v.clone()),
            None => m.remove(k),
        };
    }
    let was_false = |rule: usize| schema.rules.get(rule).is_some_and(|r| !holds(&r.condition, stored, e0));
    let mut states = States::new();
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
                    w.allowed = allowed_ids(&st);
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

/// The whole write path, as [`super::write::apply`].
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
        } else if !rule_written.contains(id) && st.enabled {
            if let Some(v) = value.filter(|v| v.is_populated() && !st.allows(v)) {
                let was_valid = before.enabled && before.allows(v);
                if was_valid {
                    let controllers = controlling_fields(schema, id);
                    let changed: Vec<String> = controllers
                        .iter()
                        .filter(|cf| m.get(cf.as_str()) != stored.get(cf.as_str()))
                        .map(|cf| match m.get(cf.as_str()) {
                            Some(v) => format!("'{cf}' changed to '{}'", v.display()),
                            None => format!("'{cf}' was cleared"),
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
