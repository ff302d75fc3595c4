//! The per-route rule: authenticate, authorize, check CSRF, then call the handler.

use actix_session::SessionExt;
use actix_web::body::BoxBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpResponse, ResponseError, web};
use service::access::{Grantor, Identity, Permission, PermissionSet, identity, sessions, totp};
use service::audit::Actor;
use subtle::ConstantTimeEq;

use super::csrf;
use super::session_store::keys;
use crate::error::{ApiError, PageError, page_for_status};
use crate::pages::SHOWN_ONCE_PATH;
use crate::routes::access::account::SET_PASSWORD;
use crate::routes::access::second_factor::{ENROL, ENROL_QR};
use crate::routes::form_input::urlencoded_is_utf8;
use crate::state::AppState;

/// What a route requires of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (login page, health, static files).
    Public,
    /// Any signed-in user (own account, own sessions).
    Signed,
    /// A caller holding this permission (or a token with this scope).
    Permission(Permission),
}

/// How refusals are answered: pages redirect or show an error page, APIs answer JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Page,
    Api,
    /// An OAuth protocol endpoint: it authenticates clients itself and answers in RFC 6749's
    /// format, so neither the session nor CSRF applies.
    Protocol,
}

/// A route's declared rule.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub access: Access,
    pub kind: Kind,
}

/// How the caller authenticated.
#[derive(Debug, Clone)]
pub enum Via {
    /// The session cookie; state changes need this session's CSRF token.
    Session {
        csrf: String,
        session_id: Option<String>,
        /// Signed in through single sign-on ([`keys::SSO`]): the provider vouches for the
        /// second factor, so the local one is never required of this session.
        sso: bool,
    },
    /// An OAuth bearer token.
    Bearer,
}

/// The authenticated caller of a request, available to handlers as an extractor.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: Option<Identity>,
    pub client_id: Option<String>,
    pub permissions: PermissionSet,
    pub via: Via,
}

impl Caller {
    /// May the caller do what `p` grants?
    pub fn may(&self, p: Permission) -> bool {
        self.permissions.contains(p)
    }

    /// The audit trail's name for the caller.
    pub fn actor(&self) -> Actor {
        match (&self.user, &self.client_id) {
            (Some(user), _) => Actor::User(user.username.clone()),
            (None, Some(client)) => Actor::Client(client.clone()),
            (None, None) => Actor::System,
        }
    }

    /// The caller as a grantor: whatever it grants, or whoever it acts on, must lie within
    /// the permissions it holds (its effective scope, for a token).
    pub fn grantor(&self) -> Grantor {
        Grantor::new(self.actor(), self.permissions)
    }

    /// The signed-in user's id.
    pub fn user_id(&self) -> Option<i64> {
        self.user.as_ref().map(|u| u.user_id)
    }

    /// The stored id of the caller's session, when signed in with a cookie.
    pub fn session_id(&self) -> Option<&str> {
        match &self.via {
            Via::Session { session_id, .. } => session_id.as_deref(),
            Via::Bearer => None,
        }
    }

    /// The CSRF token forms of this session carry.
    pub fn csrf(&self) -> Option<&str> {
        match &self.via {
            Via::Session { csrf, .. } => Some(csrf),
            Via::Bearer => None,
        }
    }
}

impl FromRequest for Caller {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &actix_web::HttpRequest, _: &mut Payload) -> Self::Future {
        let caller = req.extensions().get::<Caller>().cloned();
        std::future::ready(
            caller.ok_or_else(|| ApiError::for_status(StatusCode::UNAUTHORIZED).into()),
        )
    }
}

/// The signed-in user of the session cookie, if any.
pub async fn from_session(
    req: &actix_web::HttpRequest,
    state: &AppState,
) -> Result<Option<Caller>, service::Error> {
    let session = req.get_session();
    let Ok(Some(user_id)) = session.get::<i64>(keys::USER_ID) else {
        return Ok(None);
    };
    let Some(user) = identity(&state.db, user_id).await? else {
        // The user was deleted or deactivated: the session is over.
        session.purge();
        return Ok(None);
    };
    let csrf = session
        .get::<String>(csrf::SESSION_KEY)
        .ok()
        .flatten()
        .unwrap_or_default();
    let session_id =
        crate::signing::verified(req, crate::startup::SESSION_COOKIE, &state.cookie_key)
            .map(|c| sessions::key_hash(c.value()));
    let sso = session
        .get::<bool>(keys::SSO)
        .ok()
        .flatten()
        .unwrap_or(false);
    Ok(Some(Caller {
        permissions: user.permissions,
        user: Some(user),
        client_id: None,
        via: Via::Session {
            csrf,
            session_id,
            sso,
        },
    }))
}

/// The bearer token of an `Authorization: Bearer …` header, if any.
pub fn bearer_token(req: &actix_web::HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The caller of a bearer token: scope as permissions, checked by the same route rules.
async fn from_bearer(token: &str, state: &AppState) -> Result<Caller, ApiError> {
    match service::oauth::bearer::authenticate(&state.db, token).await? {
        Some(grant) => Ok(Caller {
            user: grant.user,
            client_id: Some(grant.client_id),
            permissions: grant.scope.0,
            via: Via::Bearer,
        }),
        None => Err(ApiError::invalid_token()),
    }
}

/// JSON routes take a bearer token or the session cookie; pages take the session only.
async fn authenticate(
    req: &ServiceRequest,
    state: &AppState,
    kind: Kind,
) -> Result<Option<Caller>, ApiError> {
    if kind == Kind::Api
        && let Some(token) = bearer_token(req.request())
    {
        return from_bearer(token, state).await.map(Some);
    }
    from_session(req.request(), state)
        .await
        .map_err(ApiError::from)
}

fn refuse(
    rule: Rule,
    caller: Option<&Caller>,
    req: &ServiceRequest,
    state: &AppState,
) -> Option<HttpResponse> {
    let needed = match rule.access {
        Access::Public => return None,
        Access::Signed => None,
        Access::Permission(p) => Some(p),
    };
    let Some(caller) = caller else {
        return Some(match rule.kind {
            Kind::Api => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "sign in or send a bearer token",
            )
            .error_response(),
            Kind::Page | Kind::Protocol => {
                let next = req
                    .uri()
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                let location = format!("/login?next={}", urlencoding(next));
                let mut res = HttpResponse::SeeOther();
                res.insert_header((header::LOCATION, location));
                // The holder of a session that just ended is told why on the sign-in page.
                if let Some(why) = super::session_store::ended(&req.get_session()) {
                    res.cookie(crate::flash::cookie(
                        &state.cookie_key,
                        &why,
                        state.cookie_secure,
                    ));
                }
                res.finish()
            }
        });
    };
    if rule.access == Access::Signed && caller.user.is_none() {
        // A client's own token acts for no user: routes about "me" are not for it.
        return Some(
            ApiError::new(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                "this route acts for a user; a client token has none",
            )
            .error_response(),
        );
    }
    let p = needed?;
    if caller.may(p) {
        return None;
    }
    Some(match (rule.kind, &caller.via) {
        (Kind::Api, Via::Bearer) => ApiError::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            format!("the token lacks the scope {p}"),
        )
        .error_response(),
        (Kind::Api, _) => ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("this needs the permission {p}"),
        )
        .error_response(),
        (Kind::Page | Kind::Protocol, _) => PageError::new(
            StatusCode::FORBIDDEN,
            format!("Opening this page needs the permission {p}."),
        )
        .error_response(),
    })
}

/// Pages and cookie-authenticated calls a user with a generated password may still use:
/// setting their own and signing out.
const OPEN_BEFORE_PASSWORD_SET: &[&str] = &[SET_PASSWORD, "/logout"];

/// A user signed in with a generated password they have not replaced opens nothing but the
/// page that replaces it: pages redirect there, JSON calls made with the session cookie are
/// refused. Bearer tokens are not sessions and are unaffected.
fn password_first(
    rule: Rule,
    caller: Option<&Caller>,
    req: &ServiceRequest,
) -> Option<HttpResponse> {
    let caller = caller?;
    let forced = matches!(caller.via, Via::Session { .. })
        && caller.user.as_ref().is_some_and(|u| u.must_change_password);
    if !forced || rule.access == Access::Public || OPEN_BEFORE_PASSWORD_SET.contains(&req.path()) {
        return None;
    }
    Some(match rule.kind {
        Kind::Api => ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "set your own password first: the one in use was generated",
        )
        .error_response(),
        Kind::Page | Kind::Protocol => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, SET_PASSWORD))
            .finish(),
    })
}

/// Pages and cookie-authenticated calls a user who must enrol a second factor may still use:
/// enrolment itself, the recovery codes it shows once, setting their own password (which comes
/// first) and signing out.
const OPEN_BEFORE_SECOND_FACTOR: &[&str] =
    &[ENROL, ENROL_QR, SHOWN_ONCE_PATH, SET_PASSWORD, "/logout"];

/// A session user holding a permission of `METADECK_REQUIRE_2FA_FOR` without a second factor
/// opens nothing but enrolment: pages redirect there, JSON calls made with the session cookie
/// are `403 second_factor_required`. Bearer tokens are not sessions and are unaffected, and an
/// SSO session is never asked (spec 02). Costs a lookup only for holders of such a permission.
async fn second_factor_first(
    rule: Rule,
    caller: Option<&Caller>,
    req: &ServiceRequest,
    state: &AppState,
) -> Option<HttpResponse> {
    let caller = caller?;
    let Via::Session { sso: false, .. } = caller.via else {
        return None;
    };
    let required = state
        .settings
        .require_2fa_for
        .intersection(caller.permissions);
    if required.is_empty()
        || rule.access == Access::Public
        || OPEN_BEFORE_SECOND_FACTOR.contains(&req.path())
    {
        return None;
    }
    match totp::is_on(&state.db, caller.user_id()?).await {
        Ok(true) => return None,
        Ok(false) => {}
        Err(e) => return Some(ApiError::from(e).error_response()),
    }
    Some(match rule.kind {
        Kind::Api => ApiError::new(
            StatusCode::FORBIDDEN,
            "second_factor_required",
            format!(
                "holders of {} must enrol a second factor first, at {ENROL}",
                required.names().join(", ")
            ),
        )
        .error_response(),
        Kind::Page | Kind::Protocol => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, ENROL))
            .finish(),
    })
}

fn urlencoding(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|q| q.trim_start_matches('=').to_string())
        .unwrap_or_default()
}

fn csrf_refusal(kind: Kind) -> HttpResponse {
    match kind {
        Kind::Api => ApiError::new(StatusCode::FORBIDDEN, "forbidden", "a valid X-CSRF-Token header is required").error_response(),
        Kind::Page | Kind::Protocol => PageError::new(
            StatusCode::FORBIDDEN,
            "The form was not sent from this page or has expired. Go back, reload the page and try again.",
        )
        .error_response(),
    }
}

/// `400` for a query string or form whose percent-decoded bytes are not UTF-8, in the
/// route's shape; `what` names the part (`query string`, `form`).
fn not_utf8(kind: Kind, what: &str) -> HttpResponse {
    match kind {
        Kind::Api => {
            ApiError::bad_request(format!("the {what} is not valid UTF-8")).error_response()
        }
        Kind::Page | Kind::Protocol => PageError::new(
            StatusCode::BAD_REQUEST,
            format!("The {what} contains text that is not valid UTF-8."),
        )
        .error_response(),
    }
}

/// Checks the CSRF token of a state-changing request; pages carry it as the form field
/// `csrf_token`, JSON calls made with the session cookie as the `X-CSRF-Token` header.
/// A page's form is read here, so it is also where a form too large to read is a `413`
/// and a form that is not UTF-8 a `400` (every page form passes through here).
/// Returns the request (with its body restored) or the refusal.
async fn check_csrf(
    rule: Rule,
    caller: Option<&Caller>,
    req: ServiceRequest,
    key: &actix_web::cookie::Key,
) -> Result<ServiceRequest, (ServiceRequest, HttpResponse)> {
    if req.method().is_safe() {
        return Ok(req);
    }
    let expected = match caller {
        Some(c) => match &c.via {
            Via::Bearer => return Ok(req),
            Via::Session { csrf, .. } => Some(csrf.clone()).filter(|t| !t.is_empty()),
        },
        None => csrf::pre_session_token(req.request(), key),
    };
    match rule.kind {
        Kind::Protocol => Ok(req),
        Kind::Api => {
            if caller.is_none() {
                return Ok(req); // refused as unauthorized already, or a public JSON route
            }
            let sent = req
                .headers()
                .get(csrf::HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            match expected {
                Some(t) if bool::from(t.as_bytes().ct_eq(sent.as_bytes())) => Ok(req),
                _ => Err((req, csrf_refusal(Kind::Api))),
            }
        }
        Kind::Page => {
            let (http, mut payload) = req.into_parts();
            let body = match web::Bytes::from_request(&http, &mut payload).await {
                Ok(b) => b,
                Err(err) => {
                    // Too large to read is about size, not forgery: say so, as every other
                    // body limit does. Any other failure leaves no token to check.
                    let refusal =
                        if err.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                            page_for_status(StatusCode::PAYLOAD_TOO_LARGE)
                        } else {
                            csrf_refusal(Kind::Page)
                        };
                    return Err((ServiceRequest::from_request(http), refusal));
                }
            };
            let fields: Vec<(String, String)> =
                serde_urlencoded::from_bytes(&body).unwrap_or_default();
            let sent = fields
                .iter()
                .find(|(k, _)| k == csrf::FIELD)
                .map(|(_, v)| v.as_str())
                .unwrap_or_default();
            let ok = expected.is_some_and(|t| bool::from(t.as_bytes().ct_eq(sent.as_bytes())));
            // Judged after the token, so a forged request is refused without regard to its
            // content.
            let utf8 = ok && urlencoded_is_utf8(&body);
            let req = ServiceRequest::from_parts(http, Payload::from(body));
            match (ok, utf8) {
                (true, true) => Ok(req),
                (true, false) => Err((req, not_utf8(Kind::Page, "form"))),
                (false, _) => Err((req, csrf_refusal(Kind::Page))),
            }
        }
    }
}

/// Applies `rule` to the request before its handler runs.
pub async fn enforce(
    rule: Rule,
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(req.error_response(ApiError::for_status(StatusCode::INTERNAL_SERVER_ERROR)));
    };
    // Errors raised past this point, by the framework's extractors too, are rendered as the
    // route's kind declares (`crate::routes::router::kind_of`).
    req.extensions_mut().insert(rule.kind);
    if rule.kind == Kind::Protocol {
        return next.call(req).await;
    }
    let caller = match authenticate(&req, &state, rule.kind).await {
        Ok(c) => c,
        Err(e) if rule.access == Access::Public && e.status == StatusCode::UNAUTHORIZED => None,
        Err(e) => return Ok(req.error_response(e)),
    };
    if let Some(caller) = &caller {
        // Known before any refusal, so an error page can show the caller's navigation.
        req.extensions_mut().insert(caller.clone());
    }
    if let Some(refusal) = refuse(rule, caller.as_ref(), &req, &state) {
        return Ok(req.into_response(refusal));
    }
    if let Some(refusal) = password_first(rule, caller.as_ref(), &req) {
        return Ok(req.into_response(refusal));
    }
    if let Some(refusal) = second_factor_first(rule, caller.as_ref(), &req, &state).await {
        return Ok(req.into_response(refusal));
    }
    let req = match check_csrf(rule, caller.as_ref(), req, &state.cookie_key).await {
        Ok(req) => req,
        Err((req, refusal)) => return Ok(req.into_response(refusal)),
    };
    // Every query extractor decodes invalid UTF-8 into U+FFFD, so the raw query string is
    // judged once here for all of them. (Protocol routes, returned above, read no query.)
    if !urlencoded_is_utf8(req.query_string().as_bytes()) {
        return Ok(req.into_response(not_utf8(rule.kind, "query string")));
    }
    next.call(req).await
}
