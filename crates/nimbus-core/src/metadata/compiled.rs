//! Rules compiled once per schema: fields by evaluation position, conditions reading
//! positions instead of field ids, datasource ids as bit positions, and what each rule's
//! result does, so that evaluating a metadata map looks nothing up by name.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::Arc;

use super::allowed::{Allowed, DatasourceIds};
use super::engine::FieldState;
use super::rules::{Activate, ApplyMode, Condition, Criterion, Fields, Rule};
use super::schema::{FieldType, Value};

/// Field values of one evaluation, by field position: borrowed from the stored map, the
/// request or the schema; owned only where a rule computed a new value.
pub(crate) type Values<'a> = [Option<Cow<'a, Value>>];

/// The fields of a schema by evaluation position, and back from ids.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    /// Field ids in evaluation order.
    pub names: Vec<String>,
    /// Positions sorted by field id.
    by_name: Vec<usize>,
}

impl Layout {
    fn new(names: Vec<String>) -> Self {
        let mut by_name: Vec<usize> = (0..names.len()).collect();
        by_name.sort_by(|a, b| names[*a].cmp(&names[*b]));
        Self { names, by_name }
    }

    pub fn position(&self, id: &str) -> Option<usize> {
        let at = self.by_name.partition_point(|p| self.names[*p].as_str() < id);
        self.by_name.get(at).copied().filter(|p| self.names[*p] == id)
    }

    /// Calls `f` with the position and value of every entry of `map` that names a field:
    /// one merge of two sorted lists.
    pub fn join<'m, V>(&self, map: &'m BTreeMap<String, V>, mut f: impl FnMut(usize, &'m V)) {
        let mut fields = self.by_name.iter().copied().peekable();
        for (k, v) in map {
            while let Some(&p) = fields.peek() {
                match self.names[p].as_str().cmp(k) {
                    Ordering::Less => {
                        fields.next();
                    }
                    Ordering::Equal => {
                        f(p, v);
                        fields.next();
                        break;
                    }
                    Ordering::Greater => break,
                }
            }
        }
    }
}

/// A leaf's test.
#[derive(Debug)]
pub(crate) enum Test {
    Populated(bool),
    Equals(Value),
    Includes(Box<[String]>),
}

/// A condition over field positions; a leaf reading no field of the schema reads `None`.
#[derive(Debug)]
pub(crate) enum Cond {
    Leaf(Option<usize>, Test),
    And(Box<[Cond]>),
    Or(Box<[Cond]>),
}

impl Cond {
    fn compile(c: &Condition, layout: &Layout) -> Self {
        match c {
            Condition::And(cs) => Self::And(cs.iter().map(|c| Self::compile(c, layout)).collect()),
            Condition::Or(cs) => Self::Or(cs.iter().map(|c| Self::compile(c, layout)).collect()),
            Condition::Leaf { field, criterion } => Self::Leaf(
                layout.position(field),
                match criterion {
                    Criterion::Populated(b) => Test::Populated(*b),
                    Criterion::Equals(v) => Test::Equals(v.clone()),
                    Criterion::Includes(ids) => Test::Includes(ids.clone().into()),
                },
            ),
        }
    }

    /// Whether the condition holds, given the values and the final states of the fields it
    /// reads (conditions see only enabled fields).
    pub fn holds(&self, values: &Values<'_>, states: &[FieldState]) -> bool {
        match self {
            Self::And(cs) => cs.iter().all(|c| c.holds(values, states)),
            Self::Or(cs) => cs.iter().any(|c| c.holds(values, states)),
            Self::Leaf(field, test) => {
                let value =
                    field.filter(|f| states.get(*f).is_some_and(|s| s.enabled)).and_then(|f| values.get(f)?.as_deref());
                match test {
                    Test::Populated(want) => value.is_some_and(Value::is_populated) == *want,
                    Test::Equals(v) => value == Some(v),
                    Test::Includes(ids) => match value {
                        Some(Value::Ids(have)) => ids.iter().all(|i| have.contains(i)),
                        _ => false,
                    },
                }
            }
        }
    }
}

/// What a rule's `activate_values` does.
#[derive(Debug)]
pub(crate) enum Activation {
    None,
    All,
    /// Override or append lists; `narrowed` is the field's active ids narrowed to this list
    /// alone (the state when no other listing rule fired).
    Listed {
        overrides: bool,
        bits: Box<[u64]>,
        narrowed: Option<Allowed>,
    },
}

/// A rule with its condition compiled and its result flattened.
#[derive(Debug)]
pub(crate) struct CompiledRule {
    pub cond: Cond,
    pub enables: bool,
    pub disables: bool,
    pub hides: bool,
    pub mandatory: Option<bool>,
    pub activation: Activation,
    pub apply: Option<ApplyMode>,
    /// Positions of an append value's ids.
    pub append_bits: Box<[u64]>,
}

/// A field as the evaluation needs it.
#[derive(Debug)]
pub(crate) struct CompiledField {
    /// Active rules targeting the field, by position, in `seq` order.
    pub rules: Box<[usize]>,
    pub field_type: FieldType,
    pub default_disabled: bool,
    pub mandatory: bool,
    pub has_validation: bool,
    /// Enum and set fields.
    pub ids: Option<Arc<DatasourceIds>>,
    /// The field's state when none of its rules fires.
    pub base: FieldState,
}

/// A schema compiled for evaluation.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub layout: Arc<Layout>,
    pub fields: Vec<CompiledField>,
    /// By position in the schema's rules.
    pub rules: Vec<CompiledRule>,
}

impl Compiled {
    /// `order` is the evaluation order; `rules` are in `seq` order.
    pub fn new(fields: &Fields, rules: &[Rule], order: &[String]) -> Self {
        let layout = Layout::new(order.iter().filter(|id| fields.contains_key(*id)).cloned().collect());
        let ids: Vec<Option<Arc<DatasourceIds>>> = layout
            .names
            .iter()
            .map(|id| {
                let f = &fields[id];
                f.field_type
                    .has_datasource()
                    .then(|| Arc::new(DatasourceIds::new(f.datasource.iter().map(|e| e.external_id.clone()).collect())))
            })
            .collect();
        let active: Vec<Option<Allowed>> = layout
            .names
            .iter()
            .zip(&ids)
            .map(|(id, ids)| {
                let ids = ids.as_ref()?;
                let mut bits = ids.empty();
                ids.add(&mut bits, fields[id].datasource.iter().filter(|e| e.active).map(|e| e.external_id.as_str()));
                Some(Allowed::new(ids.clone(), bits.into()))
            })
            .collect();
        let mut by_target: Vec<Vec<usize>> = vec![Vec::new(); layout.names.len()];
        let compiled_rules = rules
            .iter()
            .enumerate()
            .map(|(n, r)| {
                let target = layout.position(&r.field);
                if let Some(t) = target.filter(|_| r.active) {
                    by_target[t].push(n);
                }
                let ids = target.and_then(|t| ids[t].as_ref());
                let active = target.and_then(|t| active[t].as_ref());
                compile_rule(r, &layout, ids, active)
            })
            .collect();
        let fields = layout
            .names
            .iter()
            .zip(ids)
            .zip(active)
            .zip(by_target)
            .map(|(((id, ids), active), rules)| {
                let f = &fields[id];
                CompiledField {
                    rules: rules.into(),
                    field_type: f.field_type,
                    default_disabled: f.default_disabled,
                    mandatory: f.mandatory,
                    has_validation: f.validation.is_some(),
                    ids,
                    base: FieldState {
                        enabled: !f.default_disabled,
                        mandatory: !f.default_disabled && f.mandatory,
                        allowed: active,
                        default_value: f.default_value.clone().map(|v| (v, None)),
                        ..FieldState::default()
                    },
                }
            })
            .collect();
        Self { layout: Arc::new(layout), fields, rules: compiled_rules }
    }
}

fn compile_rule(r: &Rule, layout: &Layout, ids: Option<&Arc<DatasourceIds>>, active: Option<&Allowed>) -> CompiledRule {
    let activation = match &r.result.activate_values {
        None => Activation::None,
        Some(Activate::All) => Activation::All,
        Some(Activate::Override(list) | Activate::Append(list)) => {
            let bits = bits_of(ids, list.iter().map(String::as_str));
            let narrowed = ids.zip(active).map(|(ids, active)| {
                let words: Arc<[u64]> = active.bits().iter().zip(bits.iter()).map(|(a, b)| a & b).collect();
                Allowed::new(ids.clone(), words)
            });
            let overrides = matches!(r.result.activate_values, Some(Activate::Override(_)));
            Activation::Listed { overrides, bits, narrowed }
        }
    };
    let (apply, append_bits) = match &r.result.apply_value {
        Some((v, ApplyMode::Append)) => (Some(ApplyMode::Append), bits_of(ids, v.ids())),
        Some((_, mode)) => (Some(*mode), Box::default()),
        None => (None, Box::default()),
    };
    CompiledRule {
        cond: Cond::compile(&r.condition, layout),
        enables: r.result.enable == Some(true),
        disables: r.result.disables(),
        hides: r.result.hide,
        mandatory: r.result.set_mandatory,
        activation,
        apply,
        append_bits,
    }
}

/// The positions of `list` in a datasource (empty for fields without one).
fn bits_of<'a>(ids: Option<&Arc<DatasourceIds>>, list: impl IntoIterator<Item = &'a str>) -> Box<[u64]> {
    ids.map(|ids| {
        let mut bits = ids.empty();
        ids.add(&mut bits, list);
        bits.into()
    })
    .unwrap_or_default()
}
