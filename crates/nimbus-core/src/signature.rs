//! Cloudinary's signatures: signed Upload API requests, the `signature` field of upload
//! responses, and `s--SIG--` delivery URL components. All are `H(text + secret)` (plain
//! concatenation, not HMAC) with H = SHA-1 or SHA-256.
//!
//! Docs: <https://cloudinary.com/documentation/authentication_signatures>.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE;
use sha1::{Digest as _, Sha1};
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

/// How long a signed request's `timestamp` stays valid, and how far ahead of the server's
/// clock it may be (clock skew). A request is accepted only inside this window on both sides,
/// so no signature lives longer than two windows, whatever date its author wrote.
pub const TIMESTAMP_WINDOW_SECS: i64 = 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Sha1,
    Sha256,
}

fn digest(algo: Algorithm, text: &str, secret: &str) -> Vec<u8> {
    match algo {
        Algorithm::Sha1 => {
            let mut h = Sha1::new();
            h.update(text.as_bytes());
            h.update(secret.as_bytes());
            h.finalize().to_vec()
        }
        Algorithm::Sha256 => {
            let mut h = Sha256::new();
            h.update(text.as_bytes());
            h.update(secret.as_bytes());
            h.finalize().to_vec()
        }
    }
}

/// Lower-case hex of `H(text + secret)`.
pub fn hex_digest(algo: Algorithm, text: &str, secret: &str) -> String {
    hex::encode(digest(algo, text, secret))
}

/// The string a signed Upload API request signs: `k=v` pairs of every non-empty parameter
/// but the excluded ones, sorted, joined by `&`. Arrays arrive already joined by commas.
/// In signature version 2 (the SDKs' default) an `&` inside a pair becomes `%26`.
pub fn string_to_sign<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>, escape_ampersand: bool) -> String {
    let mut pairs: Vec<String> = params
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| {
            let pair = format!("{k}={v}");
            if escape_ampersand { pair.replace('&', "%26") } else { pair }
        })
        .collect();
    pairs.sort();
    pairs.join("&")
}

/// Parameters that are never part of a request signature.
pub const UNSIGNED_PARAMS: [&str; 5] = ["file", "cloud_name", "resource_type", "api_key", "signature"];

/// Checks a request signature against `params` (already without [`UNSIGNED_PARAMS`]).
/// The algorithm follows from the length (40 hex: SHA-1, 64: SHA-256); both signature
/// versions are accepted. On mismatch returns the version-2 string to sign, for the error.
pub fn verify_request<'a>(params: &[(&'a str, &'a str)], signature: &str, secret: &str) -> Result<(), String> {
    let algo = match signature.len() {
        64 => Algorithm::Sha256,
        _ => Algorithm::Sha1,
    };
    let given = signature.to_ascii_lowercase();
    let v2 = string_to_sign(params.iter().copied(), true);
    if ct_eq(&hex_digest(algo, &v2, secret), &given) {
        return Ok(());
    }
    let v1 = string_to_sign(params.iter().copied(), false);
    if v1 != v2 && ct_eq(&hex_digest(algo, &v1, secret), &given) {
        return Ok(());
    }
    Err(v2)
}

/// Where a signed request's timestamp falls against the server's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampCheck {
    Fresh,
    /// Older than the window.
    Stale,
    /// Further ahead than the window.
    Ahead,
}

/// Checks a signed request's timestamp against `now`, on both sides of the window.
pub fn check_timestamp(timestamp: i64, now: i64) -> TimestampCheck {
    if now.saturating_sub(timestamp) > TIMESTAMP_WINDOW_SECS {
        TimestampCheck::Stale
    } else if timestamp.saturating_sub(now) > TIMESTAMP_WINDOW_SECS {
        TimestampCheck::Ahead
    } else {
        TimestampCheck::Fresh
    }
}

/// The `signature` field of an upload response: `public_id=<id>&version=<v>` signed (v1).
pub fn response_signature(public_id: &str, version: i64, secret: &str, algo: Algorithm) -> String {
    hex_digest(algo, &format!("public_id={public_id}&version={version}"), secret)
}

/// The `SIG` of a delivery URL's `s--SIG--` component for `to_sign` (transformation
/// components and escaped public id with extension, joined by `/`; never the version).
pub fn url_signature(to_sign: &str, secret: &str, algo: Algorithm, long: bool) -> String {
    let (algo, len) = if long { (Algorithm::Sha256, 32) } else { (algo, 8) };
    let b64 = URL_SAFE.encode(digest(algo, to_sign, secret));
    b64[..len].to_owned()
}

/// Checks a delivery URL signature: 32 chars is always SHA-256; 8 chars may be either.
pub fn verify_url(to_sign: &str, given: &str, secret: &str) -> bool {
    match given.len() {
        32 => ct_eq(&url_signature(to_sign, secret, Algorithm::Sha256, true), given),
        8 => [Algorithm::Sha1, Algorithm::Sha256]
            .into_iter()
            .any(|a| ct_eq(&url_signature(to_sign, secret, a, false), given)),
        _ => false,
    }
}

/// Constant-time equality, so a signature check leaks nothing through timing.
/// `X-Cld-Signature` of a notification: the hex digest of the body, then the
/// `X-Cld-Timestamp` digits, then the secret (what the SDKs' `verify_notification_signature`
/// recomputes). Docs: <https://cloudinary.com/documentation/notification_signatures>.
pub fn notification_signature(body: &[u8], timestamp: i64, secret: &str, algo: Algorithm) -> String {
    let mut text = Vec::with_capacity(body.len() + 32);
    text.extend_from_slice(body);
    text.extend_from_slice(timestamp.to_string().as_bytes());
    text.extend_from_slice(secret.as_bytes());
    match algo {
        Algorithm::Sha1 => hex::encode(Sha1::digest(&text)),
        Algorithm::Sha256 => hex::encode(Sha256::digest(&text)),
    }
}

pub fn ct_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Worked examples computed with the official Python SDK (secret "abcd").
    #[test]
    fn request_signatures_match_the_sdk() {
        let params = [
            ("public_id", "sample_image"),
            ("timestamp", "1315060510"),
            ("eager", "w_400,h_300,c_pad|w_260,h_200,c_crop"),
            ("overwrite", "true"),
            ("tags", "a,b"),
        ];
        let s = string_to_sign(params, true);
        assert_eq!(
            s,
            "eager=w_400,h_300,c_pad|w_260,h_200,c_crop&overwrite=true&public_id=sample_image&tags=a,b&timestamp=1315060510"
        );
        assert_eq!(hex_digest(Algorithm::Sha1, &s, "abcd"), "76f02ecd3152c6bed707b13230090630bd0d6510");
        assert_eq!(
            hex_digest(Algorithm::Sha256, &s, "abcd"),
            "43ade0ee9f14cc38269650b7c995b2beb41742d85b4a6b2411373ff124461aba"
        );
        assert!(verify_request(&params, "76f02ecd3152c6bed707b13230090630bd0d6510", "abcd").is_ok());
        assert!(
            verify_request(&params, "43ade0ee9f14cc38269650b7c995b2beb41742d85b4a6b2411373ff124461aba", "abcd").is_ok()
        );
        assert_eq!(verify_request(&params, "00", "abcd").unwrap_err(), s);
    }

    #[test]
    fn ampersands_are_escaped_in_version_2() {
        let params = [("public_id", "a&b"), ("timestamp", "1315060510")];
        assert!(verify_request(&params, "0a9fe2d8ce2fab414604306325ec19423e4fbf2b", "abcd").is_ok());
        assert!(verify_request(&params, "77168d08545b7820e52f6d8d8d56c127bf7ff3f4", "abcd").is_ok());
    }

    #[test]
    fn empty_values_are_not_signed() {
        let s = string_to_sign(
            [("overwrite", "0"), ("public_id", "sample_image"), ("invalidate", ""), ("timestamp", "1315060510")],
            true,
        );
        assert_eq!(hex_digest(Algorithm::Sha1, &s, "abcd"), "97a243456dc9be417a37d3bdeea1193703ef86bc");
    }

    #[test]
    fn response_signature_matches_the_sdk() {
        assert_eq!(
            response_signature("sample_image", 1315060510, "abcd", Algorithm::Sha1),
            "da0b06b01c07c62db129b77abe532ca8b7ffb118"
        );
    }

    #[test]
    fn url_signatures_match_the_sdk() {
        assert_eq!(url_signature("sample", "abcd", Algorithm::Sha1, false), "y-tjJGJv");
        assert_eq!(url_signature("c_scale,w_100/sample.jpg", "abcd", Algorithm::Sha1, false), "__qjBcC6");
        assert_eq!(url_signature("sample", "abcd", Algorithm::Sha256, false), "J3bQPfNN");
        assert_eq!(
            url_signature("c_scale,w_100/sample", "abcd", Algorithm::Sha1, true),
            "XSDncolyWiwH1WAZ0SHek_-SsEa-b5gf"
        );
        assert!(verify_url("sample", "J3bQPfNN", "abcd"));
        assert!(verify_url("sample", "y-tjJGJv", "abcd"));
        assert!(!verify_url("sample", "y-tjJGJw", "abcd"));
        assert!(!verify_url("sample", "", "abcd"));
    }

    #[test]
    fn timestamps_have_a_window_on_both_sides() {
        let now = 1_700_000_000;
        assert_eq!(check_timestamp(now - 3600, now), TimestampCheck::Fresh);
        assert_eq!(check_timestamp(now - 3601, now), TimestampCheck::Stale);
        assert_eq!(check_timestamp(now + 3600, now), TimestampCheck::Fresh);
        assert_eq!(check_timestamp(now + 3601, now), TimestampCheck::Ahead);
        assert_eq!(check_timestamp(now + 365 * 86400, now), TimestampCheck::Ahead);
        assert_eq!(check_timestamp(i64::MAX, now), TimestampCheck::Ahead);
        assert_eq!(check_timestamp(i64::MIN, now), TimestampCheck::Stale);
    }
}

#[cfg(test)]
mod notification_tests {
    use super::*;

    /// The SDKs' own test vectors (pycloudinary `test_utils.py`).
    #[test]
    fn notification_signatures_match_the_sdk_vectors() {
        let body = r#"{"notification_type":"eager","eager":[{"transformation":"sp_full_hd/mp4","bytes":1055,"url":"http://res.cloudinary.com/demo/video/upload/sp_full_hd/v1533125278/dog.mp4","secure_url":"https://res.cloudinary.com/demo/video/upload/sp_full_hd/v1533125278/dog.mp4"}],"public_id":"dog","batch_id":"9b11fa058c61fa577f4ec516bf6ee756ac2aefef095af99aef1302142cc1694a"}"#;
        assert_eq!(
            notification_signature(body.as_bytes(), 1_549_533_514, "X7qLTrsES31MzxxkxPPA-pAGGfU", Algorithm::Sha1),
            "dfe82de1d9083fe0b7ea68070649f9a15b8874da"
        );
        assert_eq!(
            notification_signature(b"{}", 0, "someApiSecret", Algorithm::Sha256),
            "d5497e1a206ad0ba29ad09a7c0c5f22e939682d15009c15ab3199f62fefbd14b"
        );
    }
}
