//! Time-based one-time passwords (RFC 6238 over RFC 4226): 6 digits, 30-second steps,
//! HMAC-SHA1, as every authenticator app computes them; and the base32 and `otpauth://` forms
//! the apps read a secret in. Pure: the time and the secret are passed in.

use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Seconds per step.
pub const STEP_SECS: i64 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;
/// Steps either side of now that are accepted, for clocks that drift.
pub const SKEW_STEPS: i64 = 1;

/// The step of a Unix time.
pub fn step(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECS)
}

/// The code of `step` (RFC 4226 HOTP with the step as counter).
pub fn code(secret: &[u8], step: i64) -> u32 {
    // A key of any length is valid for HMAC.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret) else { return u32::MAX };
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let bin = u32::from_be_bytes([digest[offset] & 0x7f, digest[offset + 1], digest[offset + 2], digest[offset + 3]]);
    bin % 10u32.pow(DIGITS)
}

/// The step whose code `given` is, within the skew of `now`, and later than `after` (a code
/// is good once); `None` when it is no such code.
pub fn verify(secret: &[u8], given: &str, now: i64, after: i64) -> Option<i64> {
    let given: String = given.chars().filter(|c| !c.is_whitespace()).collect();
    if given.len() != DIGITS as usize || !given.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u32 = given.parse().ok()?;
    let now = step(now);
    (now - SKEW_STEPS..=now + SKEW_STEPS).filter(|s| *s > after).find(|s| code(secret, *s) == n)
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding, as authenticator apps take secrets.
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    for chunk in bytes.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let n = u64::from_be_bytes([0, 0, 0, buf[0], buf[1], buf[2], buf[3], buf[4]]);
        let chars = (chunk.len() * 8).div_ceil(5);
        for i in 0..chars {
            out.push(BASE32[((n >> (35 - i * 5)) & 31) as usize] as char);
        }
    }
    out
}

/// The `otpauth://` URI an authenticator app adds an account from.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let enc = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        enc(issuer),
        enc(account),
        base32(secret),
        enc(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 rows (8-digit codes there; the last 6 digits here).
    #[test]
    fn rfc_6238_test_vectors() {
        let secret = b"12345678901234567890";
        for (t, expected) in [
            (59, 94287082u32),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
        ] {
            assert_eq!(code(secret, step(t)), expected % 1_000_000, "T = {t}");
        }
    }

    #[test]
    fn codes_verify_once_within_the_skew() {
        let secret = b"nimbus test secret!!";
        let now = 1_700_000_000;
        let c = format!("{:06}", code(secret, step(now)));
        assert_eq!(verify(secret, &c, now, 0), Some(step(now)));
        assert_eq!(verify(secret, &c, now + 30, 0), Some(step(now)), "one step late is fine");
        assert_eq!(verify(secret, &c, now + 90, 0), None, "three steps late is not");
        assert_eq!(verify(secret, &c, now, step(now)), None, "a used code is not good again");
        assert_eq!(verify(secret, "12345", now, 0), None);
        assert_eq!(verify(secret, "abcdef", now, 0), None);
    }

    #[test]
    fn base32_as_rfc_4648() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"fo"), "MZXQ");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert!(
            otpauth_uri("Nimbus", "ada@example.org", b"foobar")
                .starts_with("otpauth://totp/Nimbus:ada%40example%2Eorg?secret=MZXW6YTBOI")
        );
    }
}
