//! The Metadata API (fields and datasources) and the conditional metadata rules API.
//! Docs: <https://cloudinary.com/documentation/admin_api#metadata_fields>,
//! <https://cloudinary.com/documentation/conditional_metadata_rules_api>.

use nimbus_app::App;
use serde_json::{Value, json};

use super::AdminCall;
use crate::endpoint::Endpoint;
use crate::error::{ApiError, ApiResult};

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
        E::ListMetadataFields => app.list_metadata_fields(env).await?,
        E::CreateMetadataField => app.create_metadata_field(&call.caller(), body).await?,
        E::OrderMetadataFields => {
            let order_by = text(call, "order_by").ok_or(nimbus_app::AppError::MissingParam("order_by"))?;
            app.order_metadata_fields(&call.caller(), order_by, text(call, "direction").unwrap_or("asc")).await?
        }
        E::MetadataField { id } => app.get_metadata_field(env, &id).await?,
        E::UpdateMetadataField { id } => app.update_metadata_field(&call.caller(), &id, body).await?,
        E::DeleteMetadataField { id } => {
            let force = call.params.bool("force") == Some(true);
            app.delete_metadata_field(&call.caller(), &id, force).await?;
            ok()
        }
        E::UpdateDatasource { id } => app.update_datasource(&call.caller(), &id, body).await?,
        E::DeleteDatasourceEntries { id } => app.set_datasource_state(&call.caller(), &id, body, false).await?,
        E::RestoreDatasourceEntries { id } => app.set_datasource_state(&call.caller(), &id, body, true).await?,
        E::OrderDatasource { id } => {
            let order_by = text(call, "order_by").ok_or(nimbus_app::AppError::MissingParam("order_by"))?;
            app.order_datasource(&call.caller(), &id, order_by, text(call, "direction").unwrap_or("asc")).await?
        }
        E::SearchDatasource { id } => app.search_datasource(env, &id, text(call, "term").unwrap_or("")).await?,
        E::ListMetadataRules => app.list_metadata_rules(env).await?,
        E::CreateMetadataRule => app.create_metadata_rule(&call.caller(), body).await?,
        E::MetadataRule { id } => {
            let all = app.list_metadata_rules(env).await?;
            all["metadata_rules"]
                .as_array()
                .and_then(|rules| rules.iter().find(|r| r["external_id"] == id.as_str()))
                .cloned()
                .ok_or(nimbus_app::AppError::MetadataRuleNotFound(id))?
        }
        E::UpdateMetadataRule { id } => app.update_metadata_rule(&call.caller(), &id, body).await?,
        E::DeleteMetadataRule { id } => {
            app.delete_metadata_rule(&call.caller(), &id).await?;
            ok()
        }
        E::EvaluateMetadataRules => app.evaluate_metadata(env, body).await?,
        E::PreviewMetadataRule => app.preview_metadata_rule(env, body).await?,
        other => return Err(ApiError::UnknownEndpoint(format!("{other:?}"))),
    })
}
