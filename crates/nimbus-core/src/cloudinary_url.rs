//! `CLOUDINARY_URL` (`cloudinary://KEY:SECRET@CLOUD[?query]`), the one-line credentials the
//! SDKs read.

use percent_encoding::percent_decode_str;

use crate::ids::{CloudName, IdError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudinaryUrl {
    pub api_key: String,
    pub api_secret: String,
    pub cloud: CloudName,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloudinaryUrlError {
    #[error("CLOUDINARY_URL must look like cloudinary://KEY:SECRET@CLOUD_NAME")]
    Shape,
    #[error(transparent)]
    Cloud(#[from] IdError),
}

impl CloudinaryUrl {
    pub fn parse(s: &str) -> Result<Self, CloudinaryUrlError> {
        let rest = s.trim().strip_prefix("cloudinary://").ok_or(CloudinaryUrlError::Shape)?;
        let rest = rest.split(['?', '/']).next().unwrap_or("");
        let (creds, cloud) = rest.rsplit_once('@').ok_or(CloudinaryUrlError::Shape)?;
        let (key, secret) = creds.split_once(':').ok_or(CloudinaryUrlError::Shape)?;
        let dec = |x: &str| percent_decode_str(x).decode_utf8_lossy().into_owned();
        let (api_key, api_secret) = (dec(key), dec(secret));
        if api_key.is_empty() || api_secret.is_empty() {
            return Err(CloudinaryUrlError::Shape);
        }
        Ok(Self { api_key, api_secret, cloud: CloudName::parse(cloud)? })
    }

    /// The URL back in its textual form.
    pub fn render(&self) -> String {
        format!("cloudinary://{}:{}@{}", self.api_key, self.api_secret, self.cloud)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_renders() {
        let u = CloudinaryUrl::parse("cloudinary://123:abc@demo?upload_prefix=http://x").unwrap();
        assert_eq!((u.api_key.as_str(), u.api_secret.as_str(), u.cloud.as_str()), ("123", "abc", "demo"));
        assert_eq!(u.render(), "cloudinary://123:abc@demo");
        assert!(CloudinaryUrl::parse("http://a:b@c").is_err());
        assert!(CloudinaryUrl::parse("cloudinary://a@c").is_err());
        assert!(CloudinaryUrl::parse("cloudinary://a:b@Bad Cloud").is_err());
    }
}
