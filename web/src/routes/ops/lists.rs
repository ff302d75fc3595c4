//! The orchestration lists: runs (by status, newest first, with their duration and unit
//! counts) and resources (by type); the facts have [`super::fact_list`]. A refused filter
//! shows the list again with its error under the field and `400`, as every list does.

use std::collections::{BTreeMap, HashMap};

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use service::access::Permission;
use service::orchestration::resources::{self, ResourceView};
use service::orchestration::runs::{self, RunView};
use service::orchestration::{OpsKey, RunStatus};
use service::pagination::{Page, PageRequest};

use super::pages::{duration, segment, status_badge, time};
use crate::auth::Access;
use crate::error::PageError;
use crate::pages::{Cell, FilterField, ListRow, PageContext, PagerQuery, Row, Table, rows};
use crate::routes::router::Router;
use crate::routes::views::ListPage;
use crate::state::AppState;

/// What a list found: the page and the request it answers, or the refusal of its query
/// (input to show under the filters; anything else is the error page).
pub(super) type Found<T, K> = (Page<T>, Option<PageRequest<K>>, Option<service::Error>);

/// Sorts the outcome of parsing a list's query: a refusal of the input is shown on the
/// list, any other error is not.
pub(super) fn parsed<Q>(parse: service::Result<Q>) -> Result<Result<Q, service::Error>, PageError> {
    match parse {
        Ok(q) => Ok(Ok(q)),
        Err(e @ service::Error::Validation(_)) => Ok(Err(e)),
        Err(e) => Err(e.into()),
    }
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
            Cell::time(time(Some(self.created_at))),
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
    let parse = query
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| RunStatus::parse(s, "status"))
        .transpose()
        .and_then(|status| {
            let page = PageRequest::parse_both(
                query.limit,
                query.cursor.as_deref(),
                at.before.as_deref(),
            )?;
            Ok((status, page))
        });
    let (found, request, refused): Found<RunView, _> = match parsed(parse)? {
        Ok((status, page)) => (
            runs::list(&state.db, status, &page).await?,
            Some(page),
            None,
        ),
        Err(e) => (Page::empty(), None, Some(e)),
    };
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
        empty: "No runs match this filter. Orchestration engines record runs with POST /api/ops/runs.",
        ..Table::default()
    };
    if let Some(page) = &request {
        let kept = [
            ("status", query.status.clone()),
            ("limit", query.limit.map(|l| l.to_string())),
        ];
        table = table.paginate("/ops/runs", &kept, &at, page, &found);
    }
    if let Some(err) = &refused {
        table = table.refused(err);
    }
    ctx.render_status(
        table.status(),
        &ListPage {
            layout: ctx.layout("Runs"),
            table,
            actions: vec![
                ("Resources", "/ops/resources".to_string()),
                ("Facts", "/ops/facts".to_string()),
            ],
            note: Some(
                "Runs recorded by orchestration engines through /api/ops, newest first.".into(),
            ),
        },
    )
}

/// A text filter as sent: none when empty, else checked as the key it filters on.
pub(super) fn key_filter(raw: &Option<String>, field: &str) -> service::Result<Option<String>> {
    raw.as_deref()
        .filter(|v| !v.is_empty())
        .map(|v| OpsKey::parse(v, field).map(OpsKey::into_string))
        .transpose()
}

/// Both parsed values, or every field error of the two (so each shows under its filter).
pub(super) fn both<A, B>(a: service::Result<A>, b: service::Result<B>) -> service::Result<(A, B)> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (Err(service::Error::Validation(mut x)), Err(service::Error::Validation(y))) => {
            x.extend(y);
            Err(service::Error::Validation(x))
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
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
            Cell::time(time(self.last_applied)),
        ]
    }
}

async fn resource_list(
    ctx: PageContext,
    state: web::Data<AppState>,
    query: web::Query<ResourceListQuery>,
    at: web::Query<PagerQuery>,
) -> Result<HttpResponse, PageError> {
    let page = PageRequest::parse_both(query.limit, query.cursor.as_deref(), at.before.as_deref());
    let parse = both(key_filter(&query.resource_type, "type"), page);
    let (found, request, refused): Found<ResourceView, _> = match parsed(parse)? {
        Ok((chosen, page)) => (
            resources::list(&state.db, chosen.as_deref(), &page).await?,
            Some(page),
            None,
        ),
        Err(e) => (Page::empty(), None, Some(e)),
    };
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
        empty: "No resource state is recorded. Engines record it with PUT /api/ops/resources/{type}/{name}.",
        ..Table::default()
    };
    if let Some(page) = &request {
        let kept = [
            ("type", query.resource_type.clone()),
            ("limit", query.limit.map(|l| l.to_string())),
        ];
        table = table.paginate("/ops/resources", &kept, &at, page, &found);
    }
    if let Some(err) = &refused {
        table = table.refused(err);
    }
    ctx.render_status(
        table.status(),
        &ListPage {
            layout: ctx.layout("Resources"),
            table,
            actions: Vec::new(),
            note: Some(
                "The state orchestration engines recorded for each resource, by type and name."
                    .into(),
            ),
        },
    )
}

/// Registers the lists.
pub(super) fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::OpsRead);
    r.page(Method::GET, "/ops/runs", read, run_list).page(
        Method::GET,
        "/ops/resources",
        read,
        resource_list,
    );
}
