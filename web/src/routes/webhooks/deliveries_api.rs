//! The delivery log and redelivery over JSON.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use service::access::Permission;
use service::pagination::PageRequest;
use service::webhooks::deliveries::{self, DeliveryStatus, DeliverySummary};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Access, Acting};
use crate::error::ApiError;
use crate::routes::api_errors::{NotFound, QueryErrors, ReadErrors, WriteErrors};
use crate::routes::router::Router;
use crate::state::AppState;

/// One delivery (event × webhook) and its latest attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryJson {
    pub id: i64,
    pub webhook_id: String,
    /// The `webhook-id` header: the same across retries and redeliveries.
    pub message_id: String,
    pub event_type: String,
    /// `pending`, `succeeded`, `failed` (another attempt is scheduled) or `dead`.
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    /// The first KiB of the last answer's body.
    pub last_response_snippet: Option<String>,
    /// The body sent: `{"type", "timestamp", "data"}`.
    #[schema(value_type = Option<Object>)]
    pub payload: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl From<DeliverySummary> for DeliveryJson {
    fn from(d: DeliverySummary) -> Self {
        Self {
            id: d.id,
            webhook_id: d.webhook_id,
            message_id: d.message_id,
            event_type: d.event_type,
            status: d.status,
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            last_response_snippet: d.last_response_snippet,
            payload: d.payload,
            created_at: d.created_at,
            delivered_at: d.delivered_at,
        }
    }
}

/// A page of deliveries, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryPage {
    pub items: Vec<DeliveryJson>,
    pub next_cursor: Option<String>,
}

/// Query of the delivery log.
#[derive(Debug, Deserialize, IntoParams)]
pub struct DeliveryQuery {
    /// `pending`, `succeeded`, `failed` or `dead`.
    pub status: Option<String>,
    /// 1–500, default 50.
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// The delivery log of one webhook.
#[utoipa::path(get, path = "/api/webhooks/{webhook_id}/deliveries", tag = "webhooks",
    params(("webhook_id" = String, Path, description = "The webhook's id"), DeliveryQuery),
    responses(
        (status = 200, description = "A page of deliveries", body = DeliveryPage),
        ReadErrors, QueryErrors, NotFound,
    ))]
pub async fn list(
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<DeliveryQuery>,
) -> Result<HttpResponse, ApiError> {
    let page =
        PageRequest::parse(query.limit, query.cursor.as_deref()).map_err(ApiError::bad_query)?;
    let status = query
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(DeliveryStatus::parse)
        .transpose()
        .map_err(ApiError::bad_query)?;
    let newest = deliveries::NEWEST_DELIVERIES_FIRST;
    let page = deliveries::list(&state.db, &id, status, newest, &page).await?;
    Ok(HttpResponse::Ok().json(DeliveryPage {
        items: page.items.into_iter().map(DeliveryJson::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Sends a delivery again: a new delivery with the same message id and payload.
#[utoipa::path(post, path = "/api/webhooks/deliveries/{id}/redeliver", tag = "webhooks",
    params(("id" = i64, Path, description = "The delivery's id")),
    responses(
        (status = 202, description = "The new delivery, queued", body = DeliveryJson),
        WriteErrors, NotFound,
        (status = 409, description = "The webhook is disabled", body = crate::error::ErrorBody),
    ))]
pub async fn redeliver(
    state: web::Data<AppState>,
    acting: Acting,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: i64 = id
        .parse()
        .map_err(|_| service::Error::NotFound(format!("delivery {id}")))?;
    let ip = acting.ip();
    let actor = acting.actor();
    let delivery = state
        .write(move |db| async move { deliveries::redeliver(&db, &actor, ip, id).await })
        .await?;
    Ok(HttpResponse::Accepted().json(DeliveryJson::from(delivery)))
}

/// Registers the delivery routes.
pub fn routes(r: &mut Router) {
    r.api(
        Method::GET,
        "/api/webhooks/{webhook_id}/deliveries",
        Access::Permission(Permission::WebhooksRead),
        list,
    )
    .api(
        Method::POST,
        "/api/webhooks/deliveries/{id}/redeliver",
        Access::Permission(Permission::WebhooksWrite),
        redeliver,
    );
}
