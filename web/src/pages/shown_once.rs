//! A secret shown once (a generated password, a client or webhook secret), on a page reached
//! by a redirect so a refresh submits nothing again.
//!
//! The create or rotate handler puts the secret in an encrypted, short-lived cookie scoped
//! to [`PATH`] and redirects there; that page shows it and removes the cookie in the same
//! answer, so a refresh finds nothing and says the secret can no longer be shown. The secret
//! never appears in a URL, and the cookie is bound to the user who caused it.

use actix_web::cookie::time::Duration;
use actix_web::cookie::{Cookie, CookieJar, Key, SameSite};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::PageContext;

/// The page that shows the secret.
pub const PATH: &str = "/shown-once";

/// The cookie that holds the secret until it is shown.
const COOKIE: &str = "metadeck_once";

/// How long the secret waits for its page: only the redirect's round trip is needed.
const LIFETIME: Duration = Duration::minutes(5);

/// What the page shows, held in the cookie until then.
#[derive(Clone, Serialize, Deserialize)]
pub struct ShownOnce {
    /// The page's title ("Client created").
    pub title: String,
    /// The sentence above the secret.
    pub intro: String,
    /// The secret itself.
    pub secret: String,
    /// Where "Done" leads.
    pub back: String,
    /// Something to look at besides the secret (a name or address already in use).
    pub warning: Option<String>,
    /// The user who caused it; nobody else's page shows it.
    user: i64,
}

/// Prints everything but the secret, which must not reach a log.
impl std::fmt::Debug for ShownOnce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShownOnce")
            .field("title", &self.title)
            .field("secret", &"[REDACTED]")
            .field("back", &self.back)
            .finish_non_exhaustive()
    }
}

impl ShownOnce {
    /// A secret for the signed-in user of `ctx` (`None` without one: no page could show it).
    pub fn new(
        ctx: &PageContext,
        title: impl Into<String>,
        intro: impl Into<String>,
        secret: impl Into<String>,
        back: impl Into<String>,
    ) -> Option<Self> {
        Some(Self {
            title: title.into(),
            intro: intro.into(),
            secret: secret.into(),
            back: back.into(),
            warning: None,
            user: ctx.user_id()?,
        })
    }

    /// With a warning shown beside the secret.
    pub fn warn(mut self, warning: Option<String>) -> Self {
        self.warning = warning;
        self
    }

    /// The encrypted cookie carrying it to [`PATH`].
    fn cookie(&self, key: &Key, secure: bool) -> Cookie<'static> {
        let value = serde_json::to_string(self).unwrap_or_default();
        let cookie = Cookie::build(COOKIE, value)
            .path(PATH)
            .http_only(true)
            .secure(secure)
            .same_site(SameSite::Strict)
            .max_age(LIFETIME)
            .finish();
        let mut jar = CookieJar::new();
        jar.private_mut(key).add(cookie);
        // The jar holds the cookie it just encrypted; the fallback carries nothing.
        jar.get(COOKIE)
            .cloned()
            .unwrap_or_else(|| Cookie::new(COOKIE, ""))
    }

    /// The secret the request carries for `user`, if its cookie decrypts under `key`.
    fn take(req: &HttpRequest, key: &Key, user: Option<i64>) -> Option<Self> {
        let mut jar = CookieJar::new();
        jar.add_original(req.cookie(COOKIE)?);
        let cookie = jar.private(key).get(COOKIE)?;
        let shown: Self = serde_json::from_str(cookie.value()).ok()?;
        (Some(shown.user) == user).then_some(shown)
    }

    /// The cookie that removes the secret once shown.
    fn removal(secure: bool) -> Cookie<'static> {
        let mut c = Cookie::build(COOKIE, "")
            .path(PATH)
            .http_only(true)
            .secure(secure)
            .same_site(SameSite::Strict)
            .finish();
        c.make_removal();
        c
    }
}

impl PageContext {
    /// A `303` to the page that shows `secret` once (Post/Redirect/Get for a create or a
    /// rotation that made a secret).
    pub fn redirect_to_secret(&self, secret: Option<ShownOnce>) -> HttpResponse {
        let mut res = HttpResponse::SeeOther();
        res.insert_header((header::LOCATION, PATH));
        if let Some(secret) = secret {
            res.cookie(secret.cookie(self.cookie_key(), self.cookie_secure()));
        }
        res.finish()
    }

    /// The secret `req` carries for the signed-in user, if any.
    pub fn take_secret(&self, req: &HttpRequest) -> Option<ShownOnce> {
        ShownOnce::take(req, self.cookie_key(), self.user_id())
    }

    /// `res` with the secret's cookie removed, so the page it shows cannot be shown again.
    pub fn forget_secret(&self, mut res: HttpResponse) -> HttpResponse {
        // Adding a cookie to a response that was just built only fails on a malformed name,
        // and this one is a constant.
        let _ = res.add_cookie(&ShownOnce::removal(self.cookie_secure()));
        res
    }
}
