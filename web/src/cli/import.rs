//! `metadeck import <source>`: bring another system's data into Metadeck, one transaction
//! per import. Each source is one variant of [`ImportSource`].

use std::path::PathBuf;

use clap::Subcommand;
use service::audit::Actor;
use service::registry::home_assistant;

use super::{Outcome, emit};
use crate::settings::Settings;

/// What `metadeck import` can read.
#[derive(Debug, Subcommand)]
pub enum ImportSource {
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
}

/// Runs one import.
pub(super) async fn run(settings: Settings, source: ImportSource) -> Outcome {
    match source {
        ImportSource::HomeAssistant { storage_dir, json } => {
            home_assistant(settings, storage_dir, json).await
        }
    }
}

/// A service error as lines for the operator: each field problem on its own line.
fn describe(err: &service::Error) -> String {
    match err {
        service::Error::Validation(details) => details
            .iter()
            .map(|d| match d.index {
                Some(i) => format!("item {i}: {} {}", d.field, d.message),
                None => format!("{} {}", d.field, d.message),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        other => other.to_string(),
    }
}

async fn home_assistant(settings: Settings, dir: PathBuf, json: bool) -> Outcome {
    let db = match service::db::connect(&settings.db_options()).await {
        Ok(db) => db,
        Err(e) => return Outcome::Failure(format!("cannot open the database: {e}")),
    };
    let report = match home_assistant::import(&db, &Actor::Cli, &dir).await {
        Ok(report) => report,
        Err(err) => {
            return Outcome::Failure(format!("nothing was imported:\n{}", describe(&err)));
        }
    };
    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }
    emit(json, &report, |r| {
        format!(
            "devices: created {}, updated {}\nentities: created {}, updated {}",
            r.devices.created, r.devices.updated, r.entities.created, r.entities.updated
        )
    });
    Outcome::Success
}
