//! The purge: deletes what has expired and what the retention policies no longer keep
//! (spec 09), for `metadeck purge`, the sweeper and the `/system` button alike.
//!
//! Every kind is deleted in batches of [`BATCH`] rows, each in a short write transaction of
//! its own (on SQLite, one writer turn each), so a concurrent write waits for one batch at
//! most, never for the whole purge. A kind with nothing to delete takes no writer turn at all:
//! a read on the pool finds that out first.

use chrono::{DateTime, Duration, Utc};
use entity::{
    events, oauth_access_tokens, oauth_audit_logs, oauth_authorization_codes, oauth_device_codes,
    oauth_refresh_tokens, sessions, webhook_deliveries,
};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use self::batches::{delete_batches, drop_payloads, purge_audit, purge_sync_history};
use super::retention::{Policy, RetentionSettings, in_force};
use crate::Result;
use crate::orchestration::facts;

mod batches;

/// Rows deleted per transaction.
pub const BATCH: u64 = 500;
/// How long expired tokens and codes stay after their expiry (or a code after its use), so
/// that a replayed one is still recognised as such for a while.
const TOKEN_GRACE: Duration = Duration::days(1);
/// The newest sync history rows of each tenant that stay whatever their age.
pub const SYNC_HISTORY_FLOOR: u64 = 100;

/// Rows removed, by kind (payloads: payloads dropped from delivery rows that stay). Read
/// back from the sweeper's `worker_runs` details, where a kind missing counts 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct Removed {
    pub sessions: u64,
    pub access_tokens: u64,
    pub refresh_tokens: u64,
    pub authorization_codes: u64,
    pub device_codes: u64,
    pub facts: u64,
    pub sync_history: u64,
    pub webhook_deliveries: u64,
    pub webhook_payloads: u64,
    pub events: u64,
    pub oauth_audit_logs: u64,
    pub audit: u64,
}

impl Removed {
    /// Each kind with its count, in the report's order.
    pub fn kinds(&self) -> [(&'static str, u64); 12] {
        [
            ("sessions", self.sessions),
            ("access_tokens", self.access_tokens),
            ("refresh_tokens", self.refresh_tokens),
            ("authorization_codes", self.authorization_codes),
            ("device_codes", self.device_codes),
            ("facts", self.facts),
            ("sync_history", self.sync_history),
            ("webhook_deliveries", self.webhook_deliveries),
            ("webhook_payloads", self.webhook_payloads),
            ("events", self.events),
            ("oauth_audit_logs", self.oauth_audit_logs),
            ("audit", self.audit),
        ]
    }

    /// Everything removed, all kinds together.
    pub fn total(&self) -> u64 {
        self.kinds().iter().map(|(_, n)| n).sum()
    }

    /// "3 sessions, 120 events" (the kinds with something removed), or "nothing".
    pub fn summary(&self) -> String {
        let parts: Vec<String> = self
            .kinds()
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(kind, n)| format!("{n} {}", kind.replace('_', " ")))
            .collect();
        if parts.is_empty() {
            "nothing".into()
        } else {
            parts.join(", ")
        }
    }
}

/// What one purge removed: spec 09's `{"removed": {…}}`.
#[derive(Debug, Clone, Copy, Default, Serialize, ToSchema)]
pub struct PurgeReport {
    pub removed: Removed,
}

/// One purge run: every expired kind, then every retention policy as it applies now.
#[tracing::instrument(skip_all)]
pub async fn purge(db: &DatabaseConnection, settings: &RetentionSettings) -> Result<PurgeReport> {
    purge_at(db, settings, Utc::now()).await
}

/// [`purge`] with the windows measured back from `now` (tests place rows either side of a
/// window's edge this way). Expired facts go by the clock: a fact's expiry is its own.
pub async fn purge_at(
    db: &DatabaseConnection,
    settings: &RetentionSettings,
    now: DateTime<Utc>,
) -> Result<PurgeReport> {
    let policies = in_force(db, settings).await?;
    let cutoff = |policy: Policy| policies.get(&policy).and_then(|days| days.cutoff(now));
    let grace = (now - TOKEN_GRACE).fixed_offset();
    let mut removed = Removed {
        sessions: delete_batches::<sessions::Entity>(
            db,
            sessions::Column::SessionId,
            sessions::Column::ExpiresAt.lt(now.fixed_offset()).into(),
            None,
        )
        .await?,
        access_tokens: delete_batches::<oauth_access_tokens::Entity>(
            db,
            oauth_access_tokens::Column::Id,
            oauth_access_tokens::Column::ExpiresAt.lt(grace).into(),
            None,
        )
        .await?,
        refresh_tokens: delete_batches::<oauth_refresh_tokens::Entity>(
            db,
            oauth_refresh_tokens::Column::Id,
            oauth_refresh_tokens::Column::ExpiresAt.lt(grace).into(),
            None,
        )
        .await?,
        authorization_codes: delete_batches::<oauth_authorization_codes::Entity>(
            db,
            oauth_authorization_codes::Column::Id,
            Condition::any()
                .add(oauth_authorization_codes::Column::ExpiresAt.lt(grace))
                .add(oauth_authorization_codes::Column::ConsumedAt.lt(grace)),
            None,
        )
        .await?,
        device_codes: delete_batches::<oauth_device_codes::Entity>(
            db,
            oauth_device_codes::Column::Id,
            oauth_device_codes::Column::ExpiresAt.lt(grace).into(),
            None,
        )
        .await?,
        facts: facts::purge_expired(db).await?,
        ..Removed::default()
    };
    if let Some(before) = cutoff(Policy::SyncHistory) {
        removed.sync_history = purge_sync_history(db, before).await?;
    }
    if let Some(before) = cutoff(Policy::WebhookDeliveries) {
        removed.webhook_deliveries = delete_batches::<webhook_deliveries::Entity>(
            db,
            webhook_deliveries::Column::Id,
            webhook_deliveries::Column::CreatedAt
                .lt(before.fixed_offset())
                .into(),
            None,
        )
        .await?;
    }
    if let Some(before) = cutoff(Policy::WebhookPayloads) {
        removed.webhook_payloads = drop_payloads(db, before).await?;
    }
    if let Some(before) = cutoff(Policy::Events) {
        removed.events = delete_batches::<events::Entity>(
            db,
            events::Column::Id,
            events::Column::Timestamp.lt(before.fixed_offset()).into(),
            Some("events"),
        )
        .await?;
    }
    if let Some(before) = cutoff(Policy::OauthAuditLogs) {
        removed.oauth_audit_logs = delete_batches::<oauth_audit_logs::Entity>(
            db,
            oauth_audit_logs::Column::Id,
            oauth_audit_logs::Column::CreatedAt
                .lt(before.fixed_offset())
                .into(),
            Some("oauth_audit_logs"),
        )
        .await?;
    }
    if let Some(before) = cutoff(Policy::Audit) {
        removed.audit = purge_audit(db, before).await?;
    }
    Ok(PurgeReport { removed })
}
