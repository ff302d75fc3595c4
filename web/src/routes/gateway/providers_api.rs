//! The upstream identity providers JSON API: list, create, read, replace, delete and test.
//! The client secret is write-only: accepted, never returned.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use service::access::Permission;
use service::gateway::provider_admin;
use service::gateway::provider_input::{ProviderFields, ProviderInput};
use service::gateway::provider_test::{self, ProviderTest};
use service::gateway::providers::{self, Provider};
use utoipa::ToSchema;

use crate::auth::{Access, Acting};
use crate::error::ApiError;
use crate::json::Json;
use crate::routes::api_errors::{BodyErrors, NotFound, ReadErrors, WriteErrors};
use crate::routes::router::Router;
use crate::state::AppState;

/// Body of `POST /api/gateway/providers` and `PUT /api/gateway/providers/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderBody {
    /// A slug (`a-z`, `0-9`, `-`), unique: the `{name}` of `/login/sso/{name}/callback`.
    pub name: String,
    pub display_name: String,
    pub client_id: String,
    /// Stored encrypted, never returned; left out of a `PUT`, the stored one is kept.
    #[schema(value_type = Option<String>)]
    pub client_secret: Option<SecretString>,
    /// `http` or `https`; private destinations refused unless
    /// `METADECK_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true`.
    pub authorize_url: String,
    pub token_url: String,
    pub userinfo_url: String,
    /// Default `["openid", "profile", "email"]`.
    pub scopes: Option<Vec<String>>,
    /// Default `groups`; a dotted path reaches into objects (`realm_access.roles`).
    pub groups_claim: Option<String>,
    /// Default true.
    pub enabled: Option<bool>,
}

/// The scopes a provider asks for when none are given.
pub const DEFAULT_SCOPES: [&str; 3] = ["openid", "profile", "email"];

impl ProviderBody {
    /// The provider the body describes, every bad field reported at once.
    pub fn parse(&self) -> Result<ProviderInput, service::Error> {
        ProviderInput::parse(ProviderFields {
            name: &self.name,
            display_name: &self.display_name,
            client_id: &self.client_id,
            client_secret: self.client_secret.as_ref().map(|s| s.expose_secret()),
            authorize_url: &self.authorize_url,
            token_url: &self.token_url,
            userinfo_url: &self.userinfo_url,
            scopes: self
                .scopes
                .clone()
                .unwrap_or_else(|| DEFAULT_SCOPES.map(String::from).to_vec()),
            groups_claim: self.groups_claim.as_deref(),
            enabled: self.enabled.unwrap_or(true),
        })
    }
}

/// Every provider, by name.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderList {
    pub items: Vec<Provider>,
}

/// Lists the providers by name; secrets are never returned.
#[utoipa::path(get, path = "/api/gateway/providers", tag = "gateway",
    responses(
        (status = 200, description = "The identity providers", body = ProviderList),
        ReadErrors,
    ))]
pub async fn list(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ProviderList {
        items: providers::list(&state.db).await?,
    }))
}

/// Creates a provider.
#[utoipa::path(post, path = "/api/gateway/providers", tag = "gateway", request_body = ProviderBody,
    responses(
        (status = 201, description = "Created", body = Provider),
        WriteErrors, BodyErrors,
        (status = 409, description = "The name is taken", body = crate::error::ErrorBody),
        (status = 422, description = "Invalid fields or a refused destination", body = crate::error::ErrorBody),
    ))]
pub async fn create(
    state: web::Data<AppState>,
    acting: Acting,
    body: Json<ProviderBody>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0.parse()?;
    let (config, actor, ip) = (state.gateway.clone(), acting.actor(), acting.ip());
    let provider = state
        .write(
            move |db| async move { provider_admin::create(&db, &config, &actor, ip, input).await },
        )
        .await?;
    Ok(HttpResponse::Created().json(provider))
}

/// One provider.
#[utoipa::path(get, path = "/api/gateway/providers/{id}", tag = "gateway",
    params(("id" = String, Path, description = "The provider's id")),
    responses(
        (status = 200, description = "The provider", body = Provider),
        ReadErrors, NotFound,
    ))]
pub async fn get(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(providers::get(&state.db, &id).await?))
}

/// Replaces a provider's settings; without `client_secret` the stored one is kept.
#[utoipa::path(put, path = "/api/gateway/providers/{id}", tag = "gateway", request_body = ProviderBody,
    params(("id" = String, Path, description = "The provider's id")),
    responses(
        (status = 200, description = "The provider as saved", body = Provider),
        WriteErrors, BodyErrors, NotFound,
        (status = 409, description = "The name is taken", body = crate::error::ErrorBody),
        (status = 422, description = "Invalid fields or a refused destination", body = crate::error::ErrorBody),
    ))]
pub async fn replace(
    state: web::Data<AppState>,
    acting: Acting,
    id: web::Path<String>,
    body: Json<ProviderBody>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0.parse()?;
    let (config, actor, ip, id) = (
        state.gateway.clone(),
        acting.actor(),
        acting.ip(),
        id.into_inner(),
    );
    let provider = state
        .write(move |db| async move {
            provider_admin::update(&db, &config, &actor, ip, &id, input).await
        })
        .await?;
    Ok(HttpResponse::Ok().json(provider))
}

/// Deletes a provider.
#[utoipa::path(delete, path = "/api/gateway/providers/{id}", tag = "gateway",
    params(("id" = String, Path, description = "The provider's id")),
    responses(
        (status = 204, description = "Deleted"),
        WriteErrors, NotFound,
    ))]
pub async fn delete(
    state: web::Data<AppState>,
    acting: Acting,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (actor, ip, id) = (acting.actor(), acting.ip(), id.into_inner());
    state
        .write(move |db| async move { provider_admin::delete(&db, &actor, ip, &id).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Tests the provider: compares its URLs with its discovery document when they share an
/// issuer, else checks that each answers. At most 10 s per request, no redirects followed.
#[utoipa::path(post, path = "/api/gateway/providers/{id}/test", tag = "gateway",
    params(("id" = String, Path, description = "The provider's id")),
    responses(
        (status = 200, description = "What the test found", body = ProviderTest),
        WriteErrors, NotFound,
    ))]
pub async fn test(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let found = provider_test::test(&state.db, &state.gateway, &id).await?;
    Ok(HttpResponse::Ok().json(found))
}

/// Registers the identity providers API.
pub fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::GatewayRead);
    let write = Access::Permission(Permission::GatewayWrite);
    r.api(Method::GET, "/api/gateway/providers", read, list)
        .api(Method::POST, "/api/gateway/providers", write, create)
        .api(Method::GET, "/api/gateway/providers/{id}", read, get)
        .api(Method::PUT, "/api/gateway/providers/{id}", write, replace)
        .api(Method::DELETE, "/api/gateway/providers/{id}", write, delete)
        .api(
            Method::POST,
            "/api/gateway/providers/{id}/test",
            write,
            test,
        );
}
