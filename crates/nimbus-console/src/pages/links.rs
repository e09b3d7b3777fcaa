//! The pages behind one-time links: the first owner's set-up, accepting an invitation, and
//! a password reset (asked for by address, then set through the mailed link). The link's
//! token in the path is what a forged form could not know; the reset request, which has no
//! token, carries the pre-sign-in form token.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Response};
use maud::{Markup, html};
use nimbus_app::ports::LinkPurpose;
use nimbus_app::{App, AppError};
use serde::Deserialize;

use super::layout;
use crate::csrf::{self, FormCookie};
use crate::error::PageError;
use crate::session;

/// A form for someone not signed in, with an optional e-mail field and a password field.
fn password_form(title: &str, intro: &str, action: &str, with_email: bool, error: Option<&str>) -> Markup {
    layout::bare_with(
        title,
        html! {
            p { (intro) }
            @if let Some(e) = error { p class="error" role="alert" { (e) } }
            form method="post" action=(action) {
                @if with_email {
                    label for="email" { "E-mail address" }
                    input id="email" type="email" name="email" autocomplete="username" required;
                }
                label for="password" { "New password (at least 8 characters)" }
                input id="password" type="password" name="password" autocomplete="new-password" minlength="8" required;
                button type="submit" { "Save" }
            }
        },
    )
}

fn expired() -> Response {
    (StatusCode::GONE, layout::bare("Link expired", &AppError::LinkInvalid.to_string())).into_response()
}

/// Signed in by a link: the session cookie, then the console.
fn signed_in(app: &App, s: &nimbus_app::accounts::NewSession) -> Response {
    (
        StatusCode::SEE_OTHER,
        AppendHeaders([
            (header::SET_COOKIE, session::session_cookie(app, s)),
            (header::LOCATION, "/console".to_owned()),
        ]),
    )
        .into_response()
}

/// A refused password or address is shown on the same form; a used link is gone.
fn refused(e: AppError, form: impl FnOnce(&str) -> Markup) -> Result<Response, PageError> {
    match e {
        AppError::LinkInvalid => Ok(expired()),
        AppError::Account(_) | AppError::AlreadyExists(_) => {
            Ok((StatusCode::BAD_REQUEST, form(&e.to_string())).into_response())
        }
        e => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    email: String,
    password: String,
}

const SETUP_INTRO: &str =
    "Create the first account of this Nimbus server. It will be owner of every product environment.";

pub async fn setup_form(State(app): State<App>, Path(token): Path<String>) -> Result<Response, PageError> {
    if !app.link_is_valid(&token, LinkPurpose::Setup).await? {
        return Ok(expired());
    }
    Ok(password_form("Set up Nimbus", SETUP_INTRO, &format!("/console/setup/{token}"), true, None).into_response())
}

pub async fn setup_submit(
    State(app): State<App>,
    Path(token): Path<String>,
    Form(f): Form<SetupForm>,
) -> Result<Response, PageError> {
    match app.complete_setup(&token, &f.email, f.password).await {
        Ok(s) => Ok(signed_in(&app, &s)),
        Err(e) => refused(e, |m| {
            password_form("Set up Nimbus", SETUP_INTRO, &format!("/console/setup/{token}"), true, Some(m))
        }),
    }
}

const INVITE_INTRO: &str = "You were invited to the Nimbus console. Choose your password to sign in.";

pub async fn invite_form(State(app): State<App>, Path(token): Path<String>) -> Result<Response, PageError> {
    if !app.link_is_valid(&token, LinkPurpose::Invite).await? {
        return Ok(expired());
    }
    Ok(password_form("Welcome to Nimbus", INVITE_INTRO, &format!("/console/invite/{token}"), false, None)
        .into_response())
}

pub async fn invite_submit(
    State(app): State<App>,
    Path(token): Path<String>,
    Form(f): Form<SetupForm>,
) -> Result<Response, PageError> {
    match app.accept_invite(&token, f.password).await {
        Ok(s) => Ok(signed_in(&app, &s)),
        Err(e) => refused(e, |m| {
            password_form("Welcome to Nimbus", INVITE_INTRO, &format!("/console/invite/{token}"), false, Some(m))
        }),
    }
}

fn reset_request_page(csrf_token: &str, done: bool) -> Markup {
    layout::bare_with(
        "Reset your password",
        html! {
            @if done {
                p role="status" { "If an account has this address, a link to choose a new password is on its way. It works once, for an hour." }
            }
            form method="post" action="/console/reset" {
                input type="hidden" name="csrf" value=(csrf_token);
                label for="email" { "E-mail address" }
                input id="email" type="email" name="email" autocomplete="username" required;
                button type="submit" { "Send the link" }
            }
            p { a href="/console/login" { "Back to sign-in" } }
        },
    )
}

pub async fn reset_request_form(State(app): State<App>) -> Response {
    let (token, cookie) = csrf::issue(&app);
    ([(header::SET_COOKIE, cookie)], reset_request_page(&token, false)).into_response()
}

#[derive(Deserialize)]
pub struct ResetRequest {
    email: String,
    csrf: String,
}

/// The same answer whether or not the address has an account.
pub async fn reset_request_submit(
    State(app): State<App>,
    form_cookie: FormCookie,
    crate::session::Client(client): crate::session::Client,
    Form(f): Form<ResetRequest>,
) -> Result<Response, PageError> {
    form_cookie.check(&f.csrf)?;
    app.request_password_reset(&f.email, client).await?;
    let (token, cookie) = csrf::issue(&app);
    Ok(([(header::SET_COOKIE, cookie)], reset_request_page(&token, true)).into_response())
}

const RESET_INTRO: &str = "Choose a new password. Every session of your account ends.";

pub async fn reset_form(State(app): State<App>, Path(token): Path<String>) -> Result<Response, PageError> {
    if !app.link_is_valid(&token, LinkPurpose::Reset).await? {
        return Ok(expired());
    }
    Ok(password_form("New password", RESET_INTRO, &format!("/console/reset/{token}"), false, None).into_response())
}

pub async fn reset_submit(
    State(app): State<App>,
    Path(token): Path<String>,
    Form(f): Form<SetupForm>,
) -> Result<Response, PageError> {
    match app.reset_password(&token, f.password).await {
        Ok(()) => Ok((StatusCode::SEE_OTHER, [(header::LOCATION, "/console/login")]).into_response()),
        Err(e) => refused(e, |m| {
            password_form("New password", RESET_INTRO, &format!("/console/reset/{token}"), false, Some(m))
        }),
    }
}
