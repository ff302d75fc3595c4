//! `metadeck purge`: removes what has expired, on demand (the background sweepers do the
//! same periodically), and reports how many of each kind it removed.
//!
//! Each kind is one entry of [`KINDS`]; spec 09 lists more (sessions, tokens, codes) that
//! join the list as entries of their own.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use sea_orm::DatabaseConnection;
use serde::Serialize;
use service::orchestration::facts;

use super::{Outcome, emit};
use crate::settings::Settings;

/// A purge of one kind: how many rows it removed.
type Purge = for<'a> fn(
    &'a DatabaseConnection,
) -> Pin<Box<dyn Future<Output = service::Result<u64>> + Send + 'a>>;

/// Every kind the purge removes, by the name the report gives it.
const KINDS: &[(&str, Purge)] = &[("expired_facts", |db| Box::pin(facts::purge_expired(db)))];

/// What a purge removed.
#[derive(Debug, Serialize)]
struct PurgeReport {
    /// Rows removed, by kind.
    removed: BTreeMap<&'static str, u64>,
    total: u64,
}

/// `metadeck purge [--json]`.
pub(super) async fn run(settings: Settings, json: bool) -> Outcome {
    let db = match service::db::connect(&settings.db_options()).await {
        Ok(db) => db,
        Err(e) => return Outcome::Failure(format!("cannot open the database: {e}")),
    };
    let mut report = PurgeReport {
        removed: BTreeMap::new(),
        total: 0,
    };
    for (kind, purge) in KINDS {
        match purge(&db).await {
            Ok(n) => {
                report.removed.insert(kind, n);
                report.total += n;
            }
            Err(err) => return Outcome::Failure(format!("purging {kind} failed: {err}")),
        }
    }
    emit(json, &report, |r| {
        let mut lines: Vec<String> = r
            .removed
            .iter()
            .map(|(kind, n)| format!("{kind}: {n} removed"))
            .collect();
        lines.push(format!("total: {}", r.total));
        lines.join("\n")
    });
    Outcome::Success
}
