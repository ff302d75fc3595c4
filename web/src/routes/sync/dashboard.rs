//! `/sync`: a card per tenant, kept current by `static/sync.js` from `/sync/events`, and a
//! chart of each tenant's last 30 syncs. Without JavaScript the page is a snapshot that a
//! reload refreshes.

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use service::access::Permission;
use service::sync::TenantId;
use service::sync::live::cards;
use service::sync::query::recent;

use super::views::{CHART_HEIGHT, CHART_SLOTS, CardView, ChartView};
use crate::auth::Access;
use crate::error::PageError;
use crate::pages::{Layout, PageContext};
use crate::routes::router::Router;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "sync_dashboard.html")]
struct DashboardPage {
    layout: Layout,
    cards: Vec<CardView>,
    /// The empty card the script copies for a tenant that appears later.
    blank: Vec<CardView>,
    charts: Vec<ChartView>,
    can_cancel: bool,
    chart_width: u32,
    chart_height: u32,
}

async fn dashboard(
    ctx: PageContext,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let now = service::sync::model::now();
    let mut all = cards(&state.db).await?;
    // The user's default tenant (a preference) opens the dashboard, before the others.
    if let Some(first) = ctx.ui().default_tenant.as_deref() {
        all.sort_by_key(|c| c.tenant_id != first);
    }
    let mut charts = Vec::with_capacity(all.len());
    for card in &all {
        let syncs = recent(&state.db, &card.tenant_id, u64::from(CHART_SLOTS)).await?;
        charts.push(ChartView::new(&card.tenant_id, &syncs, now));
    }
    ctx.render(&DashboardPage {
        layout: ctx.layout("Sync"),
        cards: all.iter().map(|c| CardView::new(c, now)).collect(),
        blank: vec![CardView {
            status: "never".into(),
            badge: "badge",
            ..CardView::default()
        }],
        charts,
        can_cancel: ctx.may(Permission::SyncWrite),
        chart_width: CHART_SLOTS * 10,
        chart_height: CHART_HEIGHT,
    })
}

/// One tenant's chart, alone: the page's script swaps it in when a sync of the tenant ends.
#[derive(Template)]
#[template(path = "sync_chart.html")]
struct ChartFragment {
    chart: ChartView,
    chart_width: u32,
    chart_height: u32,
}

#[derive(Debug, Deserialize)]
struct ChartQuery {
    tenant_id: Option<String>,
}

async fn chart(
    state: web::Data<AppState>,
    query: web::Query<ChartQuery>,
) -> Result<HttpResponse, PageError> {
    let tenant = TenantId::parse(query.tenant_id.as_deref().unwrap_or_default(), "tenant_id")
        .map_err(|e| PageError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    let now = service::sync::model::now();
    let syncs = recent(&state.db, tenant.as_str(), u64::from(CHART_SLOTS)).await?;
    let fragment = ChartFragment {
        chart: ChartView::new(tenant.as_str(), &syncs, now),
        chart_width: CHART_SLOTS * 10,
        chart_height: CHART_HEIGHT,
    };
    let html = fragment.render().map_err(|e| {
        tracing::error!(error = %e, "the chart failed to render");
        PageError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The chart could not be rendered.",
        )
    })?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(html))
}

/// Registers the dashboard and its chart fragment.
pub fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::SyncRead);
    r.page(Method::GET, "/sync", read, dashboard)
        .page(Method::GET, "/sync/chart", read, chart);
}
