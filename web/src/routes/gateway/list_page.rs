//! MCP server pages: the list (`/gateway/mcp-servers`) and creating one (`…/new`).

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use service::access::Permission;
use service::gateway::McpServerSummary;
use service::gateway::servers::{self, BY_NAME, McpServerFilter};
use service::pagination::{Page, PageRequest, Sort};

use super::form::McpServerForm;
use crate::auth::{Access, Acting};
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::{
    Cell, FilterField, FormView, ListRow, PageContext, PagerQuery, Row, Table, rows,
};
use crate::routes::form_input::when_or;
use crate::routes::forms::PageForm;
use crate::routes::router::Router;
use crate::routes::views::{FormPage, ListPage};
use crate::state::AppState;

/// The list's address.
pub const LIST: &str = "/gateway/mcp-servers";

/// The statuses the list filters on.
const STATUSES: &[(&str, &str)] = &[
    ("reachable", "reachable"),
    ("unreachable", "unreachable"),
    ("error", "error"),
    ("not_checkable", "not checkable"),
    ("unchecked", "never checked"),
];

#[derive(Debug, Deserialize)]
struct ListQuery {
    status: Option<String>,
    drift: Option<String>,
    sort: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
}

/// The badge of a server's status.
pub fn status_cell(s: &McpServerSummary) -> Cell {
    match s.last_status.as_deref() {
        Some("reachable") if s.last_error.is_some() => {
            Cell::badge("reachable (last check failed)", "badge warn")
        }
        Some("reachable") => Cell::badge("reachable", "badge ok"),
        Some(status @ ("unreachable" | "error")) => Cell::badge(status, "badge bad"),
        Some("not_checkable") => Cell::badge("not checkable", "badge"),
        Some(other) => Cell::badge(other, "badge"),
        None => Cell::text("never checked"),
    }
}

/// A server in the list.
impl ListRow for McpServerSummary {
    fn row(&self, _: &()) -> Row {
        let s = self;
        vec![
            Cell::short(&s.name, 40).linked(format!("{LIST}/{}", s.id)),
            Cell::short(&s.url, 40),
            Cell::text(&s.transport),
            status_cell(s),
            Cell::text(s.tool_count.map(|n| n.to_string()).unwrap_or_default()),
            if s.tools_drift {
                Cell::badge("drift: approve or investigate", "badge bad")
            } else if s.tool_count.is_some() {
                Cell::badge("as approved", "badge ok")
            } else {
                Cell::text("")
            },
            Cell::time(when_or(s.last_checked_at, "never")),
        ]
    }
}

fn parse(
    query: &ListQuery,
    at: &PagerQuery,
    page_size: u64,
) -> Result<(McpServerFilter, PageRequest<String>), service::Error> {
    let status = query.status.clone().filter(|s| !s.is_empty());
    if let Some(s) = &status
        && !STATUSES.iter().any(|(v, _)| v == s)
    {
        return Err(service::Error::invalid(
            "status",
            "must be reachable, unreachable, error, not_checkable or unchecked",
        ));
    }
    let drift = match query.drift.as_deref().unwrap_or_default() {
        "" => None,
        "true" => Some(true),
        "false" => Some(false),
        _ => return Err(service::Error::invalid("drift", "must be true or false")),
    };
    let page = PageRequest::parse_both(
        query.limit.or(Some(page_size)),
        query.cursor.as_deref(),
        at.before.as_deref(),
    )?;
    Ok((McpServerFilter { status, drift }, page))
}

async fn list(
    ctx: PageContext,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
    at: web::Query<PagerQuery>,
) -> Result<HttpResponse, PageError> {
    let sorted = Sort::parse(query.sort.as_deref(), BY_NAME);
    let (found, request, refused) = match (sorted, parse(&query, &at, ctx.ui().page_size)) {
        (Ok(sort), Ok((filter, request))) => (
            servers::list(&state.db, &filter, sort, &request).await?,
            Some(request),
            None,
        ),
        (Err(e @ service::Error::Validation(_)), _)
        | (_, Err(e @ service::Error::Validation(_))) => (Page::empty(), None, Some(e)),
        (Err(e), _) | (_, Err(e)) => return Err(e.into()),
    };
    let sort = Sort::parse(query.sort.as_deref(), BY_NAME).unwrap_or(BY_NAME);
    let kept = [
        ("status", query.status.clone()),
        ("drift", query.drift.clone()),
        ("limit", query.limit.map(|l| l.to_string())),
    ];
    let mut paged = kept.to_vec();
    paged.push(("sort", Some(sort.param())));
    let mut table = Table {
        columns: vec![
            "Name",
            "URL",
            "Transport",
            "Status",
            "Tools",
            "Tool pins",
            "Last checked",
        ],
        rows: rows(&found.items, &()),
        filters: vec![
            FilterField::select("status", "Status", &query.status, STATUSES),
            FilterField::select(
                "drift",
                "Tool pins",
                &query.drift,
                &[("true", "drifted"), ("false", "as approved")],
            ),
        ],
        action: LIST.into(),
        empty: "No MCP servers match these filters.",
        ..Table::default()
    }
    .sortable(LIST, &kept, &[(0, "name")], &sort.param());
    if let Some(request) = &request {
        table = table.paginate(LIST, &paged, &at, request, &found);
    }
    let write = ctx.may(Permission::GatewayWrite);
    if write {
        table = table.add_first("New MCP server", format!("{LIST}/new"));
    }
    if let Some(err) = &refused {
        table = table.refused(err);
    }
    ctx.render_status(
        table.status(),
        &ListPage {
            layout: ctx.layout("MCP servers"),
            table,
            actions: if write {
                vec![("New MCP server", format!("{LIST}/new"))]
            } else {
                vec![]
            },
            note: Some(
                "Each enabled server is checked in the background (METADECK_MCP_CHECK_SECONDS). The first good check pins its tools; a tool added, removed or changed later shows as drift until approved.".into(),
            ),
        },
    )
}

fn new_form(form: &McpServerForm) -> FormView {
    FormView::new(format!("{LIST}/new"), "Create MCP server", form.fields())
}

async fn new_page(ctx: PageContext) -> Result<HttpResponse, PageError> {
    ctx.render(&FormPage {
        layout: ctx.layout("New MCP server"),
        form: new_form(&McpServerForm::blank()),
        intro: Some(
            "Check it from its page once created: the first good check pins its tools.".into(),
        ),
    })
}

async fn create(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    PageForm(form): PageForm<McpServerForm>,
) -> Result<HttpResponse, PageError> {
    let created = match form.parse() {
        Ok(input) => {
            servers::create(
                &state.db,
                &state.gateway,
                &acting.actor(),
                acting.ip(),
                input,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match created {
        Ok(s) => Ok(ctx.redirect(
            &format!("{LIST}/{}", s.id),
            Flash::success(format!("The MCP server {} was created.", s.name)),
        )),
        Err(e) => ctx.form_again(e, "New MCP server", new_form(&form)),
    }
}

/// Registers the list and creation pages (before `…/{id}`, which would match `new`).
pub fn routes(r: &mut Router) {
    let write = Access::Permission(Permission::GatewayWrite);
    r.page(
        Method::GET,
        LIST,
        Access::Permission(Permission::GatewayRead),
        list,
    )
    .page(Method::GET, "/gateway/mcp-servers/new", write, new_page)
    .page(Method::POST, "/gateway/mcp-servers/new", write, create);
}
