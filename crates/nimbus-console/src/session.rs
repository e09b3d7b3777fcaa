//! The session cookie: an opaque random token, HttpOnly, SameSite=Strict, `Secure` when the
//! public URL is https, scoped to `/console`, with nothing personal in it.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use nimbus_app::App;
use nimbus_app::accounts::SignedIn;

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

/// The session cookie is a browser-session cookie (no `Max-Age`): it goes when the browser
/// closes, and the server ends the session itself after its idle or absolute timeout. A
/// remembered session's cookie lasts until the session ends (`Max-Age`).
pub fn session_cookie(app: &App, s: &nimbus_app::accounts::NewSession) -> String {
    match s.remember_until {
        Some(until) => set_cookie(app, SESSION_COOKIE, &s.token, (until - app.now()).max(0)),
        None => format!("{SESSION_COOKIE}={}; Path=/console; HttpOnly; SameSite=Strict{}", s.token, secure(app)),
    }
}

/// A cookie the console sets, as the cookie page lists it.
pub struct CookieDoc {
    pub name: &'static str,
    pub purpose: &'static str,
    pub lifetime: &'static str,
}

/// Every cookie Nimbus sets: all first-party, strictly necessary, holding random tokens only
/// (never an address, a user id or a claim about the person). `/cookies` is this list, and a
/// test fails when a page sets a cookie that is not here.
pub const COOKIES: &[CookieDoc] = &[
    CookieDoc {
        name: SESSION_COOKIE,
        purpose: "Keeps you signed in to the console. A random token; only the server knows whose session it is.",
        lifetime: "Until you close the browser or sign out. The server ends the session after 2 hours without use, or 12 hours after sign-in. If you tick \"Remember me\", for the days the operator set (30 by default, at most 90), or until you sign out.",
    },
    CookieDoc {
        name: "nimbus_step",
        purpose: "Between your password and your two-step code while you sign in. A random token.",
        lifetime: "5 minutes.",
    },
    CookieDoc {
        name: crate::csrf::FORM_COOKIE,
        purpose: "Protects the sign-in and password-reset forms against forgery by other sites. A random token.",
        lifetime: "1 hour.",
    },
];

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
            Some(mut s) => {
                if gpc(&parts.headers) && app.honour_gpc(&s.user).await? {
                    s.user.share_opt_out_at = Some(app.now());
                }
                Ok(Signed(s, token.to_owned()))
            }
            None => Err(PageError::SignIn { next: back }),
        }
    }
}

/// Whether the request carries the Global Privacy Control signal (`Sec-GPC: 1`).
pub fn gpc(headers: &axum::http::HeaderMap) -> bool {
    headers.get("sec-gpc").is_some_and(|v| v.as_bytes().trim_ascii() == b"1")
}

/// The token, or `None`, without checking it.
pub struct MaybeToken(pub Option<String>);

impl FromRequestParts<App> for MaybeToken {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _app: &App) -> Result<Self, Self::Rejection> {
        Ok(MaybeToken(cookie(parts, SESSION_COOKIE).filter(|t| !t.is_empty()).map(str::to_owned)))
    }
}

/// The client's IP address: the connection's peer, or the client a trusted proxy names
/// (`--trusted-proxies`); `None` when the request did not come over a socket (in-process
/// tests). Used for per-client limits only, never stored or logged.
pub struct Client(pub Option<std::net::IpAddr>);

impl FromRequestParts<App> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
        let forwarded = parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
        Ok(Client(nimbus_app::client_ip::resolve(peer, forwarded, &app.config.trusted_proxies)))
    }
}
