//! Cross-site request forgery: every state-changing form carries a token that a page of
//! another site cannot read. Signed in, it is the session's own token; on the sign-in form,
//! a random token also set in a short-lived cookie (double submit). Compared in constant time.

use subtle::ConstantTimeEq as _;

use crate::error::PageError;

pub const LOGIN_COOKIE: &str = "nimbus_login_csrf";

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
