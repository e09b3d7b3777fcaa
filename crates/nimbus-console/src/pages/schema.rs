//! The structured-metadata schema, for admins: each field with its type and values, and each
//! conditional rule in plain words ("Team is shown when Category is Employee"), switched on
//! or off here. Fields and rules are created and edited through the Metadata API for now.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::html;
use nimbus_app::App;
use nimbus_core::metadata::summary;
use serde::Deserialize;

use super::layout;
use crate::csrf;
use crate::error::PageError;
use crate::session::Signed;

/// `GET /console/{cloud}/schema`.
pub async fn page(
    State(app): State<App>,
    Signed(who, _): Signed,
    Path(cloud): Path<String>,
) -> Result<Response, PageError> {
    let loaded = app.schema_as(&who, &cloud).await?;
    let fields = &loaded.schema.fields;
    let body = html! {
        (layout::env_tabs(&who, &cloud, "schema"))
        h1 { "Metadata schema" }
        h2 { "Fields" }
        @if loaded.docs.is_empty() { p class="muted" { "No fields yet." } }
        @else {
            table {
                thead { tr { th scope="col" { "Label" } th scope="col" { "External ID" } th scope="col" { "Type" } th scope="col" { "Mandatory" } th scope="col" { "Values" } } }
                tbody {
                    @for (_, d) in &loaded.docs {
                        tr {
                            td { (d.field.label) }
                            td { code { (d.field.external_id) } }
                            td { (d.field.field_type.as_str()) }
                            td { @if d.field.mandatory { "yes" } @else { "no" } }
                            td { (d.field.datasource.iter().filter(|e| e.active).map(|e| e.value.as_str()).collect::<Vec<_>>().join(", ")) }
                        }
                    }
                }
            }
        }
        h2 { "Conditional rules" }
        @if loaded.schema.rules.is_empty() { p class="muted" { "No rules yet." } }
        @else {
            ul class="rules" {
                @for r in &loaded.schema.rules {
                    li class={ @if r.active { "rule" } @else { "rule inactive" } } {
                        p class="summary" { (summary::rule(fields, r)) }
                        p class="muted" { (r.name) " · " code { (r.external_id) } " · " @if r.active { "active" } @else { "inactive" } }
                        form method="post" action={ "/console/" (cloud) "/schema/rules/" (r.external_id) "/state" } class="inline" {
                            input type="hidden" name="csrf" value=(who.session.csrf);
                            input type="hidden" name="active" value=(if r.active { "false" } else { "true" });
                            button type="submit" { @if r.active { "Deactivate" } @else { "Activate" } " " span class="visually-hidden" { (r.name) } }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(&who, Some(&cloud), "Metadata schema", body).into_response())
}

#[derive(Deserialize)]
pub struct StateForm {
    csrf: String,
    active: bool,
}

/// `POST /console/{cloud}/schema/rules/{id}/state`.
pub async fn set_state(
    State(app): State<App>,
    Signed(who, _): Signed,
    Path((cloud, id)): Path<(String, String)>,
    Form(f): Form<StateForm>,
) -> Result<Response, PageError> {
    csrf::check(&who.session.csrf, &f.csrf)?;
    app.set_rule_active_as(&who, &cloud, &id, f.active).await?;
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, format!("/console/{cloud}/schema"))]).into_response())
}
