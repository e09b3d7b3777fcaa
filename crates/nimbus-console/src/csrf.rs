//! Cross-site request forgery: every state-changing form carries a token that a page of
//! another site cannot read. Signed in, it is the session's own token; on the sign-in form,
//! a random token also set in a short-lived cookie (double submit). Compared in constant time.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use nimbus_app::App;
use subtle::ConstantTimeEq as _;

use crate::error::PageError;
use crate::session;

/// A form whose only field is its CSRF token (sign-out, deletions, revocations, ...).
#[derive(Debug, serde::Deserialize)]
pub struct CsrfForm {
    pub csrf: String,
}

/// The cookie of a form filled in before sign-in.
pub const FORM_COOKIE: &str = "nimbus_form";
/// How long such a form may be filled in.
const FORM_SECS: i64 = 3600;

/// A token for a form shown before sign-in, and the `Set-Cookie` that pairs it.
pub fn issue(app: &App) -> (String, String) {
    let token = app.new_token();
    let cookie = session::set_cookie(app, FORM_COOKIE, &token, FORM_SECS);
    (token, cookie)
}

/// The token of [`FORM_COOKIE`], if the browser sent one.
pub struct FormCookie(pub Option<String>);

impl FromRequestParts<App> for FormCookie {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &App) -> Result<Self, Self::Rejection> {
        Ok(FormCookie(session::cookie(parts, FORM_COOKIE).map(str::to_owned)))
    }
}

impl FormCookie {
    /// The form's field must match the cookie.
    pub fn check(&self, given: &str) -> Result<(), PageError> {
        check(self.0.as_deref().unwrap_or(""), given)
    }
}

pub fn check(expected: &str, given: &str) -> Result<(), PageError> {
    if !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(given.as_bytes())) {
        Ok(())
    } else {
        Err(PageError::Csrf)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_must_match_and_exist() {
        assert!(super::check("abc", "abc").is_ok());
        assert!(super::check("abc", "abd").is_err());
        assert!(super::check("", "").is_err());
    }
}
