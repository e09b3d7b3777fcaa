//! Sign-in and sign-out. A successful sign-in always starts a new session (a token planted
//! before sign-in is never promoted), and goes back only to a console path.

use axum::Form;
use axum::extract::Query;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Response};
use maud::{Markup, html};
use nimbus_app::accounts::SignIn;
use nimbus_app::accounts::totp::STEP_LINK_SECS;
use nimbus_app::{App, AppError};
use serde::Deserialize;

use crate::csrf::{self, CsrfForm, FORM_COOKIE, FormCookie};
use crate::error::{PageError, safe_next};
use crate::session::{self, MaybeToken, Signed};

#[derive(Debug, Deserialize)]
pub struct Next {
    next: Option<String>,
    /// The code step of a sign-in that asked to be remembered.
    #[serde(default)]
    remember: Option<String>,
}

impl Next {
    fn remember(&self) -> bool {
        self.remember.as_deref() == Some("1")
    }
}

fn login_page(next: &str, csrf: &str, email: &str, error: Option<&str>) -> Markup {
    html! {
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Sign in · Nimbus" }
                link rel="stylesheet" href="/console/static/console.css";
            }
            body {
                main class="narrow" {
                    div class="card" {
                        h1 { "Sign in to Nimbus" }
                        @if let Some(e) = error {
                            p class="error" role="alert" id="login-error" { (e) }
                        }
                        form method="post" action="/console/login" {
                            input type="hidden" name="csrf" value=(csrf);
                            input type="hidden" name="next" value=(next);
                            label for="email" { "E-mail address" }
                            input id="email" type="email" name="email" value=(email) autocomplete="username" required autofocus;
                            label for="password" { "Password" }
                            input id="password" type="password" name="password" autocomplete="current-password" required;
                            label class="check" {
                                input type="checkbox" name="remember" value="1";
                                " Remember me on this device"
                            }
                            button type="submit" { "Sign in" }
                        }
                        p { a href="/console/reset" { "Forgot your password?" } }
                    }
                    (super::layout::footer())
                }
            }
        }
    }
}

/// A sign-in form with a fresh CSRF token, also set in its cookie.
fn form_response(app: &App, status: StatusCode, next: &str, email: &str, error: Option<&str>) -> Response {
    let (token, cookie) = csrf::issue(app);
    (status, [(header::SET_COOKIE, cookie)], login_page(safe_next(next), &token, email, error)).into_response()
}

/// `GET /console/login`: the form, or straight on when signed in already.
pub async fn form(
    State(app): State<App>,
    Query(q): Query<Next>,
    MaybeToken(token): MaybeToken,
) -> Result<Response, PageError> {
    let next = q.next.as_deref().unwrap_or("/console");
    if let Some(t) = token
        && app.session(&t).await?.is_some()
    {
        return Ok((StatusCode::SEE_OTHER, [(header::LOCATION, safe_next(next).to_owned())]).into_response());
    }
    Ok(form_response(&app, StatusCode::OK, next, "", None))
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    csrf: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    remember: Option<String>,
}

/// `POST /console/login`.
pub async fn submit(
    State(app): State<App>,
    MaybeToken(old): MaybeToken,
    form_cookie: FormCookie,
    session::Client(client): session::Client,
    headers: axum::http::HeaderMap,
    Form(f): Form<LoginForm>,
) -> Result<Response, PageError> {
    form_cookie.check(&f.csrf)?;
    let remember = f.remember.as_deref() == Some("1");
    match app.sign_in(&f.email, f.password, client, remember).await {
        Ok(SignIn::Done(s)) => {
            if session::gpc(&headers) {
                app.honour_gpc(&s.user).await?;
            }
            signed_in(&app, old, &s, &f.next).await
        }
        // The password was right; the code comes next, on a page of its own.
        Ok(SignIn::CodeNeeded { token }) => {
            let to = code_path(&f.next, remember);
            Ok((
                StatusCode::SEE_OTHER,
                AppendHeaders([
                    (header::SET_COOKIE, session::set_cookie(&app, STEP_COOKIE, &token, STEP_LINK_SECS)),
                    (header::SET_COOKIE, session::clear_cookie(&app, FORM_COOKIE)),
                    (header::LOCATION, to),
                ]),
            )
                .into_response())
        }
        Err(
            e @ (AppError::SignInFailed
            | AppError::AccountLocked { .. }
            | AppError::TooManyAttempts { .. }
            | AppError::TooManyClientAttempts { .. }
            | AppError::AccountDeletionPending
            | AppError::Account(_)),
        ) => {
            let status = match e {
                AppError::AccountLocked { .. }
                | AppError::TooManyAttempts { .. }
                | AppError::TooManyClientAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
                AppError::AccountDeletionPending => StatusCode::FORBIDDEN,
                _ => StatusCode::UNAUTHORIZED,
            };
            Ok(form_response(&app, status, &f.next, &f.email, Some(&e.to_string())))
        }
        Err(e) => Err(e.into()),
    }
}

/// The cookie of a sign-in's second step.
const STEP_COOKIE: &str = "nimbus_step";

/// A new session: the cookie set, the form and step cookies cleared, whatever session the
/// browser had before ended, and on to `next`.
async fn signed_in(
    app: &App,
    old: Option<String>,
    s: &nimbus_app::accounts::NewSession,
    next: &str,
) -> Result<Response, PageError> {
    if let Some(old) = old {
        app.sign_out(&old).await?;
    }
    // Several cookies: appended, since a header array would keep only the last.
    Ok((
        StatusCode::SEE_OTHER,
        AppendHeaders([
            (header::SET_COOKIE, session::session_cookie(app, s)),
            (header::SET_COOKIE, session::clear_cookie(app, FORM_COOKIE)),
            (header::SET_COOKIE, session::clear_cookie(app, STEP_COOKIE)),
            (header::LOCATION, safe_next(next).to_owned()),
        ]),
    )
        .into_response())
}

/// The code step's address: where to go next, and whether to remember the session.
fn code_path(next: &str, remember: bool) -> String {
    let remember = if remember { "&remember=1" } else { "" };
    format!("/console/login/code?next={}{remember}", super::urls::query_value(safe_next(next)))
}

fn code_page(next: &str, remember: bool, error: Option<&str>) -> Markup {
    super::layout::bare_with(
        "Two-step sign-in",
        html! {
            p { "Enter the 6-digit code from your authenticator app, or one of your recovery codes." }
            @if let Some(e) = error { p class="error" role="alert" { (e) } }
            form method="post" action=(code_path(next, remember)) {
                label for="code" { "Code" }
                input id="code" type="text" name="code" autocomplete="one-time-code" inputmode="text" required autofocus;
                button type="submit" { "Sign in" }
            }
            p { a href="/console/login" { "Start again" } }
        },
    )
}

/// `GET /console/login/code`.
pub async fn code_form(Query(q): Query<Next>) -> Response {
    code_page(q.next.as_deref().unwrap_or("/console"), q.remember(), None).into_response()
}

#[derive(Deserialize)]
pub struct CodeForm {
    code: String,
}

/// `POST /console/login/code`: the step's cookie (which a forged form cannot set) and a code.
pub async fn code_submit(
    State(app): State<App>,
    Query(q): Query<Next>,
    MaybeToken(old): MaybeToken,
    step: StepCookie,
    Form(f): Form<CodeForm>,
) -> Result<Response, PageError> {
    let next = q.next.as_deref().unwrap_or("/console");
    let Some(token) = step.0 else {
        return Ok((StatusCode::SEE_OTHER, [(header::LOCATION, "/console/login".to_owned())]).into_response());
    };
    let remember = q.remember();
    match app.finish_sign_in(&token, &f.code, remember).await {
        Ok(s) => signed_in(&app, old, &s, next).await,
        Err(AppError::CodeFailed) => {
            Ok((StatusCode::UNAUTHORIZED, code_page(next, remember, Some("Incorrect code"))).into_response())
        }
        Err(e @ AppError::AccountLocked { .. }) => {
            Ok((StatusCode::TOO_MANY_REQUESTS, code_page(next, remember, Some(&e.to_string()))).into_response())
        }
        Err(AppError::LinkInvalid) => {
            Ok((StatusCode::SEE_OTHER, [(header::LOCATION, "/console/login".to_owned())]).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// The second step's cookie.
pub struct StepCookie(Option<String>);

impl axum::extract::FromRequestParts<App> for StepCookie {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &App) -> Result<Self, Self::Rejection> {
        Ok(StepCookie(session::cookie(parts, STEP_COOKIE).filter(|t| !t.is_empty()).map(str::to_owned)))
    }
}

/// `POST /console/logout`: ends this session.
pub async fn logout(
    State(app): State<App>,
    Signed(who, token): Signed,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    csrf::check(&who.session.csrf, &f.csrf)?;
    app.sign_out(&token).await?;
    Ok((
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, session::clear_cookie(&app, session::SESSION_COOKIE)),
            (header::LOCATION, "/console/login".to_owned()),
        ],
    )
        .into_response())
}
