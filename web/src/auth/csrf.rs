//! CSRF tokens: one per session for signed-in users, and a short-lived pre-session cookie
//! for the forms shown before sign-in (the login form).

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time::Duration};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngExt;

use crate::signing::{sign, verify};

/// The pre-session cookie's name.
pub const PRE_SESSION_COOKIE: &str = "metadeck_csrf";
/// The session key holding the signed-in user's token.
pub const SESSION_KEY: &str = "csrf";
/// The form field and the header carrying the token.
pub const FIELD: &str = "csrf_token";
pub const HEADER: &str = "x-csrf-token";

/// A fresh random token.
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The cookie carrying `token` with its signature (so another site cannot plant one).
pub fn pre_session_cookie(key: &[u8], token: &str, secure: bool) -> Cookie<'static> {
    Cookie::build(PRE_SESSION_COOKIE, format!("{token}.{}", sign(key, token)))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .max_age(Duration::hours(2))
        .finish()
}

/// The token of a valid pre-session cookie on the request.
pub fn pre_session_token(req: &HttpRequest, key: &[u8]) -> Option<String> {
    let cookie = req.cookie(PRE_SESSION_COOKIE)?;
    let (token, signature) = cookie.value().split_once('.')?;
    verify(key, token, signature).then(|| token.to_string())
}
