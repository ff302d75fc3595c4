//! `metadeck import home-assistant`: devices and entities from Home Assistant's registry files.

use std::path::PathBuf;

use service::audit::Actor;
use service::registry::home_assistant;

use crate::cli::{Outcome, emit};
use crate::settings::Settings;

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

pub(super) async fn run(settings: Settings, dir: PathBuf, json: bool) -> Outcome {
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
