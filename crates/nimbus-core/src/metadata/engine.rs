//! The effective state of a metadata map: for every field, whether it is enabled, hidden
//! and mandatory, which datasource values are allowed, and which values rules apply.
//! One pass over the fields in topological order: when a field is reached, every field
//! its rules read is final.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::rules::{Activate, ApplyMode, Condition, Criterion, Fields, Rule, topological_order};
use super::schema::{Field, FieldType, Metadata, Value};

/// Fields and rules, with the evaluation order computed once.
#[derive(Debug, Clone)]
pub struct Schema {
    pub fields: Fields,
    /// All rules, in `seq` order (inactive ones included; they never fire).
    pub rules: Vec<Rule>,
    order: Vec<String>,
    by_target: BTreeMap<String, Vec<usize>>,
    /// Active datasource ids per enum/set field, shared by every unnarrowed state.
    active: BTreeMap<String, Arc<[String]>>,
}

/// The rules of a schema form a cycle (rule checks keep this from happening).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("metadata rules form a cycle")]
pub struct CycleError;

impl Schema {
    pub fn new(fields: Fields, mut rules: Vec<Rule>) -> Result<Self, CycleError> {
        rules.sort_by_key(|r| r.seq);
        let order = topological_order(&fields, &rules).ok_or(CycleError)?;
        let mut by_target: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, r) in rules.iter().enumerate().filter(|(_, r)| r.active && fields.contains_key(&r.field)) {
            by_target.entry(r.field.clone()).or_default().push(i);
        }
        let active = fields
            .values()
            .filter(|f| f.field_type.has_datasource())
            .map(|f| (f.external_id.clone(), f.active_ids().into()))
            .collect();
        Ok(Self { fields, rules, order, by_target, active })
    }

    /// Field ids in evaluation order.
    pub fn order(&self) -> &[String] {
        &self.order
    }

    /// Active rules with target `field`, in `seq` order, with their positions in `rules`.
    pub fn rules_for(&self, field: &str) -> impl Iterator<Item = (usize, &Rule)> {
        self.by_target.get(field).into_iter().flatten().map(|i| (*i, &self.rules[*i]))
    }

    /// External ids of rules given by position.
    pub fn rule_ids(&self, positions: &[usize]) -> Vec<String> {
        positions.iter().filter_map(|i| self.rules.get(*i)).map(|r| r.external_id.clone()).collect()
    }
}

/// The effective state of one field.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldState {
    pub enabled: bool,
    pub hidden: bool,
    pub mandatory: bool,
    /// Allowed datasource ids (enum and set fields), in datasource order.
    pub allowed: Option<Arc<[String]>>,
    /// From the oldest matched rule with `apply_value` mode override (rule position).
    pub override_value: Option<(Value, usize)>,
    /// From the oldest matched rule with mode default, else the field's default.
    pub default_value: Option<(Value, Option<usize>)>,
    /// Union of matched append values, with the rules that added them.
    pub append_values: Option<(Value, Vec<usize>)>,
    /// Positions (in [`Schema::rules`]) of the rules whose condition held, in `seq` order.
    pub fired: Vec<usize>,
}

impl FieldState {
    pub fn allows(&self, v: &Value) -> bool {
        match &self.allowed {
            None => true,
            Some(a) => v.ids().iter().all(|i| a.iter().any(|x| x == i)),
        }
    }
}

/// The effective state of every field.
pub type Effective = BTreeMap<String, FieldState>;

/// Whether `cond` holds for `m`, given the final states of the fields it reads.
pub fn holds(cond: &Condition, m: &Metadata, states: &Effective) -> bool {
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

/// The state of `field` given the metadata and the states of the fields before it.
pub fn field_state(schema: &Schema, field: &Field, m: &Metadata, states: &Effective) -> FieldState {
    let matched: Vec<(usize, &Rule)> =
        schema.rules_for(&field.external_id).filter(|(_, r)| holds(&r.condition, m, states)).collect();
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
    let allowed = schema.active.get(&field.external_id).map(|active| {
        let narrowing = !any(&|r| r.result.activate_values == Some(Activate::All))
            && any(&|r| matches!(r.result.activate_values, Some(Activate::Override(_))));
        if !narrowing {
            return active.clone();
        }
        let mut listed: BTreeSet<&str> = BTreeSet::new();
        for (_, r) in &matched {
            if let Some(Activate::Override(ids) | Activate::Append(ids)) = &r.result.activate_values {
                listed.extend(ids.iter().map(String::as_str));
            }
        }
        active.iter().filter(|a| listed.contains(a.as_str())).cloned().collect()
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

/// The effective state of every field for `m`.
pub fn effective(schema: &Schema, m: &Metadata) -> Effective {
    let mut states = Effective::new();
    for id in schema.order() {
        if let Some(field) = schema.fields.get(id) {
            let st = field_state(schema, field, m, &states);
            states.insert(id.clone(), st);
        }
    }
    states
}
