//! CSRF tokens: one per session for signed-in users, and a short-lived pre-session cookie
//! for the forms shown before sign-in (the login form).

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, Key, SameSite, time::Duration};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngExt;

use crate::signing::{signed, verified};

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
pub fn pre_session_cookie(key: &Key, token: &str, secure: bool) -> Cookie<'static> {
    let cookie = Cookie::build(PRE_SESSION_COOKIE, token.to_owned())
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .max_age(Duration::hours(2))
        .finish();
    signed(cookie, key)
}

/// The token of a valid pre-session cookie on the request.
pub fn pre_session_token(req: &HttpRequest, key: &Key) -> Option<String> {
    verified(req, PRE_SESSION_COOKIE, key).map(|c| c.value().to_owned())
}
