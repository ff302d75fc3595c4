//! Random credentials and the hash they are stored under.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngExt;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Alphabet of user codes (RFC 8628 §6.1: no vowels, no look-alikes).
const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";

/// A new opaque credential: `prefix` + 256 random bits in base64url (unreserved characters
/// only, so it survives Basic and form encoding). The prefix lets secret scanners spot it.
pub fn new_credential(prefix: &str) -> String {
    let bytes: [u8; 32] = rand::rng().random();
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Lowercase hex SHA-256: the only form in which credentials are stored. Credentials carry
/// 256 random bits, so a fast hash is enough: there is nothing to brute-force.
pub fn hash(credential: &str) -> String {
    hex::encode(Sha256::digest(credential.as_bytes()))
}

/// A new user code, stored normalised (`BCDFGHJK`) and shown as `BCDF-GHJK`.
pub fn new_user_code() -> String {
    let mut rng = rand::rng();
    (0..8)
        .map(|_| USER_CODE_ALPHABET[rng.random_range(0..USER_CODE_ALPHABET.len())] as char)
        .collect()
}

/// A user code as typed (any case, with or without the dash) in its stored form.
pub fn normalize_user_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == 8 && code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b))).then_some(code)
}

/// A stored user code as people read it: `XXXX-XXXX`.
pub fn display_user_code(code: &str) -> String {
    if code.len() == 8 {
        format!("{}-{}", &code[..4], &code[4..])
    } else {
        code.to_owned()
    }
}

/// The S256 PKCE transform of a verifier (RFC 7636 §4.2).
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Compares two hashes without leaking where they differ.
pub fn same(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_long_unreserved_and_distinct() {
        let a = new_credential("mdk_");
        assert!(a.len() >= 4 + 43);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        );
        assert_ne!(a, new_credential("mdk_"));
        assert_eq!(hash("x").len(), 64);
    }

    #[test]
    fn user_codes_normalise() {
        let code = new_user_code();
        let shown = display_user_code(&code);
        assert_eq!(normalize_user_code(&shown.to_lowercase()), Some(code));
        assert_eq!(normalize_user_code("AAAA-AAAA"), None);
        assert_eq!(normalize_user_code("BCD"), None);
    }

    #[test]
    fn s256_is_unpadded_base64url_of_sha256() {
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWjWEjXk"),
            "NNS0Ez_PMO2WBYwhGiQySuS2utVWLaIXxhX3Yk3nFOQ"
        );
    }
}
