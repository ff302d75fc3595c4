//! Indexes for the filters and orders that had none, found by reading the plan of every list
//! query under every filter and sort the console and the API offer: without them a page of a
//! filtered list read every row of its table (or every row the filter matched, to sort them),
//! so its cost grew with the table. Each key ends with the list's order, so a page is one
//! range of its index, read either way.

use sea_orm_migration::prelude::*;

use crate::support::exec;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Each index: name, table, and its key.
const INDEXES: [(&str, &str, &str); 23] = [
    // Devices of an area, a manufacturer or an integration, by name.
    (
        "idx_devices_area_name",
        "devices",
        "lower(\"area_id\"), name, device_id",
    ),
    (
        "idx_devices_manufacturer_name",
        "devices",
        "lower(\"manufacturer\"), name, device_id",
    ),
    (
        "idx_devices_integration_name",
        "devices",
        "lower(\"integration\"), name, device_id",
    ),
    // Entities of a device, a platform or a state, by domain.
    (
        "idx_entities_device_domain",
        "entities",
        "device_id, domain, entity_id",
    ),
    (
        "idx_entities_platform_domain",
        "entities",
        "platform, domain, entity_id",
    ),
    (
        "idx_entities_disabled_domain",
        "entities",
        "disabled, domain, entity_id",
    ),
    // The audit trail of an actor by action, and of a target by actor or by action.
    ("idx_audit_actor_action", "audit", "actor, action, id"),
    ("idx_audit_target_actor", "audit", "target_id, actor, id"),
    ("idx_audit_target_action", "audit", "target_id, action, id"),
    // The sync history of one status or of one type, newest first.
    (
        "idx_sync_history_status_start",
        "sync_history",
        "status, start_time, id",
    ),
    (
        "idx_sync_history_type_start",
        "sync_history",
        "sync_type, start_time, id",
    ),
    // The session lists: everyone's and one user's, most recently seen first.
    ("idx_sessions_seen", "sessions", "last_seen_at"),
    (
        "idx_sessions_user_seen",
        "sessions",
        "user_id, last_seen_at",
    ),
    // A client's live tokens, newest first.
    (
        "idx_oauth_access_tokens_client_created",
        "oauth_access_tokens",
        "client_id, created_at",
    ),
    (
        "idx_oauth_refresh_tokens_client_created",
        "oauth_refresh_tokens",
        "client_id, created_at",
    ),
    // Webhooks of a team, or enabled or disabled ones, by id and by URL.
    ("idx_webhooks_team_id", "webhooks", "team, webhook_id"),
    ("idx_webhooks_team_url", "webhooks", "team, url, webhook_id"),
    ("idx_webhooks_enabled", "webhooks", "is_enabled, webhook_id"),
    (
        "idx_webhooks_enabled_url",
        "webhooks",
        "is_enabled, url, webhook_id",
    ),
    // One webhook's deliveries of one status, newest first.
    (
        "idx_webhook_deliveries_webhook_status",
        "webhook_deliveries",
        "webhook_id, status, id",
    ),
    // The webhook list's figures of the last day: per webhook, only that day's deliveries.
    (
        "idx_webhook_deliveries_webhook_created",
        "webhook_deliveries",
        "webhook_id, created_at, status",
    ),
    // The events of one run at one level (a run's errors), and of one plan unit.
    ("idx_events_run_level", "events", "run_id, level, id"),
    ("idx_events_unit", "events", "plan_unit_id, id"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, key) in INDEXES {
            exec(m, &format!("CREATE INDEX {name} ON \"{table}\" ({key})")).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, _, _) in INDEXES {
            exec(m, &format!("DROP INDEX {name}")).await?;
        }
        Ok(())
    }
}
