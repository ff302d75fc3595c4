//! `metadeck purge`: removes, on demand, what the sweeper removes every minute (what expired,
//! and what the retention policies no longer keep), and reports how many of each kind.

use service::operations::purge::{PurgeReport, purge};

use super::{Outcome, emit};
use crate::settings::Settings;

/// `metadeck purge [--json]`: with `--json`, spec 09's `{"removed": {…}}`, every kind listed.
pub(super) async fn run(settings: Settings, json: bool) -> Outcome {
    let db = match service::db::connect(&settings.db_options()).await {
        Ok(db) => db,
        Err(e) => return Outcome::Failure(format!("cannot open the database: {e}")),
    };
    let report = match purge(&db, &settings.retention).await {
        Ok(report) => report,
        Err(err) => return Outcome::Failure(format!("the purge failed: {err}")),
    };
    emit(json, &report, |r: &PurgeReport| {
        let mut lines: Vec<String> = r
            .removed
            .kinds()
            .iter()
            .map(|(kind, n)| format!("{kind}: {n} removed"))
            .collect();
        lines.push(format!("total: {}", r.removed.total()));
        lines.join("\n")
    });
    Outcome::Success
}
