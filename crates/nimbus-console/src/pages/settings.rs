//! Upload presets and named transformations, for admins: both listed, created and deleted
//! here. A preset's settings are the Admin API's parameters: the common ones have fields of
//! their own, any other goes in as `name=value` lines.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::html;
use nimbus_app::accounts::SignedIn;
use nimbus_app::presets::PresetDraft;
use nimbus_app::{App, AppError};
use serde::Deserialize;

use super::layout;
use crate::csrf::{self, CsrfForm};
use crate::error::PageError;
use crate::session::Signed;

/// Where a refusal is shown: next to the form it answers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Preset,
    Named,
}

async fn render(
    app: &App,
    who: &SignedIn,
    cloud: &str,
    error: Option<(Section, &str)>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let error_for = |f: Section| error.filter(|(at, _)| *at == f).map(|(_, e)| e);
    let presets = app.presets_as(who, cloud).await?;
    let named = app.named_transformations_as(who, cloud).await?;
    let body = html! {
        (layout::env_tabs(who, cloud, "settings"))
        h1 { "Presets and transformations" }
        h2 { "Upload presets" }
        @if presets.is_empty() { p class="muted" { "No upload presets yet." } }
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
        h3 { "New upload preset" }
        @if let Some(e) = error_for(Section::Preset) { p class="error" role="alert" id="preset-error" { (e) } }
        form method="post" action={ "/console/" (cloud) "/settings/presets" } {
            input type="hidden" name="csrf" value=(who.session.csrf);
            label for="p-name" { "Preset name" }
            input id="p-name" type="text" name="name" required maxlength="255";
            label class="check" {
                input type="checkbox" name="unsigned" value="true";
                " Unsigned (anyone may upload with it, without a signature)"
            }
            label for="p-folder" { "Folder" }
            input id="p-folder" type="text" name="folder";
            label for="p-tags" { "Tags (separated by commas)" }
            input id="p-tags" type="text" name="tags";
            label for="p-formats" { "Allowed formats (separated by commas)" }
            input id="p-formats" type="text" name="allowed_formats" placeholder="jpg,png,webp";
            label for="p-other" { "Other settings (one name=value per line)" }
            textarea id="p-other" name="other" rows="3" placeholder="unique_filename=false" {}
            button type="submit" { "Create upload preset" }
        }
        h2 { "Named transformations" }
        @if let Some(e) = error_for(Section::Named) { p class="error" role="alert" { (e) } }
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

#[derive(Deserialize)]
pub struct PresetForm {
    csrf: String,
    name: String,
    #[serde(default)]
    unsigned: Option<String>,
    #[serde(default)]
    folder: String,
    #[serde(default)]
    tags: String,
    #[serde(default)]
    allowed_formats: String,
    #[serde(default)]
    other: String,
}

impl PresetForm {
    /// The preset this form describes; a line of `other` without `=` is named.
    fn draft(&self) -> Result<PresetDraft, String> {
        let mut settings: Vec<(String, String)> = Vec::new();
        for (k, v) in [("folder", &self.folder), ("tags", &self.tags), ("allowed_formats", &self.allowed_formats)] {
            if !v.trim().is_empty() {
                settings.push((k.to_owned(), v.trim().to_owned()));
            }
        }
        for (i, line) in self.other.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let Some((k, v)) = line.split_once('=') else {
                return Err(format!("Other settings, line {}: expected name=value", i + 1));
            };
            let k = k.trim();
            if matches!(k, "name" | "unsigned") || settings.iter().any(|(sk, _)| sk == k) {
                return Err(format!("Other settings, line {}: {k} is given twice", i + 1));
            }
            settings.push((k.to_owned(), v.trim().to_owned()));
        }
        Ok(PresetDraft {
            name: Some(self.name.trim().to_owned()).filter(|n| !n.is_empty()),
            unsigned: Some(self.unsigned.is_some()),
            settings,
        })
    }
}

/// `POST /console/{cloud}/settings/presets`.
pub async fn create_preset(
    State(app): State<App>,
    Signed(who, _): Signed,
    Path(cloud): Path<String>,
    Form(f): Form<PresetForm>,
) -> Result<Response, PageError> {
    csrf::check(&who.session.csrf, &f.csrf)?;
    let draft = match f.draft() {
        Ok(p) => p,
        Err(e) => return render(&app, &who, &cloud, Some((Section::Preset, &e)), StatusCode::BAD_REQUEST).await,
    };
    match app.create_preset_as(&who, &cloud, &draft).await {
        Ok(_) => Ok(back(&cloud)),
        Err(
            e @ (AppError::InvalidParam { .. }
            | AppError::AlreadyExists(_)
            | AppError::Unsupported(_)
            | AppError::UnsupportedValue(_)),
        ) => render(&app, &who, &cloud, Some((Section::Preset, &e.to_string())), StatusCode::BAD_REQUEST).await,
        Err(e) => Err(e.into()),
    }
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
            render(&app, &who, &cloud, Some((Section::Named, &e.to_string())), StatusCode::BAD_REQUEST).await
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
