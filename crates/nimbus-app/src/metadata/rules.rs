//! The conditional metadata rules API, plus two Nimbus extensions: `evaluate` (the effective
//! schema for a metadata map, for forms) and `preview` (what a proposed rule change would do
//! to the stored assets).
//!
//! Docs: <https://cloudinary.com/documentation/conditional_metadata_rules_api>.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json, json};

use nimbus_core::metadata::doc::{metadata_from_json, value_json};
use nimbus_core::metadata::engine::effective;
use nimbus_core::metadata::rules::{check_rule, parse_result};
use nimbus_core::metadata::write::{Delta, resolve};
use nimbus_core::metadata::{Rule, Schema};

use super::values::{MetadataInput, RawInput, parse_input, parse_request};
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

fn bad(msg: impl Into<String>) -> AppError {
    AppError::MetadataSchema(msg.into())
}

/// A rule as the API shows it.
pub fn rule_json(r: &RuleRecord) -> Json {
    json!({
        "external_id": r.external_id,
        "metadata_field_id": r.field,
        "name": r.name,
        "condition": r.condition,
        "result": r.result,
        "state": if r.active { "active" } else { "inactive" },
    })
}

fn text(body: &Map<String, Json>, key: &str) -> AppResult<Option<String>> {
    match body.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(bad(format!("'{key}' must be a string, got {other}"))),
    }
}

/// A JSON object given in full, or as JSON text (form-encoded clients); `{}` counts as absent.
fn object(body: &Map<String, Json>, key: &str) -> AppResult<Option<Json>> {
    let v = match body.get(key) {
        None | Some(Json::Null) => return Ok(None),
        Some(Json::String(s)) => {
            serde_json::from_str::<Json>(s).map_err(|_| bad(format!("'{key}' must be a JSON object")))?
        }
        Some(v) => v.clone(),
    };
    match &v {
        Json::Object(o) if o.is_empty() => Ok(None),
        Json::Object(_) => Ok(Some(v)),
        other => Err(bad(format!("'{key}' must be a JSON object, got {other}"))),
    }
}

fn state(body: &Map<String, Json>) -> AppResult<Option<bool>> {
    match text(body, "state")?.as_deref() {
        None => Ok(None),
        Some("active") => Ok(Some(true)),
        Some("inactive") => Ok(Some(false)),
        Some(other) => Err(bad(format!("Invalid rule state '{other}'; expected active or inactive"))),
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
    pub async fn list_metadata_rules(&self, env: i64) -> AppResult<Json> {
        let loaded = self.metadata_schema(env).await?;
        let mut rules: Vec<&RuleRecord> = loaded.rules.iter().collect();
        rules.sort_by(|a, b| a.field.as_bytes().cmp(b.field.as_bytes()).then(a.seq.cmp(&b.seq)));
        Ok(json!({ "metadata_rules": rules.into_iter().map(rule_json).collect::<Vec<_>>() }))
    }

    pub async fn create_metadata_rule(&self, caller: &Caller, body: &Json) -> AppResult<Json> {
        let Json::Object(body) = body else { return Err(bad("A metadata rule must be a JSON object")) };
        let external_id =
            text(body, "external_id")?.unwrap_or_else(|| format!("{}{}", self.ids.hex32(), self.ids.hex32()));
        nimbus_core::metadata::doc::check_external_id("metadata rule", &external_id).map_err(bad)?;
        let field = text(body, "metadata_field_id")?.ok_or(AppError::MissingParam("metadata_field_id"))?;
        let name = text(body, "name")?.unwrap_or_else(|| external_id.clone());
        let condition = object(body, "condition")?.ok_or(AppError::MissingParam("condition"))?;
        let result = object(body, "result")?.ok_or(AppError::MissingParam("result"))?;
        let rec = RuleRecord {
            external_id,
            seq: 0,
            field,
            name,
            condition,
            result,
            active: state(body)?.unwrap_or(true),
            created_at: self.now(),
        };
        self.change_schema(caller, |loaded| {
            if loaded.rule(&rec.external_id).is_some() {
                return Err(AppError::AlreadyExists(format!("Metadata rule {}", rec.external_id)));
            }
            let warnings = check(loaded, &rec)?;
            Ok((vec![MetadataChange::PutRule(rec.clone())], with_warnings(rule_json(&rec), warnings)))
        })
        .await
    }

    /// Partial update: given keys replace the stored ones (an empty `condition` or `result`
    /// leaves it alone); `state` activates or deactivates, with the cycle check on activation.
    pub async fn update_metadata_rule(&self, caller: &Caller, id: &str, body: &Json) -> AppResult<Json> {
        let Json::Object(body) = body else { return Err(bad("A metadata rule must be a JSON object")) };
        let (field, name, condition, result, active) = (
            text(body, "metadata_field_id")?,
            text(body, "name")?,
            object(body, "condition")?,
            object(body, "result")?,
            state(body)?,
        );
        self.change_schema(caller, |loaded| {
            let old = loaded.rule(id).ok_or_else(|| AppError::MetadataRuleNotFound(id.to_owned()))?;
            let rec = RuleRecord {
                field: field.clone().unwrap_or_else(|| old.field.clone()),
                name: name.clone().unwrap_or_else(|| old.name.clone()),
                condition: condition.clone().unwrap_or_else(|| old.condition.clone()),
                result: result.clone().unwrap_or_else(|| old.result.clone()),
                active: active.unwrap_or(old.active),
                ..old.clone()
            };
            let warnings = check(loaded, &rec)?;
            Ok((vec![MetadataChange::PutRule(rec.clone())], with_warnings(rule_json(&rec), warnings)))
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

    /// `POST metadata_rules/evaluate`: the effective schema for a metadata map.
    pub async fn evaluate_metadata(&self, env: i64, body: &Json) -> AppResult<Json> {
        let input = match body.get("metadata") {
            None | Some(Json::Null) => Vec::new(),
            Some(Json::String(s)) => parse_input(s)?,
            Some(Json::Object(o)) => o.iter().map(|(k, v)| (k.clone(), RawInput::Json(v.clone()))).collect(),
            Some(other) => return Err(bad(format!("'metadata' must be an object, got {other}"))),
        };
        self.evaluate_metadata_input(env, &input).await
    }

    /// What the rules make of these values: each field's state (shown, enabled, mandatory,
    /// allowed values, default) and the rules that fired. The console's live form asks this.
    pub async fn evaluate_metadata_input(&self, env: i64, input: &MetadataInput) -> AppResult<Json> {
        let loaded = self.metadata_schema(env).await?;
        let delta = parse_request(&loaded, input, false).map_err(AppError::metadata)?;
        let m = delta.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect();
        Ok(evaluation_json(&loaded.schema, &m, loaded.version))
    }

    /// `POST metadata_rules/preview`: applies a proposed rule (create, update when its
    /// `external_id` exists, or delete with `"delete": true`) to a copy of the schema and
    /// compares every stored asset under both.
    pub async fn preview_metadata_rule(&self, env: i64, body: &Json) -> AppResult<Json> {
        let Json::Object(obj) = body else { return Err(bad("A metadata rule must be a JSON object")) };
        let loaded = self.metadata_schema(env).await?;
        let id = text(obj, "external_id")?;
        let delete = obj.get("delete").and_then(Json::as_bool).unwrap_or(false);
        let mut records = loaded.rules.clone();
        let action = match (id.as_deref().and_then(|i| loaded.rule(i)), delete) {
            (Some(old), true) => {
                records.retain(|r| r.external_id != old.external_id);
                "delete"
            }
            (None, true) => return Err(AppError::MetadataRuleNotFound(id.unwrap_or_default())),
            (Some(old), false) => {
                let rec = RuleRecord {
                    field: text(obj, "metadata_field_id")?.unwrap_or_else(|| old.field.clone()),
                    name: text(obj, "name")?.unwrap_or_else(|| old.name.clone()),
                    condition: object(obj, "condition")?.unwrap_or_else(|| old.condition.clone()),
                    result: object(obj, "result")?.unwrap_or_else(|| old.result.clone()),
                    active: state(obj)?.unwrap_or(old.active),
                    ..old.clone()
                };
                check(&loaded, &rec)?;
                records.iter_mut().filter(|r| r.external_id == rec.external_id).for_each(|r| *r = rec.clone());
                "update"
            }
            (None, false) => {
                let rec = RuleRecord {
                    external_id: id.unwrap_or_else(|| "proposed".to_owned()),
                    seq: loaded.rules.iter().map(|r| r.seq).max().unwrap_or(0) + 1,
                    field: text(obj, "metadata_field_id")?.ok_or(AppError::MissingParam("metadata_field_id"))?,
                    name: text(obj, "name")?.unwrap_or_else(|| "proposed".to_owned()),
                    condition: object(obj, "condition")?.ok_or(AppError::MissingParam("condition"))?,
                    result: object(obj, "result")?.ok_or(AppError::MissingParam("result"))?,
                    active: state(obj)?.unwrap_or(true),
                    created_at: self.now(),
                };
                check(&loaded, &rec)?;
                records.push(rec);
                "create"
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
        let mut out = report.json();
        out["action"] = Json::String(action.to_owned());
        Ok(out)
    }
}

fn with_warnings(mut v: Json, warnings: Vec<String>) -> Json {
    if !warnings.is_empty() {
        v["warnings"] = json!(warnings);
    }
    v
}

/// The effective schema of `m` as JSON: per field its state, plus the rules that fired.
pub fn evaluation_json(schema: &Schema, m: &nimbus_core::metadata::Metadata, version: i64) -> Json {
    let states = effective(schema, m);
    let mut fields = Map::new();
    let mut fired_all = Vec::new();
    for id in schema.order() {
        let Some(st) = states.get(id.as_str()) else { continue };
        let fired = schema.rule_ids(&st.fired);
        fired_all.extend(fired.iter().cloned());
        fields.insert(
            id.clone(),
            json!({
                "enabled": st.enabled,
                "hidden": st.hidden,
                "mandatory": st.mandatory,
                "allowed_values": st.allowed.as_ref().map(nimbus_core::metadata::Allowed::to_vec),
                "default_value": st.default_value.as_ref().map(|(v, _)| value_json(v)),
                "value": m.get(id).map(value_json),
                "fired": fired,
            }),
        );
    }
    json!({ "schema_version": version, "fields": fields, "fired": fired_all })
}

/// Counts of what a proposed schema would do, with example public ids.
#[derive(Debug, Default)]
struct PreviewReport {
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

    fn json(&self) -> Json {
        let kinds = ["now_disabled_values", "grandfathered_values", "missing_mandatory", "defaults_on_next_edit"];
        let mut o = Map::new();
        o.insert("assets_scanned".into(), json!(self.assets));
        for k in kinds {
            o.insert(
                k.into(),
                json!({
                    "count": self.counts.get(k).copied().unwrap_or(0),
                    "examples": self.examples.get(k).cloned().unwrap_or_default(),
                }),
            );
        }
        Json::Object(o)
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
