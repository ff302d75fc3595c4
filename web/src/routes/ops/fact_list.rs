//! The facts (`/ops/facts`): unexpired facts by target and namespace, with the time left
//! until each expires; a refused filter is shown under its field with `400`.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use service::access::Permission;
use service::orchestration::facts::{self, FactFilter, FactView};
use service::pagination::{Page, PageRequest};

use super::lists::{Found, both, key_filter, parsed};
use crate::auth::Access;
use crate::error::PageError;
use crate::pages::{Cell, FilterField, ListRow, PageContext, PagerQuery, Row, Table, rows};
use crate::routes::router::Router;
use crate::routes::views::ListPage;
use crate::state::AppState;

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
    let page = PageRequest::parse_both(query.limit, query.cursor.as_deref(), at.before.as_deref());
    let filter = both(
        key_filter(&query.target_id, "target_id"),
        key_filter(&query.namespace, "namespace"),
    )
    .map(|(target_id, namespace)| FactFilter {
        target_id,
        namespace,
    });
    let (found, request, refused): Found<FactView, _> = match parsed(both(filter, page))? {
        Ok((filter, page)) => (
            facts::list(&state.db, &filter, &page).await?,
            Some(page),
            None,
        ),
        Err(e) => (Page::empty(), None, Some(e)),
    };
    let mut table = Table {
        columns: vec!["Target", "Namespace", "Key", "Value", "Expires in"],
        rows: rows(&found.items, &()),
        filters: vec![
            FilterField::text("target_id", "Target", &query.target_id),
            FilterField::text("namespace", "Namespace", &query.namespace),
        ],
        action: "/ops/facts".into(),
        empty: "No unexpired facts match these filters. Engines record facts with PUT /api/ops/facts/{target_id}/{namespace}/{key}.",
        ..Table::default()
    };
    if let Some(page) = &request {
        let kept = [
            ("target_id", query.target_id.clone()),
            ("namespace", query.namespace.clone()),
            ("limit", query.limit.map(|l| l.to_string())),
        ];
        table = table.paginate("/ops/facts", &kept, &at, page, &found);
    }
    if let Some(err) = &refused {
        table = table.refused(err);
    }
    ctx.render_status(
        table.status(),
        &ListPage {
            layout: ctx.layout("Facts"),
            table,
            actions: Vec::new(),
            note: Some(
                "Facts past their TTL are hidden at once and deleted by the sweeper.".into(),
            ),
        },
    )
}

/// Registers the list.
pub(super) fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::OpsRead);
    r.page(Method::GET, "/ops/facts", read, fact_list);
}
