//! The signed-in person's own account: a new password (the current one asked first), and
//! signing out everywhere.

use axum::Form;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::html;
use nimbus_app::accounts::SignedIn;
use nimbus_app::{App, AppError};
use serde::Deserialize;

use super::layout;
use crate::csrf;
use crate::error::PageError;
use crate::session::{self, Signed};

fn render(who: &SignedIn, notice: Option<&str>, error: Option<&str>, status: StatusCode) -> Response {
    let body = html! {
        h1 { "Your account" }
        p { "Signed in as " strong { (who.user.email) } "." }
        @if let Some(n) = notice { p class="notice" role="status" { (n) } }
        h2 { "Change your password" }
        @if let Some(e) = error { p class="error" role="alert" { (e) } }
        form method="post" action="/console/account/password" {
            input type="hidden" name="csrf" value=(who.session.csrf);
            label for="current" { "Current password" }
            input id="current" type="password" name="current" autocomplete="current-password" required;
            label for="new" { "New password (at least 8 characters)" }
            input id="new" type="password" name="new" autocomplete="new-password" minlength="8" required;
            button type="submit" { "Change password" }
        }
        h2 { "Sessions" }
        p { "Signing out everywhere ends every session of your account, on every device, this one too." }
        form method="post" action="/console/account/sign-out-everywhere" {
            input type="hidden" name="csrf" value=(who.session.csrf);
            button type="submit" class="danger" { "Sign out everywhere" }
        }
    };
    (status, layout::page(who, None, "Your account", body)).into_response()
}

/// `GET /console/account`.
pub async fn page(Signed(who, _): Signed) -> Response {
    render(&who, None, None, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct PasswordForm {
    csrf: String,
    current: String,
    new: String,
}

/// `POST /console/account/password`: every session ends; this browser gets a new one.
pub async fn change_password(
    State(app): State<App>,
    Signed(who, _): Signed,
    Form(f): Form<PasswordForm>,
) -> Result<Response, PageError> {
    csrf::check(&who.session.csrf, &f.csrf)?;
    match app.change_own_password(&who, f.current, f.new).await {
        Ok(s) => Ok((
            StatusCode::SEE_OTHER,
            [
                (header::SET_COOKIE, session::session_cookie(&app, &s.token)),
                (header::LOCATION, "/console/account".to_owned()),
            ],
        )
            .into_response()),
        Err(e @ (AppError::SignInFailed | AppError::Account(_) | AppError::AccountLocked { .. })) => {
            let message = if matches!(e, AppError::SignInFailed) {
                "The current password is not right".to_owned()
            } else {
                e.to_string()
            };
            Ok(render(&who, None, Some(&message), StatusCode::BAD_REQUEST))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

/// `POST /console/account/sign-out-everywhere`.
pub async fn sign_out_everywhere(
    State(app): State<App>,
    Signed(who, _): Signed,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    csrf::check(&who.session.csrf, &f.csrf)?;
    app.sign_out_everywhere(who.user.id).await?;
    Ok((
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, session::clear_cookie(&app, session::SESSION_COOKIE)),
            (header::LOCATION, "/console/login".to_owned()),
        ],
    )
        .into_response())
}
