//! Orchestration pages (`ops:read`; their actions `ops:write`): the runs, one run with its plan
//! drawn as a graph and its live event log, the resources with their versions and a diff
//! between two, and the facts. This module holds what they share and registers them; each
//! page lives in a module of its own ([`super::lists`], [`super::fact_list`],
//! [`super::run_page`], [`super::resource_page`]).

use actix_web::http::StatusCode;
use chrono::{DateTime, Utc};
use service::orchestration::runs::RunView;

use super::{fact_list, lists, resource_page, run_page};
use crate::error::PageError;
use crate::routes::router::Router;

/// Lines of the event log a run page shows at most (older ones are paged back to).
pub const LOG_LINES: u64 = 1_000;

/// `s` percent-encoded as one path segment.
pub fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A detail page's malformed address or switch: the error page with `400`.
pub(super) fn bad(e: service::Error) -> PageError {
    PageError::new(StatusCode::BAD_REQUEST, e.to_string())
}

/// A time for people, or a dash when there is none.
pub(super) fn time(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| "—".into())
}

/// How long a run took (or has taken so far).
pub(super) fn duration(run: &RunView) -> String {
    let Some(start) = run.started_at else {
        return "—".into();
    };
    let secs = (run.finished_at.unwrap_or_else(Utc::now) - start)
        .num_seconds()
        .max(0);
    match secs {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min {} s", s / 60, s % 60),
        s => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

/// The badge class of a run's or a unit's status.
pub(super) fn status_badge(status: &str) -> &'static str {
    match status {
        "succeeded" => "badge ok",
        "failed" => "badge bad",
        "running" => "badge warn",
        _ => "badge",
    }
}

/// JSON indented for reading.
pub(super) fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// Registers the pages and their actions.
pub fn routes(r: &mut Router) {
    lists::routes(r);
    fact_list::routes(r);
    run_page::routes(r);
    resource_page::routes(r);
}
