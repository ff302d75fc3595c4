//! The delivery log: each (event, webhook) row with its attempts, and redelivery.

use std::collections::HashMap;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use entity::webhook_deliveries::{self, Column};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::Serialize;
use serde_json::{Value, json};

use super::dispatcher;
use crate::audit::{self, Actor, AuditEntry};
use crate::db::begin_write;
use crate::pagination::{Page, PageRequest, Sort, SortField};
use crate::{Error, Result};

/// A delivery's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Not attempted yet.
    Pending,
    /// A 2xx answer was received.
    Succeeded,
    /// The last attempt failed; another is scheduled.
    Failed,
    /// Every attempt failed (or the endpoint answered 410): no more attempts.
    Dead,
}

impl DeliveryStatus {
    /// Every status.
    pub const ALL: [DeliveryStatus; 4] = [Self::Pending, Self::Succeeded, Self::Failed, Self::Dead];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Dead => "dead",
        }
    }

    /// Parses a status filter.
    pub fn parse(raw: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| {
                Error::invalid("status", "must be one of pending, succeeded, failed, dead")
            })
    }
}

/// A delivery as the log shows it.
#[derive(Debug, Clone, Serialize)]
pub struct DeliverySummary {
    pub id: i64,
    pub webhook_id: String,
    pub message_id: String,
    pub event_type: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub last_response_snippet: Option<String>,
    /// The body sent: `{"type", "timestamp", "data"}`.
    pub payload: Option<Value>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl From<webhook_deliveries::Model> for DeliverySummary {
    fn from(d: webhook_deliveries::Model) -> Self {
        Self {
            id: d.id,
            webhook_id: d.webhook_id,
            message_id: d.message_id,
            event_type: d.event_type,
            status: d.status,
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at.map(|t| t.to_utc()),
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            last_response_snippet: d.last_response_snippet,
            payload: d.payload,
            created_at: d.created_at.to_utc(),
            delivered_at: d.delivered_at.map(|t| t.to_utc()),
        }
    }
}

/// The sortable columns of a delivery log: the time of creation, which the id follows (the
/// index `(webhook_id, id)` serves it both ways).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliverySortField {
    Created,
}

impl SortField for DeliverySortField {
    const ALL: &'static [Self] = &[Self::Created];

    fn name(self) -> &'static str {
        "created"
    }
}

/// A delivery log's order.
pub type DeliverySort = Sort<DeliverySortField>;

/// The default order: newest first.
pub const NEWEST_DELIVERIES_FIRST: DeliverySort = Sort {
    field: DeliverySortField::Created,
    descending: true,
};

/// A page of one webhook's deliveries in `sort` order.
pub async fn list(
    db: &impl ConnectionTrait,
    webhook_id: &str,
    status: Option<DeliveryStatus>,
    sort: DeliverySort,
    page: &PageRequest<i64>,
) -> Result<Page<DeliverySummary>> {
    if entity::webhooks::Entity::find_by_id(webhook_id)
        .one(db)
        .await?
        .is_none()
    {
        return Err(Error::NotFound(format!("webhook {webhook_id}")));
    }
    let mut query = webhook_deliveries::Entity::find()
        .filter(Column::WebhookId.eq(webhook_id))
        .limit(page.limit + 1);
    // Reading backward walks the same index the other way.
    if page.reads_descending(sort.descending) {
        query = query.order_by_desc(Column::Id);
        if let Some(&after) = page.boundary() {
            query = query.filter(Column::Id.lt(after));
        }
    } else {
        query = query.order_by_asc(Column::Id);
        if let Some(&before) = page.boundary() {
            query = query.filter(Column::Id.gt(before));
        }
    }
    if let Some(status) = status {
        query = query.filter(Column::Status.eq(status.as_str()));
    }
    let rows = query.all(db).await?;
    Ok(Page::from_request(rows, page, |d| d.id).map(DeliverySummary::from))
}

/// How many deliveries of one webhook still wait for an attempt (pending, or failed with
/// another attempt scheduled): what disabling or deleting the webhook holds or drops.
pub async fn waiting(db: &impl ConnectionTrait, webhook_id: &str) -> Result<u64> {
    Ok(webhook_deliveries::Entity::find()
        .filter(Column::WebhookId.eq(webhook_id))
        .filter(Column::Status.is_in([
            DeliveryStatus::Pending.as_str(),
            DeliveryStatus::Failed.as_str(),
        ]))
        .count(db)
        .await?)
}

/// Sends a delivery again: a new row with the same message id and payload, due now.
/// `409` when its webhook is disabled, or when the retention policy has dropped the
/// delivery's payload (sending an empty body under the old message id would tell the
/// receiver something false).
#[tracing::instrument(name = "webhooks.deliveries.redeliver", skip_all, fields(delivery_id))]
pub async fn redeliver(
    db: &DatabaseConnection,
    actor: &Actor,
    ip: Option<String>,
    delivery_id: i64,
) -> Result<DeliverySummary> {
    let txn = begin_write(db).await?;
    let original = webhook_deliveries::Entity::find_by_id(delivery_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("delivery {delivery_id}")))?;
    if original.payload.is_none() {
        return Err(Error::conflict(format!(
            "the payload of delivery {delivery_id} was removed by the retention policy; it cannot be sent again"
        )));
    }
    let enabled = entity::webhooks::Entity::find_by_id(original.webhook_id.as_str())
        .one(&txn)
        .await?
        .is_some_and(|w| w.is_enabled);
    if !enabled {
        return Err(Error::conflict(format!(
            "webhook {} is disabled; enable it before redelivering",
            original.webhook_id
        )));
    }
    let now = Utc::now().trunc_subsecs(6);
    let row = webhook_deliveries::ActiveModel {
        webhook_id: sea_orm::Set(original.webhook_id.clone()),
        message_id: sea_orm::Set(original.message_id.clone()),
        event_type: sea_orm::Set(original.event_type.clone()),
        payload: sea_orm::Set(original.payload.clone()),
        status: sea_orm::Set(DeliveryStatus::Pending.as_str().into()),
        attempts: sea_orm::Set(0),
        next_attempt_at: sea_orm::Set(Some(now.into())),
        created_at: sea_orm::Set(now.into()),
        ..Default::default()
    };
    let inserted = webhook_deliveries::Entity::insert(row)
        .exec_with_returning(&txn)
        .await?;
    audit::commit_audited(
        txn,
        AuditEntry::new("webhook.redelivered", actor)
            .target(original.webhook_id.clone())
            .ip(ip)
            .details(
                json!({"delivery_id": delivery_id, "new_delivery_id": inserted.id,
                            "message_id": original.message_id}),
            ),
        &[],
    )
    .await?;
    dispatcher::wake();
    Ok(inserted.into())
}

/// What the webhook list shows about recent deliveries of one endpoint.
#[derive(Debug, Clone, Default)]
pub struct DeliveryStats {
    /// Status of the newest delivery.
    pub last_status: Option<String>,
    /// Failed or dead among the finished deliveries of the last 24 hours.
    pub failed: u64,
    /// Finished deliveries (succeeded, failed, dead) of the last 24 hours.
    pub finished: u64,
}

/// Recent delivery figures for the given webhooks.
pub async fn stats(
    db: &impl ConnectionTrait,
    webhook_ids: &[String],
) -> Result<HashMap<String, DeliveryStats>> {
    let mut out: HashMap<String, DeliveryStats> = HashMap::new();
    if webhook_ids.is_empty() {
        return Ok(out);
    }
    let since = Utc::now() - Duration::hours(24);
    // Grouped by webhook only, so that the plan reads each webhook's last day as one range
    // of the `(webhook_id, created_at, status)` index. Grouped by status too, SQLite walked
    // the `(webhook_id, status)` index instead, reading every delivery each webhook ever had.
    let failed = format!(
        "sum(CASE WHEN \"status\" <> '{}' THEN 1 ELSE 0 END)",
        DeliveryStatus::Succeeded.as_str()
    );
    let counts: Vec<(String, i64, i64)> = webhook_deliveries::Entity::find()
        .select_only()
        .column(Column::WebhookId)
        .column_as(Expr::cust("count(*)"), "finished")
        .column_as(Expr::cust(failed), "failed")
        .filter(Column::WebhookId.is_in(webhook_ids.iter().cloned()))
        .filter(Column::CreatedAt.gte(since.fixed_offset()))
        .filter(Column::Status.ne(DeliveryStatus::Pending.as_str()))
        .group_by(Column::WebhookId)
        .into_tuple()
        .all(db)
        .await?;
    for (id, finished, failed) in counts {
        let entry = out.entry(id).or_default();
        entry.finished = u64::try_from(finished).unwrap_or_default();
        entry.failed = u64::try_from(failed).unwrap_or_default();
    }
    // The newest delivery of each webhook: one step into the `(webhook_id, id)` index from its
    // end. (A `MAX(id) … GROUP BY webhook_id` reads every delivery of the page's webhooks.)
    for webhook_id in webhook_ids {
        let last: Option<String> = webhook_deliveries::Entity::find()
            .select_only()
            .column(Column::Status)
            .filter(Column::WebhookId.eq(webhook_id.as_str()))
            .order_by_desc(Column::Id)
            .limit(1)
            .into_tuple()
            .one(db)
            .await?;
        if let Some(status) = last {
            out.entry(webhook_id.clone()).or_default().last_status = Some(status);
        }
    }
    Ok(out)
}
