//! Cookies whose value must come back unaltered (the pre-session CSRF token, flash
//! messages, the session key): signed and checked with the cookie crate's signed jar
//! (HMAC-SHA256, compared in constant time), under the key derived for cookies.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, CookieJar, Key};

/// `cookie` with its value signed under `key`.
pub fn signed(cookie: Cookie<'static>, key: &Key) -> Cookie<'static> {
    let name = cookie.name().to_owned();
    let mut jar = CookieJar::new();
    jar.signed_mut(key).add(cookie);
    // The jar holds the cookie it just signed; the fallback never signs anything.
    jar.get(&name)
        .cloned()
        .unwrap_or_else(|| Cookie::new(name, ""))
}

/// The request's cookie `name` with its signature checked and removed; `None` when it is
/// missing or was not signed under `key`.
pub fn verified(req: &HttpRequest, name: &str, key: &Key) -> Option<Cookie<'static>> {
    let mut jar = CookieJar::new();
    jar.add_original(req.cookie(name)?);
    jar.signed(key).get(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn request_with(cookie: Cookie<'static>) -> HttpRequest {
        TestRequest::default().cookie(cookie).to_http_request()
    }

    #[test]
    fn a_signed_cookie_verifies_only_unaltered_and_under_its_key() {
        let key = Key::generate();
        let cookie = signed(Cookie::new("c", "payload"), &key);
        assert_ne!(cookie.value(), "payload", "the value carries its signature");

        let back = verified(&request_with(cookie.clone()), "c", &key);
        assert_eq!(
            back.map(|c| c.value().to_owned()).as_deref(),
            Some("payload")
        );

        assert!(verified(&request_with(cookie.clone()), "c", &Key::generate()).is_none());
        let tampered = Cookie::new("c", cookie.value().replace("payload", "payloaD"));
        assert!(verified(&request_with(tampered), "c", &key).is_none());
        assert!(verified(&request_with(Cookie::new("c", "payload")), "c", &key).is_none());
    }
}
