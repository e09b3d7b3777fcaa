//! The signed-in person's own account: a new password (the current one asked first),
//! two-step sign-in, signing out everywhere, and (see [`super::closing`]) disabling or
//! deleting the account.

use axum::Form;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::html;
use nimbus_app::accounts::SignedIn;
use nimbus_app::accounts::totp::TotpSetup;
use nimbus_app::{App, AppError};
use serde::Deserialize;

use super::layout;
use crate::csrf::{self, CsrfForm};
use crate::error::PageError;
use crate::session::{self, Signed};

pub(super) async fn render(
    app: &App,
    who: &SignedIn,
    notice: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let codes_left = app.recovery_codes_left(who).await.unwrap_or(0);
    let body = html! {
        h1 { "Your account" }
        p { "Signed in as " strong { (who.user.email) } ". " a href="/console/account/privacy" { "What Nimbus holds about you" } "." }
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
        h2 { "Two-step sign-in" }
        @if who.user.totp_secret.is_some() {
            p { "On: signing in asks a code from your authenticator app. " (codes_left) " recovery code(s) left." }
            form method="post" action="/console/account/totp/disable" {
                input type="hidden" name="csrf" value=(who.session.csrf);
                label for="off-code" { "Code from your app (or a recovery code)" }
                input id="off-code" type="text" name="code" autocomplete="one-time-code" required;
                button type="submit" class="danger" { "Turn two-step sign-in off" }
            }
        } @else {
            p { "Off. With it on, signing in also asks a code from an authenticator app." }
            form method="post" action="/console/account/totp/start" {
                input type="hidden" name="csrf" value=(who.session.csrf);
                button type="submit" { "Set up two-step sign-in" }
            }
        }
        h2 { "Sessions" }
        p { "Signing out everywhere ends every session of your account, on every device, this one too." }
        form method="post" action="/console/account/sign-out-everywhere" {
            input type="hidden" name="csrf" value=(who.session.csrf);
            button type="submit" class="danger" { "Sign out everywhere" }
        }
        (super::closing::forms(app, who))
    };
    (status, layout::page(who, None, "Your account", body)).into_response()
}

/// `GET /console/account`.
pub async fn page(State(app): State<App>, Signed(who, _): Signed) -> Response {
    render(&app, &who, None, None, StatusCode::OK).await
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
                (header::SET_COOKIE, session::session_cookie(&app, &s)),
                (header::LOCATION, "/console/account".to_owned()),
            ],
        )
            .into_response()),
        Err(
            e @ (AppError::SignInFailed
            | AppError::Account(_)
            | AppError::AccountLocked { .. }
            | AppError::TooManyAttempts { .. }),
        ) => {
            let message = if matches!(e, AppError::SignInFailed) {
                "The current password is not right".to_owned()
            } else {
                e.to_string()
            };
            Ok(render(&app, &who, None, Some(&message), StatusCode::BAD_REQUEST).await)
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /console/account/sign-out-everywhere`.
pub async fn sign_out_everywhere(
    State(app): State<App>,
    Signed(who, _): Signed,
    Form(f): Form<CsrfForm>,
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

fn setup_page(who: &SignedIn, setup: &TotpSetup, error: Option<&str>) -> maud::Markup {
    let body = html! {
        h1 { "Set up two-step sign-in" }
        p { "Add this account to your authenticator app with the key below (or its link), then enter the code the app shows." }
        label for="totp-key" { "Key" }
        input id="totp-key" type="text" readonly value=(setup.secret_base32);
        p { a href=(setup.otpauth_uri) { "Open in an authenticator app" } }
        @if let Some(e) = error { p class="error" role="alert" { (e) } }
        form method="post" action="/console/account/totp/confirm" {
            input type="hidden" name="csrf" value=(who.session.csrf);
            label for="totp-code" { "Code from your app" }
            input id="totp-code" type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required;
            button type="submit" { "Turn on" }
        }
    };
    layout::page(who, None, "Two-step sign-in", body)
}

/// `POST /console/account/totp/start`.
pub async fn totp_start(
    State(app): State<App>,
    Signed(who, _): Signed,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    csrf::check(&who.session.csrf, &f.csrf)?;
    let setup = app.start_totp(&who).await?;
    Ok(setup_page(&who, &setup, None).into_response())
}

#[derive(Deserialize)]
pub struct CodeForm {
    csrf: String,
    code: String,
}

/// `POST /console/account/totp/confirm`: on, and the recovery codes shown once.
pub async fn totp_confirm(
    State(app): State<App>,
    Signed(who, _): Signed,
    Form(f): Form<CodeForm>,
) -> Result<Response, PageError> {
    csrf::check(&who.session.csrf, &f.csrf)?;
    match app.confirm_totp(&who, &f.code).await {
        Ok(codes) => {
            let body = html! {
                h1 { "Two-step sign-in is on" }
                p { "Keep these recovery codes somewhere safe. Each signs you in once if you lose your app. They are not shown again." }
                ul class="codes" { @for c in &codes { li { code { (c) } } } }
                p { a href="/console/account" { "Back to your account" } }
            };
            Ok(layout::page(&who, None, "Recovery codes", body).into_response())
        }
        Err(AppError::CodeFailed) => match app.pending_totp(&who).await? {
            Some(setup) => {
                Ok((StatusCode::BAD_REQUEST, setup_page(&who, &setup, Some("Incorrect code"))).into_response())
            }
            None => Ok(render(&app, &who, None, Some("Start the set-up again"), StatusCode::BAD_REQUEST).await),
        },
        Err(e) => Err(e.into()),
    }
}

/// `POST /console/account/totp/disable`.
pub async fn totp_disable(
    State(app): State<App>,
    Signed(who, _): Signed,
    Form(f): Form<CodeForm>,
) -> Result<Response, PageError> {
    csrf::check(&who.session.csrf, &f.csrf)?;
    match app.disable_totp(&who, &f.code).await {
        Ok(()) => Ok((StatusCode::SEE_OTHER, [(header::LOCATION, "/console/account".to_owned())]).into_response()),
        Err(AppError::CodeFailed) => {
            Ok(render(&app, &who, None, Some("Incorrect code"), StatusCode::BAD_REQUEST).await)
        }
        Err(e) => Err(e.into()),
    }
}
