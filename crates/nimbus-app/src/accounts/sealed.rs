//! Two-step sign-in secrets are sealed before the catalog keeps them (AES-256-GCM), with a key
//! derived from the installation's pepper, which lives in the blob store: a copy of the catalog
//! alone (a dump, a backup, a lost disk) does not give them away. Each seal is bound to its
//! person (the additional data names the user), so a sealed value copied to another row
//! does not open. Values stored before sealing existed (40 hex digits) are still read, and
//! sealed at start-up by [`App::seal_legacy_totp_secrets`].

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf::{HKDF_SHA256, Salt};

use crate::error::AppResult;
use crate::ports::TotpColumn;
use crate::{App, AppError};

/// The mark of a sealed value: `sealed1:` and the nonce, ciphertext and tag in hex.
const PREFIX: &str = "sealed1:";

/// The sealing key: HKDF-SHA256 of the pepper for this one purpose.
fn key(pepper: &[u8]) -> LessSafeKey {
    let prk = Salt::new(HKDF_SHA256, b"nimbus sealed secrets").extract(pepper);
    let okm = prk.expand(&[b"two-step sign-in v1"], &AES_256_GCM).expect("one AES-256 key is within HKDF's output");
    LessSafeKey::new(UnboundKey::from(okm))
}

fn aad(user_id: i64) -> String {
    format!("user:{user_id}")
}

/// Seals `secret` for `user_id`.
fn seal(key: &LessSafeKey, user_id: i64, secret: &[u8]) -> String {
    let nonce_bytes: [u8; NONCE_LEN] = rand::random();
    let mut data = secret.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce_bytes),
        Aad::from(aad(user_id).as_bytes()),
        &mut data,
    )
    .expect("a 20-byte secret is within AES-GCM's limits");
    format!("{PREFIX}{}{}", hex::encode(nonce_bytes), hex::encode(data))
}

fn unreadable() -> AppError {
    AppError::Catalog("a stored two-step sign-in secret does not open with this installation's key".into())
}

/// The secret in a sealed value.
fn open(key: &LessSafeKey, user_id: i64, stored: &str) -> AppResult<Vec<u8>> {
    let sealed = stored.strip_prefix(PREFIX).ok_or_else(unreadable)?;
    let bytes = hex::decode(sealed).map_err(|_| unreadable())?;
    if bytes.len() < NONCE_LEN {
        return Err(unreadable());
    }
    let (nonce, data) = bytes.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| unreadable())?;
    let mut data = data.to_vec();
    let plain = key.open_in_place(nonce, Aad::from(aad(user_id).as_bytes()), &mut data).map_err(|_| unreadable())?;
    Ok(plain.to_vec())
}

/// A value stored before sealing existed: the secret in hex.
fn plain(stored: &str) -> AppResult<Vec<u8>> {
    hex::decode(stored).map_err(|_| unreadable())
}

/// Whether a stored value is sealed.
fn is_sealed(stored: &str) -> bool {
    stored.starts_with(PREFIX)
}

impl App {
    pub(crate) async fn seal_secret(&self, user_id: i64, secret: &[u8]) -> AppResult<String> {
        Ok(seal(&key(&self.pepper().await?), user_id, secret))
    }

    /// The secret in a stored value, sealed or (stored before sealing) plain.
    pub(crate) async fn open_secret(&self, user_id: i64, stored: &str) -> AppResult<Vec<u8>> {
        if is_sealed(stored) { open(&key(&self.pepper().await?), user_id, stored) } else { plain(stored) }
    }

    /// Seals the two-step sign-in secrets stored in plain hex (before sealing existed); run
    /// at start-up. Returns how many values it sealed.
    pub async fn seal_legacy_totp_secrets(&self) -> AppResult<u64> {
        let mut sealed = 0;
        for (user_id, secret, pending) in self.catalog.totp_values().await? {
            for (column, value) in [(TotpColumn::Secret, secret), (TotpColumn::Pending, pending)] {
                let Some(old) = value.filter(|v| !is_sealed(v)) else { continue };
                let new = self.seal_secret(user_id, &plain(&old)?).await?;
                // Unless it changed meanwhile (then it was written sealed).
                if self.catalog.replace_totp_value(user_id, column, &old, &new).await? {
                    sealed += 1;
                }
            }
        }
        if sealed > 0 {
            tracing::info!(sealed, "two-step sign-in secrets sealed");
        }
        Ok(sealed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seal_opens_for_its_person_and_key_only() {
        let k = key(&[7; 32]);
        let secret = [1u8; 20];
        let s = seal(&k, 5, &secret);
        assert!(is_sealed(&s) && !s.contains(&hex::encode(secret)), "{s}");
        assert_eq!(open(&k, 5, &s).unwrap(), secret);
        assert_ne!(seal(&k, 5, &secret), s, "a fresh nonce each time");
        assert!(open(&k, 6, &s).is_err(), "bound to the person");
        assert!(open(&key(&[8; 32]), 5, &s).is_err(), "and to the installation");
        assert!(open(&k, 5, &s.replace("sealed1:", "sealed1:00")).is_err());
        assert!(open(&k, 5, &hex::encode(secret)).is_err(), "plain hex is not sealed");
        assert_eq!(plain(&hex::encode(secret)).unwrap(), secret);
    }
}
