//! Every way a service call can fail. `nimbus-api` maps each variant to an HTTP status and
//! Cloudinary's `{"error":{"message":...}}` in one exhaustive match.

use nimbus_core::IdError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    // --- the request is wrong (400) ---
    #[error("Missing required parameter - {0}")]
    MissingParam(&'static str),
    #[error("Invalid value {value} for parameter {name}")]
    InvalidParam { name: &'static str, value: String },
    /// `headers` on upload: a line Nimbus will not deliver (name, value or count).
    #[error("Invalid headers - {0}")]
    InvalidHeaders(String),
    /// A list parameter names more items than one call may (see [`crate::limits`]).
    #[error("Too many {param}: {given} given, at most {max}")]
    TooManyIds { param: &'static str, given: usize, max: usize },
    #[error("{0}")]
    InvalidId(#[from] IdError),
    #[error("Empty file")]
    EmptyFile,
    #[error("File size too large. Got {got}. Maximum is {max}.")]
    FileTooLarge { got: u64, max: u64 },
    #[error("Invalid image file")]
    InvalidImage,
    #[error("Invalid file - {0}")]
    InvalidDataUri(&'static str),
    #[error("Error in loading {url} - address not allowed")]
    RemoteNotAllowed { url: String },
    #[error("Error in loading {url} - timed out")]
    RemoteTimeout { url: String },
    #[error("Error in loading {url} - {reason}")]
    RemoteFailed { url: String, reason: String },
    #[error("Stale request - reported time is {timestamp} which is more than 1 hour ago (server time {now})")]
    StaleRequest { timestamp: i64, now: i64 },
    /// A signed request dated further ahead than the clock skew allows: a signature made now
    /// for later would otherwise stay valid for as long as its author chose.
    #[error("Invalid timestamp - reported time is {timestamp} which is more than 1 hour ahead (server time {now})")]
    FutureRequest { timestamp: i64, now: i64 },
    /// An unsigned upload carries a parameter only signed calls (or the preset) may set;
    /// `allowed` lists those it may carry.
    #[error(
        "{} parameter is not allowed when using unsigned upload. Only {allowed} upload parameters are allowed.",
        capitalised(name)
    )]
    UnsignedParamNotAllowed { name: String, allowed: String },
    /// The upload preset disallows choosing the public id.
    #[error("public_id is not allowed by upload preset {0} (disallow_public_id)")]
    PublicIdDisallowed(String),
    /// The file's format is not among the `allowed_formats` of the call or its preset.
    #[error("File format {format} not allowed. Allowed formats: {allowed}")]
    FormatNotAllowed { format: String, allowed: String },
    /// A parameter Nimbus does not honour yet: refused by name rather than ignored.
    #[error("Parameter {0} is not supported by Nimbus yet")]
    Unsupported(String),
    /// An add-on parameter Nimbus has no value for: Cloudinary's words for an invalid value,
    /// and why.
    #[error("{0}")]
    UnsupportedValue(String),
    /// An upload names a preset that does not exist.
    #[error("Upload preset not found - {0}")]
    UploadPresetMissing(String),
    #[error("Upload preset must be whitelisted for unsigned uploads - {0}")]
    PresetNotUnsigned(String),
    #[error("Resource already exists - {0}")]
    TargetExists(String),
    #[error("Invalid command {0}")]
    InvalidCommand(String),
    #[error("Folder is not empty - {0}")]
    FolderNotEmpty(String),
    #[error("Invalid multipart body - {0}")]
    MalformedBody(String),
    /// A metadata field or rule definition is refused; the message says why.
    #[error("{0}")]
    MetadataSchema(String),
    /// Asset metadata breaks the schema or its rules: every problem, the first as message.
    /// A search request is refused: expression (with position and hint), sort, cursor, ...
    #[error("{0}")]
    InvalidSearch(String),
    #[error("{message}")]
    MetadataInvalid { message: String, issues: Vec<nimbus_core::metadata::Issue> },
    /// An account's e-mail address, password or role is refused.
    #[error("{0}")]
    Account(#[from] nimbus_core::accounts::AccountError),
    /// A one-time link that does not exist, expired or was used.
    #[error("This link has expired or was used already")]
    LinkInvalid,
    /// An unsubscribe link whose signature does not hold.
    #[error("This unsubscribe link is not valid; unsubscribe from your account page instead")]
    UnsubscribeInvalid,

    // --- who is asking is not established (401) ---
    #[error("Must supply api_key")]
    MissingCredentials,
    #[error("Invalid cloud_name {0}")]
    UnknownCloud(String),
    #[error("Unknown API key {0}")]
    UnknownApiKey(String),
    #[error("API key {0} has been revoked")]
    RevokedApiKey(String),
    #[error("api_secret mismatch for API key {0}")]
    SecretMismatch(String),
    #[error("Invalid Signature {given}. String to sign - '{to_sign}'.")]
    InvalidSignature { given: String, to_sign: String },
    /// An OAuth bearer token: Nimbus issues none, so every one is invalid.
    #[error("Invalid token")]
    InvalidToken,
    #[error("Invalid URL signature")]
    UrlSignatureRequired,
    #[error("Transformation {0} is not allowed")]
    TransformationNotAllowed(String),
    /// A console sign-in with an unknown address, a wrong password or a disabled account: the
    /// message does not say which.
    #[error("Incorrect e-mail address or password")]
    SignInFailed,
    #[error("Not signed in")]
    NotSignedIn,
    /// A wrong or used code of two-step sign-in.
    #[error("Incorrect code")]
    CodeFailed,

    /// A policy version that cannot be published as asked (too early, out of order, empty).
    #[error("{0}")]
    PolicyRefused(String),
    /// An archive of one's data asked again while the last is kept.
    #[error("An archive of your data can be asked again once the last one has expired; the next one in {} hour(s)", (retry_after + 3599) / 3600)]
    ExportTooSoon { retry_after: i64 },
    /// Too many requests to the request desk from one address in a day.
    #[error("Too many requests from this address today; try again in {} hour(s)", (retry_after + 3599) / 3600)]
    TooManyRequests { retry_after: i64 },

    // --- who is asking may not do this (403) ---
    #[error("Your role in {cloud} does not allow this")]
    Forbidden { cloud: String },
    /// The right password of an account whose deletion was asked.
    #[error(
        "This account is being deleted. The mail sent when its deletion was asked holds a link that cancels the deletion"
    )]
    AccountDeletionPending,
    /// A restricted asset (privacy F19): it and its derivatives are not delivered.
    #[error("Unavailable for legal reasons - {0}")]
    Restricted(String),
    /// A request of the desk answered before its address was verified.
    #[error("Request {0} is not verified: its requester has not confirmed the address yet")]
    RequestNotVerified(i64),

    // --- what was asked for does not exist (404) ---
    #[error("Resource not found - {0}")]
    ResourceNotFound(String),
    /// The Admin API addresses a preset that does not exist.
    #[error("Upload preset not found - {0}")]
    PresetNotFound(String),
    #[error("Can't find folder with path {0}")]
    FolderNotFound(String),
    #[error("Transformation {0} not found")]
    TransformationNotFound(String),
    #[error("Metadata field {0} not found")]
    MetadataFieldNotFound(String),
    #[error("Metadata rule {0} not found")]
    MetadataRuleNotFound(String),
    #[error("Trigger {0} not found")]
    TriggerNotFound(String),
    #[error("Job {0} not found")]
    JobNotFound(i64),
    #[error("User {0} not found")]
    UserNotFound(String),
    /// A transformation URL is malformed or asks for something not supported.
    #[error("{0}")]
    InvalidTransformation(String),

    // --- it exists already (409) ---
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// A change that would break what depends on it (e.g. deleting a field rules use).
    #[error("{0}")]
    Conflict(String),

    // --- too busy (420) ---
    #[error("Rate Limit Exceeded")]
    RateLimited,
    #[error("Concurrent metadata schema updates; try again")]
    MetadataBusy,
    /// Too many sign-in attempts for one address in a short time.
    #[error("Too many sign-in attempts for this account; try again in {secs} seconds")]
    TooManyAttempts { secs: i64 },
    /// Too many sign-in or reset requests from one client address.
    #[error("Too many sign-in attempts from your network; try again in {secs} seconds")]
    TooManyClientAttempts { secs: i64 },
    /// Too many failed sign-ins in a row.
    #[error("Too many failed sign-ins: this account is locked for {minutes} more minute(s)")]
    AccountLocked { minutes: i64 },

    // --- overloaded: the CPU pool's queue is full (503) ---
    #[error("Server busy, try again")]
    Busy,
    /// The mail server did not take a message.
    #[error("The mail server did not take the message: {0}")]
    Mail(String),

    // --- our side failed (500, logged, never echoed) ---
    #[error("catalog error: {0}")]
    Catalog(String),
    #[error("blob store error: {0}")]
    Blob(String),
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("cpu pool: {0}")]
    Cpu(&'static str),
    #[error("image engine: {0}")]
    Image(String),
}

pub type AppResult<T> = Result<T, AppError>;

/// `overwrite` -> `Overwrite`, as Cloudinary's messages name parameters.
fn capitalised(name: &str) -> String {
    let mut c = name.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

impl AppError {
    /// Metadata problems; the first one is the message.
    pub fn metadata(issues: Vec<nimbus_core::metadata::Issue>) -> Self {
        let message = issues.first().map_or_else(|| "Invalid metadata".to_owned(), |i| i.message.clone());
        Self::MetadataInvalid { message, issues }
    }
}

impl From<crate::ports::CatalogError> for AppError {
    fn from(e: crate::ports::CatalogError) -> Self {
        Self::Catalog(e.0)
    }
}

impl From<crate::ports::BlobError> for AppError {
    fn from(e: crate::ports::BlobError) -> Self {
        Self::Blob(e.to_string())
    }
}
