//! The registry's webhook events: `device.created`, `device.updated`, `device.deleted`,
//! coalesced so that one request emits at most one event per device.

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use super::DeviceInput;
use super::devices::DeviceView;
use crate::Result;
use crate::webhooks::EventType;
use crate::webhooks::outbox::{self, Event, has_subscribers};

/// Emits `device.created` or `device.updated` for one device.
pub async fn device_changed(
    txn: &impl ConnectionTrait,
    device: &DeviceView,
    created: bool,
) -> Result<()> {
    let kind = if created {
        EventType::DeviceCreated
    } else {
        EventType::DeviceUpdated
    };
    let data = serde_json::to_value(device).unwrap_or(Value::Null);
    emit_one(txn, kind, data).await
}

/// Emits one event.
pub async fn emit_one(txn: &impl ConnectionTrait, kind: EventType, data: Value) -> Result<()> {
    outbox::emit(txn, &[Event::new(kind, data)])
        .await
        .map(|_| ())
}

/// The kinds a device write emits.
const DEVICE_UPSERTED: [EventType; 2] = [EventType::DeviceCreated, EventType::DeviceUpdated];

/// Whether an enabled webhook subscribes to `device.created` or `device.updated`: a batch
/// nobody listens to pays this one query and builds no events.
pub async fn device_events_wanted(txn: &impl ConnectionTrait) -> Result<bool> {
    has_subscribers(txn, &DEVICE_UPSERTED).await
}

/// One event per device of a batch (`created[i]` tells which kind); the caller has checked
/// [`device_events_wanted`].
pub async fn devices_upserted(
    txn: &impl ConnectionTrait,
    items: &[DeviceInput],
    created: &[bool],
    at: DateTime<Utc>,
) -> Result<()> {
    let kinds = DEVICE_UPSERTED;
    let at = at.trunc_subsecs(6);
    let events: Vec<Event> = items
        .iter()
        .zip(created)
        .map(|(d, &is_new)| {
            let kind = if is_new { kinds[0] } else { kinds[1] };
            Event::new(
                kind,
                json!({
                    "device_id": d.device_id.as_str(),
                    "name": d.name,
                    "manufacturer": d.manufacturer,
                    "model": d.model,
                    "area_id": d.area_id,
                    "integration": d.integration,
                    "last_seen": d.last_seen,
                    "updated_at": at,
                }),
            )
        })
        .collect();
    outbox::emit(txn, &events).await.map(|_| ())
}
