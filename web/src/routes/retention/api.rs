//! `GET` / `PUT /api/system/retention` (the retention policies) and `POST /api/system/purge`
//! (a purge now), for bearer tokens with `system:read` / `system:write`.

use std::collections::BTreeMap;

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use service::access::Permission;
use service::operations::purge::{PurgeReport, purge};
use service::operations::retention::{self, KeepDays, Policy, PolicyView};
use utoipa::ToSchema;

use crate::auth::{Access, Acting};
use crate::error::ApiError;
use crate::json::Json;
use crate::routes::api_errors::{BodyErrors, ReadErrors, WriteErrors};
use crate::routes::router::Router;
use crate::state::AppState;

/// Every retention policy as it applies now.
#[derive(Debug, Serialize, ToSchema)]
pub struct RetentionJson {
    pub policies: Vec<PolicyView>,
}

/// Body of `PUT /api/system/retention`: days per policy (0 keeps forever); a policy left out
/// keeps its value.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionBody {
    #[schema(maximum = 36500)]
    pub sync_history: Option<u64>,
    #[schema(maximum = 36500)]
    pub webhook_deliveries: Option<u64>,
    #[schema(maximum = 36500)]
    pub webhook_payloads: Option<u64>,
    #[schema(maximum = 36500)]
    pub events: Option<u64>,
    #[schema(maximum = 36500)]
    pub oauth_audit_logs: Option<u64>,
    #[schema(maximum = 36500)]
    pub audit: Option<u64>,
}

impl TryFrom<RetentionBody> for BTreeMap<Policy, KeepDays> {
    type Error = service::Error;

    fn try_from(body: RetentionBody) -> Result<Self, service::Error> {
        let sent = [
            (Policy::SyncHistory, body.sync_history),
            (Policy::WebhookDeliveries, body.webhook_deliveries),
            (Policy::WebhookPayloads, body.webhook_payloads),
            (Policy::Events, body.events),
            (Policy::OauthAuditLogs, body.oauth_audit_logs),
            (Policy::Audit, body.audit),
        ];
        let pairs: BTreeMap<String, u64> = sent
            .into_iter()
            .filter_map(|(policy, days)| days.map(|d| (policy.as_str().to_string(), d)))
            .collect();
        retention::parse_changes(&pairs)
    }
}

/// The retention policies, each with where its value comes from.
#[utoipa::path(get, path = "/api/system/retention", tag = "system",
    responses(
        (status = 200, description = "Every policy", body = RetentionJson),
        ReadErrors,
    ))]
pub async fn get(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let policies = retention::effective(&state.db, &state.settings.retention).await?;
    Ok(HttpResponse::Ok().json(RetentionJson { policies }))
}

/// Changes policies; audited as `retention.updated` with old and new values.
#[utoipa::path(put, path = "/api/system/retention", tag = "system", request_body = RetentionBody,
    responses(
        (status = 200, description = "Every policy after the change", body = RetentionJson),
        WriteErrors, BodyErrors,
    ))]
pub async fn put(
    state: web::Data<AppState>,
    acting: Acting,
    body: Json<RetentionBody>,
) -> Result<HttpResponse, ApiError> {
    let changes = BTreeMap::try_from(body.0)?;
    let settings = state.settings.retention.clone();
    let (actor, ip) = (acting.actor(), acting.ip());
    let policies = state
        .write(
            move |db| async move { retention::update(&db, &settings, &actor, ip, &changes).await },
        )
        .await?;
    Ok(HttpResponse::Ok().json(RetentionJson { policies }))
}

/// Runs a purge now: what expired and what the policies no longer keep.
#[utoipa::path(post, path = "/api/system/purge", tag = "system",
    responses(
        (status = 200, description = "What the purge removed, by kind", body = PurgeReport),
        WriteErrors,
    ))]
pub async fn purge_now(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let settings = state.settings.retention.clone();
    let report = state
        .write(move |db| async move { purge(&db, &settings).await })
        .await?;
    Ok(HttpResponse::Ok().json(report))
}

/// Registers the retention API.
pub fn routes(r: &mut Router) {
    r.api(
        Method::GET,
        "/api/system/retention",
        Access::Permission(Permission::SystemRead),
        get,
    )
    .api(
        Method::PUT,
        "/api/system/retention",
        Access::Permission(Permission::SystemWrite),
        put,
    )
    .api(
        Method::POST,
        "/api/system/purge",
        Access::Permission(Permission::SystemWrite),
        purge_now,
    );
}
