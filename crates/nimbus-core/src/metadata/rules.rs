//! Conditional metadata rules: their typed form, parsing from the wire JSON (with the
//! aliases real SDKs send), and the checks made when a rule is written.
//!
//! ```text
//! Cond := Leaf | {"and": [Cond, ...]} | {"or": [Cond, ...]}     arrays non-empty, depth <= 8, <= 64 leaves
//! Leaf := {"metadata_field_id": F, exactly one of "populated": bool | "equals": scalar | "includes": [id, ...]}
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

use super::schema::{Field, FieldType, RawValue, Value};

pub const MAX_DEPTH: usize = 8;
pub const MAX_LEAVES: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Criterion {
    Populated(bool),
    Equals(Value),
    /// Every id must be in the set (subset test).
    Includes(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    Leaf { field: String, criterion: Criterion },
    And(Vec<Condition>),
    Or(Vec<Condition>),
}

impl Condition {
    /// Every field the condition reads.
    pub fn fields(&self) -> BTreeSet<&str> {
        let mut out = BTreeSet::new();
        self.collect(&mut out);
        out
    }
    fn collect<'a>(&'a self, out: &mut BTreeSet<&'a str>) {
        match self {
            Self::Leaf { field, .. } => {
                out.insert(field);
            }
            Self::And(cs) | Self::Or(cs) => cs.iter().for_each(|c| c.collect(out)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Activate {
    All,
    Override(Vec<String>),
    Append(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyMode {
    Default,
    Override,
    Append,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RuleResult {
    /// `enable: true` enables; `enable: false` and `disable: true` disable.
    pub enable: Option<bool>,
    pub hide: bool,
    pub activate_values: Option<Activate>,
    pub apply_value: Option<(Value, ApplyMode)>,
    pub set_mandatory: Option<bool>,
}

impl RuleResult {
    pub fn disables(&self) -> bool {
        self.enable == Some(false)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub external_id: String,
    pub name: String,
    /// The target field.
    pub field: String,
    pub condition: Condition,
    pub result: RuleResult,
    pub active: bool,
    /// Creation order; never changes.
    pub seq: i64,
}

/// Why a rule was refused; the message is shown to API clients as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RuleError {
    pub message: String,
}

fn err<T>(message: impl Into<String>) -> Result<T, RuleError> {
    Err(RuleError { message: message.into() })
}

/// The fields a rule may refer to, by external id.
pub type Fields = BTreeMap<String, Field>;

/// Parses a condition against the schema.
pub fn parse_condition(json: &Json, fields: &Fields) -> Result<Condition, RuleError> {
    let mut leaves = 0;
    let c = parse_cond(json, fields, 1, &mut leaves)?;
    if leaves > MAX_LEAVES {
        return err(format!("Condition has {leaves} leaves; at most {MAX_LEAVES} are allowed"));
    }
    Ok(c)
}

fn parse_cond(json: &Json, fields: &Fields, depth: usize, leaves: &mut usize) -> Result<Condition, RuleError> {
    if depth > MAX_DEPTH {
        return err(format!("Condition is nested deeper than {MAX_DEPTH} levels"));
    }
    let Json::Object(obj) = json else { return err("Condition must be an object") };
    for (key, ctor) in [("and", Condition::And as fn(Vec<Condition>) -> Condition), ("or", Condition::Or)] {
        if let Some(list) = obj.get(key) {
            if obj.len() != 1 {
                return err(format!("A condition with '{key}' must have no other keys"));
            }
            let Json::Array(items) = list else { return err(format!("'{key}' must be an array of conditions")) };
            if items.is_empty() {
                return err(format!("'{key}' must not be empty"));
            }
            let parts =
                items.iter().map(|c| parse_cond(c, fields, depth + 1, leaves)).collect::<Result<Vec<_>, _>>()?;
            return Ok(ctor(parts));
        }
    }
    *leaves += 1;
    let Some(Json::String(fid)) = obj.get("metadata_field_id") else {
        return err("Condition leaf must have a metadata_field_id");
    };
    let Some(field) = fields.get(fid) else {
        return err(format!("Condition references unknown metadata field '{fid}'"));
    };
    let criteria: Vec<&str> =
        ["populated", "equals", "includes"].into_iter().filter(|k| obj.contains_key(*k)).collect();
    if criteria.len() != 1 {
        return err("Leaf must have exactly one of populated, equals, includes");
    }
    if let Some(unknown) =
        obj.keys().find(|k| !matches!(k.as_str(), "metadata_field_id" | "populated" | "equals" | "includes"))
    {
        return err(format!("Unknown condition key '{unknown}'"));
    }
    let criterion = match criteria[0] {
        "populated" => match obj.get("populated") {
            Some(Json::Bool(b)) => Criterion::Populated(*b),
            _ => return err("'populated' must be true or false"),
        },
        "equals" => {
            let raw = obj.get("equals").unwrap_or(&Json::Null);
            if field.field_type == FieldType::Set {
                // Cloudinary's own SDK tests send `equals` with one id on set fields: it reads
                // as "the set includes this id".
                let ids = id_list(Some(raw), field, "equals")?;
                if ids.is_empty() {
                    return err("'equals' must name a datasource value");
                }
                return Ok(Condition::Leaf { field: fid.clone(), criterion: Criterion::Includes(ids) });
            }
            Criterion::Equals(field.parse_value(&RawValue::Json(raw)).map_err(|i| RuleError { message: i.message })?)
        }
        _ => {
            if field.field_type != FieldType::Set {
                return err(format!(
                    "'includes' is only valid for set fields; '{fid}' is {}",
                    field.field_type.as_str()
                ));
            }
            let ids = id_list(obj.get("includes"), field, "includes")?;
            if ids.is_empty() {
                return err("'includes' must not be empty");
            }
            Criterion::Includes(ids)
        }
    };
    Ok(Condition::Leaf { field: fid.clone(), criterion })
}

/// A list of datasource ids: an array, or (as the Java SDK sends it) an object of ids.
fn id_list(json: Option<&Json>, field: &Field, what: &str) -> Result<Vec<String>, RuleError> {
    let ids: Vec<String> = match json {
        Some(Json::Array(a)) => {
            a.iter().map(|v| v.as_str().map(str::to_owned)).collect::<Option<_>>().unwrap_or_default()
        }
        Some(Json::Object(o)) if o.contains_key("values") => return id_list(o.get("values"), field, what),
        Some(Json::Object(o)) => o.keys().cloned().collect(),
        Some(Json::String(s)) => vec![s.clone()],
        _ => return err(format!("'{what}' must be a list of datasource ids")),
    };
    if let Some(bad) = ids.iter().find(|i| field.entry(i).is_none()) {
        return err(format!("'{bad}' is not a datasource value of metadata field '{}'", field.external_id));
    }
    Ok(ids)
}

/// Parses a result object for target `field`, accepting the aliases `apply_values`,
/// `mandatory`, `disable` and `hide`. Returns the result and a warning per alias used.
pub fn parse_result(json: &Json, field: &Field) -> Result<(RuleResult, Vec<String>), RuleError> {
    let Json::Object(obj) = json else { return err("Result must be an object") };
    if obj.is_empty() {
        return err("Result must not be empty");
    }
    let mut warnings = Vec::new();
    let mut r = RuleResult::default();
    let boolean = |k: &str, v: &Json| match v {
        Json::Bool(b) => Ok(*b),
        Json::String(s) if s == "true" || s == "false" => Ok(s == "true"),
        _ => err(format!("'{k}' must be true or false")),
    };
    for (key, v) in obj {
        match key.as_str() {
            "enable" => r.enable = Some(boolean(key, v)? && r.enable != Some(false)),
            "disable" => {
                if boolean(key, v)? {
                    r.enable = Some(false);
                } else if r.enable.is_none() {
                    r.enable = Some(true);
                }
            }
            "hide" => r.hide = boolean(key, v)?,
            "set_mandatory" | "mandatory" => {
                if key == "mandatory" {
                    warnings.push("'mandatory' accepted as 'set_mandatory'".to_owned());
                }
                r.set_mandatory = Some(boolean(key, v)?);
            }
            "activate_values" => {
                if !field.field_type.has_datasource() {
                    return err(format!(
                        "'activate_values' is only valid for enum and set fields; '{}' is {}",
                        field.external_id,
                        field.field_type.as_str()
                    ));
                }
                r.activate_values = Some(match v {
                    Json::String(s) if s == "all" => Activate::All,
                    Json::Object(o) => {
                        let ids = id_list(o.get("external_ids").or(o.get("values")), field, "activate_values")?;
                        match o.get("mode").and_then(Json::as_str).unwrap_or("override") {
                            "override" => Activate::Override(ids),
                            "append" => Activate::Append(ids),
                            m => {
                                return err(format!("Unknown activate_values mode '{m}'; expected override or append"));
                            }
                        }
                    }
                    _ => return err("'activate_values' must be \"all\" or {\"external_ids\": [...], \"mode\": ...}"),
                });
            }
            "apply_value" | "apply_values" => {
                if key == "apply_values" {
                    warnings.push("'apply_values' accepted as 'apply_value'".to_owned());
                }
                let (raw, mode) = match v {
                    Json::Object(o) if o.contains_key("value") => (
                        o.get("value").unwrap_or(&Json::Null),
                        o.get("mode").and_then(Json::as_str).unwrap_or("default"),
                    ),
                    other => (other, "default"),
                };
                let mode = match mode {
                    "default" => ApplyMode::Default,
                    "override" => ApplyMode::Override,
                    "append" => ApplyMode::Append,
                    m => return err(format!("Unknown apply_value mode '{m}'; expected default, override or append")),
                };
                if mode == ApplyMode::Append && field.field_type != FieldType::Set {
                    return err(format!(
                        "apply_value mode 'append' is only valid for set fields; '{}' is {}",
                        field.external_id,
                        field.field_type.as_str()
                    ));
                }
                let value = field.parse_value(&RawValue::Json(raw)).map_err(|i| RuleError { message: i.message })?;
                r.apply_value = Some((value, mode));
            }
            other => return err(format!("Unknown result key '{other}'")),
        }
    }
    if r.enable.is_none()
        && !r.hide
        && r.activate_values.is_none()
        && r.apply_value.is_none()
        && r.set_mandatory.is_none()
    {
        return err("Result must not be empty");
    }
    Ok((r, warnings))
}

/// Checks a rule about to be stored against the schema and the other rules: no
/// self-reference, and no cycle among active rules (the message names the cycle).
pub fn check_rule(rule: &Rule, others: &[Rule], fields: &Fields) -> Result<(), RuleError> {
    if !fields.contains_key(&rule.field) {
        return err(format!("Metadata field '{}' does not exist", rule.field));
    }
    if rule.condition.fields().contains(rule.field.as_str()) {
        return err(format!("Rule '{}' refers to its own target field '{}' in its condition", rule.name, rule.field));
    }
    if !rule.active {
        return Ok(());
    }
    let active: Vec<&Rule> =
        others.iter().filter(|r| r.active && r.external_id != rule.external_id).chain(std::iter::once(rule)).collect();
    if let Some(cycle) = find_cycle(&active) {
        return err(format!("Rule would create a cycle: {}", cycle.join(" → ")));
    }
    Ok(())
}

/// Edges u → target for every field u a rule's condition reads.
fn graph<'a>(rules: &[&'a Rule]) -> BTreeMap<&'a str, BTreeSet<&'a str>> {
    let mut g: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for r in rules {
        for u in r.condition.fields() {
            g.entry(u).or_default().insert(r.field.as_str());
        }
    }
    g
}

/// A cycle of fields, first field repeated at the end, if the rules have one.
pub fn find_cycle(rules: &[&Rule]) -> Option<Vec<String>> {
    let g = graph(rules);
    // Depth-first search with colours; deterministic through BTree ordering.
    let mut state: BTreeMap<&str, u8> = BTreeMap::new();
    let mut stack: Vec<&str> = Vec::new();
    fn visit<'a>(
        n: &'a str,
        g: &BTreeMap<&'a str, BTreeSet<&'a str>>,
        state: &mut BTreeMap<&'a str, u8>,
        stack: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        state.insert(n, 1);
        stack.push(n);
        for &m in g.get(n).into_iter().flatten() {
            match state.get(m).copied().unwrap_or(0) {
                1 => {
                    let start = stack.iter().position(|x| *x == m).unwrap_or(0);
                    let mut c: Vec<String> = stack[start..].iter().map(|s| (*s).to_owned()).collect();
                    c.push(m.to_owned());
                    return Some(c);
                }
                0 => {
                    if let Some(c) = visit(m, g, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n, 2);
        None
    }
    let nodes: Vec<&str> = g.keys().copied().collect();
    for n in nodes {
        if state.get(n).copied().unwrap_or(0) == 0 {
            if let Some(c) = visit(n, &g, &mut state, &mut stack) {
                return Some(c);
            }
        }
    }
    None
}

/// Fields in an order where every field comes after the fields its active rules read
/// (Kahn's algorithm, ties broken by external id). `None` if the rules have a cycle.
pub fn topological_order(fields: &Fields, rules: &[Rule]) -> Option<Vec<String>> {
    let active: Vec<&Rule> = rules.iter().filter(|r| r.active).collect();
    let g = graph(&active);
    let mut indegree: BTreeMap<&str, usize> = fields.keys().map(|k| (k.as_str(), 0)).collect();
    for targets in g.values() {
        for t in targets {
            *indegree.entry(t).or_default() += 1;
        }
    }
    let mut ready: BTreeSet<&str> = indegree.iter().filter(|(_, d)| **d == 0).map(|(k, _)| *k).collect();
    let mut order = Vec::with_capacity(indegree.len());
    while let Some(n) = ready.pop_first() {
        order.push(n.to_owned());
        for &t in g.get(n).into_iter().flatten() {
            if let Some(d) = indegree.get_mut(t) {
                *d -= 1;
                if *d == 0 {
                    ready.insert(t);
                }
            }
        }
    }
    (order.len() == indegree.len()).then_some(order)
}
