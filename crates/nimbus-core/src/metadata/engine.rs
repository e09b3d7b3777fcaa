//! The effective state of a metadata map: for every field, whether it is enabled, hidden
//! and mandatory, which datasource values are allowed, and which values rules apply.
//! One pass over the fields in topological order: when a field is reached, every field
//! its rules read is final. The pass runs on the schema's compiled form (field positions,
//! no lookups by name).

use std::borrow::Cow;
use std::ops::Index;
use std::sync::Arc;

pub use super::allowed::Allowed;
use super::compiled::{Activation, Compiled, Layout, Values};
use super::rules::{ApplyMode, Fields, Rule, topological_order};
use super::schema::{FieldType, Metadata, Value};

/// Fields and rules, with the evaluation order and the compiled rules computed once.
#[derive(Debug, Clone)]
pub struct Schema {
    pub fields: Fields,
    /// All rules, in `seq` order (inactive ones included; they never fire).
    pub rules: Vec<Rule>,
    order: Vec<String>,
    compiled: Arc<Compiled>,
}

/// The rules of a schema form a cycle (rule checks keep this from happening).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("metadata rules form a cycle")]
pub struct CycleError;

impl Schema {
    pub fn new(fields: Fields, mut rules: Vec<Rule>) -> Result<Self, CycleError> {
        rules.sort_by_key(|r| r.seq);
        let order = topological_order(&fields, &rules).ok_or(CycleError)?;
        let compiled = Arc::new(Compiled::new(&fields, &rules, &order));
        Ok(Self { fields, rules, order, compiled })
    }

    /// Field ids in evaluation order.
    pub fn order(&self) -> &[String] {
        &self.order
    }

    /// Active rules with target `field`, in `seq` order, with their positions in `rules`.
    pub fn rules_for(&self, field: &str) -> impl Iterator<Item = (usize, &Rule)> {
        let positions: &[usize] = match self.compiled.layout.position(field) {
            Some(i) => &self.compiled.fields[i].rules,
            None => &[],
        };
        positions.iter().map(|i| (*i, &self.rules[*i]))
    }

    /// External ids of rules given by position.
    pub fn rule_ids(&self, positions: &[usize]) -> Vec<String> {
        positions.iter().filter_map(|i| self.rules.get(*i)).map(|r| r.external_id.clone()).collect()
    }

    pub(crate) fn compiled(&self) -> &Compiled {
        &self.compiled
    }

    /// The value rule `position` applies.
    pub(crate) fn rule_value(&self, position: usize) -> Option<&Value> {
        self.rules.get(position)?.result.apply_value.as_ref().map(|(v, _)| v)
    }
}

/// The effective state of one field. Every part converts to JSON directly: `allowed`
/// serializes as the array of allowed ids ([`Allowed::to_vec`] gives them as strings),
/// rule positions name rules through [`Schema::rule_ids`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldState {
    pub enabled: bool,
    pub hidden: bool,
    pub mandatory: bool,
    /// Allowed datasource ids (enum and set fields), in datasource order.
    pub allowed: Option<Allowed>,
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
    /// Whether every datasource id of `v` is allowed (values of other fields always are).
    pub fn allows(&self, v: &Value) -> bool {
        match (&self.allowed, v) {
            (Some(a), Value::Id(i)) => a.contains(i),
            (Some(a), Value::Ids(ids)) => ids.iter().all(|i| a.contains(i)),
            _ => true,
        }
    }

    /// Whether datasource id `id` is allowed.
    pub fn allows_id(&self, id: &str) -> bool {
        self.allowed.as_ref().is_none_or(|a| a.contains(id))
    }
}

/// The effective state of every field, in evaluation order.
#[derive(Debug, Clone)]
pub struct Effective {
    layout: Arc<Layout>,
    /// By field position.
    states: Vec<FieldState>,
}

impl Effective {
    pub fn get(&self, id: &str) -> Option<&FieldState> {
        self.states.get(self.layout.position(id)?)
    }

    /// Field ids and states, in evaluation order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &FieldState)> {
        self.layout.names.iter().map(String::as_str).zip(&self.states)
    }

    /// States in evaluation order.
    pub fn values(&self) -> impl Iterator<Item = &FieldState> {
        self.states.iter()
    }

    pub fn len(&self) -> usize {
        self.states.len()
    }

    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    /// States by field position.
    pub(crate) fn states(&self) -> &[FieldState] {
        &self.states
    }
}

impl PartialEq for Effective {
    fn eq(&self, other: &Self) -> bool {
        (Arc::ptr_eq(&self.layout, &other.layout) || self.layout.names == other.layout.names)
            && self.states == other.states
    }
}

impl Eq for Effective {}

impl Index<&str> for Effective {
    type Output = FieldState;
    fn index(&self, id: &str) -> &FieldState {
        self.get(id).unwrap_or_else(|| panic!("no metadata field '{id}'"))
    }
}

/// The state of the field at position `at` given the values and the states of the fields
/// before it.
pub(crate) fn field_state(schema: &Schema, at: usize, values: &Values<'_>, states: &[FieldState]) -> FieldState {
    let c = schema.compiled();
    let f = &c.fields[at];
    let fired: Vec<usize> = f.rules.iter().copied().filter(|r| c.rules[*r].cond.holds(values, states)).collect();
    if fired.is_empty() {
        return f.base.clone();
    }
    let (mut enable, mut disable, mut hidden, mut set_mandatory, mut unset_mandatory) =
        (false, false, false, false, false);
    let (mut all, mut overrides, mut listings, mut listed) = (false, false, 0, None);
    let (mut override_rule, mut default_rule, mut appends) = (None, None, 0);
    for &r in &fired {
        let cr = &c.rules[r];
        enable |= cr.enables;
        disable |= cr.disables;
        hidden |= cr.hides;
        set_mandatory |= cr.mandatory == Some(true);
        unset_mandatory |= cr.mandatory == Some(false);
        match &cr.activation {
            Activation::None => {}
            Activation::All => all = true,
            Activation::Listed { overrides: o, narrowed, .. } => {
                overrides |= o;
                listings += 1;
                listed = narrowed.as_ref();
            }
        }
        match cr.apply {
            Some(ApplyMode::Override) => override_rule = override_rule.or(Some(r)),
            Some(ApplyMode::Default) => default_rule = default_rule.or(Some(r)),
            Some(ApplyMode::Append) => appends += 1,
            None => {}
        }
    }
    let enabled = (!f.default_disabled || enable) && !disable;
    let mandatory = enabled && (set_mandatory || (!unset_mandatory && f.mandatory));
    let allowed = match (&f.base.allowed, listed) {
        (Some(_), Some(only)) if !all && overrides && listings == 1 => Some(only.clone()),
        (Some(active), _) if !all && overrides => {
            let mut words = vec![0; active.bits().len()];
            for r in &fired {
                if let Activation::Listed { bits, .. } = &c.rules[*r].activation {
                    words.iter_mut().zip(bits.iter()).for_each(|(w, b)| *w |= b);
                }
            }
            words.iter_mut().zip(active.bits()).for_each(|(w, a)| *w &= a);
            Some(active.with_bits(words.into()))
        }
        (active, _) => active.clone(),
    };
    let valued = |r: usize| schema.rule_value(r).cloned().map(|v| (v, r));
    let append_values = match &f.ids {
        Some(ids) if f.field_type == FieldType::Set && appends > 0 => {
            let mut words = ids.empty();
            let mut rules = Vec::with_capacity(appends);
            for &r in fired.iter().filter(|r| c.rules[**r].apply == Some(ApplyMode::Append)) {
                words.iter_mut().zip(c.rules[r].append_bits.iter()).for_each(|(w, b)| *w |= b);
                rules.push(r);
            }
            Some((Value::Ids(ids.ids_in(&words).map(str::to_owned).collect()), rules))
        }
        _ => None,
    };
    FieldState {
        enabled,
        hidden,
        mandatory,
        allowed,
        override_value: override_rule.and_then(valued),
        default_value: match default_rule.and_then(valued) {
            Some((v, r)) => Some((v, Some(r))),
            None => f.base.default_value.clone(),
        },
        append_values,
        fired,
    }
}

/// The effective state of every field for `m`.
pub fn effective(schema: &Schema, m: &Metadata) -> Effective {
    let c = schema.compiled();
    let mut values: Vec<Option<Cow<'_, Value>>> = vec![None; c.fields.len()];
    c.layout.join(m, |i, v| values[i] = Some(Cow::Borrowed(v)));
    let mut states = Vec::with_capacity(c.fields.len());
    for at in 0..c.fields.len() {
        let st = field_state(schema, at, &values, &states);
        states.push(st);
    }
    Effective { layout: c.layout.clone(), states }
}

impl Effective {
    /// An effective state built from states by field position (the write pass).
    pub(crate) fn from_states(schema: &Schema, states: Vec<FieldState>) -> Self {
        Self { layout: schema.compiled().layout.clone(), states }
    }
}
