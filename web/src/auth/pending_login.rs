//! A sign-in between its two steps: the password was right, the second factor is still to
//! come, and no session exists yet.
//!
//! The password step puts who signed in, where they were going and until when the second
//! step may follow into a short-lived cookie, encrypted and authenticated under the cookie key
//! (so it can be neither read nor forged), scoped to `/login`. The second step reads it, and the
//! session is created only when the code is right. Attempts are counted per user on the server
//! (the second step's throttle), so replaying the cookie buys no extra guesses.

use actix_web::HttpRequest;
use actix_web::cookie::time::Duration;
use actix_web::cookie::{Cookie, Key, SameSite};
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::private_cookie;

/// The cookie's name.
const COOKIE: &str = "metadeck_pending_login";

/// Where the cookie is sent: the sign-in pages only.
const SCOPE: &str = "/login";

/// How long the second step may take after the password.
const LIFETIME_SECS: i64 = 5 * 60;

/// The password step's result, waiting for the code.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingLogin {
    /// The user whose password was right.
    pub user_id: i64,
    /// Where to go once signed in (already checked to be a local path).
    pub next: String,
    /// Unix time after which the second step is refused and the sign-in starts over.
    expires: i64,
}

impl PendingLogin {
    /// The sign-in of `user_id`, going to `next`, from now on.
    pub fn new(user_id: i64, next: &str) -> Self {
        Self {
            user_id,
            next: next.to_owned(),
            expires: Utc::now().timestamp() + LIFETIME_SECS,
        }
    }

    /// The encrypted cookie carrying it.
    pub fn cookie(&self, key: &Key, secure: bool) -> Cookie<'static> {
        let mut cookie = base(String::new(), secure);
        cookie.set_max_age(Duration::seconds(LIFETIME_SECS));
        private_cookie::seal(cookie, self, key)
    }

    /// The pending sign-in the request carries, if its cookie opens under `key` and has not
    /// expired.
    pub fn from_request(req: &HttpRequest, key: &Key) -> Option<Self> {
        let pending: Self = private_cookie::open(req, COOKIE, key)?;
        (pending.expires > Utc::now().timestamp()).then_some(pending)
    }

    /// The cookie that ends the pending sign-in (it is complete, or over).
    pub fn removal(secure: bool) -> Cookie<'static> {
        let mut cookie = base(String::new(), secure);
        cookie.make_removal();
        cookie
    }
}

fn base(value: String, secure: bool) -> Cookie<'static> {
    Cookie::build(COOKIE, value)
        .path(SCOPE)
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .finish()
}
