//! The Metadata API (fields and datasources) and the conditional metadata rules API.
//! Docs: <https://cloudinary.com/documentation/admin_api#metadata_fields>,
//! <https://cloudinary.com/documentation/conditional_metadata_rules_api>.

use nimbus_app::metadata::rules::{RulePreview, RuleProposal, RuleSaved};
use nimbus_app::ports::RuleRecord;
use nimbus_app::{App, AppError};
use nimbus_core::metadata::doc::field_json;
use serde_json::{Map, Value, json};

use super::AdminCall;
use crate::endpoint::Endpoint;
use crate::error::{ApiError, ApiResult};
use crate::wire;
use crate::wire::metadata::{datasource_json, descending, field_order, value_order};

fn text<'a>(call: &'a AdminCall, key: &str) -> Option<&'a str> {
    call.body.get(key).and_then(Value::as_str).or_else(|| call.params.get(key))
}

fn ok() -> Value {
    json!({ "message": "ok", "success": true })
}

pub async fn handle(app: &App, call: &AdminCall, endpoint: Endpoint) -> ApiResult<Value> {
    use Endpoint as E;
    let env = call.env.id;
    let body = &call.body;
    Ok(match endpoint {
        E::ListMetadataFields => wire::metadata::fields_json(&app.list_metadata_fields(env).await?),
        E::CreateMetadataField => {
            field_json(&app.create_metadata_field(&call.caller(), &wire::metadata::new_field(app, body)?).await?)
        }
        E::OrderMetadataFields => {
            let order_by = text(call, "order_by").ok_or(AppError::MissingParam("order_by"))?;
            let (order, desc) = (field_order(order_by)?, descending(text(call, "direction").unwrap_or("asc"))?);
            wire::metadata::fields_json(&app.order_metadata_fields(&call.caller(), order, desc).await?)
        }
        E::MetadataField { id } => field_json(&app.get_metadata_field(env, &id).await?),
        E::UpdateMetadataField { id } => {
            let (patch, datasource) = wire::metadata::field_update(app, body)?;
            let edit = |old: &_| patch.apply(app, old);
            field_json(&app.update_metadata_field(&call.caller(), &id, edit, datasource).await?)
        }
        E::DeleteMetadataField { id } => {
            let force = call.params.bool("force") == Some(true);
            app.delete_metadata_field(&call.caller(), &id, force).await?;
            ok()
        }
        E::UpdateDatasource { id } => {
            let values = body.get("values").ok_or(AppError::MissingParam("values"))?;
            let upsert = wire::metadata::datasource_upsert(app, values)?;
            datasource_json(&app.update_datasource(&call.caller(), &id, upsert).await?)
        }
        E::DeleteDatasourceEntries { id } => {
            let ids = wire::metadata::external_ids(body)?;
            datasource_json(&app.set_datasource_state(&call.caller(), &id, &ids, false).await?)
        }
        E::RestoreDatasourceEntries { id } => {
            let ids = wire::metadata::external_ids(body)?;
            datasource_json(&app.set_datasource_state(&call.caller(), &id, &ids, true).await?)
        }
        E::OrderDatasource { id } => {
            let order_by = text(call, "order_by").ok_or(AppError::MissingParam("order_by"))?;
            let (order, desc) = (value_order(order_by)?, descending(text(call, "direction").unwrap_or("asc"))?);
            datasource_json(&app.order_datasource(&call.caller(), &id, order, desc).await?)
        }
        E::SearchDatasource { id } => {
            wire::metadata::entries_json(&app.search_datasource(env, &id, text(call, "term").unwrap_or("")).await?)
        }
        E::ListMetadataRules => {
            let rules = app.list_metadata_rules(env).await?;
            json!({ "metadata_rules": rules.iter().map(rule_json).collect::<Vec<_>>() })
        }
        E::CreateMetadataRule => {
            saved_json(&app.create_metadata_rule(&call.caller(), &wire::metadata::rule_draft(body)?).await?)
        }
        E::MetadataRule { id } => {
            let rules = app.list_metadata_rules(env).await?;
            rule_json(rules.iter().find(|r| r.external_id == id).ok_or(AppError::MetadataRuleNotFound(id))?)
        }
        E::UpdateMetadataRule { id } => {
            saved_json(&app.update_metadata_rule(&call.caller(), &id, &wire::metadata::rule_draft(body)?).await?)
        }
        E::DeleteMetadataRule { id } => {
            app.delete_metadata_rule(&call.caller(), &id).await?;
            ok()
        }
        E::EvaluateMetadataRules => {
            let input = wire::metadata::metadata_input(body)?;
            wire::metadata::evaluation_json(&app.evaluate_metadata_input(env, &input).await?)
        }
        E::PreviewMetadataRule => {
            let proposal = match body.get("delete").and_then(Value::as_bool) {
                Some(true) => RuleProposal::Delete(
                    wire::metadata::rule_draft(body)?.external_id.ok_or(AppError::MissingParam("external_id"))?,
                ),
                _ => RuleProposal::Put(wire::metadata::rule_draft(body)?),
            };
            preview_json(&app.preview_metadata_rule(env, &proposal).await?)
        }
        other => return Err(ApiError::UnknownEndpoint(format!("{other:?}"))),
    })
}

/// A rule as the API shows it.
fn rule_json(r: &RuleRecord) -> Value {
    json!({
        "external_id": r.external_id,
        "metadata_field_id": r.field,
        "name": r.name,
        "condition": r.condition,
        "result": r.result,
        "state": if r.active { "active" } else { "inactive" },
    })
}

fn saved_json(s: &RuleSaved) -> Value {
    let mut v = rule_json(&s.rule);
    if !s.warnings.is_empty() {
        v["warnings"] = json!(s.warnings);
    }
    v
}

fn preview_json(p: &RulePreview) -> Value {
    let mut o = Map::new();
    o.insert("assets_scanned".into(), json!(p.report.assets()));
    for (kind, count, examples) in p.report.consequences() {
        o.insert(kind.into(), json!({ "count": count, "examples": examples }));
    }
    o.insert("action".into(), json!(p.action.as_str()));
    Value::Object(o)
}
