//! Metadeck's schema, one migration per area.
//!
//! Used three ways with the same [`Migrator`]: `sea-orm-cli migrate … -d migration`,
//! `cargo run -p migration -- …`, and `metadeck migrate …` (plus auto-migration at start).
//! Every migration runs on SQLite and PostgreSQL and has a working `down`.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_create_access;
mod m20261122_000002_create_audit;
mod m20261122_000003_create_sync;
mod m20261122_000004_create_registry;
mod m20261122_000005_create_webhooks;
mod m20261122_000006_create_oauth;
mod m20261122_000007_create_orchestration;
mod m20261122_000008_create_gateway;
mod m20261122_000009_create_operations;
mod m20261124_000001_create_audit_chain_head;
mod m20261124_000002_registry_text_in_byte_order;
mod m20261206_000001_list_indexes;
mod m20261206_000002_orchestration_versions;
mod m20261207_000001_retention;
mod m20261207_000002_backups;
mod m20261207_000003_second_factor;
mod m20261207_000004_mcp_pins;
mod m20261207_000005_sort_indexes;
mod m20261208_000001_sso_identities;
mod m20261208_000002_config_versions;
mod m20261208_000003_scale_indexes;
mod m20261209_000001_event_append_indexes;
mod m20261209_000002_device_write_indexes;
mod m20261210_000001_webhook_team_index;
mod support;

/// The ordered list of every schema migration.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_access::Migration),
            Box::new(m20261122_000002_create_audit::Migration),
            Box::new(m20261122_000003_create_sync::Migration),
            Box::new(m20261122_000004_create_registry::Migration),
            Box::new(m20261122_000005_create_webhooks::Migration),
            Box::new(m20261122_000006_create_oauth::Migration),
            Box::new(m20261122_000007_create_orchestration::Migration),
            Box::new(m20261122_000008_create_gateway::Migration),
            Box::new(m20261122_000009_create_operations::Migration),
            Box::new(m20261124_000001_create_audit_chain_head::Migration),
            Box::new(m20261124_000002_registry_text_in_byte_order::Migration),
            Box::new(m20261206_000001_list_indexes::Migration),
            Box::new(m20261206_000002_orchestration_versions::Migration),
            Box::new(m20261207_000001_retention::Migration),
            Box::new(m20261207_000002_backups::Migration),
            Box::new(m20261207_000003_second_factor::Migration),
            Box::new(m20261207_000004_mcp_pins::Migration),
            Box::new(m20261207_000005_sort_indexes::Migration),
            Box::new(m20261208_000001_sso_identities::Migration),
            Box::new(m20261208_000002_config_versions::Migration),
            Box::new(m20261208_000003_scale_indexes::Migration),
            Box::new(m20261209_000001_event_append_indexes::Migration),
            Box::new(m20261209_000002_device_write_indexes::Migration),
            Box::new(m20261210_000001_webhook_team_index::Migration),
        ]
    }
}
