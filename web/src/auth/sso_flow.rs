//! A single sign-on between its start and its callback: the flow's `state`, PKCE verifier and
//! nonce travel in a short-lived cookie, encrypted and authenticated under the cookie key (so
//! it can be neither read nor forged), sent only to `/login/sso`.
//!
//! The cookie binds the callback to the browser that started the sign-in (a callback carrying
//! another browser's `state` finds no matching flow). It is `SameSite=Lax`, because the
//! callback is a top-level navigation coming back from the provider's site, which a `Strict`
//! cookie would not join. The server keeps the other half: a row per flow, deleted by its
//! callback, so a replayed callback is refused even with the cookie.

use actix_web::HttpRequest;
use actix_web::cookie::time::Duration;
use actix_web::cookie::{Cookie, Key, SameSite};
use service::gateway::sso::{PendingFlow, flow::LIFETIME_SECS};

use super::private_cookie;

/// The cookie's name.
const COOKIE: &str = "metadeck_sso_flow";

/// Where the cookie is sent: the single sign-on routes only.
const SCOPE: &str = "/login/sso";

/// The encrypted cookie carrying `flow`.
pub fn cookie(flow: &PendingFlow, key: &Key, secure: bool) -> Cookie<'static> {
    let mut cookie = base(String::new(), secure);
    cookie.set_max_age(Duration::seconds(LIFETIME_SECS));
    private_cookie::seal(cookie, flow, key)
}

/// The flow the request carries, if its cookie opens under `key`.
pub fn from_request(req: &HttpRequest, key: &Key) -> Option<PendingFlow> {
    private_cookie::open(req, COOKIE, key)
}

/// The cookie that ends the flow (its callback came, whatever it decided).
pub fn removal(secure: bool) -> Cookie<'static> {
    let mut cookie = base(String::new(), secure);
    cookie.make_removal();
    cookie
}

fn base(value: String, secure: bool) -> Cookie<'static> {
    Cookie::build(COOKIE, value)
        .path(SCOPE)
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .finish()
}
