//! `/sync/history` (filtered, keyset-paginated), `/sync/{id}` (the full record) and the
//! cancel form behind the cards' and the detail page's "Cancel sync" buttons.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use askama::Template;
use service::access::Permission;
use service::pagination::{Page, PageRequest, Sort};
use service::sync::runs;
use service::sync::{NEWEST_SYNC_FIRST, SyncRecord, SyncStatus, SyncType, query};

use super::params::{HistoryQuery, sync_id};
use super::views::{badge, duration_text, error_summary};
use crate::auth::{Access, Acting};
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::{
    Cell, Choice, Confirmation, FilterField, FormView, Layout, ListRow, PageContext, PagerQuery,
    Row, Table, rows,
};
use crate::routes::form_input::{when, when_or};
use crate::routes::forms::ConfirmForm;
use crate::routes::forms::PageForm;
use crate::routes::router::Router;
use crate::routes::views::ListPage;
use crate::state::AppState;

fn not_found(err: service::Error) -> PageError {
    PageError::from(err)
}

fn choices(values: &[&str], selected: Option<&str>) -> Vec<Choice> {
    values
        .iter()
        .map(|v| Choice {
            value: v.to_string(),
            label: v.to_string(),
            checked: Some(*v) == selected,
        })
        .collect()
}

/// A sync in the history list.
impl ListRow for SyncRecord {
    fn row(&self, _: &()) -> Row {
        let s = self;
        let now = service::sync::model::now();
        vec![
            Cell::link(format!("#{}", s.id), format!("/sync/{}", s.id)),
            Cell::text(&s.tenant_id),
            Cell::text(&s.sync_type),
            Cell::badge(&s.status, badge(&s.status)),
            Cell::time(when(s.start_time)),
            Cell::text(duration_text(s.elapsed(now))),
            Cell::text(format!("{}%", s.progress_percentage)),
            Cell::text(s.users_count.to_string()),
            Cell::text(
                s.error_details
                    .as_deref()
                    .map(error_summary)
                    .unwrap_or_default(),
            ),
        ]
    }
}

async fn history(
    ctx: PageContext,
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<HistoryQuery>,
    at: web::Query<PagerQuery>,
) -> Result<HttpResponse, PageError> {
    // Preferences: the page size of every list, and the default tenant when the page is
    // opened without any filter.
    let mut query = query.into_inner();
    if query.limit.is_none() {
        query.limit = Some(ctx.ui().page_size);
    }
    if req.query_string().is_empty() {
        query.tenant_id = ctx.ui().default_tenant.clone();
    }
    let parsed = Sort::parse(query.sort.as_deref(), NEWEST_SYNC_FIRST).and_then(|sort| {
        let filter = query.filter()?;
        let page =
            PageRequest::parse_both(query.limit, query.cursor.as_deref(), at.before.as_deref())?;
        Ok((filter, sort, page))
    });
    let (found, request, refused) = match parsed {
        Ok((filter, sort, request)) => (
            query::history(&state.db, &filter, sort, &request).await?,
            Some(request),
            None,
        ),
        Err(e @ service::Error::Validation(_)) => (Page::empty(), None, Some(e)),
        Err(e) => return Err(e.into()),
    };
    // Each select shows its value as sent, even when another filter was refused.
    let chosen_status = query.status.as_deref().and_then(SyncStatus::parse);
    let chosen_type = query.sync_type.as_deref().and_then(SyncType::parse);
    let current =
        Sort::parse(query.sort.as_deref(), NEWEST_SYNC_FIRST).unwrap_or(NEWEST_SYNC_FIRST);
    let tenants = query::tenant_ids(&state.db, None, service::vocabulary::KNOWN_VALUES).await?;
    let statuses: Vec<&str> = SyncStatus::ALL.iter().map(|s| s.as_str()).collect();
    let types: Vec<&str> = SyncType::ALL.iter().map(|t| t.as_str()).collect();
    let kept = query.pairs();
    let mut paged = kept.clone();
    paged.push(("sort", Some(current.param())));
    let mut table = Table {
        columns: vec![
            "Sync", "Tenant", "Type", "Status", "Started", "Duration", "Progress", "Users", "Error",
        ],
        rows: rows(&found.items, &()),
        filters: vec![
            FilterField::text("tenant_id", "Tenant", &query.tenant_id).suggest(tenants),
            FilterField {
                options: choices(&statuses, chosen_status.map(SyncStatus::as_str)),
                ..FilterField::text("status", "Status", &query.status)
            },
            FilterField {
                options: choices(&types, chosen_type.map(SyncType::as_str)),
                ..FilterField::text("sync_type", "Type", &query.sync_type)
            },
            FilterField::date("since", "Started from", &query.since),
            FilterField::date("until", "Started before", &query.until),
        ],
        action: "/sync/history".into(),
        empty: "No sync matches these filters. Syncs are started by the importer through the API.",
        ..Table::default()
    }
    .sortable("/sync/history", &kept, &[(4, "started")], &current.param());
    if let Some(request) = &request {
        table = table.paginate("/sync/history", &paged, &at, request, &found);
    }
    if let Some(err) = &refused {
        table = table.refused(err);
    }
    ctx.render_status(
        table.status(),
        &ListPage {
            layout: ctx.layout("Sync history"),
            table,
            actions: vec![("Live dashboard", "/sync".to_string())],
            note: Some("Newest first unless sorted otherwise. Dates are in UTC.".into()),
        },
    )
}

/// Every column of one sync, for its page.
struct SyncView {
    id: i64,
    tenant_id: String,
    sync_type: String,
    status: String,
    badge: &'static str,
    success: String,
    started: String,
    ended: String,
    duration: String,
    progress: i64,
    counts: Vec<(&'static str, i64)>,
    process_id: String,
    graphdb_version: String,
    graphdb_promoted: String,
    updated: String,
    created_by: String,
    error_details: Option<String>,
}

impl From<&SyncRecord> for SyncView {
    fn from(s: &SyncRecord) -> Self {
        let opt = |v: Option<String>| v.unwrap_or_else(|| "—".into());
        Self {
            id: s.id,
            tenant_id: s.tenant_id.clone(),
            sync_type: s.sync_type.clone(),
            status: s.status.clone(),
            badge: badge(&s.status),
            success: opt(s.success.map(|b| b.to_string())),
            started: when(s.start_time),
            ended: when_or(s.end_time, "—"),
            duration: duration_text(s.elapsed(service::sync::model::now())),
            progress: s.progress_percentage,
            counts: vec![
                ("Users", s.users_count),
                ("Groups", s.groups_count),
                ("Apps", s.apps_count),
                ("Policies", s.policies_count),
                ("Devices", s.devices_count),
            ],
            process_id: opt(s.process_id.clone()),
            graphdb_version: opt(s.graphdb_version.map(|v| v.to_string())),
            graphdb_promoted: opt(s.graphdb_promoted.map(|v| v.to_string())),
            updated: s
                .updated_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            created_by: opt(s.created_by.clone()),
            error_details: s.error_details.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "sync_detail.html")]
struct DetailPage {
    layout: Layout,
    sync: SyncView,
    cancel: Option<FormView>,
}

fn cancel_form(s: &SyncRecord) -> FormView {
    FormView::danger_button(format!("/sync/{}/cancel", s.id), "Cancel sync…")
}

async fn detail(
    ctx: PageContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let record = runs::get(&state.db, sync_id(&id).map_err(not_found)?).await?;
    let running = record.status() == SyncStatus::Running;
    ctx.render(&DetailPage {
        layout: ctx.layout(format!("Sync #{}", record.id)),
        cancel: (running && ctx.may(Permission::SyncWrite)).then(|| cancel_form(&record)),
        sync: SyncView::from(&record),
    })
}

/// Cancels once confirmed; before that, asks (the confirmation component) what the
/// orchestrator will meet.
async fn cancel(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    id: web::Path<String>,
    PageForm(form): PageForm<ConfirmForm>,
) -> Result<HttpResponse, PageError> {
    let id = sync_id(&id).map_err(not_found)?;
    let record = runs::get(&state.db, id).await?;
    if !form.is_given() {
        if record.status() != SyncStatus::Running {
            return Ok(ctx.redirect(
                &format!("/sync/{id}"),
                Flash::error(format!("The sync #{id} is {} already.", record.status)),
            ));
        }
        return ctx.confirm(
            Confirmation::new(
                format!("Cancel the running sync #{id} of {}?", record.tenant_id),
                format!("/sync/{id}/cancel"),
                "Cancel sync",
                format!("/sync/{id}"),
            )
            .what(format!(
                "The sync is marked canceled at once. The orchestrator of {} learns of it at \
                 its next report, which is refused.",
                record.tenant_id
            )),
        );
    }
    match runs::cancel(&state.db, &acting.actor(), acting.ip(), id).await {
        Ok(s) => {
            state.sync_live.poke();
            Ok(ctx.redirect(
                "/sync",
                Flash::success(format!(
                    "The sync #{} of {} was canceled.",
                    s.id, s.tenant_id
                )),
            ))
        }
        Err(service::Error::Conflict { message, .. }) => Ok(ctx.redirect(
            &format!("/sync/{id}"),
            Flash::error(format!("Not canceled: {message}.")),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Registers the history and detail pages (`/sync/history` before `/sync/{id}`).
pub fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::SyncRead);
    r.page(Method::GET, "/sync/history", read, history)
        .page(Method::GET, "/sync/{id}", read, detail)
        .page(
            Method::POST,
            "/sync/{id}/cancel",
            Access::Permission(Permission::SyncWrite),
            cancel,
        );
}
