//! The durable outbox: one `webhook_deliveries` row per (event, matching enabled webhook),
//! written in the caller's transaction.

use chrono::{DateTime, SubsecRound, Utc};
use entity::{webhook_deliveries, webhooks};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
};
use serde_json::{Value, json};
use uuid::Uuid;

use super::catalog::{EventPattern, EventType};
use crate::Result;

/// Rows per INSERT statement: 9 bound columns each stays under SQLite's 32,766 parameters.
const INSERT_CHUNK: usize = 1_000;

/// One event to deliver: its type and the object it is about, as the JSON API renders it.
#[derive(Debug, Clone)]
pub struct Event {
    pub event_type: EventType,
    pub data: Value,
}

impl Event {
    /// An event of `event_type` about `data`.
    pub fn new(event_type: EventType, data: Value) -> Self {
        Self { event_type, data }
    }
}

/// Queues `events` for every enabled webhook whose patterns match, inside `txn`.
///
/// Subscriptions are read once per call, so a bulk change emitting thousands of events costs
/// one SELECT plus chunked multi-row INSERTs. Returns the number of delivery rows written.
/// The dispatcher finds the rows within half a second of the commit; calling
/// [`super::dispatcher::wake`] after the commit sends them at once.
pub async fn emit(txn: &impl ConnectionTrait, events: &[Event]) -> Result<usize> {
    if events.is_empty() {
        return Ok(0);
    }
    let subscribers = enabled_subscriptions(txn).await?;
    if subscribers.is_empty() {
        return Ok(0);
    }
    let now = Utc::now().trunc_subsecs(6);
    let mut rows = Vec::new();
    for event in events {
        let message_id = new_message_id();
        let payload = envelope(event, now);
        for (webhook_id, patterns) in &subscribers {
            if patterns.iter().any(|p| p.matches(event.event_type)) {
                rows.push(pending_row(
                    webhook_id,
                    &message_id,
                    event.event_type,
                    &payload,
                    now,
                ));
            }
        }
    }
    let written = rows.len();
    insert_rows(txn, rows).await?;
    Ok(written)
}

/// True when an enabled webhook subscribes to any of `types`, so that a bulk change can skip
/// building events that nobody would receive.
pub async fn has_subscribers(txn: &impl ConnectionTrait, types: &[EventType]) -> Result<bool> {
    let subscribers = enabled_subscriptions(txn).await?;
    Ok(subscribers
        .iter()
        .any(|(_, patterns)| patterns.iter().any(|p| types.iter().any(|t| p.matches(*t)))))
}

/// Queues one event for one webhook only, whatever it subscribes to (`webhook.test`).
pub async fn emit_to(
    txn: &impl ConnectionTrait,
    webhook_id: &str,
    event: &Event,
) -> Result<String> {
    let now = Utc::now().trunc_subsecs(6);
    let message_id = new_message_id();
    let row = pending_row(
        webhook_id,
        &message_id,
        event.event_type,
        &envelope(event, now),
        now,
    );
    insert_rows(txn, vec![row]).await?;
    Ok(message_id)
}

/// The Standard Webhooks body: `{"type", "timestamp", "data"}`.
pub fn envelope(event: &Event, at: DateTime<Utc>) -> Value {
    json!({
        "type": event.event_type.as_str(),
        "timestamp": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": event.data,
    })
}

/// A fresh message id (`msg_` + UUID v7), stable across a message's retries and redeliveries.
pub fn new_message_id() -> String {
    format!("msg_{}", Uuid::now_v7().simple())
}

/// A delivery row due now.
pub fn pending_row(
    webhook_id: &str,
    message_id: &str,
    event_type: EventType,
    payload: &Value,
    now: DateTime<Utc>,
) -> webhook_deliveries::ActiveModel {
    webhook_deliveries::ActiveModel {
        webhook_id: Set(webhook_id.to_owned()),
        message_id: Set(message_id.to_owned()),
        event_type: Set(event_type.as_str().to_owned()),
        payload: Set(Some(payload.clone())),
        status: Set("pending".into()),
        attempts: Set(0),
        next_attempt_at: Set(Some(now.into())),
        created_at: Set(now.into()),
        ..Default::default()
    }
}

/// Inserts delivery rows in chunked multi-row statements.
pub async fn insert_rows(
    txn: &impl ConnectionTrait,
    rows: Vec<webhook_deliveries::ActiveModel>,
) -> Result<()> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(INSERT_CHUNK).collect();
        webhook_deliveries::Entity::insert_many(chunk)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// Enabled webhooks with their parsed patterns (entries outside the catalog are ignored).
async fn enabled_subscriptions(
    db: &impl ConnectionTrait,
) -> Result<Vec<(String, Vec<EventPattern>)>> {
    let rows: Vec<(String, Value)> = webhooks::Entity::find()
        .select_only()
        .column(webhooks::Column::WebhookId)
        .column(webhooks::Column::Events)
        .filter(webhooks::Column::IsEnabled.eq(true))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, events)| {
            let patterns = events
                .as_array()
                .map(|list| {
                    list.iter()
                        .filter_map(Value::as_str)
                        .filter_map(EventPattern::parse)
                        .collect()
                })
                .unwrap_or_default();
            (id, patterns)
        })
        .collect())
}
