//! The JSON administration of OAuth clients, tokens and the OAuth audit log (`/api/oauth/…`).

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use service::access::Permission;
use service::oauth::audit_log::{self, LogFilter, LogRecord};
use service::oauth::clients::{self, ClientInput, ClientSpec, ClientView, TokenView};
use service::pagination::PageRequest;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::{Access, Acting};
use crate::error::ApiError;
use crate::json::Json;
use crate::routes::api_errors::{BodyErrors, NotFound, QueryErrors, ReadErrors, WriteErrors};
use crate::routes::router::Router;
use crate::state::AppState;

/// Body of `POST /api/oauth/clients`; omitted settings take their defaults.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClient {
    pub name: String,
    /// Default true. Public clients get no secret and always use PKCE.
    pub is_confidential: Option<bool>,
    pub is_enabled: Option<bool>,
    /// Absolute URIs without fragment: `https`, or `http` on loopback.
    pub redirect_uris: Option<Vec<String>>,
    /// RFC names; `device_code` is accepted for the device grant. Default: confidential →
    /// `client_credentials`; public → `authorization_code`, `refresh_token`.
    pub grant_types: Option<Vec<String>>,
    /// Permission names from the catalog.
    pub allowed_scopes: Option<Vec<String>>,
    pub access_token_ttl_seconds: Option<i64>,
    pub refresh_token_ttl_seconds: Option<i64>,
    pub device_code_ttl_seconds: Option<i64>,
    pub device_poll_interval_seconds: Option<i64>,
    pub require_pkce: Option<bool>,
    pub skip_consent: Option<bool>,
}

/// Body of `PATCH /api/oauth/clients/{client_id}`: any subset of the settings.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateClient {
    pub name: Option<String>,
    pub is_enabled: Option<bool>,
    pub redirect_uris: Option<Vec<String>>,
    pub grant_types: Option<Vec<String>>,
    pub allowed_scopes: Option<Vec<String>>,
    pub access_token_ttl_seconds: Option<i64>,
    pub refresh_token_ttl_seconds: Option<i64>,
    pub device_code_ttl_seconds: Option<i64>,
    pub device_poll_interval_seconds: Option<i64>,
    pub require_pkce: Option<bool>,
    pub skip_consent: Option<bool>,
}

/// A created client with its secret, shown only in this answer (null for public clients).
/// No `Debug`: nothing may print the secret.
#[derive(Serialize, ToSchema)]
pub struct CreatedClient {
    pub client: ClientView,
    pub client_secret: Option<String>,
}

/// The new secret after a rotation, shown only in this answer. No `Debug`: nothing may
/// print the secret.
#[derive(Serialize, ToSchema)]
pub struct RotatedSecret {
    pub client_id: String,
    pub client_secret: String,
}

/// A page of clients.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientPage {
    pub items: Vec<ClientView>,
    pub next_cursor: Option<String>,
}

/// A client's live tokens.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    pub items: Vec<TokenView>,
}

/// A page of the OAuth audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthAuditPage {
    pub items: Vec<LogRecord>,
    pub next_cursor: Option<String>,
}

/// Page parameters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct PageQuery {
    /// 1–500, default 50.
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// Filters of the OAuth audit log.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    /// e.g. `token.issued`.
    pub event_type: Option<String>,
    /// The client's public identifier.
    pub client_id: Option<String>,
    /// `oauth_users.id`.
    pub user_id: Option<Uuid>,
    /// First day, `YYYY-MM-DD`.
    pub from: Option<NaiveDate>,
    /// Last day, `YYYY-MM-DD`.
    pub to: Option<NaiveDate>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

impl From<CreateClient> for ClientInput {
    fn from(b: CreateClient) -> Self {
        Self {
            name: Some(b.name),
            is_confidential: b.is_confidential,
            is_enabled: b.is_enabled,
            redirect_uris: b.redirect_uris,
            grant_types: b.grant_types,
            allowed_scopes: b.allowed_scopes,
            access_token_ttl_seconds: b.access_token_ttl_seconds,
            refresh_token_ttl_seconds: b.refresh_token_ttl_seconds,
            device_code_ttl_seconds: b.device_code_ttl_seconds,
            device_poll_interval_seconds: b.device_poll_interval_seconds,
            require_pkce: b.require_pkce,
            skip_consent: b.skip_consent,
        }
    }
}

impl From<UpdateClient> for ClientInput {
    fn from(b: UpdateClient) -> Self {
        Self {
            name: b.name,
            is_confidential: None,
            is_enabled: b.is_enabled,
            redirect_uris: b.redirect_uris,
            grant_types: b.grant_types,
            allowed_scopes: b.allowed_scopes,
            access_token_ttl_seconds: b.access_token_ttl_seconds,
            refresh_token_ttl_seconds: b.refresh_token_ttl_seconds,
            device_code_ttl_seconds: b.device_code_ttl_seconds,
            device_poll_interval_seconds: b.device_poll_interval_seconds,
            require_pkce: b.require_pkce,
            skip_consent: b.skip_consent,
        }
    }
}

/// Lists clients by name.
#[utoipa::path(get, path = "/api/oauth/clients", tag = "oauth", params(PageQuery),
    responses(
        (status = 200, description = "A page of clients", body = ClientPage),
        ReadErrors, QueryErrors,
    ))]
pub async fn list(
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page =
        PageRequest::parse(query.limit, query.cursor.as_deref()).map_err(ApiError::bad_query)?;
    let page = clients::list(&state.db, clients::BY_NAME, &page).await?;
    Ok(HttpResponse::Ok().json(ClientPage {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// Registers a client; a confidential client's secret is in this answer only.
#[utoipa::path(post, path = "/api/oauth/clients", tag = "oauth", request_body = CreateClient,
    responses(
        (status = 201, description = "Created", body = CreatedClient),
        WriteErrors, BodyErrors,
        (status = 403, description = "The caller lacks the route's permission or a scope the client is allowed, or a session sent no valid X-CSRF-Token", body = crate::error::ErrorBody),
        (status = 422, description = "Invalid settings", body = crate::error::ErrorBody),
    ))]
pub async fn create(
    acting: Acting,
    state: web::Data<AppState>,
    body: Json<CreateClient>,
) -> Result<HttpResponse, ApiError> {
    let spec = ClientSpec::new_from(body.0.into())?;
    let ip = acting.ip();
    let by = acting.grantor();
    let created = state
        .write(move |db| async move { clients::create(&db, &by, ip, spec).await })
        .await?;
    Ok(HttpResponse::Created().json(CreatedClient {
        client: created.client,
        client_secret: created.secret.map(|s| s.expose_secret().to_owned()),
    }))
}

/// One client.
#[utoipa::path(get, path = "/api/oauth/clients/{client_id}", tag = "oauth",
    params(("client_id" = String, Path, description = "The public identifier")),
    responses(
        (status = 200, description = "The client", body = ClientView),
        ReadErrors, NotFound,
    ))]
pub async fn show(
    state: web::Data<AppState>,
    client_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(clients::view(&state.db, &client_id).await?))
}

/// Changes any subset of a client's settings; `is_enabled: false` stops its tokens at once.
#[utoipa::path(patch, path = "/api/oauth/clients/{client_id}", tag = "oauth",
    params(("client_id" = String, Path, description = "The public identifier")),
    request_body = UpdateClient,
    responses(
        (status = 200, description = "The changed client", body = ClientView),
        WriteErrors, BodyErrors, NotFound,
        (status = 403, description = "The caller lacks the route's permission or a scope the client is allowed, or a session sent no valid X-CSRF-Token", body = crate::error::ErrorBody),
        (status = 422, description = "Invalid settings", body = crate::error::ErrorBody),
    ))]
pub async fn update(
    acting: Acting,
    state: web::Data<AppState>,
    client_id: web::Path<String>,
    body: Json<UpdateClient>,
) -> Result<HttpResponse, ApiError> {
    let ip = acting.ip();
    let (by, client_id, change) = (acting.grantor(), client_id.into_inner(), body.0.into());
    let view = state
        .write(move |db| async move { clients::update(&db, &by, ip, &client_id, change).await })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Deletes a client with its codes, tokens and device codes.
#[utoipa::path(delete, path = "/api/oauth/clients/{client_id}", tag = "oauth",
    params(("client_id" = String, Path, description = "The public identifier")),
    responses(
        (status = 204, description = "Deleted"),
        WriteErrors, NotFound,
        (status = 403, description = "The caller lacks the route's permission or a scope the client is allowed, or a session sent no valid X-CSRF-Token", body = crate::error::ErrorBody),
    ))]
pub async fn delete(
    acting: Acting,
    state: web::Data<AppState>,
    client_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let ip = acting.ip();
    let (by, client_id) = (acting.grantor(), client_id.into_inner());
    state
        .write(move |db| async move { clients::delete(&db, &by, ip, &client_id).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Replaces a confidential client's secret; the old one stops working at once.
#[utoipa::path(post, path = "/api/oauth/clients/{client_id}/rotate-secret", tag = "oauth",
    params(("client_id" = String, Path, description = "The public identifier")),
    responses(
        (status = 200, description = "The new secret, shown once", body = RotatedSecret),
        WriteErrors, NotFound,
        (status = 403, description = "The caller lacks the route's permission or a scope the client is allowed, or a session sent no valid X-CSRF-Token", body = crate::error::ErrorBody),
        (status = 409, description = "A public client has no secret", body = crate::error::ErrorBody),
    ))]
pub async fn rotate_secret(
    acting: Acting,
    state: web::Data<AppState>,
    client_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let ip = acting.ip();
    let (by, id) = (acting.grantor(), client_id.clone());
    let secret = state
        .write(move |db| async move { clients::rotate_secret(&db, &by, ip, &id).await })
        .await?;
    Ok(HttpResponse::Ok().json(RotatedSecret {
        client_id: client_id.into_inner(),
        client_secret: secret.expose_secret().to_owned(),
    }))
}

/// A client's live access and refresh tokens (never the tokens themselves).
#[utoipa::path(get, path = "/api/oauth/clients/{client_id}/tokens", tag = "oauth",
    params(("client_id" = String, Path, description = "The public identifier")),
    responses(
        (status = 200, description = "Live tokens, newest first", body = TokenList),
        ReadErrors, NotFound,
    ))]
pub async fn tokens(
    state: web::Data<AppState>,
    client_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(TokenList {
        items: clients::live_tokens(&state.db, &client_id).await?,
    }))
}

/// Revokes one access or refresh token by id.
#[utoipa::path(delete, path = "/api/oauth/tokens/{id}", tag = "oauth",
    params(("id" = String, Path, description = "The token's id (a UUID)")),
    responses(
        (status = 204, description = "Revoked"),
        WriteErrors, NotFound,
        (status = 403, description = "The caller lacks the route's permission or a scope the client is allowed, or a session sent no valid X-CSRF-Token", body = crate::error::ErrorBody),
    ))]
pub async fn revoke_token(
    acting: Acting,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: Uuid = id
        .parse()
        .map_err(|_| ApiError::from(service::Error::NotFound(format!("token {id}"))))?;
    let ip = acting.ip();
    let actor = acting.actor();
    state
        .write(move |db| async move { clients::revoke_token(&db, &actor, ip, id).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The OAuth audit log, newest first.
#[utoipa::path(get, path = "/api/oauth/audit", tag = "oauth", params(AuditQuery),
    responses(
        (status = 200, description = "A page of OAuth events", body = OAuthAuditPage),
        ReadErrors, QueryErrors,
    ))]
pub async fn audit(
    state: web::Data<AppState>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let page =
        PageRequest::parse(query.limit, query.cursor.as_deref()).map_err(ApiError::bad_query)?;
    let filter = log_filter(
        &state,
        query.event_type.clone(),
        query.client_id.as_deref(),
        query.user_id,
        query.from,
        query.to,
    )
    .await?;
    let page = audit_log::list(&state.db, &filter, audit_log::NEWEST_EVENTS_FIRST, &page).await?;
    Ok(HttpResponse::Ok().json(OAuthAuditPage {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// The log filter, with the public client identifier resolved to the stored id (an unknown
/// client matches nothing).
pub async fn log_filter(
    state: &AppState,
    event_type: Option<String>,
    client_id: Option<&str>,
    user_id: Option<Uuid>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<LogFilter, service::Error> {
    let client_id = match client_id.filter(|c| !c.is_empty()) {
        Some(ident) => Some(
            clients::find(&state.db, ident)
                .await?
                .map(|c| c.row.id)
                .unwrap_or_else(Uuid::nil),
        ),
        None => None,
    };
    Ok(LogFilter {
        event_type: event_type.filter(|e| !e.is_empty()),
        client_id,
        user_id,
        from,
        to,
    })
}

/// Declares the JSON administration routes.
pub fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::OauthRead);
    let write = Access::Permission(Permission::OauthWrite);
    r.api(Method::GET, "/api/oauth/clients", read, list)
        .api(Method::POST, "/api/oauth/clients", write, create)
        .api(Method::GET, "/api/oauth/clients/{client_id}", read, show)
        .api(
            Method::PATCH,
            "/api/oauth/clients/{client_id}",
            write,
            update,
        )
        .api(
            Method::DELETE,
            "/api/oauth/clients/{client_id}",
            write,
            delete,
        )
        .api(
            Method::POST,
            "/api/oauth/clients/{client_id}/rotate-secret",
            write,
            rotate_secret,
        )
        .api(
            Method::GET,
            "/api/oauth/clients/{client_id}/tokens",
            read,
            tokens,
        )
        .api(
            Method::DELETE,
            "/api/oauth/tokens/{id}",
            write,
            revoke_token,
        )
        .api(Method::GET, "/api/oauth/audit", read, audit);
}
