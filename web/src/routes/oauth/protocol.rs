//! The OAuth protocol endpoints: metadata (RFC 8414), token (RFC 6749), device authorization
//! (RFC 8628), revocation (RFC 7009), introspection (RFC 7662) and userinfo.
//!
//! They answer in RFC 6749 §5.2's error format (`error`, `error_description`), with
//! `Cache-Control: no-store`, rather than the API's error shape.

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sea_orm::DatabaseConnection;
use serde::Serialize;
use serde_json::json;
use service::access::Permission;
use service::oauth::{self, ClientAuth, OAuthError, bearer, device, grant_type, grants};

use crate::auth::bearer_token;
use crate::auth::client_ip;
use crate::routes::form_input::urlencoded_is_utf8;
use crate::routes::router::Router;
use crate::state::AppState;

/// A protocol answer: success JSON or an RFC error, never cached.
pub struct Answer(HttpResponse);

impl actix_web::Responder for Answer {
    type Body = actix_web::body::BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        self.0
    }
}

fn ok(body: impl Serialize) -> Answer {
    Answer(
        HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"))
            .json(body),
    )
}

/// The RFC error answer for `err`; `basic` adds `WWW-Authenticate: Basic` to `invalid_client`.
fn refusal(err: &service::Error, basic: bool) -> Answer {
    let (status, code, description) = match err {
        service::Error::OAuth(e) => (
            StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
            e.code.as_str(),
            e.description.clone(),
        ),
        service::Error::Unavailable(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "the service is unavailable".to_owned(),
        ),
        // RFC 8628's word for "ask less often"; the wait is in `Retry-After`.
        service::Error::RateLimited { retry_after_secs } => (
            StatusCode::TOO_MANY_REQUESTS,
            "slow_down",
            format!("too many requests; retry in {retry_after_secs} s"),
        ),
        other => {
            // Logged once by classify; the client sees only the RFC's generic code.
            crate::error::classify(other);
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "an internal error occurred".to_owned(),
            )
        }
    };
    let mut res = HttpResponse::build(status);
    res.insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
    if status == StatusCode::UNAUTHORIZED && basic {
        res.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"metadeck\""));
    }
    if let service::Error::RateLimited { retry_after_secs } = err {
        res.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
    }
    Answer(res.json(json!({"error": code, "error_description": description})))
}

fn answer<T: Serialize>(result: Result<T, service::Error>, basic: bool) -> Answer {
    match result {
        Ok(body) => ok(body),
        Err(e) => refusal(&e, basic),
    }
}

/// The parameters of a form body. Repeated parameters are refused (RFC 6749 §3.2).
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(req: &HttpRequest, body: &[u8]) -> Result<Self, service::Error> {
        let form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !form && !body.is_empty() {
            return Err(OAuthError::invalid_request(
                "the body must be application/x-www-form-urlencoded",
            )
            .into());
        }
        // The decoder below would turn invalid UTF-8 into U+FFFD; the app answers 400.
        if !urlencoded_is_utf8(body) {
            return Err(OAuthError::invalid_request("the form body is not valid UTF-8").into());
        }
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
            .map_err(|_| OAuthError::invalid_request("the form body is malformed"))?;
        for (i, (name, _)) in pairs.iter().enumerate() {
            if pairs[..i].iter().any(|(n, _)| n == name) {
                return Err(OAuthError::invalid_request(format!("{name} is repeated")).into());
            }
        }
        Ok(Self(pairs))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    fn require(&self, name: &str) -> Result<&str, service::Error> {
        self.get(name)
            .ok_or_else(|| OAuthError::invalid_request(format!("{name} is required")).into())
    }
}

/// Reads client credentials from a Basic header (RFC 6749 §2.3.1: each part form-encoded)
/// or from the body; a request must not use both.
fn client_auth(req: &HttpRequest, params: &Params) -> Result<ClientAuth, service::Error> {
    let basic = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, value)| value.trim().to_owned());
    if let Some(encoded) = basic {
        if params.get("client_secret").is_some() {
            return Err(OAuthError::invalid_request("use one client authentication method").into());
        }
        let decoded = STANDARD
            .decode(encoded)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(OAuthError::invalid_client)?;
        let (id, secret) = decoded
            .split_once(':')
            .ok_or_else(OAuthError::invalid_client)?;
        return Ok(ClientAuth::Basic {
            client_id: form_decode(id),
            secret: form_decode(secret).into(),
        });
    }
    let client_id = params
        .get("client_id")
        .ok_or_else(OAuthError::invalid_client)?
        .to_owned();
    Ok(match params.get("client_secret") {
        Some(secret) => ClientAuth::Post {
            client_id,
            secret: secret.to_owned().into(),
        },
        None => ClientAuth::Public { client_id },
    })
}

fn form_decode(part: &str) -> String {
    url::form_urlencoded::parse(part.as_bytes())
        .next()
        .map(|(k, _)| k.into_owned())
        .unwrap_or_default()
}

/// `POST /oauth/token`.
async fn token(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> Answer {
    let params = match Params::parse(&req, &body) {
        Ok(p) => p,
        Err(e) => return refusal(&e, false),
    };
    let auth = match client_auth(&req, &params) {
        Ok(a) => a,
        Err(e) => return refusal(&e, false),
    };
    let basic = auth.used_basic();
    let outcome = state
        .write(move |db| async move { grant(&db, &auth, &params).await })
        .await;
    answer(outcome, basic)
}

async fn grant(
    db: &DatabaseConnection,
    auth: &ClientAuth,
    params: &Params,
) -> Result<oauth::TokenResponse, service::Error> {
    let requested = params.require("grant_type")?;
    let Some(grant) = grant_type::parse(requested) else {
        return Err(OAuthError::new(
            oauth::OAuthErrorCode::UnsupportedGrantType,
            format!("{requested} is not supported"),
        )
        .into());
    };
    let client = grants::authenticate(db, auth).await?;
    match grant {
        grant_type::CLIENT_CREDENTIALS => {
            grants::client_credentials(db, &client, params.get("scope")).await
        }
        grant_type::AUTHORIZATION_CODE => {
            grants::authorization_code(
                db,
                &client,
                params.require("code")?,
                params.get("redirect_uri"),
                params.get("code_verifier"),
            )
            .await
        }
        grant_type::REFRESH_TOKEN => {
            grants::refresh_token(
                db,
                &client,
                params.require("refresh_token")?,
                params.get("scope"),
            )
            .await
        }
        _ => grants::device_code(db, &client, params.require("device_code")?).await,
    }
}

/// `POST /oauth/device_authorization`.
async fn device_authorization(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Answer {
    let outcome = async {
        let params = Params::parse(&req, &body)?;
        let auth = client_auth(&req, &params)?;
        let scope = params.get("scope").map(str::to_owned);
        let uri = format!("{}/device", state.public_url);
        let from = client_ip(&req, &state.settings.trusted_proxies);
        state
            .write(move |db| async move {
                let client = grants::authenticate(&db, &auth).await?;
                device::start(&db, &client, from, scope.as_deref(), &uri).await
            })
            .await
    };
    answer(
        outcome.await,
        req.headers().contains_key(header::AUTHORIZATION),
    )
}

/// `POST /oauth/revoke`: always `200` for an authenticated client.
async fn revoke(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> Answer {
    let outcome = async {
        let params = Params::parse(&req, &body)?;
        let auth = client_auth(&req, &params)?;
        let token = params.require("token")?.to_owned();
        state
            .write(move |db| async move {
                let client = grants::authenticate(&db, &auth).await?;
                bearer::revoke(&db, &client, &token).await
            })
            .await?;
        Ok(json!({}))
    };
    answer(
        outcome.await,
        req.headers().contains_key(header::AUTHORIZATION),
    )
}

/// `POST /oauth/introspect`: for confidential clients allowed `oauth:read`, or a bearer
/// token with `oauth:read`.
async fn introspect(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> Answer {
    let params = match Params::parse(&req, &body) {
        Ok(p) => p,
        Err(e) => return refusal(&e, false),
    };
    let allowed = if let Some(token) = bearer_token(&req) {
        match bearer::authenticate(&state.db, token).await {
            Ok(Some(grant)) => Ok(grant.scope.0.contains(Permission::OauthRead)),
            Ok(None) => Err(OAuthError::invalid_client().into()),
            Err(e) => Err(e),
        }
    } else {
        match client_auth(&req, &params) {
            Ok(auth @ (ClientAuth::Basic { .. } | ClientAuth::Post { .. })) => {
                grants::authenticate(&state.db, &auth)
                    .await
                    .map(|c| c.spec.allowed_scopes.0.contains(Permission::OauthRead))
            }
            Ok(ClientAuth::Public { .. }) | Err(_) => Err(OAuthError::invalid_client().into()),
        }
    };
    match allowed {
        Err(e) => refusal(&e, req.headers().contains_key(header::AUTHORIZATION)),
        Ok(false) => Answer(
            HttpResponse::Forbidden()
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(json!({"error": "insufficient_scope", "error_description": "introspection needs oauth:read"})),
        ),
        Ok(true) => match params.require("token") {
            Ok(token) => answer(bearer::introspect(&state.db, token).await, false),
            Err(e) => refusal(&e, false),
        },
    }
}

/// `GET /oauth/userinfo`: who the bearer token acts for.
async fn userinfo(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let invalid = |error: &str, description: &str, status: StatusCode| {
        HttpResponse::build(status)
            .insert_header((
                header::WWW_AUTHENTICATE,
                format!("Bearer error=\"{error}\""),
            ))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(json!({"error": error, "error_description": description}))
    };
    let Some(token) = bearer_token(&req) else {
        return HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
            .json(json!({"error": "invalid_request", "error_description": "a bearer token is required"}));
    };
    match bearer::authenticate(&state.db, token).await {
        Ok(Some(grant)) => match grant.user {
            Some(user) => HttpResponse::Ok()
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(json!({
                    "sub": oauth::subjects::external_id(user.user_id),
                    "preferred_username": user.username,
                    "email": user.email,
                    "groups": user.roles,
                })),
            None => invalid(
                "insufficient_scope",
                "the token belongs to a client, not a user",
                StatusCode::FORBIDDEN,
            ),
        },
        Ok(None) => invalid(
            "invalid_token",
            "the access token is invalid, expired or revoked",
            StatusCode::UNAUTHORIZED,
        ),
        Err(e) => refusal(&e, false).0,
    }
}

/// `GET /.well-known/oauth-authorization-server` (RFC 8414).
async fn metadata(state: web::Data<AppState>) -> HttpResponse {
    let base = &state.public_url;
    HttpResponse::Ok().json(json!({
        "issuer": base.to_string(),
        "authorization_endpoint": format!("{base}/oauth/authorize"),
        "token_endpoint": format!("{base}/oauth/token"),
        "device_authorization_endpoint": format!("{base}/oauth/device_authorization"),
        "revocation_endpoint": format!("{base}/oauth/revoke"),
        "introspection_endpoint": format!("{base}/oauth/introspect"),
        "userinfo_endpoint": format!("{base}/oauth/userinfo"),
        "grant_types_supported": grant_type::ALL,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": Permission::ALL.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
    }))
}

/// Declares the protocol endpoints.
pub fn routes(r: &mut Router) {
    r.protocol(
        Method::GET,
        "/.well-known/oauth-authorization-server",
        metadata,
    )
    .protocol(Method::POST, "/oauth/token", token)
    .protocol(
        Method::POST,
        "/oauth/device_authorization",
        device_authorization,
    )
    .protocol(Method::POST, "/oauth/revoke", revoke)
    .protocol(Method::POST, "/oauth/introspect", introspect)
    .protocol(Method::GET, "/oauth/userinfo", userinfo);
}
