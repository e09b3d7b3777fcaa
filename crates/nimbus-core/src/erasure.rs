//! The names an erased person leaves behind. Each is keyed with the installation's own
//! secret (the pepper, random and never exported), so that none leads back to the person
//! without it:
//! - the pseudonym that replaces them where their actions stay on record
//!   (`deleted-user-<hmac>`): stable, so the record stays consistent about who did what;
//! - the erasure ledger's hashes, by which a restored backup is recognised and erased again.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Bytes of the pepper.
pub const PEPPER_BYTES: usize = 32;

fn keyed(pepper: &[u8], text: &str) -> [u8; 32] {
    // HMAC takes a key of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(pepper).expect("any key length");
    mac.update(text.as_bytes());
    mac.finalize().into_bytes().into()
}

/// What replaces user `user_id` in the rows that outlive them (who uploaded a version, who
/// made a change).
pub fn pseudonym(pepper: &[u8], user_id: i64) -> String {
    format!("deleted-user-{}", hex::encode(&keyed(pepper, &format!("pseudonym:{user_id}"))[..8]))
}

/// The ledger's name for one account: its id and the time it was made, so that an id used
/// again later (after a restore rewound the id sequence) names somebody else.
pub fn subject_hash(pepper: &[u8], user_id: i64, created_at: i64) -> String {
    hex::encode(keyed(pepper, &format!("subject:{user_id}:{created_at}")))
}

/// The ledger's hash of the address the account had.
pub fn email_hash(pepper: &[u8], email: &str) -> String {
    let mut h = Sha256::new();
    h.update(pepper);
    h.update(email.as_bytes());
    hex::encode(h.finalize())
}

/// One erased person, as the ledger keeps them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LedgerEntry {
    pub subject_hash: String,
    pub email_hash: String,
    pub erased_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_depend_on_the_pepper_and_the_person() {
        let (a, b) = ([1u8; 32], [2u8; 32]);
        let p = pseudonym(&a, 7);
        assert!(p.starts_with("deleted-user-") && p.len() == "deleted-user-".len() + 16, "{p}");
        assert_eq!(p, pseudonym(&a, 7), "stable");
        assert_ne!(p, pseudonym(&b, 7));
        assert_ne!(p, pseudonym(&a, 8));
        assert_ne!(subject_hash(&a, 7, 100), subject_hash(&a, 7, 101), "a reused id is somebody else");
        assert_ne!(email_hash(&a, "x@example.org"), email_hash(&b, "x@example.org"));
    }
}
