//! Orchestration pages (`ops:read`): the runs, one run with its plan drawn as a graph and its
//! live event log, the resources with their versions and a diff between two, and the facts.

use std::collections::{BTreeMap, HashMap};

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use service::access::Permission;
use service::orchestration::diff::diff;
use service::orchestration::events::{self, EventFilter, EventView, Start};
use service::orchestration::facts::{self, FactFilter, FactView};
use service::orchestration::resources::{self, ResourceKey, ResourceView};
use service::orchestration::runs::{self, RunView};
use service::orchestration::units::UnitView;
use service::orchestration::{Level, RunStatus, versions};
use service::pagination::PageRequest;

use super::graph::{Graph, layout};
use crate::auth::Access;
use crate::error::PageError;
use crate::pages::{Cell, FilterField, Layout, ListRow, PageContext, PagerQuery, Row, Table, rows};
use crate::routes::router::Router;
use crate::routes::views::ListPage;
use crate::state::AppState;

/// Lines of the event log a run page shows at most (older ones are paged back to).
pub const LOG_LINES: u64 = 1_000;
/// Lines a run page opens with.
const LOG_FIRST: u64 = 200;

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

fn bad(e: service::Error) -> PageError {
    PageError::new(StatusCode::BAD_REQUEST, e.to_string())
}

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| "—".into())
}

/// How long a run took (or has taken so far).
fn duration(run: &RunView) -> String {
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

fn status_badge(status: &str) -> &'static str {
    match status {
        "succeeded" => "badge ok",
        "failed" => "badge bad",
        "running" => "badge warn",
        _ => "badge",
    }
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

#[derive(Debug, Deserialize)]
struct RunListQuery {
    status: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
}

/// A run in the run list, with its unit counts by status.
impl ListRow<HashMap<String, BTreeMap<String, i64>>> for RunView {
    fn row(&self, counts: &HashMap<String, BTreeMap<String, i64>>) -> Row {
        let units = counts
            .get(&self.id)
            .map(|c| {
                c.iter()
                    .map(|(s, n)| format!("{n} {s}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_else(|| "none".into());
        vec![
            Cell::link(&self.id, format!("/ops/runs/{}", segment(&self.id))),
            Cell::text(&self.plan_path),
            Cell::badge(self.status.as_str(), status_badge(self.status.as_str())),
            Cell::text(time(Some(self.created_at))),
            Cell::text(duration(self)),
            Cell::text(units),
        ]
    }
}

async fn run_list(
    ctx: PageContext,
    state: web::Data<AppState>,
    query: web::Query<RunListQuery>,
    at: web::Query<PagerQuery>,
) -> Result<HttpResponse, PageError> {
    let status = query
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| RunStatus::parse(s, "status"))
        .transpose()
        .map_err(bad)?;
    let page = PageRequest::parse_both(query.limit, query.cursor.as_deref(), at.before.as_deref())
        .map_err(bad)?;
    let found = runs::list(&state.db, status, &page).await?;
    let ids: Vec<String> = found.items.iter().map(|r| r.id.clone()).collect();
    let counts = runs::unit_counts(&state.db, &ids).await?;
    let mut table = Table {
        columns: vec!["Run", "Plan", "Status", "Created", "Duration", "Plan units"],
        rows: rows(&found.items, &counts),
        filters: vec![FilterField::select(
            "status",
            "Status",
            &query.status,
            &RunStatus::ALL
                .iter()
                .map(|s| (s.as_str(), s.as_str()))
                .collect::<Vec<_>>(),
        )],
        action: "/ops/runs".into(),
        empty: "No runs match this filter.",
        ..Table::default()
    };
    table = table.paginate(
        "/ops/runs",
        &[
            ("status", query.status.clone()),
            ("limit", query.limit.map(|l| l.to_string())),
        ],
        &at,
        &page,
        &found,
    );
    ctx.render(&ListPage {
        layout: ctx.layout("Runs"),
        table,
        actions: vec![
            ("Resources", "/ops/resources".to_string()),
            ("Facts", "/ops/facts".to_string()),
        ],
        note: Some("Runs recorded by orchestration engines through /api/ops, newest first.".into()),
    })
}

/// A run as its page shows it.
struct RunSummary {
    plan_path: String,
    status: &'static str,
    badge: &'static str,
    error: Option<String>,
    started: String,
    finished: String,
    duration: String,
    metadata: String,
    terminal: bool,
}

/// A plan unit row of the run page.
struct UnitRow {
    id: String,
    resource: String,
    action: &'static str,
    status: &'static str,
    badge: &'static str,
    dependencies: String,
    error: String,
}

impl From<&UnitView> for UnitRow {
    fn from(u: &UnitView) -> Self {
        Self {
            id: u.id.clone(),
            resource: format!("{}/{}", u.resource_type, u.resource_name),
            action: u.action.as_str(),
            status: u.status.as_str(),
            badge: status_badge(u.status.as_str()),
            dependencies: u.dependencies.join(", "),
            error: u.error.clone().unwrap_or_default(),
        }
    }
}

/// An event line of the run page.
struct EventLine {
    id: i64,
    at: String,
    level: &'static str,
    unit: String,
    message: String,
}

impl From<&EventView> for EventLine {
    fn from(e: &EventView) -> Self {
        Self {
            id: e.id,
            at: e.timestamp.format("%H:%M:%S%.3f").to_string(),
            level: e.level.as_str(),
            unit: e.plan_unit_id.clone().unwrap_or_default(),
            message: e.message.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "ops_run.html")]
struct RunPage {
    layout: Layout,
    run: RunSummary,
    graph: Graph,
    units: Vec<UnitRow>,
    events: Vec<EventLine>,
    /// `warn` when only errors and warnings show.
    min_level: String,
    /// The link to older lines, when there are some.
    older: Option<String>,
    /// Where the live log is read from.
    stream: String,
    /// The page's own address, for the errors-and-warnings switch.
    base: String,
}

#[derive(Debug, Deserialize)]
struct RunQuery {
    min_level: Option<String>,
    before_id: Option<i64>,
}

async fn run_page(
    ctx: PageContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<RunQuery>,
) -> Result<HttpResponse, PageError> {
    let detail = runs::get(&state.db, &id).await?;
    let min_level = query
        .min_level
        .as_deref()
        .filter(|l| !l.is_empty())
        .map(|l| Level::parse(l, "min_level"))
        .transpose()
        .map_err(bad)?;
    let filter = EventFilter {
        run_id: Some(detail.run.id.clone()),
        min_level,
        ..EventFilter::default()
    };
    let start = Start::Before(query.before_id.unwrap_or(i64::MAX));
    let page = events::tail(&state.db, &filter, start, LOG_FIRST).await?;
    let base = format!("/ops/runs/{}", segment(&detail.run.id));
    let level_param = min_level
        .map(|l| format!("&min_level={}", l.as_str()))
        .unwrap_or_default();
    let older = match (page.next_cursor.is_some(), page.items.first()) {
        (true, Some(first)) => Some(format!("{base}?before_id={}{level_param}", first.id)),
        _ => None,
    };
    // Paging back shows a fixed window; only the newest lines follow the run live.
    let last_id = if query.before_id.is_some() {
        i64::MAX
    } else {
        page.items.last().map_or(0, |e| e.id)
    };
    let run = &detail.run;
    let summary = RunSummary {
        plan_path: run.plan_path.clone(),
        status: run.status.as_str(),
        badge: status_badge(run.status.as_str()),
        error: run.error.clone(),
        started: time(run.started_at),
        finished: time(run.finished_at),
        duration: duration(run),
        metadata: run
            .metadata
            .as_ref()
            .map(pretty)
            .unwrap_or_else(|| "{}".into()),
        terminal: run.status.is_terminal() || query.before_id.is_some(),
    };
    ctx.render(&RunPage {
        layout: ctx.layout(format!("Run {}", run.id)),
        graph: layout(&detail.plan_units),
        units: detail.plan_units.iter().map(UnitRow::from).collect(),
        events: page.items.iter().map(EventLine::from).collect(),
        min_level: min_level
            .map(|l| l.as_str().to_string())
            .unwrap_or_default(),
        older,
        stream: format!("{base}/events?after_id={last_id}{level_param}"),
        base,
        run: summary,
    })
}

#[derive(Debug, Deserialize)]
struct ResourceListQuery {
    #[serde(rename = "type")]
    resource_type: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
}

impl ListRow for ResourceView {
    fn row(&self, _: &()) -> Row {
        vec![
            Cell::text(&self.resource_type),
            Cell::link(
                &self.resource_name,
                format!(
                    "/ops/resources/{}/{}",
                    segment(&self.resource_type),
                    segment(&self.resource_name)
                ),
            ),
            Cell::short(self.hash.clone(), 12),
            Cell::text(self.serial.to_string()),
            Cell::text(self.last_run_id.clone().unwrap_or_else(|| "—".into())),
            Cell::text(time(self.last_applied)),
        ]
    }
}

async fn resource_list(
    ctx: PageContext,
    state: web::Data<AppState>,
    query: web::Query<ResourceListQuery>,
    at: web::Query<PagerQuery>,
) -> Result<HttpResponse, PageError> {
    let page = PageRequest::parse_both(query.limit, query.cursor.as_deref(), at.before.as_deref())
        .map_err(bad)?;
    let chosen = query.resource_type.clone().unwrap_or_default();
    let found = resources::list(
        &state.db,
        Some(chosen.as_str()).filter(|t| !t.is_empty()),
        &page,
    )
    .await?;
    let types = resources::types(&state.db).await?;
    let mut table = Table {
        columns: vec![
            "Type",
            "Name",
            "Hash",
            "Version",
            "Last run",
            "Last applied",
        ],
        rows: rows(&found.items, &()),
        filters: vec![FilterField::select(
            "type",
            "Type",
            &query.resource_type,
            &types
                .iter()
                .map(|t| (t.as_str(), t.as_str()))
                .collect::<Vec<_>>(),
        )],
        action: "/ops/resources".into(),
        empty: "No resource state is recorded.",
        ..Table::default()
    };
    table = table.paginate(
        "/ops/resources",
        &[
            ("type", query.resource_type.clone()),
            ("limit", query.limit.map(|l| l.to_string())),
        ],
        &at,
        &page,
        &found,
    );
    ctx.render(&ListPage {
        layout: ctx.layout("Resources"),
        table,
        actions: Vec::new(),
        note: Some(
            "The state orchestration engines recorded for each resource, by type and name.".into(),
        ),
    })
}

/// A version row of the resource page.
struct VersionRow {
    serial: i64,
    hash: String,
    run: String,
    actor: String,
    at: String,
}

/// One line of a diff.
struct DiffLine {
    path: String,
    kind: &'static str,
    old: String,
    new: String,
}

#[derive(Template)]
#[template(path = "ops_resource.html")]
struct ResourcePage {
    layout: Layout,
    resource_type: String,
    /// Absent once deleted (the history stays).
    current: Option<(String, String, String, String)>,
    versions: Vec<VersionRow>,
    older: Option<String>,
    /// The serials compared, and the differences.
    compared: Option<(i64, i64)>,
    diff: Vec<DiffLine>,
    base: String,
}

#[derive(Debug, Deserialize)]
struct ResourceQuery {
    from: Option<i64>,
    to: Option<i64>,
    cursor: Option<String>,
}

async fn resource_page(
    ctx: PageContext,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    query: web::Query<ResourceQuery>,
) -> Result<HttpResponse, PageError> {
    let key = ResourceKey::parse(&path.0, &path.1).map_err(bad)?;
    let page = PageRequest::parse(Some(50), query.cursor.as_deref()).map_err(bad)?;
    let history = versions::list(&state.db, &key, &page).await?;
    let current = match resources::get(&state.db, &key).await {
        Ok(r) => Some((
            pretty(&r.state),
            r.hash,
            r.last_run_id.unwrap_or_else(|| "—".into()),
            time(r.last_applied),
        )),
        Err(service::Error::NotFound(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let base = format!(
        "/ops/resources/{}/{}",
        segment(key.resource_type.as_str()),
        segment(key.resource_name.as_str())
    );
    let newest = history.items.first().map_or(0, |v| v.serial);
    let (from, to) = (query.from.unwrap_or(newest - 1), query.to.unwrap_or(newest));
    let mut lines = Vec::new();
    let mut compared = None;
    if from >= 1 && to >= 1 && from != to {
        let a = versions::get(&state.db, &key, from).await?;
        let b = versions::get(&state.db, &key, to).await?;
        let null = serde_json::Value::Null;
        lines = diff(
            a.state.as_ref().unwrap_or(&null),
            b.state.as_ref().unwrap_or(&null),
        )
        .into_iter()
        .map(|c| DiffLine {
            path: c.path,
            kind: c.kind.as_str(),
            old: c.old.unwrap_or_default(),
            new: c.new.unwrap_or_default(),
        })
        .collect();
        compared = Some((from, to));
    }
    ctx.render(&ResourcePage {
        layout: ctx.layout(format!("{} {}", key.resource_type, key.resource_name)),
        resource_type: key.resource_type.as_str().to_string(),
        current,
        versions: history
            .items
            .iter()
            .map(|v| VersionRow {
                serial: v.serial,
                hash: v.hash.clone().unwrap_or_else(|| "deleted".into()),
                run: v.run_id.clone().unwrap_or_else(|| "—".into()),
                actor: v.actor.clone().unwrap_or_default(),
                at: time(Some(v.created_at)),
            })
            .collect(),
        older: history.next_cursor.map(|c| format!("{base}?cursor={c}")),
        compared,
        diff: lines,
        base,
    })
}

#[derive(Debug, Deserialize)]
struct FactListQuery {
    target_id: Option<String>,
    namespace: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
}

/// Time left until `expires_at`, for people.
fn time_left(expires_at: Option<DateTime<Utc>>) -> String {
    let Some(at) = expires_at else {
        return "never expires".into();
    };
    let secs = (at - Utc::now()).num_seconds().max(0);
    match secs {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min", s / 60),
        s if s < 86_400 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        s => format!("{} d {} h", s / 86_400, (s % 86_400) / 3600),
    }
}

impl ListRow for FactView {
    fn row(&self, _: &()) -> Row {
        let mut value = serde_json::to_string(&self.value).unwrap_or_default();
        if value.chars().count() > 120 {
            value = value.chars().take(120).collect::<String>() + "…";
        }
        vec![
            Cell::text(&self.target_id),
            Cell::text(&self.namespace),
            Cell::text(&self.key),
            Cell::mono(value),
            Cell::text(time_left(self.expires_at)),
        ]
    }
}

async fn fact_list(
    ctx: PageContext,
    state: web::Data<AppState>,
    query: web::Query<FactListQuery>,
    at: web::Query<PagerQuery>,
) -> Result<HttpResponse, PageError> {
    let page = PageRequest::parse_both(query.limit, query.cursor.as_deref(), at.before.as_deref())
        .map_err(bad)?;
    let filter = FactFilter {
        target_id: query.target_id.clone().filter(|t| !t.is_empty()),
        namespace: query.namespace.clone().filter(|n| !n.is_empty()),
    };
    let found = facts::list(&state.db, &filter, &page).await?;
    let mut table = Table {
        columns: vec!["Target", "Namespace", "Key", "Value", "Expires in"],
        rows: rows(&found.items, &()),
        filters: vec![
            FilterField::text("target_id", "Target", &query.target_id),
            FilterField::text("namespace", "Namespace", &query.namespace),
        ],
        action: "/ops/facts".into(),
        empty: "No unexpired facts match these filters.",
        ..Table::default()
    };
    table = table.paginate(
        "/ops/facts",
        &[
            ("target_id", query.target_id.clone()),
            ("namespace", query.namespace.clone()),
            ("limit", query.limit.map(|l| l.to_string())),
        ],
        &at,
        &page,
        &found,
    );
    ctx.render(&ListPage {
        layout: ctx.layout("Facts"),
        table,
        actions: Vec::new(),
        note: Some("Facts past their TTL are hidden at once and deleted by the sweeper.".into()),
    })
}

/// Registers the pages.
pub fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::OpsRead);
    r.page(Method::GET, "/ops/runs", read, run_list)
        .page(Method::GET, "/ops/runs/{id}", read, run_page)
        .page(Method::GET, "/ops/resources", read, resource_list)
        .page(
            Method::GET,
            "/ops/resources/{type}/{name}",
            read,
            resource_page,
        )
        .page(Method::GET, "/ops/facts", read, fact_list);
}
