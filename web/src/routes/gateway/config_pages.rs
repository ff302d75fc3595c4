//! Config pages: the list with the new-key form (`/gateway/config`) and one key
//! (`/gateway/config/{key}`): its value to edit, delete, and its history from the audit trail
//! with the old and the new value of each change.

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use serde_json::Value;
use service::access::Permission;
use service::audit::{self, AuditFilter, AuditKey, NEWEST_FIRST};
use service::gateway::config::{self, BY_KEY, ConfigItem, ConfigKey};
use service::pagination::{Page, PageRequest, Sort};

use super::config_form::ConfigForm;
use crate::auth::{Access, Acting};
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::{
    Cell, Confirmation, FormView, Layout, ListRow, PageContext, PagerQuery, Row, Table, rows,
};
use crate::routes::form_input::when;
use crate::routes::forms::{ConfirmForm, PageForm, Refused};
use crate::routes::router::Router;
use crate::state::AppState;

/// The list's address.
pub const LIST: &str = "/gateway/config";

/// Changes shown per page of a key's history.
const HISTORY_PAGE: u64 = 20;

/// Longest JSON shown for one side of a change.
const SHOWN_JSON: usize = 2000;

#[derive(Debug, Deserialize)]
struct ListQuery {
    sort: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
}

/// A key in the list.
impl ListRow for ConfigItem {
    fn row(&self, _: &()) -> Row {
        vec![
            Cell::mono(&self.key).linked(format!("{LIST}/{}", self.key)),
            Cell::short(self.value.to_string(), 60),
            Cell::short(self.description.clone().unwrap_or_default(), 60),
            Cell::time(when(self.updated_at)),
            Cell::text(self.updated_by.clone().unwrap_or_default()),
        ]
    }
}

/// The list page with, for writers, the new-key form.
#[derive(Template)]
#[template(path = "gateway_config_list.html")]
struct ListView {
    layout: Layout,
    table: Table,
    create: Option<FormView>,
}

fn new_form(form: &ConfigForm) -> FormView {
    FormView::new(LIST, "Create key", form.new_fields())
}

async fn render_list(
    ctx: &PageContext,
    state: &AppState,
    query: &ListQuery,
    at: &PagerQuery,
    status: StatusCode,
    create: FormView,
) -> Result<HttpResponse, PageError> {
    let sorted = Sort::parse(query.sort.as_deref(), BY_KEY);
    let request = PageRequest::parse_both(
        query.limit.or(Some(ctx.ui().page_size)),
        query.cursor.as_deref(),
        at.before.as_deref(),
    );
    let (found, request, refused) = match (sorted, request) {
        (Ok(sort), Ok(request)) => (
            config::list(&state.db, sort, &request).await?,
            Some(request),
            None,
        ),
        (Err(e @ service::Error::Validation(_)), _)
        | (_, Err(e @ service::Error::Validation(_))) => (Page::empty(), None, Some(e)),
        (Err(e), _) | (_, Err(e)) => return Err(e.into()),
    };
    let sort = Sort::parse(query.sort.as_deref(), BY_KEY).unwrap_or(BY_KEY);
    let kept = [("limit", query.limit.map(|l| l.to_string()))];
    let mut paged = kept.to_vec();
    paged.push(("sort", Some(sort.param())));
    let mut table = Table {
        columns: vec!["Key", "Value", "Description", "Updated", "By"],
        rows: rows(&found.items, &()),
        action: LIST.into(),
        empty: "No config keys yet.",
        ..Table::default()
    }
    .sortable(LIST, &kept, &[(0, "key")], &sort.param());
    if let Some(request) = &request {
        table = table.paginate(LIST, &paged, at, request, &found);
    }
    if let Some(err) = &refused {
        table = table.refused(err);
    }
    let status = if status == StatusCode::OK {
        table.status()
    } else {
        status
    };
    ctx.render_status(
        status,
        &ListView {
            layout: ctx.layout("Config"),
            table,
            create: ctx.may(Permission::GatewayWrite).then_some(create),
        },
    )
}

async fn list(
    ctx: PageContext,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
    at: web::Query<PagerQuery>,
) -> Result<HttpResponse, PageError> {
    let create = new_form(&ConfigForm::blank());
    render_list(&ctx, &state, &query, &at, StatusCode::OK, create).await
}

async fn create(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    PageForm(form): PageForm<ConfigForm>,
) -> Result<HttpResponse, PageError> {
    let created = match form.new_key() {
        Ok((key, input)) => {
            config::create(
                &state.db,
                &state.config_cache,
                &acting.actor(),
                acting.ip(),
                &key,
                input,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match created {
        Ok(item) => Ok(ctx.redirect(
            &page_of(&item.key),
            Flash::success(format!("The config key {} was created.", item.key)),
        )),
        Err(err) => {
            let refused = Refused::sort(err)?;
            let query = ListQuery {
                sort: None,
                limit: None,
                cursor: None,
            };
            let at = PagerQuery::default();
            let form = new_form(&form).with_error(&refused.error);
            render_list(&ctx, &state, &query, &at, refused.status, form).await
        }
    }
}

fn page_of(key: &str) -> String {
    format!("{LIST}/{key}")
}

/// The key a path names; a path that cannot be a key names none.
fn path_key(raw: &str) -> Result<ConfigKey, PageError> {
    ConfigKey::parse(raw, "key")
        .map_err(|_| service::Error::NotFound(format!("config key {raw}")).into())
}

/// One side of a change as the history shows it.
struct Side {
    value: String,
    description: String,
}

fn side(state: Option<&Value>) -> Side {
    match state.filter(|s| !s.is_null()) {
        None => Side {
            value: "(none)".into(),
            description: String::new(),
        },
        Some(s) => {
            let text = s
                .get("value")
                .map(|v| serde_json::to_string_pretty(v).unwrap_or_default())
                .unwrap_or_default();
            Side {
                value: if text.chars().count() > SHOWN_JSON {
                    format!("{}…", text.chars().take(SHOWN_JSON).collect::<String>())
                } else {
                    text
                },
                description: s
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            }
        }
    }
}

/// One change in the key's history.
struct Change {
    when: String,
    actor: String,
    action: &'static str,
    old: Side,
    new: Side,
}

impl From<audit::AuditRecord> for Change {
    fn from(r: audit::AuditRecord) -> Self {
        let details = r.details.unwrap_or(Value::Null);
        Self {
            when: when(r.timestamp),
            actor: r.actor,
            action: if r.action == config::AUDIT_DELETED {
                "deleted"
            } else {
                "updated"
            },
            old: side(details.get("old")),
            new: side(details.get("new")),
        }
    }
}

#[derive(Template)]
#[template(path = "gateway_config.html")]
struct KeyPage {
    layout: Layout,
    key: String,
    /// `None` when the key was deleted (its history stays).
    item: Option<KeyView>,
    history: Vec<Change>,
    older: Option<String>,
    edit: Option<FormView>,
    delete: Option<FormView>,
}

/// What the page shows of the stored key.
struct KeyView {
    updated: String,
    updated_by: String,
}

#[derive(Debug, Deserialize)]
struct HistoryQuery {
    cursor: Option<String>,
}

async fn render_key(
    ctx: &PageContext,
    state: &AppState,
    status: StatusCode,
    key: &ConfigKey,
    item: Option<&ConfigItem>,
    cursor: Option<&str>,
    edit: FormView,
) -> Result<HttpResponse, PageError> {
    let filter = AuditFilter {
        action_prefix: Some("config.".into()),
        target_id: Some(key.as_str().into()),
        ..AuditFilter::default()
    };
    let request: PageRequest<AuditKey> = PageRequest::parse(Some(HISTORY_PAGE), cursor)?;
    let history = audit::list(&state.db, &filter, NEWEST_FIRST, &request).await?;
    if item.is_none() && history.items.is_empty() {
        return Err(service::Error::NotFound(format!("config key {key}")).into());
    }
    let write = ctx.may(Permission::GatewayWrite) && item.is_some();
    let page = page_of(key.as_str());
    ctx.render_status(
        status,
        &KeyPage {
            layout: ctx.layout(format!("Config {key}")),
            key: key.to_string(),
            item: item.map(|i| KeyView {
                updated: when(i.updated_at),
                updated_by: i.updated_by.clone().unwrap_or_default(),
            }),
            older: history.next_cursor.map(|c| format!("{page}?cursor={c}")),
            history: history.items.into_iter().map(Change::from).collect(),
            edit: write.then_some(edit),
            delete: write.then(|| FormView::danger_button(format!("{page}/delete"), "Delete key…")),
        },
    )
}

fn edit_form(key: &ConfigKey, form: &ConfigForm) -> FormView {
    FormView::new(page_of(key.as_str()), "Save", form.edit_fields())
}

async fn show(
    ctx: PageContext,
    state: web::Data<AppState>,
    key: web::Path<String>,
    query: web::Query<HistoryQuery>,
) -> Result<HttpResponse, PageError> {
    let key = path_key(&key)?;
    let item = match config::get_stored(&state.db, &key).await {
        Ok(item) => Some(item),
        Err(service::Error::NotFound(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let form = item.as_ref().map(ConfigForm::current).unwrap_or_default();
    let edit = edit_form(&key, &form);
    render_key(
        &ctx,
        &state,
        StatusCode::OK,
        &key,
        item.as_ref(),
        query.cursor.as_deref(),
        edit,
    )
    .await
}

async fn save(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    key: web::Path<String>,
    PageForm(form): PageForm<ConfigForm>,
) -> Result<HttpResponse, PageError> {
    let key = path_key(&key)?;
    let item = config::get_stored(&state.db, &key).await?;
    let saved = match form.input() {
        Ok(input) => {
            config::put(
                &state.db,
                &state.config_cache,
                &acting.actor(),
                acting.ip(),
                &key,
                input,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => Ok(ctx.redirect(
            &page_of(key.as_str()),
            Flash::success(format!("The value of {key} was saved.")),
        )),
        Err(err) => {
            let refused = Refused::sort(err)?;
            let edit = edit_form(&key, &form).with_error(&refused.error);
            render_key(&ctx, &state, refused.status, &key, Some(&item), None, edit).await
        }
    }
}

/// Deletes the key once confirmed; before that, asks.
async fn delete(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    key: web::Path<String>,
    PageForm(form): PageForm<ConfirmForm>,
) -> Result<HttpResponse, PageError> {
    let key = path_key(&key)?;
    let item = config::get_stored(&state.db, &key).await?;
    if !form.is_given() {
        let page = page_of(key.as_str());
        return ctx.confirm(
            Confirmation::new(
                format!("Delete the config key {key}?"),
                format!("{page}/delete"),
                "Delete key",
                page,
            )
            .what(format!(
                "Every instance stops serving {key} within 5 seconds; readers get 404."
            ))
            .consequence(format!(
                "Its value ({} bytes of JSON) goes; the audit trail keeps it in the key's history.",
                item.value.to_string().len()
            )),
        );
    }
    config::delete(
        &state.db,
        &state.config_cache,
        &acting.actor(),
        acting.ip(),
        &key,
    )
    .await?;
    Ok(ctx.redirect(
        LIST,
        Flash::success(format!("The config key {key} was deleted.")),
    ))
}

/// Registers the config pages.
pub fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::GatewayRead);
    let write = Access::Permission(Permission::GatewayWrite);
    r.page(Method::GET, LIST, read, list)
        .page(Method::POST, LIST, write, create)
        .page(Method::GET, "/gateway/config/{key}", read, show)
        .page(Method::POST, "/gateway/config/{key}", write, save)
        .page(Method::POST, "/gateway/config/{key}/delete", write, delete);
}
