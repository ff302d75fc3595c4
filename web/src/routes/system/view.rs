//! What the `/system` page shows, as text ready for the template.

use chrono::{DateTime, Utc};
use service::operations::WorkerStatus;
use service::operations::backup::BackupRecord;
use service::operations::status::{MigrationRow, SystemStatus, TableRows};

use crate::pages::thousands;

/// A timestamp as the console shows it; `—` for none.
pub fn when(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(
        || "—".into(),
        |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

/// A size for people ("1.4 MiB"), the exact bytes going on hover.
pub fn size(bytes: Option<i64>) -> String {
    let Some(bytes) = bytes else {
        return "—".into();
    };
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

/// One fact of the database panel.
pub struct Fact {
    pub label: &'static str,
    pub value: String,
    /// The exact figure, on hover.
    pub title: String,
}

impl Fact {
    fn bytes(label: &'static str, bytes: Option<i64>) -> Self {
        Self {
            label,
            value: size(bytes),
            title: bytes
                .map(|b| format!("{} bytes", thousands(b.max(0) as u64)))
                .unwrap_or_default(),
        }
    }

    fn text(label: &'static str, value: impl Into<String>) -> Self {
        Self {
            label,
            value: value.into(),
            title: String::new(),
        }
    }
}

/// The database panel's facts.
pub fn facts(s: &SystemStatus) -> Vec<Fact> {
    let count = |n: Option<i64>| n.map_or_else(|| "—".into(), |n| thousands(n.max(0) as u64));
    let mut facts = vec![
        Fact::text("Backend", s.backend),
        Fact::bytes("Database size", s.database_bytes),
    ];
    if let Some(files) = &s.files {
        facts.push(Fact::bytes(
            "Database file",
            Some(files.database_bytes as i64),
        ));
        facts.push(Fact::bytes("WAL file", Some(files.wal_bytes as i64)));
    }
    if s.page_count.is_some() {
        facts.push(Fact::bytes("Page size", s.page_size));
        facts.push(Fact::text("Pages", count(s.page_count)));
        facts.push(Fact::text("Free pages", count(s.freelist_count)));
    }
    facts.push(Fact::text(
        "Schema version",
        s.schema_version.clone().unwrap_or_else(|| "none".into()),
    ));
    facts
}

/// A backup row.
pub struct BackupLine {
    pub id: i64,
    pub trigger: String,
    pub finished: String,
    pub file: String,
    pub size: String,
    pub sha256: String,
    pub status: String,
    pub badge: &'static str,
    pub error: String,
}

impl From<&BackupRecord> for BackupLine {
    fn from(b: &BackupRecord) -> Self {
        Self {
            id: b.id,
            trigger: b.trigger.clone(),
            finished: when(Some(b.finished_at)),
            file: b.file.clone(),
            size: size(b.size_bytes),
            sha256: b.sha256.clone().unwrap_or_default(),
            status: b.status.clone(),
            badge: if b.succeeded() {
                "badge ok"
            } else {
                "badge bad"
            },
            error: b.error.clone().unwrap_or_default(),
        }
    }
}

/// A worker's last run.
pub struct WorkerLine {
    pub worker: String,
    pub started: String,
    pub finished: String,
    pub result: String,
    pub badge: &'static str,
    /// What it did, as compact JSON.
    pub details: String,
}

impl From<&WorkerStatus> for WorkerLine {
    fn from(w: &WorkerStatus) -> Self {
        Self {
            worker: w.worker.clone(),
            started: when(Some(w.last_started_at)),
            finished: when(w.last_finished_at),
            result: w.last_result.clone(),
            badge: match w.last_result.as_str() {
                "ok" => "badge ok",
                "error" => "badge bad",
                _ => "badge",
            },
            details: w
                .last_details
                .as_ref()
                .map(|d| d.to_string())
                .unwrap_or_default(),
        }
    }
}

/// A table's row count; estimates are marked `≈`.
pub struct TableLine {
    pub table: String,
    pub rows: String,
}

impl From<&TableRows> for TableLine {
    fn from(t: &TableRows) -> Self {
        let n = thousands(t.rows.max(0) as u64);
        Self {
            table: t.table.clone(),
            rows: if t.exact { n } else { format!("≈ {n}") },
        }
    }
}

/// A migration and when it was applied.
pub struct MigrationLine {
    pub name: String,
    pub applied: String,
}

impl From<&MigrationRow> for MigrationLine {
    fn from(m: &MigrationRow) -> Self {
        Self {
            name: m.name.clone(),
            applied: m
                .applied_at
                .map_or_else(|| "pending".into(), |t| when(Some(t))),
        }
    }
}

/// The last "check now", from the `check` worker's run.
pub struct LastCheck {
    pub at: String,
    pub ok: bool,
    pub problems: Vec<String>,
}

impl LastCheck {
    /// The last check among the workers' runs, if one was run.
    pub fn of(workers: &[WorkerStatus]) -> Option<Self> {
        let run = workers
            .iter()
            .find(|w| w.worker == service::operations::CHECK_WORKER)?;
        let problems: Vec<String> = run
            .last_details
            .as_ref()
            .and_then(|d| d.get("problems"))
            .and_then(|p| p.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|p| p.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        Some(Self {
            at: when(run.last_finished_at.or(Some(run.last_started_at))),
            ok: problems.is_empty() && run.last_result == "ok",
            problems,
        })
    }
}
