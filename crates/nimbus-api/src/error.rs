//! The one mapping from failures to HTTP: status and Cloudinary's
//! `{"error":{"message":"..."}}`. Exhaustive on purpose: a new error variant does not
//! compile until it has a status. Internal failures are logged and never echoed.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use nimbus_app::AppError;

/// Errors of the HTTP layer: the application's, plus what only HTTP can get wrong.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error("Unknown API endpoint {0}")]
    UnknownEndpoint(String),
    #[error("Invalid request body - {0}")]
    BadBody(String),
}

/// Cloudinary's non-standard "rate limited" status.
pub const RATE_LIMITED: u16 = 420;

fn app_status(e: &AppError) -> StatusCode {
    use AppError as E;
    match e {
        E::MissingParam(_)
        | E::InvalidParam { .. }
        | E::InvalidHeaders(_)
        | E::TooManyIds { .. }
        | E::InvalidId(_)
        | E::EmptyFile
        | E::FileTooLarge { .. }
        | E::InvalidImage
        | E::InvalidDataUri(_)
        | E::RemoteNotAllowed { .. }
        | E::RemoteTimeout { .. }
        | E::RemoteFailed { .. }
        | E::StaleRequest { .. }
        | E::FutureRequest { .. }
        | E::UnsignedParamNotAllowed { .. }
        | E::PublicIdDisallowed(_)
        | E::FormatNotAllowed { .. }
        | E::Unsupported(_)
        | E::UnsupportedValue(_)
        | E::UploadPresetMissing(_)
        | E::PresetNotUnsigned(_)
        | E::TargetExists(_)
        | E::InvalidCommand(_)
        | E::FolderNotEmpty(_)
        | E::MalformedBody(_)
        | E::MetadataSchema(_)
        | E::InvalidSearch(_)
        | E::MetadataInvalid { .. }
        | E::Account(_)
        | E::LinkInvalid
        | E::UnsubscribeInvalid
        | E::PolicyRefused(_)
        | E::InvalidTransformation(_) => StatusCode::BAD_REQUEST,
        E::MissingCredentials
        | E::UnknownCloud(_)
        | E::UnknownApiKey(_)
        | E::RevokedApiKey(_)
        | E::SecretMismatch(_)
        | E::InvalidSignature { .. }
        | E::UrlSignatureRequired
        | E::InvalidToken
        | E::SignInFailed
        | E::NotSignedIn
        | E::CodeFailed
        | E::TransformationNotAllowed(_) => StatusCode::UNAUTHORIZED,
        E::Forbidden { .. } | E::AccountDeletionPending | E::RequestNotVerified(_) => StatusCode::FORBIDDEN,
        E::Restricted(_) => StatusCode::UNAVAILABLE_FOR_LEGAL_REASONS,
        E::ResourceNotFound(_)
        | E::FolderNotFound(_)
        | E::PresetNotFound(_)
        | E::TransformationNotFound(_)
        | E::MetadataFieldNotFound(_)
        | E::MetadataRuleNotFound(_)
        | E::TriggerNotFound(_)
        | E::JobNotFound(_)
        | E::UserNotFound(_) => StatusCode::NOT_FOUND,
        E::AlreadyExists(_) | E::Conflict(_) => StatusCode::CONFLICT,
        E::AccountLocked { .. }
        | E::TooManyAttempts { .. }
        | E::TooManyClientAttempts { .. }
        | E::ExportTooSoon { .. }
        | E::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
        E::RateLimited | E::MetadataBusy => StatusCode::from_u16(RATE_LIMITED).unwrap_or(StatusCode::TOO_MANY_REQUESTS),
        // The catalog database or the blob store did not answer: worth trying again.
        E::Busy | E::Catalog(_) | E::Blob(_) | E::Mail(_) => StatusCode::SERVICE_UNAVAILABLE,
        E::Io(_) | E::Cpu(_) | E::Image(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::App(e) => app_status(e),
            Self::UnknownEndpoint(_) => StatusCode::NOT_FOUND,
            Self::BadBody(_) => StatusCode::BAD_REQUEST,
        }
    }

    /// The message shown to the client: internal details stay in the log.
    pub fn public_message(&self) -> String {
        if self.status() == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %self, "internal error");
            return "Internal server error".to_owned();
        }
        if let Self::App(AppError::Catalog(_) | AppError::Blob(_)) = self {
            tracing::error!(error = %self, "storage unavailable");
            return "Storage is unavailable, try again shortly".to_owned();
        }
        self.to_string()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = self.public_message();
        let mut error = serde_json::json!({ "message": message });
        if let Self::App(AppError::MetadataInvalid { issues, .. }) = &self {
            error["details"] = issues.iter().map(crate::wire::issue_json).collect();
        }
        let body = serde_json::json!({ "error": error });
        let mut resp = (status, axum::Json(body)).into_response();
        resp.headers_mut().insert("content-type", HeaderValue::from_static("application/json; charset=utf-8"));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            resp.headers_mut().insert("retry-after", HeaderValue::from_static(RETRY_AFTER_SECS));
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// When a client should try again after a 503.
pub(crate) const RETRY_AFTER_SECS: &str = "5";
