//! People and roles of an environment, for its owners: who has which role, invitations by
//! e-mail, role changes and removal.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use nimbus_app::accounts::SignedIn;
use nimbus_app::accounts::links::Invited;
use nimbus_app::{App, AppError};
use nimbus_core::accounts::Role;
use serde::Deserialize;

use super::layout;
use crate::csrf;
use crate::error::PageError;
use crate::session::Signed;

fn role_select(name: &str, id: &str, current: Option<Role>) -> Markup {
    html! {
        select name=(name) id=(id) {
            @for r in Role::ALL {
                option value=(r.as_str()) selected[Some(r) == current] { (r.as_str()) }
            }
        }
    }
}

async fn render(
    app: &App,
    who: &SignedIn,
    cloud: &str,
    notice: Option<&str>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let people = app.people(who, cloud).await?;
    let body = html! {
        (layout::env_tabs(who, cloud, "people"))
        h1 { "People" }
        @if let Some(n) = notice { p role="status" class="notice" { (n) } }
        table {
            thead { tr { th scope="col" { "E-mail address" } th scope="col" { "Role" } th scope="col" { "Status" } th scope="col" { span class="visually-hidden" { "Actions" } } } }
            tbody {
                @for (u, role) in &people {
                    tr {
                        td { (u.email) }
                        td {
                            form method="post" action={ "/console/" (cloud) "/people/" (u.id) "/role" } class="inline" {
                                input type="hidden" name="csrf" value=(who.session.csrf);
                                label class="visually-hidden" for={ "role-" (u.id) } { "Role of " (u.email) }
                                (role_select("role", &format!("role-{}", u.id), Some(*role)))
                                button type="submit" { "Change" }
                            }
                        }
                        td { @if u.disabled_at.is_some() { "disabled" } @else if u.password_hash.is_none() { "invited" } @else { "active" } }
                        td {
                            form method="post" action={ "/console/" (cloud) "/people/" (u.id) "/remove" } class="inline" {
                                input type="hidden" name="csrf" value=(who.session.csrf);
                                button type="submit" class="danger" { "Remove from " (cloud) }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Invite someone" }
        form method="post" action={ "/console/" (cloud) "/people/invite" } {
            input type="hidden" name="csrf" value=(who.session.csrf);
            label for="invite-email" { "E-mail address" }
            input id="invite-email" type="email" name="email" required;
            label for="invite-role" { "Role" }
            (role_select("role", "invite-role", Some(Role::Viewer)))
            button type="submit" { "Invite" }
        }
    };
    Ok((status, layout::page(who, Some(cloud), "People", body)).into_response())
}

/// `GET /console/{cloud}/people`.
pub async fn page(
    State(app): State<App>,
    Signed(who, _): Signed,
    Path(cloud): Path<String>,
) -> Result<Response, PageError> {
    render(&app, &who, &cloud, None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct InviteForm {
    csrf: String,
    email: String,
    role: String,
}

/// `POST /console/{cloud}/people/invite`.
pub async fn invite(
    State(app): State<App>,
    Signed(who, _): Signed,
    Path(cloud): Path<String>,
    Form(f): Form<InviteForm>,
) -> Result<Response, PageError> {
    csrf::check(&who.session.csrf, &f.csrf)?;
    let role: Role = f.role.parse().map_err(AppError::from)?;
    let notice = match app.invite(&who, &cloud, &f.email, role).await {
        Ok(Invited::New { .. }) => {
            format!("Invitation sent: {} can choose a password with the link in it.", f.email.trim())
        }
        Ok(Invited::Existing { .. }) => {
            format!("{} already had an account, and is now {role} of {cloud}.", f.email.trim())
        }
        Err(e @ (AppError::Account(_) | AppError::AlreadyExists(_))) => {
            return render(&app, &who, &cloud, Some(&e.to_string()), StatusCode::BAD_REQUEST).await;
        }
        Err(e) => return Err(e.into()),
    };
    render(&app, &who, &cloud, Some(&notice), StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct RoleForm {
    csrf: String,
    #[serde(default)]
    role: String,
}

/// `POST /console/{cloud}/people/{id}/role`.
pub async fn set_role(
    State(app): State<App>,
    Signed(who, _): Signed,
    Path((cloud, id)): Path<(String, i64)>,
    Form(f): Form<RoleForm>,
) -> Result<Response, PageError> {
    csrf::check(&who.session.csrf, &f.csrf)?;
    let role: Role = f.role.parse().map_err(AppError::from)?;
    change(&app, &who, &cloud, id, Some(role)).await
}

/// `POST /console/{cloud}/people/{id}/remove`.
pub async fn remove(
    State(app): State<App>,
    Signed(who, _): Signed,
    Path((cloud, id)): Path<(String, i64)>,
    Form(f): Form<RoleForm>,
) -> Result<Response, PageError> {
    csrf::check(&who.session.csrf, &f.csrf)?;
    change(&app, &who, &cloud, id, None).await
}

async fn change(app: &App, who: &SignedIn, cloud: &str, id: i64, role: Option<Role>) -> Result<Response, PageError> {
    match app.change_role(who, cloud, id, role).await {
        Ok(()) => Ok((StatusCode::SEE_OTHER, [(header::LOCATION, format!("/console/{cloud}/people"))]).into_response()),
        Err(e @ AppError::Conflict(_)) => render(app, who, cloud, Some(&e.to_string()), StatusCode::CONFLICT).await,
        Err(e) => Err(e.into()),
    }
}
