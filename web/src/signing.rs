//! Signing small values that travel in cookies (pre-session CSRF token, flash messages).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

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
    // In constant time, so a forger cannot learn how much of a guess was right.
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(signature.as_bytes()))
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
