//! The conditional metadata rules API, plus two Nimbus extensions: `evaluate` (the effective
//! schema for a metadata map, for forms) and `preview` (what a proposed rule change would do
//! to the stored assets).
//!
//! Docs: <https://cloudinary.com/documentation/conditional_metadata_rules_api>.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use nimbus_core::metadata::doc::metadata_from_json;
use nimbus_core::metadata::engine::effective;
use nimbus_core::metadata::rules::{check_rule, parse_result};
use nimbus_core::metadata::write::{Delta, resolve};
use nimbus_core::metadata::{Rule, Schema, Value};

use super::values::{MetadataInput, parse_request};
use super::{LoadedSchema, compile_rule};
use crate::error::AppResult;
use crate::events::Caller;
use crate::ports::{MetadataChange, RuleRecord};
use crate::{App, AppError};

/// Most active rules per target field, and per environment.
pub const MAX_ACTIVE_PER_FIELD: usize = 100;
pub const MAX_RULES: usize = 1000;
/// Assets a preview reads per page, and example ids it reports per count.
const PREVIEW_PAGE: u32 = 1000;
const PREVIEW_EXAMPLES: usize = 10;
/// The consequences a preview counts.
pub const PREVIEW_KINDS: [&str; 4] =
    ["now_disabled_values", "grandfathered_values", "missing_mandatory", "defaults_on_next_edit"];

fn bad(msg: impl Into<String>) -> AppError {
    AppError::MetadataSchema(msg.into())
}

/// A rule as a request gives it. A new rule needs `field`, `condition` and `result`; an
/// update, or the preview of one, keeps what it does not give. `condition` and `result` are
/// objects of the rules language (see `nimbus_core::metadata::rules`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleDraft {
    pub external_id: Option<String>,
    pub field: Option<String>,
    pub name: Option<String>,
    pub condition: Option<Json>,
    pub result: Option<Json>,
    pub active: Option<bool>,
}

/// A rule change to preview.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleProposal {
    /// Create a rule, or update it when its `external_id` exists.
    Put(RuleDraft),
    Delete(String),
}

/// A stored rule and the advice its write produced.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSaved {
    pub rule: RuleRecord,
    pub warnings: Vec<String>,
}

fn object_or_bad(v: Option<&Json>, key: &str) -> AppResult<()> {
    match v {
        None | Some(Json::Object(_)) => Ok(()),
        Some(other) => Err(bad(format!("'{key}' must be a JSON object, got {other}"))),
    }
}

impl RuleDraft {
    /// `condition` and `result` must be objects.
    fn check_shape(&self) -> AppResult<()> {
        object_or_bad(self.condition.as_ref(), "condition")?;
        object_or_bad(self.result.as_ref(), "result")
    }

    /// This draft applied over `old`.
    fn over(&self, old: &RuleRecord) -> RuleRecord {
        RuleRecord {
            field: self.field.clone().unwrap_or_else(|| old.field.clone()),
            name: self.name.clone().unwrap_or_else(|| old.name.clone()),
            condition: self.condition.clone().unwrap_or_else(|| old.condition.clone()),
            result: self.result.clone().unwrap_or_else(|| old.result.clone()),
            active: self.active.unwrap_or(old.active),
            ..old.clone()
        }
    }
}

/// Checks a rule about to be stored against the schema: fields and values exist, types fit,
/// no self-reference, no cycle among active rules, limits. Returns the alias warnings.
pub(crate) fn check(loaded: &LoadedSchema, rec: &RuleRecord) -> AppResult<Vec<String>> {
    let fields = &loaded.schema.fields;
    let target = fields.get(&rec.field).ok_or_else(|| bad(format!("Metadata field '{}' does not exist", rec.field)))?;
    let (_, warnings) = parse_result(&rec.result, target).map_err(|e| bad(e.message))?;
    let rule = compile_rule(rec, fields).map_err(bad)?;
    check_rule(&rule, &loaded.schema.rules, fields).map_err(|e| bad(e.message))?;
    let others = || loaded.schema.rules.iter().filter(|r| r.external_id != rec.external_id);
    if rec.active && others().filter(|r| r.active && r.field == rec.field).count() >= MAX_ACTIVE_PER_FIELD {
        return Err(bad(format!("Metadata field '{}' has {MAX_ACTIVE_PER_FIELD} active rules already", rec.field)));
    }
    if loaded.rule(&rec.external_id).is_none() && others().count() >= MAX_RULES {
        return Err(bad(format!("An environment has at most {MAX_RULES} metadata rules")));
    }
    Ok(warnings.into_iter().chain(lints(loaded, &rule)).collect())
}

/// Non-blocking advice about a rule.
fn lints(loaded: &LoadedSchema, rule: &Rule) -> Vec<String> {
    let mut out = Vec::new();
    let Some(target) = loaded.schema.fields.get(&rule.field) else { return out };
    if rule.active {
        for other in loaded
            .schema
            .rules
            .iter()
            .filter(|o| o.active && o.field == rule.field && o.external_id != rule.external_id)
        {
            if other.condition == rule.condition
                && other.result.apply_value.is_some()
                && rule.result.apply_value.is_some()
                && other.result.apply_value != rule.result.apply_value
            {
                out.push(format!(
                    "Rule '{}' has the same condition and applies a different value; the older rule wins",
                    other.external_id
                ));
            }
        }
    }
    if let Some((v, _)) = &rule.result.apply_value {
        if let Some(i) = v.ids().into_iter().find(|i| target.entry(i).is_some_and(|e| !e.active)) {
            out.push(format!("apply_value '{i}' is an inactive datasource value; it will not be applied"));
        }
    }
    out
}

impl App {
    /// All rules, active and inactive, by target field id (bytewise) then creation order.
    pub async fn list_metadata_rules(&self, env: i64) -> AppResult<Vec<RuleRecord>> {
        let loaded = self.metadata_schema(env).await?;
        let mut rules = loaded.rules.clone();
        rules.sort_by(|a, b| a.field.as_bytes().cmp(b.field.as_bytes()).then(a.seq.cmp(&b.seq)));
        Ok(rules)
    }

    pub async fn create_metadata_rule(&self, caller: &Caller, draft: &RuleDraft) -> AppResult<RuleSaved> {
        draft.check_shape()?;
        let external_id =
            draft.external_id.clone().unwrap_or_else(|| format!("{}{}", self.ids.hex32(), self.ids.hex32()));
        nimbus_core::metadata::doc::check_external_id("metadata rule", &external_id).map_err(bad)?;
        let rec = RuleRecord {
            seq: 0,
            field: draft.field.clone().ok_or(AppError::MissingParam("metadata_field_id"))?,
            name: draft.name.clone().unwrap_or_else(|| external_id.clone()),
            condition: draft.condition.clone().ok_or(AppError::MissingParam("condition"))?,
            result: draft.result.clone().ok_or(AppError::MissingParam("result"))?,
            active: draft.active.unwrap_or(true),
            created_at: self.now(),
            external_id,
        };
        self.change_schema(caller, |loaded| {
            if loaded.rule(&rec.external_id).is_some() {
                return Err(AppError::AlreadyExists(format!("Metadata rule {}", rec.external_id)));
            }
            let warnings = check(loaded, &rec)?;
            Ok((vec![MetadataChange::PutRule(rec.clone())], RuleSaved { rule: rec.clone(), warnings }))
        })
        .await
    }

    /// Partial update: what the draft gives replaces the stored parts; activation runs the
    /// cycle check.
    pub async fn update_metadata_rule(&self, caller: &Caller, id: &str, draft: &RuleDraft) -> AppResult<RuleSaved> {
        draft.check_shape()?;
        self.change_schema(caller, |loaded| {
            let old = loaded.rule(id).ok_or_else(|| AppError::MetadataRuleNotFound(id.to_owned()))?;
            let rec = draft.over(old);
            let warnings = check(loaded, &rec)?;
            Ok((vec![MetadataChange::PutRule(rec.clone())], RuleSaved { rule: rec.clone(), warnings }))
        })
        .await
    }

    pub async fn delete_metadata_rule(&self, caller: &Caller, id: &str) -> AppResult<()> {
        self.change_schema(caller, |loaded| {
            loaded.rule(id).ok_or_else(|| AppError::MetadataRuleNotFound(id.to_owned()))?;
            Ok((vec![MetadataChange::DeleteRule(id.to_owned())], ()))
        })
        .await
    }

    /// What the rules make of these values: each field's state (shown, enabled, mandatory,
    /// allowed values, default) and the rules that fired. `metadata_rules/evaluate` and the
    /// console's live form ask this.
    pub async fn evaluate_metadata_input(&self, env: i64, input: &MetadataInput) -> AppResult<Evaluation> {
        let loaded = self.metadata_schema(env).await?;
        let delta = parse_request(&loaded, input, false).map_err(AppError::metadata)?;
        let m = delta.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect();
        Ok(evaluation(&loaded.schema, &m, loaded.version))
    }

    /// `POST metadata_rules/preview`: applies a proposed rule change to a copy of the schema
    /// and compares every stored asset under both.
    pub async fn preview_metadata_rule(&self, env: i64, proposal: &RuleProposal) -> AppResult<RulePreview> {
        let loaded = self.metadata_schema(env).await?;
        let mut records = loaded.rules.clone();
        let action = match proposal {
            RuleProposal::Delete(id) => {
                loaded.rule(id).ok_or_else(|| AppError::MetadataRuleNotFound(id.clone()))?;
                records.retain(|r| &r.external_id != id);
                RuleAction::Delete
            }
            RuleProposal::Put(draft) => {
                draft.check_shape()?;
                match draft.external_id.as_deref().and_then(|i| loaded.rule(i)) {
                    Some(old) => {
                        let rec = draft.over(old);
                        check(&loaded, &rec)?;
                        records.iter_mut().filter(|r| r.external_id == rec.external_id).for_each(|r| *r = rec.clone());
                        RuleAction::Update
                    }
                    None => {
                        let rec = RuleRecord {
                            external_id: draft.external_id.clone().unwrap_or_else(|| "proposed".to_owned()),
                            seq: loaded.rules.iter().map(|r| r.seq).max().unwrap_or(0) + 1,
                            field: draft.field.clone().ok_or(AppError::MissingParam("metadata_field_id"))?,
                            name: draft.name.clone().unwrap_or_else(|| "proposed".to_owned()),
                            condition: draft.condition.clone().ok_or(AppError::MissingParam("condition"))?,
                            result: draft.result.clone().ok_or(AppError::MissingParam("result"))?,
                            active: draft.active.unwrap_or(true),
                            created_at: self.now(),
                        };
                        check(&loaded, &rec)?;
                        records.push(rec);
                        RuleAction::Create
                    }
                }
            }
        };
        let fields = loaded.schema.fields.clone();
        let rules = records.iter().map(|r| compile_rule(r, &fields)).collect::<Result<Vec<_>, _>>().map_err(bad)?;
        let proposed = std::sync::Arc::new(Schema::new(fields, rules).map_err(|e| bad(e.to_string()))?);
        let mut report = PreviewReport::default();
        let mut after = None;
        loop {
            let page = self.catalog.scan_metadata(env, after, PREVIEW_PAGE).await?;
            let Some(last) = page.last().map(|(pos, _, _)| *pos) else { break };
            after = Some(last);
            let (current, proposed_copy) = (loaded.clone(), proposed.clone());
            let part = self.cpu.run(move || preview_page(&current.schema, &proposed_copy, &page)).await?;
            report.merge(part);
        }
        Ok(RulePreview { action, report })
    }
}

/// What a previewed change would be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleAction {
    Create,
    Update,
    Delete,
}

impl RuleAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
        }
    }
}

/// A previewed rule change and what it would do to the stored assets.
#[derive(Debug, Clone, PartialEq)]
pub struct RulePreview {
    pub action: RuleAction,
    pub report: PreviewReport,
}

/// One field's state under the rules.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldState {
    pub enabled: bool,
    pub hidden: bool,
    pub mandatory: bool,
    /// The datasource ids allowed, when the rules narrow them.
    pub allowed_values: Option<Vec<String>>,
    pub default_value: Option<Value>,
    pub value: Option<Value>,
    /// The rules that set this state.
    pub fired: Vec<String>,
}

/// The effective schema of a metadata map: per field (in schema order) its state, the
/// schema version it was computed from, and every rule that fired.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub schema_version: i64,
    pub fields: Vec<(String, FieldState)>,
    pub fired: Vec<String>,
}

impl Evaluation {
    pub fn field(&self, id: &str) -> Option<&FieldState> {
        self.fields.iter().find(|(f, _)| f == id).map(|(_, st)| st)
    }
}

/// The effective schema of `m`.
pub fn evaluation(schema: &Schema, m: &nimbus_core::metadata::Metadata, version: i64) -> Evaluation {
    let states = effective(schema, m);
    let mut fields = Vec::new();
    let mut fired_all = Vec::new();
    for id in schema.order() {
        let Some(st) = states.get(id.as_str()) else { continue };
        let fired = schema.rule_ids(&st.fired);
        fired_all.extend(fired.iter().cloned());
        fields.push((
            id.clone(),
            FieldState {
                enabled: st.enabled,
                hidden: st.hidden,
                mandatory: st.mandatory,
                allowed_values: st.allowed.as_ref().map(nimbus_core::metadata::Allowed::to_vec),
                default_value: st.default_value.as_ref().map(|(v, _)| v.clone()),
                value: m.get(id).cloned(),
                fired,
            },
        ));
    }
    Evaluation { schema_version: version, fields, fired: fired_all }
}

/// Counts of what a proposed schema would do, with example public ids.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PreviewReport {
    assets: u64,
    counts: BTreeMap<&'static str, u64>,
    examples: BTreeMap<&'static str, Vec<String>>,
}

impl PreviewReport {
    fn add(&mut self, what: &'static str, public_id: &str) {
        *self.counts.entry(what).or_default() += 1;
        let ex = self.examples.entry(what).or_default();
        if ex.len() < PREVIEW_EXAMPLES && !ex.iter().any(|e| e == public_id) {
            ex.push(public_id.to_owned());
        }
    }

    fn merge(&mut self, other: Self) {
        self.assets += other.assets;
        for (k, n) in other.counts {
            *self.counts.entry(k).or_default() += n;
        }
        for (k, ids) in other.examples {
            for id in ids {
                let ex = self.examples.entry(k).or_default();
                if ex.len() < PREVIEW_EXAMPLES && !ex.contains(&id) {
                    ex.push(id);
                }
            }
        }
    }

    /// Assets compared.
    pub fn assets(&self) -> u64 {
        self.assets
    }

    /// Per kind of consequence, in a fixed order: how many assets, and some of their public
    /// ids.
    pub fn consequences(&self) -> impl Iterator<Item = (&'static str, u64, &[String])> {
        PREVIEW_KINDS
            .into_iter()
            .map(|k| (k, self.counts.get(k).copied().unwrap_or(0), self.examples.get(k).map_or(&[][..], Vec::as_slice)))
    }
}

fn preview_page(
    current: &Schema,
    proposed: &Schema,
    page: &[(i64, String, nimbus_core::MetadataValues)],
) -> PreviewReport {
    let mut r = PreviewReport::default();
    for (_, public_id, stored) in page {
        r.assets += 1;
        let m = metadata_from_json(&proposed.fields, stored);
        let (before, after) = (effective(current, &m), effective(proposed, &m));
        for id in proposed.order() {
            let (Some(b), Some(a)) = (before.get(id.as_str()), after.get(id.as_str())) else { continue };
            let value = m.get(id).filter(|v| v.is_populated());
            if value.is_some() && b.enabled && !a.enabled {
                r.add("now_disabled_values", public_id);
            }
            if let Some(v) = value {
                if a.enabled && !a.allows(v) && b.enabled && b.allows(v) {
                    r.add("grandfathered_values", public_id);
                }
            }
            if value.is_none() && a.mandatory && !b.mandatory {
                r.add("missing_mandatory", public_id);
            }
        }
        // What an edit that touches no metadata would now write.
        let next = resolve(proposed, &m, &Delta::new(), false).metadata;
        let now = resolve(current, &m, &Delta::new(), false).metadata;
        if next != now {
            r.add("defaults_on_next_edit", public_id);
        }
    }
    r
}
