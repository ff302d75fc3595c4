//! Retention policies: how many days each growing table keeps its rows (spec 09).
//!
//! Each policy has a default, may be set by environment (`METADECK_RETENTION_*`), and may be
//! changed on `/system/retention`; a change made there is a row of `retention_policies`,
//! wins over the environment, and is audited as `retention.updated` with old and new values.
//! `0` days keeps rows forever.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use entity::retention_policies;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, Set};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::audit::{Actor, AuditEntry, commit_audited};
use crate::db::begin_write;
use crate::{Error, Result};

/// One retention policy, by the name the API, the page and the purge report give it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// Sync history rows (the newest 100 of each tenant are always kept).
    SyncHistory,
    /// Webhook delivery rows.
    WebhookDeliveries,
    /// The payloads of succeeded deliveries (the row stays, its payload is dropped).
    WebhookPayloads,
    /// Orchestration events.
    Events,
    /// The OAuth log.
    OauthAuditLogs,
    /// The admin audit trail (the chain stays verifiable from its anchor).
    Audit,
}

impl Policy {
    /// Every policy, in the order pages list them.
    pub const ALL: [Policy; 6] = [
        Self::SyncHistory,
        Self::WebhookDeliveries,
        Self::WebhookPayloads,
        Self::Events,
        Self::OauthAuditLogs,
        Self::Audit,
    ];

    /// The policy's name (its `retention_policies.table_name`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SyncHistory => "sync_history",
            Self::WebhookDeliveries => "webhook_deliveries",
            Self::WebhookPayloads => "webhook_payloads",
            Self::Events => "events",
            Self::OauthAuditLogs => "oauth_audit_logs",
            Self::Audit => "audit",
        }
    }

    /// The policy named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// What the policy keeps, in words for the page.
    pub fn label(self) -> &'static str {
        match self {
            Self::SyncHistory => "Sync history (the newest 100 per tenant always stay)",
            Self::WebhookDeliveries => "Webhook deliveries",
            Self::WebhookPayloads => "Payloads of succeeded webhook deliveries",
            Self::Events => "Orchestration events",
            Self::OauthAuditLogs => "OAuth log",
            Self::Audit => "Audit trail (the chain stays verifiable)",
        }
    }

    /// The environment variable that sets it.
    pub fn env_var(self) -> &'static str {
        match self {
            Self::SyncHistory => "METADECK_RETENTION_SYNC_HISTORY_DAYS",
            Self::WebhookDeliveries => "METADECK_RETENTION_WEBHOOK_DELIVERIES_DAYS",
            Self::WebhookPayloads => "METADECK_RETENTION_WEBHOOK_PAYLOADS_DAYS",
            Self::Events => "METADECK_RETENTION_EVENTS_DAYS",
            Self::OauthAuditLogs => "METADECK_RETENTION_OAUTH_AUDIT_DAYS",
            Self::Audit => "METADECK_RETENTION_AUDIT_DAYS",
        }
    }

    /// The days it keeps when nothing sets it.
    pub fn default_days(self) -> KeepDays {
        KeepDays(match self {
            Self::SyncHistory | Self::OauthAuditLogs | Self::Audit => 365,
            Self::WebhookDeliveries => 30,
            Self::WebhookPayloads => 7,
            Self::Events => 90,
        })
    }
}

/// Days a policy keeps rows; `0` keeps them forever. At most a hundred years, so that the
/// cutoff it gives is always a real date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(transparent)]
pub struct KeepDays(u32);

impl KeepDays {
    /// The largest number of days accepted.
    pub const MAX: u32 = 36_500;
    /// The message every refusal of a number of days gives.
    pub const RULE: &'static str =
        "Enter a whole number of days from 0 to 36500 (0 keeps forever).";

    /// Accepts 0 to [`Self::MAX`].
    pub fn new(days: u64) -> Option<Self> {
        u32::try_from(days)
            .ok()
            .filter(|d| *d <= Self::MAX)
            .map(Self)
    }

    /// Parses text as sent by a form or the environment.
    pub fn parse(text: &str) -> Option<Self> {
        text.trim().parse::<u64>().ok().and_then(Self::new)
    }

    /// The number of days.
    pub fn days(self) -> u32 {
        self.0
    }

    /// The moment before which rows go, `None` when the policy keeps forever.
    pub fn cutoff(self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        (self.0 > 0).then(|| now - chrono::Duration::days(i64::from(self.0)))
    }
}

/// Where a policy's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Default,
    Env,
    Page,
}

impl Source {
    /// In words for the page.
    pub fn label(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::Env => "environment",
            Self::Page => "set on this page",
        }
    }
}

/// The policies as configured when the process started: defaults and the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionSettings {
    configured: BTreeMap<Policy, (KeepDays, Source)>,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        Self {
            configured: Policy::ALL
                .into_iter()
                .map(|p| (p, (p.default_days(), Source::Default)))
                .collect(),
        }
    }
}

impl RetentionSettings {
    /// Sets `policy` from its environment variable.
    pub fn set_from_env(&mut self, policy: Policy, days: KeepDays) {
        self.configured.insert(policy, (days, Source::Env));
    }

    /// The configured value of `policy` and where it comes from.
    pub fn configured(&self, policy: Policy) -> (KeepDays, Source) {
        self.configured
            .get(&policy)
            .copied()
            .unwrap_or((policy.default_days(), Source::Default))
    }
}

/// A policy as it applies now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PolicyView {
    pub policy: Policy,
    /// Days kept; 0 keeps forever.
    #[schema(value_type = u32)]
    pub keep_days: KeepDays,
    pub source: Source,
    /// When it was last changed on the page (`None`: never).
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<String>,
}

/// Every policy as it applies now: a page change wins over the environment and the default.
pub async fn effective(
    db: &impl ConnectionTrait,
    settings: &RetentionSettings,
) -> Result<Vec<PolicyView>> {
    let stored: BTreeMap<String, retention_policies::Model> = retention_policies::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|row| (row.table_name.clone(), row))
        .collect();
    Ok(Policy::ALL
        .into_iter()
        .map(|policy| match stored.get(policy.as_str()) {
            Some(row) => PolicyView {
                policy,
                keep_days: KeepDays::new(u64::try_from(row.keep_days).unwrap_or(0))
                    .unwrap_or(policy.default_days()),
                source: Source::Page,
                updated_at: Some(row.updated_at.to_utc()),
                updated_by: row.updated_by.clone(),
            },
            None => {
                let (keep_days, source) = settings.configured(policy);
                PolicyView {
                    policy,
                    keep_days,
                    source,
                    updated_at: None,
                    updated_by: None,
                }
            }
        })
        .collect())
}

/// The days each policy keeps now.
pub async fn in_force(
    db: &impl ConnectionTrait,
    settings: &RetentionSettings,
) -> Result<BTreeMap<Policy, KeepDays>> {
    Ok(effective(db, settings)
        .await?
        .into_iter()
        .map(|view| (view.policy, view.keep_days))
        .collect())
}

/// Stores the policies in `changes` that differ from what applies now, audited as one
/// `retention.updated` with the old and new days of each; returns every policy afterwards.
/// Nothing changed is no write and no audit row.
pub async fn update(
    db: &DatabaseConnection,
    settings: &RetentionSettings,
    actor: &Actor,
    ip: Option<String>,
    changes: &BTreeMap<Policy, KeepDays>,
) -> Result<Vec<PolicyView>> {
    let txn = begin_write(db).await?;
    let current = effective(&txn, settings).await?;
    let mut old = serde_json::Map::new();
    let mut new = serde_json::Map::new();
    let at = Utc::now().fixed_offset();
    for view in &current {
        let Some(days) = changes.get(&view.policy).copied() else {
            continue;
        };
        if days == view.keep_days {
            continue;
        }
        old.insert(view.policy.as_str().into(), json!(view.keep_days.days()));
        new.insert(view.policy.as_str().into(), json!(days.days()));
        retention_policies::Entity::insert(retention_policies::ActiveModel {
            table_name: Set(view.policy.as_str().into()),
            keep_days: Set(i64::from(days.days())),
            settings: Set(None),
            updated_at: Set(at),
            updated_by: Set(Some(actor.as_string())),
        })
        .on_conflict(
            OnConflict::column(retention_policies::Column::TableName)
                .update_columns([
                    retention_policies::Column::KeepDays,
                    retention_policies::Column::UpdatedAt,
                    retention_policies::Column::UpdatedBy,
                ])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    }
    if new.is_empty() {
        txn.rollback().await?;
        return Ok(current);
    }
    let entry = AuditEntry::new("retention.updated", actor)
        .target("retention")
        .details(json!({"old": old, "new": new}))
        .ip(ip);
    commit_audited(txn, entry, &[]).await?;
    effective(db, settings).await
}

/// Parses `name → days` pairs as the API sends them, naming each bad one.
pub fn parse_changes(pairs: &BTreeMap<String, u64>) -> Result<BTreeMap<Policy, KeepDays>> {
    let mut changes = BTreeMap::new();
    let mut errors = Vec::new();
    for (name, days) in pairs {
        match (Policy::parse(name), KeepDays::new(*days)) {
            (Some(policy), Some(days)) => {
                changes.insert(policy, days);
            }
            (None, _) => errors.push(crate::FieldError::new(
                name.clone(),
                "no such retention policy",
            )),
            (Some(_), None) => errors.push(crate::FieldError::new(name.clone(), KeepDays::RULE)),
        }
    }
    if errors.is_empty() {
        Ok(changes)
    } else {
        Err(Error::Validation(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_from_zero_to_a_hundred_years_are_accepted() {
        assert_eq!(KeepDays::parse(" 0 ").map(KeepDays::days), Some(0));
        assert_eq!(KeepDays::parse("36500").map(KeepDays::days), Some(36_500));
        assert!(KeepDays::parse("36501").is_none());
        assert!(KeepDays::parse("-1").is_none());
        assert!(KeepDays::parse("ten").is_none());
    }

    #[test]
    fn zero_days_keeps_forever() {
        let now = Utc::now();
        assert!(KeepDays(0).cutoff(now).is_none());
        assert_eq!(
            KeepDays(7).cutoff(now),
            Some(now - chrono::Duration::days(7))
        );
    }

    #[test]
    fn the_environment_overrides_the_default() {
        let mut settings = RetentionSettings::default();
        assert_eq!(
            settings.configured(Policy::Events),
            (KeepDays(90), Source::Default)
        );
        settings.set_from_env(Policy::Events, KeepDays(0));
        assert_eq!(
            settings.configured(Policy::Events),
            (KeepDays(0), Source::Env)
        );
    }
}
