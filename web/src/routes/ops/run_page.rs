//! One run (`/ops/runs/{id}`): its metadata, the plan drawn as a graph and as a table, and
//! the event log following new lines live; for callers holding `ops:write`, a cancel button
//! that asks first and then cancels the run as the API's `PATCH` does (audited).

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use service::access::Permission;
use service::affected::{self, Affected};
use service::orchestration::events::{self, EventFilter, EventView, Start};
use service::orchestration::runs::{self, RunDetail};
use service::orchestration::units::UnitView;
use service::orchestration::{Level, RunStatus};

use super::graph::{Graph, layout};
use super::pages::{bad, duration, pretty, segment, status_badge, time};
use crate::auth::{Access, Acting};
use crate::error::{PageError, classify};
use crate::flash::Flash;
use crate::pages::{Confirmation, FormView, Layout, PageContext, count_of};
use crate::routes::forms::{ConfirmForm, PageForm, Refused};
use crate::routes::router::Router;
use crate::state::AppState;

/// Lines a run page opens with.
const LOG_FIRST: u64 = 200;

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
    /// The cancel button, for callers who may write while the run can still be canceled (or
    /// with the refusal of a cancellation).
    cancel: Option<FormView>,
}

#[derive(Debug, Default, Deserialize)]
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
    render(&ctx, &state, StatusCode::OK, &detail, &query, None).await
}

/// The run page of `detail` with `status`; `refused` is a cancellation the service refused,
/// shown at the cancel button.
async fn render(
    ctx: &PageContext,
    state: &AppState,
    status: StatusCode,
    detail: &RunDetail,
    query: &RunQuery,
    refused: Option<&service::Error>,
) -> Result<HttpResponse, PageError> {
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
    let cancelable = ctx.may(Permission::OpsWrite) && run.status.may_become(RunStatus::Canceled);
    let cancel = (cancelable || refused.is_some()).then(|| {
        let form = FormView::danger_button(format!("{base}/cancel"), "Cancel run…");
        match refused {
            Some(err) => form.with_error(err),
            None => form,
        }
    });
    ctx.render_status(
        status,
        &RunPage {
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
            cancel,
        },
    )
}

/// The plan units of `detail` that have not finished, for the question before a cancel.
fn unfinished(detail: &RunDetail) -> Affected {
    let open: Vec<&UnitView> = detail
        .plan_units
        .iter()
        .filter(|u| !u.status.is_terminal())
        .collect();
    Affected {
        total: open.len() as u64,
        names: open
            .iter()
            .take(affected::SHOWN as usize)
            .map(|u| format!("{} ({})", u.id, u.status.as_str()))
            .collect(),
    }
}

/// Cancels the run once confirmed; before that, asks, naming its unfinished plan units.
async fn cancel(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    id: web::Path<String>,
    PageForm(form): PageForm<ConfirmForm>,
) -> Result<HttpResponse, PageError> {
    let detail = runs::get(&state.db, &id).await?;
    let page = format!("/ops/runs/{}", segment(&detail.run.id));
    if !form.is_given() {
        return ctx.confirm(
            Confirmation::new(
                format!("Cancel the run {}?", detail.run.id),
                format!("{page}/cancel"),
                "Cancel run",
                page,
            )
            .what(format!(
                "The run {} ends now as canceled. The engine recording it is refused (409) \
                 when it next moves the run, and no run.succeeded or run.failed is sent.",
                detail.run.id
            ))
            .reaches(&unfinished(&detail), |n| {
                format!(
                    "{} not finished keep their status:",
                    count_of(n, "plan unit", "plan units")
                )
            }),
        );
    }
    let done = runs::transition(
        &state.db,
        &acting.actor(),
        acting.ip(),
        &detail.run.id,
        RunStatus::Canceled,
        None,
    )
    .await;
    match done {
        Ok(run) => Ok(ctx.redirect(
            &page,
            Flash::success(format!("The run {} was canceled.", run.id)),
        )),
        Err(e) => {
            let refused = Refused::sort(e)?;
            // An ended run is the API's 409 here too, not a field to correct.
            let status = classify(&refused.error).0;
            // Shown with the run as it is now (another writer may have ended it).
            let detail = runs::get(&state.db, &detail.run.id).await?;
            let query = RunQuery::default();
            render(&ctx, &state, status, &detail, &query, Some(&refused.error)).await
        }
    }
}

/// Registers the run page and its action.
pub(super) fn routes(r: &mut Router) {
    r.page(
        Method::GET,
        "/ops/runs/{id}",
        Access::Permission(Permission::OpsRead),
        run_page,
    )
    .page(
        Method::POST,
        "/ops/runs/{id}/cancel",
        Access::Permission(Permission::OpsWrite),
        cancel,
    );
}
