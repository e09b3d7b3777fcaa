//! The product environments a person has a role in, and (for owners) a new one.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use nimbus_app::accounts::SignedIn;
use nimbus_app::{App, AppError};
use nimbus_core::accounts::Role;
use serde::Deserialize;

use super::layout;
use crate::csrf;
use crate::error::PageError;
use crate::session::Signed;

fn render(who: &SignedIn, created: Option<Markup>, error: Option<&str>, status: StatusCode) -> Response {
    let owner = who.memberships.iter().any(|m| m.role == Role::Owner);
    let body = html! {
        h1 { "Product environments" }
        @if let Some(c) = created { (c) }
        table {
            thead { tr { th scope="col" { "Environment" } th scope="col" { "Your role" } } }
            tbody {
                @for m in &who.memberships {
                    tr { td { a href={ "/console/" (m.cloud_name) "/library" } { (m.cloud_name) } } td { (m.role.as_str()) } }
                }
            }
        }
        @if owner {
            h2 { "A new environment" }
            @if let Some(e) = error { p class="error" role="alert" { (e) } }
            form method="post" action="/console/environments" {
                input type="hidden" name="csrf" value=(who.session.csrf);
                label for="cloud" { "Cloud name (lower-case letters, digits, - and _)" }
                input id="cloud" type="text" name="cloud" required pattern="[a-z0-9][a-z0-9_-]*" maxlength="64";
                button type="submit" { "Create" }
            }
        }
    };
    (status, layout::page(who, None, "Product environments", body)).into_response()
}

/// `GET /console/environments`.
pub async fn page(Signed(who, _): Signed) -> Response {
    render(&who, None, None, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct CreateForm {
    csrf: String,
    cloud: String,
}

/// `POST /console/environments`: the new environment's CLOUDINARY_URL, shown once.
pub async fn create(
    State(app): State<App>,
    Signed(who, _): Signed,
    Form(f): Form<CreateForm>,
) -> Result<Response, PageError> {
    csrf::check(&who.session.csrf, &f.csrf)?;
    match app.create_environment_as(&who, f.cloud.trim()).await {
        Ok(url) => {
            // The person's memberships changed: read them again for the page.
            let who = app.session_of(&who).await?;
            let shown = html! {
                div class="notice" role="status" {
                    p { strong { "Environment " (url.cloud.as_str()) " created. Copy its credentials now: the secret is not shown again." } }
                    label for="env-url" { "CLOUDINARY_URL" }
                    input id="env-url" type="text" readonly value=(url.render());
                }
            };
            Ok(render(&who, Some(shown), None, StatusCode::OK))
        }
        Err(e @ (AppError::InvalidId(_) | AppError::AlreadyExists(_))) => {
            Ok(render(&who, None, Some(&e.to_string()), StatusCode::BAD_REQUEST))
        }
        Err(e) => Err(e.into()),
    }
}
