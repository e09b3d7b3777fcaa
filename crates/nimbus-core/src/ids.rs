//! Identifiers with their validation rules: a value of these types is valid by construction.

use std::fmt;
use std::str::FromStr;

/// Why an identifier was refused; the message is shown to API clients as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("Invalid resource type - {0}")]
    ResourceType(String),
    #[error("Invalid type - {0}")]
    DeliveryType(String),
    #[error("Invalid public_id - {id}: {reason}")]
    PublicId { id: String, reason: &'static str },
    #[error("Invalid cloud_name {0}")]
    CloudName(String),
    #[error("Invalid access_mode {0} (public or authenticated)")]
    AccessMode(String),
}

/// Cloudinary's resource types. `Auto` exists only on upload and resolves to one of the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceType {
    Image,
    Video,
    Raw,
    Auto,
}

impl ResourceType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Video => "video",
            Self::Raw => "raw",
            Self::Auto => "auto",
        }
    }

    /// The stored kinds, i.e. all but `Auto`.
    pub const STORED: [ResourceType; 3] = [Self::Image, Self::Raw, Self::Video];
}

impl FromStr for ResourceType {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        match s {
            "image" => Ok(Self::Image),
            "video" => Ok(Self::Video),
            "raw" => Ok(Self::Raw),
            "auto" => Ok(Self::Auto),
            other => Err(IdError::ResourceType(other.to_owned())),
        }
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Delivery type (`type` on the wire): who may fetch the original.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryType {
    /// Public.
    Upload,
    /// Original needs a signed URL.
    Private,
    /// Every URL needs a signature.
    Authenticated,
}

impl DeliveryType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Upload => "upload",
            Self::Private => "private",
            Self::Authenticated => "authenticated",
        }
    }

    /// Whether delivering the original requires a signed URL.
    pub fn original_needs_signature(self) -> bool {
        !matches!(self, Self::Upload)
    }
}

impl FromStr for DeliveryType {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        match s {
            "upload" => Ok(Self::Upload),
            "private" => Ok(Self::Private),
            "authenticated" => Ok(Self::Authenticated),
            other => Err(IdError::DeliveryType(other.to_owned())),
        }
    }
}

impl fmt::Display for DeliveryType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who may fetch an asset of delivery type `upload` (`access_mode` on the wire). An
/// `authenticated` asset keeps its `upload` URLs but, like the `authenticated` type, is
/// delivered only through signed URLs, until its mode is set back to `public`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessMode {
    #[default]
    Public,
    Authenticated,
}

impl AccessMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Authenticated => "authenticated",
        }
    }
}

impl FromStr for AccessMode {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        match s {
            "public" => Ok(Self::Public),
            "authenticated" => Ok(Self::Authenticated),
            other => Err(IdError::AccessMode(other.to_owned())),
        }
    }
}

/// A public id: `folder/sub/name`, never empty, never absolute, no `.`/`..` or empty segments,
/// no control characters, at most 255 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PublicId(String);

impl TryFrom<String> for PublicId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Self::parse(&s)
    }
}

impl From<PublicId> for String {
    fn from(id: PublicId) -> String {
        id.0
    }
}

impl PublicId {
    pub const MAX_LEN: usize = 255;

    pub fn parse(s: &str) -> Result<Self, IdError> {
        let bad = |reason| Err(IdError::PublicId { id: s.to_owned(), reason });
        if s.is_empty() {
            return bad("must not be empty");
        }
        if s.len() > Self::MAX_LEN {
            return bad("longer than 255 bytes");
        }
        if s.starts_with('/') {
            return bad("must not start with '/'");
        }
        if s.ends_with('/') {
            return bad("must not end with '/'");
        }
        if s.chars().any(|c| c.is_control() || c == '\\') {
            return bad("contains a control character or a backslash");
        }
        for seg in s.split('/') {
            match seg {
                "" => return bad("contains an empty path segment"),
                "." | ".." => return bad("contains a '.' or '..' path segment"),
                _ => {}
            }
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The folder part (`a/b` of `a/b/c`), empty at the root.
    pub fn folder(&self) -> &str {
        self.0.rsplit_once('/').map(|(f, _)| f).unwrap_or("")
    }

    /// The last segment (`c` of `a/b/c`).
    pub fn name(&self) -> &str {
        self.0.rsplit_once('/').map(|(_, n)| n).unwrap_or(&self.0)
    }
}

impl fmt::Display for PublicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A product environment's cloud name: 1–64 of `[a-z0-9_-]`, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CloudName(String);

/// Names that are paths of the server itself (or of its console), not environments.
const RESERVED_CLOUD_NAMES: [&str; 12] = [
    "console", "privacy", "healthz", "readyz", "v1_1", "login", "logout", "setup", "invite", "reset", "static",
    "account",
];

impl CloudName {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let ok = !RESERVED_CLOUD_NAMES.contains(&s)
            && !s.is_empty()
            && s.len() <= 64
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
            && s.as_bytes()[0].is_ascii_alphanumeric();
        if ok { Ok(Self(s.to_owned())) } else { Err(IdError::CloudName(s.to_owned())) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CloudName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_id_rules() {
        assert!(PublicId::parse("a/b/c").is_ok());
        assert!(PublicId::parse("my pic ü").is_ok());
        for bad in ["", "/a", "a/../b", "..", "a//b", "a/", "./a", "a\nb", "a\\b"] {
            assert!(PublicId::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(PublicId::parse(&"x".repeat(256)).is_err());
        let id = PublicId::parse("a/b/c").unwrap();
        assert_eq!((id.folder(), id.name()), ("a/b", "c"));
        let root = PublicId::parse("c").unwrap();
        assert_eq!((root.folder(), root.name()), ("", "c"));
    }

    #[test]
    fn cloud_names() {
        assert!(CloudName::parse("demo-1_x").is_ok());
        for bad in ["", "Demo", "-x", "a/b", "a b"] {
            assert!(CloudName::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn resource_types_round_trip() {
        for rt in ["image", "video", "raw", "auto"] {
            assert_eq!(rt.parse::<ResourceType>().unwrap().as_str(), rt);
        }
        assert_eq!("foo".parse::<ResourceType>().unwrap_err().to_string(), "Invalid resource type - foo");
    }
}
