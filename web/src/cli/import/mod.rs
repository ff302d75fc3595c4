//! `metadeck import <source>`: bring another system's data into Metadeck, one transaction per
//! import, while a server may keep serving. Each source is one variant of [`ImportSource`].

mod gateway;
mod home_assistant;
mod webhooks;

use std::path::PathBuf;

use clap::Subcommand;

use super::Outcome;
use crate::settings::Settings;

/// What `metadeck import` can read.
#[derive(Debug, Subcommand)]
pub enum ImportSource {
    /// The legacy tools gateway's pickle files (rbac.pkl, ad_mappings.pkl, mcp_servers.pkl,
    /// oauth_providers.pkl, config.pkl): read as plain data only, imported in one
    /// transaction, each backed up to .bak-<UTC time> and renamed to .migrated
    Gateway {
        /// The directory that holds the .pkl files
        #[arg(long)]
        dir: PathBuf,
        /// Check everything and print what would be imported; write nothing
        #[arg(long)]
        dry_run: bool,
        /// Refuse the import when a role names a permission outside the catalog
        /// (by default such permissions are listed and left out)
        #[arg(long)]
        strict: bool,
        /// Print {"dry_run", "files", "imported", "skipped_permissions", "existing"} as JSON
        #[arg(long)]
        json: bool,
    },
    /// Devices and entities from Home Assistant's own registry files
    /// (core.device_registry and core.entity_registry of its .storage directory)
    HomeAssistant {
        /// Home Assistant's .storage directory
        #[arg(long)]
        storage_dir: PathBuf,
        /// Print the counts as JSON
        #[arg(long)]
        json: bool,
    },
    /// Import the legacy webhooks file (a JSON array, or an object keyed by webhook id):
    /// back it up, validate every entry, upsert all in one transaction, rename it to .migrated
    Webhooks {
        /// The file, e.g. data/webhooks.json
        #[arg(long)]
        file: PathBuf,
        /// Print {"created", "updated", "unchanged", "backup", "migrated"} as JSON
        #[arg(long)]
        json: bool,
    },
}

/// Runs one import.
pub(super) async fn run(settings: Settings, source: ImportSource) -> Outcome {
    match source {
        ImportSource::Gateway {
            dir,
            dry_run,
            strict,
            json,
        } => {
            let args = gateway::GatewayImport {
                dir,
                dry_run,
                strict,
                json,
            };
            gateway::run(settings, args).await
        }
        ImportSource::HomeAssistant { storage_dir, json } => {
            home_assistant::run(settings, storage_dir, json).await
        }
        ImportSource::Webhooks { file, json } => webhooks::run(settings, &file, json).await,
    }
}
