//! Short-lived cookies whose value is encrypted and authenticated under the cookie key (the
//! pending second step of a sign-in, a single sign-on between its start and its callback):
//! the browser carries them but can neither read nor forge them.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, CookieJar, Key};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// `cookie` with `value` (as JSON) encrypted under `key` in place of its own value.
pub fn seal(mut cookie: Cookie<'static>, value: &impl Serialize, key: &Key) -> Cookie<'static> {
    let name = cookie.name().to_owned();
    cookie.set_value(serde_json::to_string(value).unwrap_or_default());
    let mut jar = CookieJar::new();
    jar.private_mut(key).add(cookie);
    // The jar holds the cookie it just encrypted; the fallback carries nothing.
    jar.get(&name)
        .cloned()
        .unwrap_or_else(|| Cookie::new(name, ""))
}

/// The value the request's cookie `name` carries, if it opens under `key` and reads as `T`.
pub fn open<T: DeserializeOwned>(req: &HttpRequest, name: &str, key: &Key) -> Option<T> {
    let mut jar = CookieJar::new();
    jar.add_original(req.cookie(name)?);
    let cookie = jar.private(key).get(name)?;
    serde_json::from_str(cookie.value()).ok()
}
