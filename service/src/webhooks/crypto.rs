//! Webhook signing secrets: their format, their encryption at rest, and the signature.
//!
//! A secret must be recoverable to sign, so it cannot be hashed: it is stored encrypted with
//! AES-256-GCM under a key derived (HKDF-SHA-256, its own label) from `METADECK_SECRET_KEY`,
//! never equal to the key material that signs cookies. The webhook id is the associated
//! data, so a ciphertext copied onto another row does not decrypt.

use aes_gcm::aead::{Aead, KeyInit as _, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use rand::RngExt;
use sha2::Sha256;

use crate::{Error, Result};

/// Prefix of secrets in the Standard Webhooks form.
pub const SECRET_PREFIX: &str = "whsec_";
/// Prefix of an encrypted secret as stored (`enc:v1:` + base64 of nonce ‖ ciphertext).
const STORED_PREFIX: &str = "enc:v1:";
/// HKDF label: a key for nothing but webhook secrets.
const KEY_LABEL: &[u8] = b"metadeck webhook secrets v1";

/// A webhook's signing secret in plain text. Never logged, never rendered but once.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(…)")
    }
}

impl WebhookSecret {
    /// A new secret: `whsec_` + base64 of 32 random bytes.
    pub fn generate() -> Self {
        let bytes: [u8; 32] = rand::rng().random();
        Self(format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes)))
    }

    /// A secret chosen by the caller: `whsec_` + base64 of 24 to 64 bytes.
    pub fn parse(raw: &str, field: &str) -> Result<Self> {
        let decoded = raw
            .strip_prefix(SECRET_PREFIX)
            .and_then(|b64| STANDARD.decode(b64).ok());
        match decoded {
            Some(bytes) if (24..=64).contains(&bytes.len()) => Ok(Self(raw.to_string())),
            _ => Err(Error::invalid(
                field,
                "must be whsec_ followed by the base64 of 24 to 64 bytes",
            )),
        }
    }

    /// A secret kept as an older system stored it: any non-empty text. When it is not in the
    /// `whsec_` form, its UTF-8 bytes are the signing key.
    pub fn legacy(raw: &str) -> Option<Self> {
        (!raw.is_empty()).then(|| Self(raw.to_string()))
    }

    /// The plain text (for the one answer that shows it, and for encryption).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The HMAC key: the decoded bytes of a `whsec_` secret, else the text's UTF-8 bytes.
    pub fn signing_key(&self) -> Vec<u8> {
        self.0
            .strip_prefix(SECRET_PREFIX)
            .and_then(|b64| STANDARD.decode(b64).ok())
            .unwrap_or_else(|| self.0.as_bytes().to_vec())
    }

    /// What reads show instead of the secret: `whsec_`, four characters, `…`.
    pub fn hint(&self) -> String {
        match self.0.strip_prefix(SECRET_PREFIX) {
            Some(rest) => format!(
                "{SECRET_PREFIX}{}…",
                rest.chars().take(4).collect::<String>()
            ),
            // A short legacy secret would be half given away by four characters.
            None if self.0.chars().count() >= 16 => {
                format!("{}…", self.0.chars().take(4).collect::<String>())
            }
            None => "…".into(),
        }
    }
}

/// Encrypts and decrypts stored webhook secrets.
#[derive(Clone)]
pub struct SecretCipher {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretCipher(…)")
    }
}

impl SecretCipher {
    /// The cipher of webhook secrets, keyed from the server's secret key.
    pub fn from_secret_key(secret_key: &[u8]) -> Self {
        Self::labelled(secret_key, KEY_LABEL)
    }

    /// The same cipher for another kind of stored secret, keyed under its own HKDF `label` so
    /// that no two kinds ever share a key (the second factor's TOTP secrets use one).
    pub fn labelled(secret_key: &[u8], label: &[u8]) -> Self {
        let mut okm = [0u8; 32];
        // 32 bytes is far below HKDF-SHA-256's 8,160-byte limit, so expand cannot fail.
        let _ = Hkdf::<Sha256>::new(None, secret_key).expand(label, &mut okm);
        Self {
            cipher: Aes256Gcm::new(&Key::<Aes256Gcm>::from(okm)),
        }
    }

    /// The stored form of `plain`, bound to `owner` (the associated data: a ciphertext copied
    /// onto another row does not open).
    pub fn seal(&self, owner: &str, plain: &[u8]) -> Result<String> {
        let nonce: [u8; 12] = rand::rng().random();
        let sealed = self
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plain,
                    aad: owner.as_bytes(),
                },
            )
            .map_err(|_| Error::internal("secret encryption failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{STORED_PREFIX}{}", STANDARD.encode(out)))
    }

    /// The bytes sealed as `stored` for `owner`; `None` when it does not open under this key.
    pub fn open(&self, owner: &str, stored: &str) -> Option<Vec<u8>> {
        let bytes = stored
            .strip_prefix(STORED_PREFIX)
            .and_then(|b64| STANDARD.decode(b64).ok())
            .filter(|b| b.len() > 12)?;
        let (nonce, sealed) = bytes.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().ok()?;
        self.cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: owner.as_bytes(),
                },
            )
            .ok()
    }

    /// The stored form of the text `plain`, bound to `context` (the row and field it
    /// belongs to).
    pub fn seal_text(&self, context: &str, plain: &str) -> Result<String> {
        self.seal(context, plain.as_bytes())
    }

    /// The text sealed as `stored` for `context`.
    pub fn open_text(&self, context: &str, stored: &str) -> Result<String> {
        self.open(context, stored)
            .and_then(|plain| String::from_utf8(plain).ok())
            .ok_or_else(|| {
                Error::internal(format!(
                    "a secret of {context} cannot be decrypted (was METADECK_SECRET_KEY changed?)"
                ))
            })
    }

    /// The stored form of `secret` for the webhook `webhook_id`.
    pub fn encrypt(&self, webhook_id: &str, secret: &WebhookSecret) -> Result<String> {
        self.seal(webhook_id, secret.0.as_bytes())
            .map_err(|_| Error::internal("webhook secret encryption failed"))
    }

    /// The secret stored as `stored` for `webhook_id`.
    pub fn decrypt(&self, webhook_id: &str, stored: &str) -> Result<WebhookSecret> {
        self.open(webhook_id, stored)
            .and_then(|plain| String::from_utf8(plain).ok())
            .map(WebhookSecret)
            .ok_or_else(|| {
                Error::internal(format!(
                    "the secret of webhook {webhook_id} cannot be decrypted (was METADECK_SECRET_KEY changed?)"
                ))
            })
    }
}

/// One `v1,<base64>` signature of `<msg_id>.<timestamp>.<body>` (Standard Webhooks).
pub fn sign(secret: &WebhookSecret, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = secret.signing_key();
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(&key) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_round_trips_and_is_bound_to_its_webhook() {
        let cipher = SecretCipher::from_secret_key(&[7u8; 64]);
        let secret = WebhookSecret::generate();
        let stored = cipher.encrypt("wh_a", &secret).unwrap();
        assert!(!stored.contains(secret.expose()));
        assert_eq!(cipher.decrypt("wh_a", &stored).unwrap(), secret);
        assert!(cipher.decrypt("wh_b", &stored).is_err());
        let other = SecretCipher::from_secret_key(&[8u8; 64]);
        assert!(other.decrypt("wh_a", &stored).is_err());
    }

    #[test]
    fn generated_secrets_have_the_standard_form() {
        let s = WebhookSecret::generate();
        assert!(s.expose().starts_with("whsec_"));
        assert_eq!(s.signing_key().len(), 32);
        assert!(WebhookSecret::parse(s.expose(), "secret").is_ok());
        assert!(WebhookSecret::parse("whsec_short", "secret").is_err());
        assert!(WebhookSecret::parse("plain", "secret").is_err());
        assert_eq!(s.hint().chars().count(), "whsec_".len() + 5);
    }

    #[test]
    fn legacy_secrets_sign_with_their_bytes() {
        let s = WebhookSecret::legacy("hunter2").unwrap();
        assert_eq!(s.signing_key(), b"hunter2");
        assert_eq!(s.hint(), "…");
    }

    #[test]
    fn the_signature_matches_the_specification_example() {
        // The example of the Standard Webhooks specification.
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "s").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            sign(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }
}
