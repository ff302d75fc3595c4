//! Flash messages for Post/Redirect/Get: a signed, one-time cookie set on the redirect and
//! shown (then cleared) by the next page.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, Key, SameSite};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::signing::{signed, verified};

/// The cookie carrying the message.
pub const COOKIE: &str = "metadeck_flash";

/// A message for the next page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flash {
    /// `success`, `warning` or `error`.
    pub level: String,
    /// The text shown.
    pub message: String,
}

impl Flash {
    /// A message that something worked.
    pub fn success(message: impl Into<String>) -> Self {
        Self {
            level: "success".into(),
            message: message.into(),
        }
    }

    /// A message that needs the reader's attention, without anything having failed.
    pub fn warning(message: impl Into<String>) -> Self {
        Self {
            level: "warning".into(),
            message: message.into(),
        }
    }

    /// A message that something failed.
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            level: "error".into(),
            message: message.into(),
        }
    }
}

/// The cookie that carries `flash` to the next request; `secure` as for the session cookie
/// (`METADECK_COOKIE_SECURE`), so a message never travels over plain HTTP where the session
/// does not.
pub fn cookie(key: &Key, flash: &Flash, secure: bool) -> Cookie<'static> {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(flash).unwrap_or_default());
    let cookie = Cookie::build(COOKIE, payload)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .finish();
    signed(cookie, key)
}

/// The cookie that removes the message once shown, with the attributes of the cookie it
/// removes (`secure` as given to [`cookie`]).
pub fn removal(secure: bool) -> Cookie<'static> {
    let mut c = Cookie::build(COOKIE, "")
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .finish();
    c.make_removal();
    c
}

/// The message on the request, if its signature holds.
pub fn read(req: &HttpRequest, key: &Key) -> Option<Flash> {
    let cookie = verified(req, COOKIE, key)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(cookie.value()).ok()?).ok()
}
