//! What the sync pages show of a sync: cards, chart bars, durations. Built from service
//! records, so templates never see more than they display.

use chrono::{DateTime, Duration, Utc};
use service::sync::{SyncRecord, SyncStatus, TenantCard};

use crate::routes::form_input::when;

/// A duration as pages show it: `45s`, `12m 05s`, `3h 07m`, `2d 4h`.
pub fn duration_text(d: Duration) -> String {
    let s = d.num_seconds().max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        3600..86400 => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {}h", s / 86400, (s % 86400) / 3600),
    }
}

/// An RFC 3339 time for the page's script (`""` for none).
fn iso(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// The badge class of a status (`never` included).
pub fn badge(status: &str) -> &'static str {
    match SyncStatus::parse(status) {
        Some(SyncStatus::Running) => "badge sync-running",
        Some(SyncStatus::Completed) => "badge ok",
        Some(SyncStatus::Failed) => "badge bad",
        Some(SyncStatus::Canceled) => "badge warn",
        None => "badge",
    }
}

/// The first line of an error, cut to fit on a card.
pub fn error_summary(details: &str) -> String {
    let line = details.lines().next().unwrap_or_default();
    if line.chars().count() > 160 {
        format!("{}…", line.chars().take(160).collect::<String>())
    } else {
        line.to_string()
    }
}

/// One tenant's card.
#[derive(Debug, Clone, Default)]
pub struct CardView {
    pub tenant_id: String,
    pub status: String,
    pub badge: &'static str,
    pub progress: i64,
    pub users: i64,
    pub groups: i64,
    pub apps: i64,
    pub policies: i64,
    pub devices: i64,
    pub sync_type: String,
    pub started: String,
    pub start_iso: String,
    pub end_iso: String,
    pub elapsed: String,
    pub last_completed: String,
    pub last_error: String,
    pub last_error_href: String,
    /// The shown sync's id (0 when the tenant has none).
    pub sync_id: i64,
    pub running: bool,
}

impl CardView {
    /// The card of `c` at `now`.
    pub fn new(c: &TenantCard, now: DateTime<Utc>) -> Self {
        let s = c.sync.as_ref();
        Self {
            tenant_id: c.tenant_id.clone(),
            status: c.status.clone(),
            badge: badge(&c.status),
            progress: c.progress,
            users: c.entity_counts.users,
            groups: c.entity_counts.groups,
            apps: c.entity_counts.apps,
            policies: c.entity_counts.policies,
            devices: c.entity_counts.devices,
            sync_type: s.map(|s| s.sync_type.clone()).unwrap_or_default(),
            started: s.map_or_else(|| "—".into(), |s| when(s.start_time)),
            start_iso: iso(s.map(|s| s.start_time)),
            end_iso: iso(s.and_then(|s| s.end_time)),
            elapsed: s.map_or_else(|| "—".into(), |s| duration_text(s.elapsed(now))),
            last_completed: c.last_completed.as_ref().map_or_else(
                || "never".into(),
                |l| {
                    format!(
                        "{} (took {})",
                        when(l.start_time),
                        duration_text(l.elapsed(now))
                    )
                },
            ),
            last_error: c.last_error.as_ref().map_or_else(
                || "none".into(),
                |e| {
                    format!(
                        "{}: {}",
                        when(e.start_time),
                        error_summary(e.error_details.as_deref().unwrap_or_default())
                    )
                },
            ),
            last_error_href: c
                .last_error
                .as_ref()
                .map(|e| format!("/sync/{}", e.id))
                .unwrap_or_default(),
            sync_id: s.map_or(0, |s| s.id),
            running: s.is_some_and(|s| s.status() == SyncStatus::Running),
        }
    }
}

/// One bar of a tenant's chart.
#[derive(Debug, Clone)]
pub struct BarView {
    pub x: u32,
    pub y: u32,
    pub height: u32,
    pub class: &'static str,
    pub href: String,
    pub title: String,
}

/// A tenant's chart of its last syncs: bar height is the duration, colour the outcome.
#[derive(Debug, Clone)]
pub struct ChartView {
    pub tenant_id: String,
    pub bars: Vec<BarView>,
    /// Longest duration shown (the chart's scale).
    pub longest: String,
}

/// Chart geometry: 30 slots of 10 units, 60 units tall.
pub const CHART_SLOTS: u32 = 30;
const SLOT: u32 = 10;
const BAR: u32 = 8;
pub const CHART_HEIGHT: u32 = 60;

impl ChartView {
    /// The chart of `syncs` (oldest first) at `now`.
    pub fn new(tenant: &str, syncs: &[SyncRecord], now: DateTime<Utc>) -> Self {
        let longest = syncs
            .iter()
            .map(|s| s.elapsed(now))
            .max()
            .unwrap_or_else(Duration::zero);
        let scale = longest.num_milliseconds().max(1) as f64;
        let offset = CHART_SLOTS.saturating_sub(syncs.len() as u32);
        let bars = syncs
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let d = s.elapsed(now);
                let h = ((d.num_milliseconds() as f64 / scale) * (CHART_HEIGHT - 2) as f64).round()
                    as u32;
                let height = h.clamp(2, CHART_HEIGHT);
                BarView {
                    x: (offset + i as u32) * SLOT + (SLOT - BAR) / 2,
                    y: CHART_HEIGHT - height,
                    height,
                    class: match s.status() {
                        SyncStatus::Running => "bar running",
                        SyncStatus::Completed => "bar completed",
                        SyncStatus::Failed => "bar failed",
                        SyncStatus::Canceled => "bar canceled",
                    },
                    href: format!("/sync/{}", s.id),
                    title: format!(
                        "#{} {} · {} · {}",
                        s.id,
                        when(s.start_time),
                        s.status,
                        duration_text(d)
                    ),
                }
            })
            .collect();
        Self {
            tenant_id: tenant.to_string(),
            bars,
            longest: duration_text(longest),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_text(Duration::seconds(45)), "45s");
        assert_eq!(duration_text(Duration::seconds(725)), "12m 05s");
        assert_eq!(duration_text(Duration::seconds(3 * 3600 + 420)), "3h 07m");
        assert_eq!(duration_text(Duration::seconds(-5)), "0s");
    }
}
