//! The session cookie: an opaque random token, HttpOnly, SameSite=Strict, `Secure` when the
//! public URL is https, scoped to `/console`, with nothing personal in it.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use nimbus_app::App;
use nimbus_app::accounts::{SESSION_ABSOLUTE_SECS, SignedIn};

use crate::error::PageError;

pub const SESSION_COOKIE: &str = "nimbus_session";

/// The value of cookie `name` in the request, if any.
pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn secure(app: &App) -> &'static str {
    if app.config.public_base_url.starts_with("https://") { "; Secure" } else { "" }
}

/// `Set-Cookie` for a cookie under `/console` that lives `max_age` seconds.
pub fn set_cookie(app: &App, name: &str, value: &str, max_age: i64) -> String {
    format!("{name}={value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age}{}", secure(app))
}

pub fn session_cookie(app: &App, token: &str) -> String {
    set_cookie(app, SESSION_COOKIE, token, SESSION_ABSOLUTE_SECS)
}

pub fn clear_cookie(app: &App, name: &str) -> String {
    set_cookie(app, name, "", 0)
}

/// A signed-in person, or a redirect to the sign-in page.
pub struct Signed(pub SignedIn, pub String);

impl FromRequestParts<App> for Signed {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let back = parts.uri.path_and_query().map_or("/console", |p| p.as_str()).to_owned();
        let Some(token) = cookie(parts, SESSION_COOKIE).filter(|t| !t.is_empty()) else {
            return Err(PageError::SignIn { next: back });
        };
        match app.session(token).await? {
            Some(s) => Ok(Signed(s, token.to_owned())),
            None => Err(PageError::SignIn { next: back }),
        }
    }
}

/// The token, or `None`, without checking it.
pub struct MaybeToken(pub Option<String>);

impl FromRequestParts<App> for MaybeToken {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _app: &App) -> Result<Self, Self::Rejection> {
        Ok(MaybeToken(cookie(parts, SESSION_COOKIE).filter(|t| !t.is_empty()).map(str::to_owned)))
    }
}
