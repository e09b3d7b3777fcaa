//! One asset: a preview, every detail, its delivery URL, and (for editors) its tags and
//! context to edit, and deletion.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use nimbus_app::accounts::SignedIn;
use nimbus_app::accounts::versions::Uploader;
use nimbus_app::assets::AssetEdit;
use nimbus_app::ports::AssetVersion;
use nimbus_app::{App, AppError};
use nimbus_core::accounts::Permission;
use nimbus_core::{Asset, Context};
use serde::Deserialize;

use super::builder::Builder;
use super::{layout, urls};
use crate::csrf::{self, CsrfForm};
use crate::error::PageError;
use crate::session::Signed;

fn when(secs: i64) -> String {
    nimbus_core::timefmt::iso8601(secs)
}

fn uploader(by: &Uploader) -> Markup {
    html! {
        @match by {
            Uploader::Person(email) => (email),
            Uploader::RemovedPerson => span class="muted" { "a removed user" },
            Uploader::ApiKey(k) => { "API key " code { (k) } },
            Uploader::UnsignedPreset(p) => { "unsigned upload, preset " code { (p) } },
            Uploader::Nimbus => "Nimbus",
            Uploader::Unknown => span class="muted" { "not recorded" },
        }
    }
}

fn versions(list: &[(AssetVersion, Uploader)]) -> Markup {
    html! {
        h2 { "Versions" }
        table class="versions" {
            thead { tr { th scope="col" { "Version" } th scope="col" { "Uploaded" } th scope="col" { "By" } th scope="col" { "Format" } th scope="col" { "Dimensions" } th scope="col" { "Size" } } }
            tbody {
                @for (v, by) in list {
                    tr {
                        td { (v.version) }
                        td { (when(v.created_at)) }
                        td { (uploader(by)) }
                        td { (v.format.as_deref().unwrap_or("—")) }
                        td { @match (v.width, v.height) { (Some(w), Some(h)) => { (w) " × " (h) }, _ => "—" } }
                        td { (v.bytes) " bytes" }
                    }
                }
            }
        }
    }
}

fn details(a: &Asset, by: Option<&Uploader>) -> Markup {
    let dims = match (a.width, a.height) {
        (Some(w), Some(h)) => format!("{w} × {h} px"),
        _ => "—".to_owned(),
    };
    html! {
        dl class="details" {
            dt { "Public ID" } dd { (a.public_id.as_str()) }
            dt { "Display name" } dd { (a.display_name) }
            dt { "Asset folder" } dd { @if a.asset_folder.is_empty() { "(root)" } @else { (a.asset_folder) } }
            dt { "Type" } dd { (a.resource_type.as_str()) " / " (a.delivery_type.as_str()) " / " (a.access_mode.as_str()) }
            dt { "Format" } dd { (a.format.as_deref().unwrap_or("—")) }
            dt { "Dimensions" } dd { (dims) }
            dt { "Size" } dd { (a.bytes) " bytes" }
            dt { "Version" } dd { (a.version) }
            dt { "Created" } dd { (when(a.created_at)) }
            dt { "Updated" } dd { (when(a.updated_at)) }
            dt { "Uploaded by" } dd { (uploader(by.unwrap_or(&Uploader::Unknown))) }
            dt { "Original file name" } dd { (a.original_filename.as_deref().unwrap_or("—")) }
            dt { "Asset ID" } dd { code { (a.asset_id) } }
        }
    }
}

fn context_text(c: &Context) -> String {
    c.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("\n")
}

fn edit_form(who: &SignedIn, cloud: &str, a: &Asset, error: Option<&str>) -> Markup {
    html! {
        h2 { "Tags and context" }
        @if let Some(e) = error { p class="error" role="alert" { (e) } }
        form method="post" action={ "/console/" (cloud) "/assets/" (a.asset_id) } {
            input type="hidden" name="csrf" value=(who.session.csrf);
            label for="tags" { "Tags (separated by commas)" }
            input id="tags" type="text" name="tags" value=(a.tags.join(", "));
            label for="context" { "Context (one key=value per line)" }
            textarea id="context" name="context" rows="4" { (context_text(&a.context)) }
            button type="submit" { "Save" }
        }
        h2 { "Delete" }
        form method="post" action={ "/console/" (cloud) "/assets/" (a.asset_id) "/delete" } {
            input type="hidden" name="csrf" value=(who.session.csrf);
            button type="submit" class="danger" { "Delete this asset" }
        }
    }
}

async fn render(
    app: &App,
    who: &SignedIn,
    cloud: &str,
    a: &Asset,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    render_with(app, who, cloud, a, Shown { error, ..Shown::default() }, status).await
}

/// What the page shows besides the asset.
#[derive(Debug, Default)]
pub struct Shown<'a> {
    /// A refused tags or context form.
    pub error: Option<&'a str>,
    /// A refused metadata form: its values and issues.
    pub refused: Option<super::metadata::Refused<'a>>,
    /// The transformation builder's fields.
    pub builder: Option<&'a Builder>,
}

/// The page.
pub async fn render_with(
    app: &App,
    who: &SignedIn,
    cloud: &str,
    a: &Asset,
    shown: Shown<'_>,
    status: StatusCode,
) -> Response {
    let Shown { error, refused, builder } = shown;
    let metadata = match super::metadata::section(app, who, cloud, a, refused).await {
        Ok(m) => m,
        Err(e) => return PageError::from(e).into_response(),
    };
    let history = match app.asset_versions_as(who, cloud, &a.asset_id).await {
        Ok(h) => h,
        Err(e) => return PageError::from(e).into_response(),
    };
    // The current version's uploader (versions from before uploaders were recorded have none).
    let by = history.iter().find(|(v, _)| v.version == a.version).map(|(_, by)| by);
    let can_edit = who.role_in(cloud).is_some_and(|r| r.allows(Permission::WriteAssets));
    let body = html! {
        (layout::env_tabs(who, cloud, "library"))
        p { a href={ "/console/" (cloud) "/library" } { "← Library" } }
        h1 { (a.public_id.as_str()) }
        div class="asset" {
            div class="preview" {
                @match urls::derived(app, cloud, a, "c_limit,w_800,h_600") {
                    Some(src) => img src=(src) alt=(a.display_name);,
                    None => p class="muted" { "No preview: " (a.resource_type.as_str()) @if a.urls_need_signature() { ", delivered with signed URLs only" } },
                }
            }
            div {
                (details(a, by))
                @if let Some(url) = urls::original(app, cloud, a) {
                    label for="delivery-url" { "Delivery URL" }
                    div class="copy" {
                        input id="delivery-url" type="text" readonly value=(url);
                        button type="button" class="copy-button" data-copy="delivery-url" hidden { "Copy" }
                    }
                }
                @if !can_edit {
                    h2 { "Tags" }
                    p { @if a.tags.is_empty() { span class="muted" { "No tags" } } @else { (a.tags.join(", ")) } }
                }
            }
        }
        @if a.resource_type == nimbus_core::ResourceType::Image && !a.urls_need_signature() {
            (super::builder::section(app, cloud, a, builder.unwrap_or(&Builder::default())))
        }
        (metadata)
        @if !history.is_empty() { (versions(&history)) }
        @if can_edit { (edit_form(who, cloud, a, error)) }
        script src="/console/static/console.js" defer {}
    };
    (status, layout::page(who, Some(cloud), a.public_id.as_str(), body)).into_response()
}

/// `GET /console/{cloud}/assets/{asset_id}`.
pub async fn page(
    State(app): State<App>,
    Signed(who, _): Signed,
    Path((cloud, id)): Path<(String, String)>,
    axum::extract::Query(b): axum::extract::Query<Builder>,
) -> Result<Response, PageError> {
    let caller = app.authorize(&who, &cloud, Permission::ReadAssets)?;
    let a = app.get_asset_by_id(caller.env, &id).await?;
    Ok(render_with(&app, &who, &cloud, &a, Shown { builder: Some(&b), ..Shown::default() }, StatusCode::OK).await)
}

#[derive(Deserialize)]
pub struct EditForm {
    csrf: String,
    #[serde(default)]
    tags: String,
    #[serde(default)]
    context: String,
}

/// Context lines `key=value`; a line without `=` is refused by name.
fn parse_context(text: &str) -> Result<Context, String> {
    let mut c = Context::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some((k, v)) = line.split_once('=') else { return Err(format!("Context line without '=': {line}")) };
        c.push((k.trim().to_owned(), v.trim().to_owned()));
    }
    Ok(c)
}

/// `POST /console/{cloud}/assets/{asset_id}`: tags and context.
pub async fn save(
    State(app): State<App>,
    Signed(who, _): Signed,
    Path((cloud, id)): Path<(String, String)>,
    Form(f): Form<EditForm>,
) -> Result<Response, PageError> {
    csrf::check(&who.session.csrf, &f.csrf)?;
    let caller = app.authorize(&who, &cloud, Permission::WriteAssets)?;
    let a = app.get_asset_by_id(caller.env, &id).await?;
    let context = match parse_context(&f.context) {
        Ok(c) => c,
        Err(m) => return Ok(render(&app, &who, &cloud, &a, Some(&m), StatusCode::BAD_REQUEST).await),
    };
    let edit = AssetEdit {
        tags: Some(nimbus_core::params::parse_tags(&f.tags)),
        context: Some(context),
        ..Default::default()
    };
    match app.edit_asset(&caller, a.resource_type, a.delivery_type, a.public_id.as_str(), edit).await {
        Ok(_) => {
            Ok((StatusCode::SEE_OTHER, [(header::LOCATION, format!("/console/{cloud}/assets/{id}"))]).into_response())
        }
        Err(e @ (AppError::InvalidParam { .. } | AppError::InvalidId(_) | AppError::MetadataInvalid { .. })) => {
            Ok(render(&app, &who, &cloud, &a, Some(&e.to_string()), StatusCode::BAD_REQUEST).await)
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /console/{cloud}/assets/{asset_id}/delete`.
pub async fn delete(
    State(app): State<App>,
    Signed(who, _): Signed,
    Path((cloud, id)): Path<(String, String)>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    csrf::check(&who.session.csrf, &f.csrf)?;
    let caller = app.authorize(&who, &cloud, Permission::WriteAssets)?;
    if app.remove_assets(&caller, std::slice::from_ref(&id)).await? == 0 {
        return Err(AppError::ResourceNotFound(id).into());
    }
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, format!("/console/{cloud}/library"))]).into_response())
}

/// `POST /console/{cloud}/assets/{asset_id}/metadata`: the metadata form, written through the
/// API's write path; a refusal shows the page again with the issues at their fields.
pub async fn save_metadata(
    State(app): State<App>,
    Signed(who, _): Signed,
    Path((cloud, id)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let token = pairs.iter().find(|(k, _)| k == "csrf").map_or("", |(_, v)| v.as_str());
    csrf::check(&who.session.csrf, token)?;
    let caller = app.authorize(&who, &cloud, Permission::WriteAssets)?;
    let a = app.get_asset_by_id(caller.env, &id).await?;
    let loaded = app.metadata_schema(caller.env).await?;
    let edit =
        AssetEdit { metadata: Some(super::metadata::changes(&loaded, &pairs, &a.metadata)), ..Default::default() };
    match app.edit_asset(&caller, a.resource_type, a.delivery_type, a.public_id.as_str(), edit).await {
        Ok(_) => {
            Ok((StatusCode::SEE_OTHER, [(header::LOCATION, format!("/console/{cloud}/assets/{id}"))]).into_response())
        }
        Err(AppError::MetadataInvalid { issues, .. }) => {
            let refused = super::metadata::Refused { values: &pairs, issues: &issues };
            let shown = Shown { refused: Some(refused), ..Shown::default() };
            Ok(render_with(&app, &who, &cloud, &a, shown, StatusCode::BAD_REQUEST).await)
        }
        Err(e) => Err(e.into()),
    }
}
