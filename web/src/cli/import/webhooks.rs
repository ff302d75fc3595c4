//! `metadeck import webhooks`: the legacy `webhooks.json`, imported while the server serves.

use std::path::Path;

use chrono::Utc;
use serde::Serialize;
use service::webhooks::legacy_import::{self, EntryProblem, ImportCounts};

use crate::cli::{Outcome, emit};
use crate::settings::Settings;

/// What `import webhooks` prints.
#[derive(Serialize)]
struct WebhooksReport {
    #[serde(flatten)]
    counts: ImportCounts,
    backup: String,
    migrated: String,
}

fn problems(list: Vec<EntryProblem>) -> Outcome {
    let lines: Vec<String> = list.iter().map(ToString::to_string).collect();
    Outcome::Failure(format!(
        "nothing was imported; fix the file and run the import again:\n  {}",
        lines.join("\n  ")
    ))
}

pub(super) async fn run(settings: Settings, file: &Path, json: bool) -> Outcome {
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => return Outcome::Failure(format!("cannot read {}: {e}", file.display())),
    };
    // 1. The backup comes first, before anything can go wrong.
    let started = Utc::now();
    let backup = legacy_import::backup_path(file, started);
    if let Err(e) = std::fs::copy(file, &backup) {
        return Outcome::Failure(format!("cannot write the backup {}: {e}", backup.display()));
    }
    // 2. Every entry is checked before anything is written.
    let entries = match legacy_import::parse(&bytes) {
        Ok(entries) => entries,
        Err(list) => return problems(list),
    };
    if let Err(list) =
        legacy_import::check_destinations(&entries, settings.webhook_allow_private_networks).await
    {
        return problems(list);
    }
    // 3. All entries in one transaction.
    let db = match service::db::connect(&settings.db_options()).await {
        Ok(db) => db,
        Err(e) => return Outcome::Failure(format!("cannot open the database: {e}")),
    };
    if settings.auto_migrate
        && let Err(e) = service::operations::apply_pending_migrations(&db, None).await
    {
        return Outcome::Failure(format!("migration failed: {e}"));
    }
    let config = settings.webhook_config();
    let counts =
        match legacy_import::import(&db, &config, &entries, &file.display().to_string()).await {
            Ok(c) => c,
            Err(e) => return Outcome::Failure(format!("nothing was imported: {e}")),
        };
    let _ = service::db::close(&db).await;
    // 4. The file is renamed only once its content is safely in the database.
    let migrated = legacy_import::migrated_path(file, started);
    if let Err(e) = std::fs::rename(file, &migrated) {
        return Outcome::Failure(format!(
            "imported (created {}, updated {}, unchanged {}), but {} cannot be renamed to {}: {e}",
            counts.created,
            counts.updated,
            counts.unchanged,
            file.display(),
            migrated.display()
        ));
    }
    let report = WebhooksReport {
        counts,
        backup: backup.display().to_string(),
        migrated: migrated.display().to_string(),
    };
    emit(json, &report, |r| {
        format!(
            "created {}, updated {}, unchanged {}",
            r.counts.created, r.counts.updated, r.counts.unchanged
        )
    });
    Outcome::Success
}
