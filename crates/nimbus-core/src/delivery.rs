//! The delivery-URL grammar, up to the transformation components (which stay raw strings
//! here; their own grammar slots in as a typed parse of [`DeliveryPath::transformations`]).
//!
//! ```text
//! path       = "/" cloud "/" resource "/" type "/" [ "s--" sig "--/" ] *( component "/" )
//!              [ "v" digits "/" ] public_id [ "." ext ]
//! component  = param *( "," param )        ; param = key "_" value, key from KNOWN_KEYS,
//!                                          ; "if" or "$" name
//! ```
//! A segment is a component only if every parameter in it has a known key; the first
//! segment that is not (or a `v<digits>` segment) starts the public id. Docs:
//! <https://cloudinary.com/documentation/image_transformations#transformation_url_structure>.

use percent_encoding::percent_decode_str;

use crate::ids::{CloudName, DeliveryType, IdError, PublicId, ResourceType};

/// Transformation parameter keys a component may use.
pub const KNOWN_KEYS: &[&str] = &[
    "a", "ac", "af", "ar", "b", "bo", "br", "c", "co", "cs", "d", "dl", "dn", "dpr", "du", "e", "eo", "f", "fl", "fn",
    "fps", "g", "h", "ki", "l", "o", "p", "pg", "q", "r", "so", "sp", "t", "u", "vc", "vs", "w", "x", "y", "z",
];

/// A parsed delivery path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryPath {
    pub cloud: String,
    pub resource_type: ResourceType,
    pub delivery_type: DeliveryType,
    /// The `SIG` of `s--SIG--`, when present.
    pub signature: Option<String>,
    /// Raw transformation components, in URL order.
    pub transformations: Vec<String>,
    pub version: Option<i64>,
    /// Percent-decoded public id (with the extension for raw assets).
    pub public_id: PublicId,
    /// Requested format (the extension) for images and videos.
    pub format: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryPathError {
    #[error("Invalid delivery URL - {0}")]
    Malformed(&'static str),
    #[error(transparent)]
    Id(#[from] IdError),
}

impl DeliveryPath {
    /// Parses the request path (still percent-encoded), e.g. `/demo/image/upload/v1/a/b.jpg`.
    pub fn parse(path: &str) -> Result<Self, DeliveryPathError> {
        let mut segs = path.trim_start_matches('/').split('/');
        let cloud = segs.next().filter(|s| !s.is_empty()).ok_or(DeliveryPathError::Malformed("no cloud name"))?;
        CloudName::parse(cloud)?;
        let resource_type: ResourceType =
            segs.next().ok_or(DeliveryPathError::Malformed("no resource type"))?.parse()?;
        if resource_type == ResourceType::Auto {
            return Err(IdError::ResourceType("auto".into()).into());
        }
        let delivery_type: DeliveryType =
            segs.next().ok_or(DeliveryPathError::Malformed("no delivery type"))?.parse()?;
        let rest: Vec<&str> = segs.collect();
        let mut i = 0;
        let mut signature = None;
        if let Some(sig) = rest.first().and_then(|s| s.strip_prefix("s--")).and_then(|s| s.strip_suffix("--")) {
            signature = Some(sig.to_owned());
            i = 1;
        }
        let mut transformations = Vec::new();
        let mut version = None;
        while i + 1 < rest.len() {
            let seg = rest[i];
            if let Some(v) = parse_version(seg) {
                version = Some(v);
                i += 1;
                break;
            }
            if !is_component(seg) {
                break;
            }
            transformations.push(seg.to_owned());
            i += 1;
        }
        let tail = &rest[i.min(rest.len())..];
        if tail.is_empty() || tail.iter().any(|s| s.is_empty()) {
            return Err(DeliveryPathError::Malformed("no public id"));
        }
        let decoded: Vec<String> =
            tail.iter().map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned()).collect();
        let mut full = decoded.join("/");
        let mut format = None;
        if resource_type != ResourceType::Raw {
            let last = decoded.last().map(String::as_str).unwrap_or("");
            if let Some((_, ext)) = last.rsplit_once('.') {
                if !ext.is_empty() && !ext.contains(' ') {
                    format = Some(ext.to_ascii_lowercase());
                    full.truncate(full.len() - ext.len() - 1);
                }
            }
        }
        Ok(Self {
            cloud: cloud.to_owned(),
            resource_type,
            delivery_type,
            signature,
            transformations,
            version,
            public_id: PublicId::parse(&full)?,
            format,
        })
    }

    /// The text an `s--SIG--` signs: components and escaped public id (with extension).
    pub fn string_to_sign(&self) -> String {
        let mut source = smart_escape(self.public_id.as_str());
        if let Some(f) = &self.format {
            source.push('.');
            source.push_str(f);
        }
        let mut parts = self.transformations.clone();
        parts.push(source);
        parts.join("/")
    }
}

fn parse_version(seg: &str) -> Option<i64> {
    let digits = seg.strip_prefix('v')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Whether every `,`-separated parameter of `seg` has a known transformation key.
pub fn is_component(seg: &str) -> bool {
    !seg.is_empty()
        && seg.split(',').all(|param| {
            let Some((key, _)) = param.split_once('_') else {
                return false;
            };
            key == "if" || (key.starts_with('$') && key.len() > 1) || KNOWN_KEYS.contains(&key)
        })
}

/// The SDKs' `smart_escape`: every byte outside `[A-Za-z0-9_.\-/:]` becomes `%XX`.
pub fn smart_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"_.-/:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> DeliveryPath {
        DeliveryPath::parse(s).unwrap()
    }

    #[test]
    fn plain_original() {
        let d = p("/demo/image/upload/v1700000000/f1/sample.jpg");
        assert_eq!(d.cloud, "demo");
        assert_eq!(d.version, Some(1_700_000_000));
        assert_eq!(d.public_id.as_str(), "f1/sample");
        assert_eq!(d.format.as_deref(), Some("jpg"));
        assert!(d.transformations.is_empty() && d.signature.is_none());
    }

    #[test]
    fn signature_components_and_version() {
        let d = p("/demo/image/upload/s--__qjBcC6--/c_scale,w_100/v123/sample.jpg");
        assert_eq!(d.signature.as_deref(), Some("__qjBcC6"));
        assert_eq!(d.transformations, vec!["c_scale,w_100"]);
        assert_eq!(d.string_to_sign(), "c_scale,w_100/sample.jpg");
        assert!(crate::signature::verify_url(&d.string_to_sign(), "__qjBcC6", "abcd"));
    }

    #[test]
    fn folders_are_not_components() {
        let d = p("/demo/image/upload/folder/sub/img");
        assert_eq!(d.public_id.as_str(), "folder/sub/img");
        assert_eq!(d.format, None);
        let d = p("/demo/image/upload/v1/w_100/x.png");
        assert_eq!(d.public_id.as_str(), "w_100/x");
    }

    #[test]
    fn raw_keeps_its_extension_and_ids_are_decoded() {
        let d = p("/demo/raw/upload/v1/doc.pdf");
        assert_eq!((d.public_id.as_str(), d.format.as_deref()), ("doc.pdf", None));
        let d = p("/demo/image/private/my%20image%20%C3%BC%26%3F%23.png");
        assert_eq!(d.public_id.as_str(), "my image ü&?#");
        assert_eq!(d.delivery_type, DeliveryType::Private);
        assert_eq!(d.string_to_sign(), "my%20image%20%C3%BC%26%3F%23.png");
    }

    #[test]
    fn bad_paths() {
        for bad in [
            "/demo",
            "/demo/foo/upload/x",
            "/demo/image/bogus/x",
            "/demo/image/upload/",
            "/demo/image/upload/a/../b",
            "/Demo/image/upload/x",
            "/demo/image/upload",
            "/demo/image/upload/s--abc--",
        ] {
            assert!(DeliveryPath::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
