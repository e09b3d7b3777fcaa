//! Upload presets and named transformations, for admins: presets listed with their settings
//! (created through the Admin API) and deleted here; named transformations listed, created
//! and deleted here.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::html;
use nimbus_app::accounts::SignedIn;
use nimbus_app::{App, AppError};
use serde::Deserialize;

use super::layout;
use crate::csrf::{self, CsrfForm};
use crate::error::PageError;
use crate::session::Signed;

async fn render(
    app: &App,
    who: &SignedIn,
    cloud: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let presets = app.presets_as(who, cloud).await?;
    let named = app.named_transformations_as(who, cloud).await?;
    let body = html! {
        (layout::env_tabs(who, cloud, "settings"))
        h1 { "Presets and transformations" }
        h2 { "Upload presets" }
        @if presets.is_empty() { p class="muted" { "No upload presets yet (create them with the Admin API)." } }
        @else {
            table {
                thead { tr { th scope="col" { "Name" } th scope="col" { "Unsigned" } th scope="col" { "Settings" } th scope="col" { span class="visually-hidden" { "Actions" } } } }
                tbody {
                    @for p in &presets {
                        tr {
                            td { code { (p.name) } }
                            td { @if p.unsigned { "yes" } @else { "no" } }
                            td { (p.settings.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")) }
                            td {
                                form method="post" action={ "/console/" (cloud) "/settings/presets/" (p.name) "/delete" } class="inline" {
                                    input type="hidden" name="csrf" value=(who.session.csrf);
                                    button type="submit" class="danger" { "Delete " span class="visually-hidden" { (p.name) } }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Named transformations" }
        @if let Some(e) = error { p class="error" role="alert" { (e) } }
        @if !named.is_empty() {
            table {
                thead { tr { th scope="col" { "Name" } th scope="col" { "Definition" } th scope="col" { "Allowed in strict mode" } th scope="col" { span class="visually-hidden" { "Actions" } } } }
                tbody {
                    @for t in &named {
                        tr {
                            td { code { "t_" (t.name) } }
                            td { code { (t.transformation) } }
                            td { @if t.allowed_for_strict { "yes" } @else { "no" } }
                            td {
                                form method="post" action={ "/console/" (cloud) "/settings/transformations/" (t.name) "/delete" } class="inline" {
                                    input type="hidden" name="csrf" value=(who.session.csrf);
                                    button type="submit" class="danger" { "Delete " span class="visually-hidden" { (t.name) } }
                                }
                            }
                        }
                    }
                }
            }
        }
        form method="post" action={ "/console/" (cloud) "/settings/transformations" } {
            input type="hidden" name="csrf" value=(who.session.csrf);
            label for="t-name" { "Name" }
            input id="t-name" type="text" name="name" required pattern="[A-Za-z0-9_-]+";
            label for="t-definition" { "Definition" }
            input id="t-definition" type="text" name="definition" required placeholder="c_fill,g_auto,w_400,h_300/q_auto";
            button type="submit" { "Create named transformation" }
        }
    };
    Ok((status, layout::page(who, Some(cloud), "Presets and transformations", body)).into_response())
}

fn back(cloud: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, format!("/console/{cloud}/settings"))]).into_response()
}

/// `GET /console/{cloud}/settings`.
pub async fn page(
    State(app): State<App>,
    Signed(who, _): Signed,
    Path(cloud): Path<String>,
) -> Result<Response, PageError> {
    render(&app, &who, &cloud, None, StatusCode::OK).await
}

/// `POST /console/{cloud}/settings/presets/{name}/delete`.
pub async fn delete_preset(
    State(app): State<App>,
    Signed(who, _): Signed,
    Path((cloud, name)): Path<(String, String)>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    csrf::check(&who.session.csrf, &f.csrf)?;
    app.delete_preset_as(&who, &cloud, &name).await?;
    Ok(back(&cloud))
}

#[derive(Deserialize)]
pub struct NamedForm {
    csrf: String,
    name: String,
    definition: String,
}

/// `POST /console/{cloud}/settings/transformations`.
pub async fn create_transformation(
    State(app): State<App>,
    Signed(who, _): Signed,
    Path(cloud): Path<String>,
    Form(f): Form<NamedForm>,
) -> Result<Response, PageError> {
    csrf::check(&who.session.csrf, &f.csrf)?;
    match app.create_named_transformation_as(&who, &cloud, f.name.trim(), f.definition.trim()).await {
        Ok(()) => Ok(back(&cloud)),
        Err(e @ (AppError::InvalidParam { .. } | AppError::InvalidTransformation(_) | AppError::AlreadyExists(_))) => {
            render(&app, &who, &cloud, Some(&e.to_string()), StatusCode::BAD_REQUEST).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /console/{cloud}/settings/transformations/{name}/delete`.
pub async fn delete_transformation(
    State(app): State<App>,
    Signed(who, _): Signed,
    Path((cloud, name)): Path<(String, String)>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    csrf::check(&who.session.csrf, &f.csrf)?;
    app.delete_named_transformation_as(&who, &cloud, &name).await?;
    Ok(back(&cloud))
}
