//! Signing small values that travel in cookies (pre-session CSRF token, flash messages).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// HMAC-SHA256 of `payload`, URL-safe base64. HMAC accepts keys of any length, so this only
/// fails closed (an empty signature that matches nothing) if the library ever refuses a key.
pub fn sign(key: &[u8], payload: &str) -> String {
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(payload.as_bytes());
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// True when `signature` is the signature of `payload` under `key`.
pub fn verify(key: &[u8], payload: &str, signature: &str) -> bool {
    let expected = sign(key, payload);
    !expected.is_empty() && constant_time_eq(expected.as_bytes(), signature.as_bytes())
}

/// Compares without leaking where the first difference is.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_its_payload_and_key() {
        let s = sign(b"key", "payload");
        assert!(verify(b"key", "payload", &s));
        assert!(!verify(b"key", "payload2", &s));
        assert!(!verify(b"other", "payload", &s));
    }
}
