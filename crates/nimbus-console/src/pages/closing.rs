//! Changing one's address (confirmed from the new one), and closing one's own account:
//! disabling it (undone by a mailed link) and deleting it (after a grace period, cancelled by
//! a mailed link). Each asks the password again. The links' pages ask for a click before
//! they act, so a mail scanner that opens links changes nothing.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Response};
use maud::{Markup, html};
use nimbus_app::accounts::SignedIn;
use nimbus_app::{App, AppError};
use serde::Deserialize;

use super::layout;
use crate::csrf;
use crate::error::PageError;
use crate::session::{self, Signed};

/// The account page's sections.
pub fn forms(app: &App, who: &SignedIn) -> Markup {
    let grace = nimbus_core::privacy::period_words(app.config.deletion_grace_secs);
    html! {
        h2 { "Your e-mail address" }
        p { "A new address takes effect when you follow the link we mail to it (within 24 hours); your current address is told." }
        form method="post" action="/console/account/email" {
            input type="hidden" name="csrf" value=(who.session.csrf);
            label for="new-email" { "New e-mail address" }
            input id="new-email" type="email" name="email" autocomplete="email" required;
            label for="email-password" { "Your password" }
            input id="email-password" type="password" name="password" autocomplete="current-password" required;
            button type="submit" { "Change my address" }
        }
        h2 { "Disable your account" }
        p { "Nobody can sign in to a disabled account, and nothing more is recorded about you. A link we mail you enables it again." }
        form method="post" action="/console/account/disable" {
            input type="hidden" name="csrf" value=(who.session.csrf);
            label for="disable-password" { "Your password" }
            input id="disable-password" type="password" name="password" autocomplete="current-password" required;
            button type="submit" class="danger" { "Disable my account" }
        }
        h2 { "Delete your account" }
        p {
            "Your account is blocked at once and erased after " (grace) ". Until then, the link we mail you cancels the deletion. "
            "Assets you uploaded belong to their product environment and stay; the record of who uploaded them names a pseudonym instead of you."
        }
        form method="post" action="/console/account/delete" {
            input type="hidden" name="csrf" value=(who.session.csrf);
            label for="delete-password" { "Your password" }
            input id="delete-password" type="password" name="password" autocomplete="current-password" required;
            button type="submit" class="danger" { "Delete my account" }
        }
    }
}

#[derive(Deserialize)]
pub struct ChallengeForm {
    /// Missing reads as empty: refused as a forgery, not as a malformed form.
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
}

/// Signed out, with a page saying what happened.
fn signed_out(app: &App, title: &str, message: &str) -> Response {
    (
        StatusCode::OK,
        AppendHeaders([(header::SET_COOKIE, session::clear_cookie(app, session::SESSION_COOKIE))]),
        layout::bare(title, message),
    )
        .into_response()
}

/// A wrong password is shown on the account page; anything else is an error page.
async fn refused(app: &App, who: &SignedIn, e: AppError) -> Result<Response, PageError> {
    match e {
        AppError::SignInFailed => {
            Ok(super::account::render(app, who, None, Some("The password is not right"), StatusCode::BAD_REQUEST).await)
        }
        e @ (AppError::AccountLocked { .. } | AppError::TooManyAttempts { .. }) => {
            Ok(super::account::render(app, who, None, Some(&e.to_string()), StatusCode::TOO_MANY_REQUESTS).await)
        }
        e => Err(e.into()),
    }
}

/// `POST /console/account/disable`.
pub async fn disable(
    State(app): State<App>,
    Signed(who, _): Signed,
    Form(f): Form<ChallengeForm>,
) -> Result<Response, PageError> {
    csrf::check(&who.session.csrf, &f.csrf)?;
    match app.disable_own_account(&who, f.password).await {
        Ok(()) => Ok(signed_out(
            &app,
            "Account disabled",
            "Your account is disabled and you are signed out everywhere. We mailed you a link that enables it again.",
        )),
        Err(e) => refused(&app, &who, e).await,
    }
}

/// `POST /console/account/delete` (a form) and `DELETE /console/account` (the same fields;
/// answers JSON when asked).
pub async fn delete(
    State(app): State<App>,
    Signed(who, _): Signed,
    headers: HeaderMap,
    Form(f): Form<ChallengeForm>,
) -> Result<Response, PageError> {
    csrf::check(&who.session.csrf, &f.csrf)?;
    if f.password.is_empty() {
        return refused(&app, &who, AppError::SignInFailed).await;
    }
    match app.request_account_deletion(&who, f.password).await {
        Ok(s) => {
            let due = nimbus_core::timefmt::iso8601(s.due_at);
            if super::wants_json(&headers) {
                let body = serde_json::json!({ "status": "pending_deletion", "deletion_due_at": due });
                return Ok((
                    StatusCode::OK,
                    AppendHeaders([(header::SET_COOKIE, session::clear_cookie(&app, session::SESSION_COOKIE))]),
                    axum::Json(body),
                )
                    .into_response());
            }
            Ok(signed_out(
                &app,
                "Account deletion asked",
                &format!(
                    "Your account is blocked and will be erased at {due} (UTC). We mailed you a link that cancels the deletion until then."
                ),
            ))
        }
        Err(e) => refused(&app, &who, e).await,
    }
}

#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    csrf: String,
    email: String,
    #[serde(default)]
    password: String,
}

/// `POST /console/account/email`.
pub async fn change_email(
    State(app): State<App>,
    Signed(who, _): Signed,
    Form(f): Form<EmailForm>,
) -> Result<Response, PageError> {
    csrf::check(&who.session.csrf, &f.csrf)?;
    match app.request_email_change(&who, &f.email, f.password).await {
        Ok(()) => Ok(super::account::render(
            &app,
            &who,
            Some("We mailed a link to the new address. Your address changes when you follow it."),
            None,
            StatusCode::OK,
        )
        .await),
        Err(e @ AppError::Account(_)) => {
            Ok(super::account::render(&app, &who, None, Some(&e.to_string()), StatusCode::BAD_REQUEST).await)
        }
        Err(e) => refused(&app, &who, e).await,
    }
}

/// `GET /console/account/email/{token}`.
pub async fn email_form(Path(token): Path<String>) -> Response {
    link_page(
        "Confirm your new address",
        "Confirming makes this address the one you sign in with and get mail at.",
        &format!("/console/account/email/{token}"),
        "Use this address",
    )
    .into_response()
}

/// `POST /console/account/email/{token}`.
pub async fn confirm_email(State(app): State<App>, Path(token): Path<String>) -> Result<Response, PageError> {
    match app.confirm_email_change(&token).await {
        Err(e @ AppError::AlreadyExists(_)) => {
            Ok((StatusCode::CONFLICT, layout::bare("Address taken", &e.to_string())).into_response())
        }
        other => {
            link_done(other, "Address changed", "Your account now uses this address. Sign in with it from now on.")
        }
    }
}

fn link_page(title: &str, intro: &str, action: &str, button: &str) -> Markup {
    layout::bare_with(
        title,
        html! {
            p { (intro) }
            form method="post" action=(action) {
                button type="submit" { (button) }
            }
        },
    )
}

fn link_done(result: Result<(), AppError>, title: &str, message: &str) -> Result<Response, PageError> {
    match result {
        Ok(()) => Ok((StatusCode::OK, layout::bare(title, message)).into_response()),
        Err(AppError::LinkInvalid) => {
            Ok((StatusCode::GONE, layout::bare("Link expired", &AppError::LinkInvalid.to_string())).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /console/account/cancel-deletion/{token}`.
pub async fn cancel_form(Path(token): Path<String>) -> Response {
    link_page(
        "Cancel the deletion",
        "Your account is waiting to be erased. Cancelling keeps it, as it was.",
        &format!("/console/account/cancel-deletion/{token}"),
        "Keep my account",
    )
    .into_response()
}

/// `POST /console/account/cancel-deletion/{token}`.
pub async fn cancel(State(app): State<App>, Path(token): Path<String>) -> Result<Response, PageError> {
    link_done(
        app.cancel_account_deletion(&token).await,
        "Deletion cancelled",
        "Your account is kept and works again. Sign in as before.",
    )
}

/// `GET /console/account/enable/{token}`.
pub async fn enable_form(Path(token): Path<String>) -> Response {
    link_page(
        "Enable your account",
        "Your account is disabled. Enabling it lets you sign in again.",
        &format!("/console/account/enable/{token}"),
        "Enable my account",
    )
    .into_response()
}

/// `POST /console/account/enable/{token}`.
pub async fn enable(State(app): State<App>, Path(token): Path<String>) -> Result<Response, PageError> {
    link_done(app.enable_own_account(&token).await, "Account enabled", "Your account works again. Sign in as before.")
}

#[cfg(test)]
mod tests {
    #[test]
    fn json_is_asked_by_accept() {
        let mut h = axum::http::HeaderMap::new();
        assert!(!super::super::wants_json(&h));
        h.insert("accept", "application/json".parse().unwrap());
        assert!(super::super::wants_json(&h));
    }
}
