//! The OAuth 2.0 authorization server: clients, grants, tokens and their audit log.
//!
//! Secrets, tokens, authorization codes and device codes are stored only as lowercase hex
//! SHA-256 ([`secrets::hash`]); the plaintext exists only in the answer that issues it. Every
//! token carries the grant it descends from (`grant_id`), so a replayed code or refresh token
//! revokes the whole grant in one statement.

pub mod audit_log;
pub mod authorize;
pub mod bearer;
pub(crate) mod ceiling;
pub mod clients;
pub mod device;
mod error;
pub mod grants;
mod introspection;
pub mod redirect;
pub mod scope;
pub mod secrets;
pub mod subjects;
pub(crate) mod token_cache;
mod tokens;

pub use error::{OAuthError, OAuthErrorCode};
pub use grants::{ClientAuth, TokenResponse};
pub use scope::Scope;

/// Grant type names as the RFCs spell them.
pub mod grant_type {
    /// RFC 6749 §4.4.
    pub const CLIENT_CREDENTIALS: &str = "client_credentials";
    /// RFC 6749 §4.1.
    pub const AUTHORIZATION_CODE: &str = "authorization_code";
    /// RFC 6749 §6.
    pub const REFRESH_TOKEN: &str = "refresh_token";
    /// RFC 8628 §3.4.
    pub const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";
    /// Every grant Metadeck serves.
    pub const ALL: &[&str] = &[
        CLIENT_CREDENTIALS,
        AUTHORIZATION_CODE,
        REFRESH_TOKEN,
        DEVICE_CODE,
    ];

    /// The RFC name of a grant type; `device_code` is accepted for the device grant.
    pub fn parse(name: &str) -> Option<&'static str> {
        let name = name.trim();
        if name == "device_code" {
            return Some(DEVICE_CODE);
        }
        ALL.iter().copied().find(|g| *g == name)
    }
}
