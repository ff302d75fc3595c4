//! One MCP server (`/gateway/mcp-servers/{id}`): what its checks found, "Check now", its
//! tools with a per-tool diff against the approved set, approval, edit and delete.

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, web};
use askama::Template;
use serde_json::Value;
use service::access::Permission;
use service::gateway::servers;
use service::gateway::{McpServerSummary, ToolState, ToolStatus, check, pins};

use super::form::McpServerForm;
use super::list_page::{LIST, status_cell};
use crate::auth::{Access, Acting};
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::{Cell, Confirmation, FormView, Layout, PageContext, count_of};
use crate::routes::form_input::{when, when_or};
use crate::routes::forms::{ConfirmForm, PageForm, Refused};
use crate::routes::router::Router;
use crate::state::AppState;

/// Longest JSON shown for one side of a change.
const SHOWN_JSON: usize = 4000;

/// One field of a tool that differs from its approved form.
struct FieldChange {
    field: String,
    before: String,
    after: String,
}

/// One tool as the page shows it.
struct ToolRow {
    name: String,
    status: &'static str,
    badge: &'static str,
    pinned_hash: String,
    current_hash: String,
    changes: Vec<FieldChange>,
}

fn shown(value: Option<&Value>) -> String {
    let Some(value) = value else {
        return "(absent)".into();
    };
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    if text.chars().count() > SHOWN_JSON {
        format!("{}…", text.chars().take(SHOWN_JSON).collect::<String>())
    } else {
        text
    }
}

/// The fields in which `current` differs from `pinned` (a whole side when the other is
/// missing).
fn changes(pinned: Option<&Value>, current: Option<&Value>) -> Vec<FieldChange> {
    let (Some(Value::Object(p)), Some(Value::Object(c))) = (pinned, current) else {
        return vec![FieldChange {
            field: "the tool".into(),
            before: shown(pinned),
            after: shown(current),
        }];
    };
    let mut fields: Vec<&String> = p.keys().chain(c.keys()).collect();
    fields.sort();
    fields.dedup();
    fields
        .into_iter()
        .filter(|f| p.get(*f) != c.get(*f))
        .map(|f| FieldChange {
            field: f.clone(),
            before: shown(p.get(f)),
            after: shown(c.get(f)),
        })
        .collect()
}

impl From<ToolState> for ToolRow {
    fn from(t: ToolState) -> Self {
        let (status, badge) = match t.status {
            ToolStatus::Pinned => ("pinned", "badge ok"),
            ToolStatus::Changed => ("changed", "badge bad"),
            ToolStatus::Added => ("added", "badge bad"),
            ToolStatus::Removed => ("removed", "badge bad"),
        };
        Self {
            changes: if t.status == ToolStatus::Pinned {
                Vec::new()
            } else {
                changes(t.pinned.as_ref(), t.current.as_ref())
            },
            name: t.name,
            status,
            badge,
            pinned_hash: t.pinned_hash.unwrap_or_default(),
            current_hash: t.current_hash.unwrap_or_default(),
        }
    }
}

/// What the page shows about the server.
struct ServerView {
    id: String,
    name: String,
    url: String,
    transport: String,
    description: String,
    enabled: bool,
    header_names: String,
    status: Cell,
    last_error: String,
    last_checked: String,
    latency: String,
    protocol_version: String,
    server_info: String,
    tool_count: String,
    drift: bool,
    created: String,
    updated: String,
}

impl From<&McpServerSummary> for ServerView {
    fn from(s: &McpServerSummary) -> Self {
        Self {
            id: s.id.to_string(),
            name: s.name.clone(),
            url: s.url.clone(),
            transport: s.transport.clone(),
            description: s.description.clone().unwrap_or_default(),
            enabled: s.enabled,
            header_names: s.header_names.join(", "),
            status: status_cell(s),
            last_error: s.last_error.clone().unwrap_or_default(),
            last_checked: when_or(s.last_checked_at, "never"),
            latency: s
                .last_latency_ms
                .map(|ms| format!("{ms} ms"))
                .unwrap_or_default(),
            protocol_version: s.protocol_version.clone().unwrap_or_default(),
            server_info: s
                .server_info
                .as_ref()
                .map(|i| format!("{} {}", i.name, i.version))
                .unwrap_or_default(),
            tool_count: s.tool_count.map(|n| n.to_string()).unwrap_or_default(),
            drift: s.tools_drift,
            created: when(s.created_at),
            updated: when(s.updated_at),
        }
    }
}

#[derive(Template)]
#[template(path = "mcp_server.html")]
struct ServerPage {
    layout: Layout,
    server: ServerView,
    tools: Vec<ToolRow>,
    write: bool,
    edit: Option<FormView>,
    delete: Option<FormView>,
}

fn page_of(id: &str) -> String {
    format!("{LIST}/{id}")
}

fn edit_form(s: &McpServerSummary, sent: &McpServerForm) -> FormView {
    FormView::new(page_of(&s.id.to_string()), "Save changes", sent.fields())
}

async fn render(
    ctx: &PageContext,
    state: &AppState,
    status: StatusCode,
    s: &McpServerSummary,
    edit: FormView,
) -> Result<HttpResponse, PageError> {
    let (_, tools) = pins::tools(&state.db, &s.id.to_string()).await?;
    let write = ctx.may(Permission::GatewayWrite);
    ctx.render_status(
        status,
        &ServerPage {
            layout: ctx.layout(format!("MCP server {}", s.name)),
            server: ServerView::from(s),
            tools: tools.into_iter().map(ToolRow::from).collect(),
            write,
            edit: write.then_some(edit),
            delete: write.then(|| {
                FormView::danger_button(
                    format!("{}/delete", page_of(&s.id.to_string())),
                    "Delete MCP server…",
                )
            }),
        },
    )
}

async fn show(
    ctx: PageContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = servers::get(&state.db, &id).await?;
    let edit = edit_form(&s, &McpServerForm::current(&s));
    render(&ctx, &state, StatusCode::OK, &s, edit).await
}

async fn update(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    id: web::Path<String>,
    PageForm(form): PageForm<McpServerForm>,
) -> Result<HttpResponse, PageError> {
    let s = servers::get(&state.db, &id).await?;
    let saved = match form.parse() {
        Ok(input) => {
            servers::update(
                &state.db,
                &state.gateway,
                &acting.actor(),
                acting.ip(),
                &id,
                input,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match saved {
        Ok(after) => Ok(ctx.redirect(
            &page_of(&id),
            Flash::success(format!("The changes to {} were saved.", after.name)),
        )),
        Err(err) => {
            let refused = Refused::sort(err)?;
            let edit = edit_form(&s, &form).with_error(&refused.error);
            render(&ctx, &state, refused.status, &s, edit).await
        }
    }
}

/// Checks the server now, through the same code path as the API and the background checker.
async fn check_now(
    ctx: PageContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = check::check(&state.db, &state.gateway, &id).await?;
    let flash = match (s.last_status.as_deref(), &s.last_error) {
        (Some("reachable"), None) if s.tools_drift => Flash::error(format!(
            "{} answered, but its tools differ from the approved set: see the tools below.",
            s.name
        )),
        (Some("reachable"), None) => Flash::success(format!(
            "{} answered with {} tools, as approved.",
            s.name,
            s.tool_count.unwrap_or(0)
        )),
        (_, Some(reason)) => Flash::error(format!("The check of {} failed: {reason}", s.name)),
        _ => Flash::error(format!("{} was not checked.", s.name)),
    };
    Ok(ctx.redirect(&page_of(&id), flash))
}

/// Approves the current tools once confirmed; before that, asks, naming what changes.
async fn approve(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    id: web::Path<String>,
    PageForm(form): PageForm<ConfirmForm>,
) -> Result<HttpResponse, PageError> {
    let (s, tools) = pins::tools(&state.db, &id).await?;
    if !form.is_given() {
        let differing: Vec<String> = tools
            .iter()
            .filter(|t| t.status != ToolStatus::Pinned)
            .map(|t| format!("{} ({:?})", t.name, t.status).to_lowercase())
            .collect();
        let page = page_of(&id);
        return ctx.confirm(
            Confirmation::new(
                format!("Approve the tools of {}?", s.name),
                format!("{page}/approve"),
                "Approve tools",
                page,
            )
            .what(
                "Agents read a tool's description as an instruction. Approving pins the tools \
                 exactly as the server lists them now; later checks compare with this set.",
            )
            .consequence(format!(
                "{} not as approved: {}.",
                count_of(differing.len() as u64, "tool is", "tools are"),
                differing.join(", ")
            )),
        );
    }
    match pins::approve(&state.db, &acting.actor(), acting.ip(), &id).await {
        Ok(s) => Ok(ctx.redirect(
            &page_of(&id),
            Flash::success(format!("The tools of {} are approved and pinned.", s.name)),
        )),
        Err(e @ service::Error::Conflict { .. }) => {
            Ok(ctx.redirect(&page_of(&id), Flash::error(e.to_string())))
        }
        Err(e) => Err(e.into()),
    }
}

/// Deletes the server once confirmed; before that, asks.
async fn delete(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    id: web::Path<String>,
    PageForm(form): PageForm<ConfirmForm>,
) -> Result<HttpResponse, PageError> {
    let (s, tools) = pins::tools(&state.db, &id).await?;
    if !form.is_given() {
        let page = page_of(&id);
        return ctx.confirm(
            Confirmation::new(
                format!("Delete the MCP server {}?", s.name),
                format!("{page}/delete"),
                "Delete MCP server",
                page,
            )
            .what(format!(
                "{} is no longer checked, and its saved headers are deleted with it.",
                s.url
            ))
            .consequence(format!(
                "The pins of its {} go too; created again, its tools are pinned afresh.",
                count_of(tools.len() as u64, "tool", "tools")
            )),
        );
    }
    servers::delete(&state.db, &acting.actor(), acting.ip(), &id).await?;
    Ok(ctx.redirect(
        LIST,
        Flash::success(format!("The MCP server {} was deleted.", s.name)),
    ))
}

/// Registers the pages of one server (after `…/new`).
pub fn routes(r: &mut Router) {
    let write = Access::Permission(Permission::GatewayWrite);
    r.page(
        Method::GET,
        "/gateway/mcp-servers/{id}",
        Access::Permission(Permission::GatewayRead),
        show,
    )
    .page(Method::POST, "/gateway/mcp-servers/{id}", write, update)
    .page(
        Method::POST,
        "/gateway/mcp-servers/{id}/check",
        write,
        check_now,
    )
    .page(
        Method::POST,
        "/gateway/mcp-servers/{id}/approve",
        write,
        approve,
    )
    .page(
        Method::POST,
        "/gateway/mcp-servers/{id}/delete",
        write,
        delete,
    );
}
