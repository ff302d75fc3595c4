//! `metadeck import gateway`: the legacy tools gateway's pickle files, read by the plain-data
//! reader, imported in one transaction, backed up and renamed to `.migrated`.

use std::path::{Path, PathBuf};

use chrono::Utc;
use service::gateway::import::{self, FILES, ImportReport, LegacyData, pickle, store};

use crate::cli::{Outcome, emit};
use crate::settings::Settings;

/// What `metadeck import gateway` was asked to do.
pub(super) struct GatewayImport {
    pub dir: PathBuf,
    pub dry_run: bool,
    pub strict: bool,
    pub json: bool,
}

fn refused(problem: impl std::fmt::Display) -> Outcome {
    Outcome::Failure(format!(
        "nothing was imported and no file was changed:\n  {problem}"
    ))
}

/// Reads one file, refusing one over the reader's limit without reading it whole.
fn read_file(path: &Path, name: &str) -> Result<Vec<u8>, String> {
    let size = std::fs::metadata(path)
        .map_err(|e| format!("{name}: cannot be read: {e}"))?
        .len();
    if size > pickle::MAX_FILE_BYTES as u64 {
        return Err(format!(
            "{name}: refused at byte 0: the file is {size} bytes, over the limit of {}",
            pickle::MAX_FILE_BYTES
        ));
    }
    std::fs::read(path).map_err(|e| format!("{name}: cannot be read: {e}"))
}

fn text(r: &ImportReport) -> String {
    if r.files.is_empty() {
        return "no legacy gateway files (*.pkl) found; nothing to import".into();
    }
    let i = &r.imported;
    let mut lines = vec![format!(
        "{} {}",
        if r.dry_run {
            "dry run, nothing written; would import from"
        } else {
            "imported from"
        },
        r.files.join(", ")
    )];
    for (table, n) in [
        ("rbac_roles", i.roles),
        ("local_users", i.users),
        ("user_roles", i.user_roles),
        ("ad_group_mappings", i.ad_group_mappings),
        ("mcp_servers", i.mcp_servers),
        ("oauth_providers", i.oauth_providers),
        ("gateway_config", i.gateway_config),
    ] {
        lines.push(format!("  {table}: {n}"));
    }
    let e = &r.existing;
    for (what, names) in [
        ("roles", &e.roles),
        ("users", &e.users),
        ("AD groups", &e.ad_group_mappings),
        ("MCP servers", &e.mcp_servers),
        ("providers", &e.oauth_providers),
        ("config keys", &e.gateway_config),
    ] {
        if !names.is_empty() {
            lines.push(format!(
                "  kept as they were (already in Metadeck), {what}: {}",
                names.join(", ")
            ));
        }
    }
    if !r.skipped_permissions.is_empty() {
        lines.push(format!(
            "  permissions not in the catalog, left out: {}",
            r.skipped_permissions.join(", ")
        ));
    }
    lines.join("\n")
}

pub(super) async fn run(settings: Settings, args: GatewayImport) -> Outcome {
    // 1. Every present file is read and every entry checked before anything is written.
    let present: Vec<(&str, PathBuf)> = FILES
        .iter()
        .map(|name| (*name, args.dir.join(name)))
        .filter(|(_, path)| path.is_file())
        .collect();
    let mut data = LegacyData::default();
    for (name, path) in &present {
        let bytes = match read_file(path, name) {
            Ok(bytes) => bytes,
            Err(message) => return refused(message),
        };
        if let Err(problem) = data.read(name, &bytes) {
            return refused(problem);
        }
    }
    if args.strict
        && let Some(first) = data.skipped_at.first()
    {
        let all: Vec<String> = data.skipped_at.iter().map(ToString::to_string).collect();
        return refused(format!(
            "{first} (--strict refuses permissions outside the catalog)\n  {}",
            all.join("\n  ")
        ));
    }
    let files: Vec<String> = present
        .iter()
        .map(|(_, p)| p.display().to_string())
        .collect();
    if present.is_empty() {
        let report = ImportReport {
            dry_run: args.dry_run,
            ..Default::default()
        };
        emit(args.json, &report, text);
        return Outcome::Success;
    }
    // The gateway's configuration holds the MCP HTTP client, which needs the TLS provider.
    crate::startup::install_crypto_provider();
    let config = match settings.gateway_config() {
        Ok(c) => c,
        Err(e) => return Outcome::Failure(format!("cannot set up the gateway: {e}")),
    };
    if let Err(problem) = store::check_addresses(&config, &data).await {
        return refused(problem);
    }
    let db = match service::db::connect(&settings.db_options()).await {
        Ok(db) => db,
        Err(e) => return Outcome::Failure(format!("cannot open the database: {e}")),
    };
    if settings.auto_migrate
        && let Err(e) = service::operations::apply_pending_migrations(&db, None).await
    {
        return Outcome::Failure(format!("migration failed: {e}"));
    }
    if args.dry_run {
        let result = import::import(&db, &config, &data, files, true).await;
        let _ = service::db::close(&db).await;
        return match result {
            Ok(report) => {
                emit(args.json, &report, text);
                Outcome::Success
            }
            Err(problem) => refused(problem),
        };
    }
    // 2. The backups, before the transaction; removed again if it fails.
    let started = Utc::now();
    let mut backups = Vec::new();
    for (_, path) in &present {
        let backup = import::backup_path(path, started);
        if let Err(e) = std::fs::copy(path, &backup) {
            remove_all(&backups);
            return Outcome::Failure(format!(
                "nothing was imported: cannot write the backup {}: {e}",
                backup.display()
            ));
        }
        backups.push(backup);
    }
    // 3. Everything in one transaction.
    let result = import::import(&db, &config, &data, files, false).await;
    let _ = service::db::close(&db).await;
    let report = match result {
        Ok(report) => report,
        Err(problem) => {
            remove_all(&backups);
            return refused(problem);
        }
    };
    // 4. The files are renamed only once their content is safely in the database.
    for (_, path) in &present {
        let migrated = import::migrated_path(path, started);
        if let Err(e) = std::fs::rename(path, &migrated) {
            return Outcome::Failure(format!(
                "imported, but {} cannot be renamed to {}: {e}; rename it by hand so a later run does not import it again",
                path.display(),
                migrated.display()
            ));
        }
    }
    emit(args.json, &report, text);
    Outcome::Success
}

fn remove_all(paths: &[PathBuf]) {
    for p in paths {
        let _ = std::fs::remove_file(p);
    }
}
