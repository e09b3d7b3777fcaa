//! How a console request fails: a page with the message and the right status, or a redirect
//! to the sign-in page. Messages are the app's own; internal errors are logged, not shown.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use nimbus_app::AppError;

use crate::pages::layout;

#[derive(Debug)]
pub enum PageError {
    /// Not signed in: back to the sign-in page, then to `next`.
    SignIn {
        next: String,
    },
    /// A form without its CSRF token.
    Csrf,
    App(AppError),
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        PageError::App(e)
    }
}

/// Where to go after signing in: only a path of the console itself (no other host, no
/// `//host`, no backslash tricks).
pub fn safe_next(next: &str) -> &str {
    let ok = (next == "/console" || next.starts_with("/console/") || next.starts_with("/console?"))
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    if ok { next } else { "/console" }
}

/// A refusal of what a form asked (shown next to the form), rather than of the person or
/// the server.
pub fn refuses_input(e: &AppError) -> bool {
    status(e) == StatusCode::BAD_REQUEST
}

fn status(e: &AppError) -> StatusCode {
    use AppError as E;
    match e {
        E::SignInFailed | E::NotSignedIn | E::CodeFailed => StatusCode::UNAUTHORIZED,
        E::Forbidden { .. } | E::AccountDeletionPending | E::RequestNotVerified(_) => StatusCode::FORBIDDEN,
        E::Restricted(_) => StatusCode::UNAVAILABLE_FOR_LEGAL_REASONS,
        // Another environment than the person's own is as good as absent.
        E::UnknownCloud(_)
        | E::UserNotFound(_)
        | E::ResourceNotFound(_)
        | E::UnknownApiKey(_)
        | E::PresetNotFound(_)
        | E::TransformationNotFound(_) => StatusCode::NOT_FOUND,
        E::AccountLocked { .. }
        | E::TooManyAttempts { .. }
        | E::TooManyClientAttempts { .. }
        | E::ExportTooSoon { .. }
        | E::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
        E::Busy | E::Catalog(_) | E::Blob(_) | E::Mail(_) => StatusCode::SERVICE_UNAVAILABLE,
        E::Io(_) | E::Cpu(_) | E::Image(_) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::SignIn { next } => {
                let to = format!(
                    "/console/login?next={}",
                    percent_encoding::utf8_percent_encode(safe_next(&next), percent_encoding::NON_ALPHANUMERIC)
                );
                (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response()
            }
            PageError::Csrf => (
                StatusCode::FORBIDDEN,
                layout::bare("Form expired", "This form has expired. Go back, reload the page and try again."),
            )
                .into_response(),
            PageError::App(e) => {
                let code = status(&e);
                let message = if code.is_server_error() {
                    tracing::error!(error = %e, "console request failed");
                    "Something went wrong on our side. Try again in a moment.".to_owned()
                } else {
                    e.to_string()
                };
                (code, layout::bare("Error", &message)).into_response()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_console_paths_come_after_sign_in() {
        assert_eq!(super::safe_next("/console/demo/library?page=2"), "/console/demo/library?page=2");
        for bad in [
            "/consolex",
            "https://evil.example/",
            "//evil.example/console",
            "/\\evil.example",
            "/consolex\n",
            "javascript:alert(1)",
        ] {
            assert_eq!(super::safe_next(bad), "/console", "{bad:?}");
        }
    }
}
