//! Words of searchable text: how values are cut into tokens for `:` matches, and how exact
//! values are stored as index terms.

use sha2::{Digest as _, Sha256};

/// Longest token kept; longer runs of letters and digits are cut here (in values and queries
/// alike, so matching stays consistent).
pub const MAX_TOKEN_CHARS: usize = 64;
/// Exact values longer than this are indexed by their SHA-256 (exact matches still work;
/// prefix matches on such long values do not).
pub const MAX_EXACT_BYTES: usize = 200;

/// Lower-cased runs of letters and digits, in order, duplicates kept.
pub fn tokens(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(|t| t.chars().take(MAX_TOKEN_CHARS).flat_map(char::to_lowercase).collect())
        .collect()
}

/// The index term of an exact value.
pub fn exact_term(s: &str) -> String {
    if s.len() <= MAX_EXACT_BYTES {
        s.to_owned()
    } else {
        format!("#sha256:{}", hex::encode(Sha256::digest(s.as_bytes())))
    }
}

/// Whether a long exact value can still be matched by prefix (it cannot once hashed).
pub fn prefix_matchable(s: &str) -> bool {
    s.len() <= MAX_EXACT_BYTES
}

/// The upper bound of a prefix range: every string starting with `p` sorts below it.
pub fn prefix_end(p: &str) -> String {
    format!("{p}\u{10FFFF}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_on_non_alphanumerics_and_lowercases() {
        assert_eq!(tokens("Red_Shoe-2024 été"), ["red", "shoe", "2024", "été"]);
        assert!(tokens(" -_/ ").is_empty());
        assert_eq!(tokens(&"a".repeat(100))[0].len(), MAX_TOKEN_CHARS);
    }

    #[test]
    fn long_exact_values_are_hashed() {
        assert_eq!(exact_term("shirt"), "shirt");
        let long = "x".repeat(300);
        assert!(exact_term(&long).starts_with("#sha256:"));
        assert_eq!(exact_term(&long), exact_term(&long));
        assert!(!prefix_matchable(&long));
    }
}
