//! API keys of an environment, for its admins: the keys (never their secrets), a new key
//! whose secret is shown once, and revocation.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use nimbus_app::App;
use nimbus_app::accounts::SignedIn;

use super::layout;
use crate::csrf::{self, CsrfForm};
use crate::error::PageError;
use crate::session::Signed;

async fn render(app: &App, who: &SignedIn, cloud: &str, created: Option<Markup>) -> Result<Response, PageError> {
    let keys = app.keys_of(who, cloud).await?;
    let body = html! {
        (layout::env_tabs(who, cloud, "keys"))
        h1 { "API keys" }
        @if let Some(c) = created { (c) }
        table {
            thead { tr { th scope="col" { "API key" } th scope="col" { "Created" } th scope="col" { "Status" } th scope="col" { span class="visually-hidden" { "Actions" } } } }
            tbody {
                @for k in &keys {
                    tr {
                        td { code { (k.key) } }
                        td { (nimbus_core::timefmt::iso8601(k.created_at)) }
                        td { @if k.revoked_at.is_some() { "revoked" } @else { "active" } }
                        td {
                            @if k.revoked_at.is_none() {
                                form method="post" action={ "/console/" (cloud) "/keys/" (k.key) "/revoke" } class="inline" {
                                    input type="hidden" name="csrf" value=(who.session.csrf);
                                    button type="submit" class="danger" { "Revoke " (k.key) }
                                }
                            }
                        }
                    }
                }
            }
        }
        form method="post" action={ "/console/" (cloud) "/keys" } {
            input type="hidden" name="csrf" value=(who.session.csrf);
            button type="submit" { "Create an API key" }
        }
    };
    Ok(layout::page(who, Some(cloud), "API keys", body).into_response())
}

/// `GET /console/{cloud}/keys`.
pub async fn page(
    State(app): State<App>,
    Signed(who, _): Signed,
    Path(cloud): Path<String>,
) -> Result<Response, PageError> {
    render(&app, &who, &cloud, None).await
}

/// `POST /console/{cloud}/keys`: a new key, its secret shown on this page only.
pub async fn create(
    State(app): State<App>,
    Signed(who, _): Signed,
    Path(cloud): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    csrf::check(&who.session.csrf, &f.csrf)?;
    let url = app.create_key_as(&who, &cloud).await?;
    let shown = html! {
        div class="notice" role="status" {
            p { strong { "New key " code { (url.api_key) } ". Copy its secret now: it is not shown again." } }
            label for="new-url" { "CLOUDINARY_URL" }
            input id="new-url" type="text" readonly value=(url.render());
        }
    };
    render(&app, &who, &cloud, Some(shown)).await
}

/// `POST /console/{cloud}/keys/{key}/revoke`.
pub async fn revoke(
    State(app): State<App>,
    Signed(who, _): Signed,
    Path((cloud, key)): Path<(String, String)>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    csrf::check(&who.session.csrf, &f.csrf)?;
    app.revoke_key_as(&who, &cloud, &key).await?;
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, format!("/console/{cloud}/keys"))]).into_response())
}
