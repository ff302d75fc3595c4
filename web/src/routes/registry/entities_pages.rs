//! The entity list (`/registry/entities`) with an enable / disable toggle per entity.

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use service::access::Permission;
use service::pagination::{Page, PageRequest, Sort};
use service::registry::{BY_ENTITY_ID, EntityFilter, EntityKey, EntitySort, EntityView, entities};

use crate::auth::{Access, Acting};
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::{
    BulkAction, Cell, Confirmation, FilterField, ListRow, PageContext, PagerQuery, Row, Table,
};
use crate::routes::bulk::{self, BulkList, Described};
use crate::routes::forms::{ConfirmForm, PageForm};
use crate::routes::router::Router;
use crate::routes::views::ListPage;
use crate::state::AppState;

const LIST: &str = "/registry/entities";

#[derive(Debug, Deserialize)]
struct ListQuery {
    device_id: Option<String>,
    domain: Option<String>,
    platform: Option<String>,
    disabled: Option<String>,
    sort: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
}

fn bad_request(message: impl Into<String>) -> PageError {
    PageError::new(StatusCode::BAD_REQUEST, message)
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|q| q.trim_start_matches('=').to_string())
        .unwrap_or_default()
}

/// How an entity list shows its entities: the entity list adds the device column and, for
/// those who may change entities, the enable / disable button; a device's page neither.
#[derive(Debug, Clone, Copy)]
pub struct EntityRows<'a> {
    /// Adds the device column.
    pub show_device: bool,
    /// The page to come back to after the enable / disable button; no button without it.
    pub toggle: Option<&'a str>,
}

/// An entity in an entity list.
impl ListRow<EntityRows<'_>> for EntityView {
    fn row(&self, how: &EntityRows<'_>) -> Row {
        let (e, show_device, toggle) = (self, how.show_device, how.toggle);
        let mut row = vec![Cell::link(&e.entity_id, format!("{LIST}/{}", e.entity_id))];
        if show_device {
            row.push(match &e.device_id {
                Some(d) => Cell::link(d, format!("/registry/devices/{d}")),
                None => Cell::text(""),
            });
        }
        row.push(Cell::text(&e.domain));
        row.push(Cell::text(e.platform.clone().unwrap_or_default()));
        row.push(if e.disabled {
            Cell::badge("disabled", "badge bad")
        } else {
            Cell::badge("enabled", "badge ok")
        });
        if let Some(back) = toggle {
            let (label, to) = if e.disabled {
                ("Enable…", "false")
            } else {
                ("Disable…", "true")
            };
            row.push(Cell::post_button(
                label,
                format!(
                    "{LIST}/{}/disabled?to={to}&back={}",
                    e.entity_id,
                    urlencode(back)
                ),
            ));
        }
        row
    }
}

/// The sort, the filter and the page an entity-list query asks for; a bad value is an error
/// under its field.
fn parse(
    query: &ListQuery,
    at: &PagerQuery,
    page_size: u64,
) -> Result<(EntitySort, EntityFilter, PageRequest<EntityKey>), service::Error> {
    let sort = Sort::parse(query.sort.as_deref(), BY_ENTITY_ID)?;
    let disabled = match query.disabled.as_deref().unwrap_or_default() {
        "" => None,
        "true" => Some(true),
        "false" => Some(false),
        _ => {
            return Err(service::Error::invalid(
                "disabled",
                "must be enabled or disabled",
            ));
        }
    };
    let page = PageRequest::parse_both(
        query.limit.or(Some(page_size)),
        query.cursor.as_deref(),
        at.before.as_deref(),
    )?;
    let filter = EntityFilter {
        device_id: query.device_id.clone(),
        domain: query.domain.clone(),
        platform: query.platform.clone(),
        disabled,
    };
    Ok((sort, filter, page))
}

async fn list(
    ctx: PageContext,
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
    at: web::Query<PagerQuery>,
) -> Result<HttpResponse, PageError> {
    let (found, request, refused) = match parse(&query, &at, ctx.ui().page_size) {
        Ok((sort, filter, request)) => (
            entities::list(&state.db, &filter, sort, &request).await?,
            Some(request),
            None,
        ),
        Err(e @ service::Error::Validation(_)) => (Page::empty(), None, Some(e)),
        Err(e) => return Err(e.into()),
    };
    let sort = Sort::parse(query.sort.as_deref(), BY_ENTITY_ID).unwrap_or(BY_ENTITY_ID);
    let here = match req.query_string() {
        "" => LIST.to_string(),
        q => format!("{LIST}?{q}"),
    };
    let write = ctx.may(Permission::RegistryWrite);
    let mut columns = vec!["Entity id", "Device", "Domain", "Platform", "Status"];
    if write {
        columns.push("Toggle");
    }
    let kept = [
        ("device_id", query.device_id.clone()),
        ("domain", query.domain.clone()),
        ("platform", query.platform.clone()),
        ("disabled", query.disabled.clone()),
        ("limit", query.limit.map(|l| l.to_string())),
    ];
    let mut paged = kept.to_vec();
    paged.push(("sort", Some(sort.param())));
    let mut table = Table {
        columns,
        rows: found
            .items
            .iter()
            .map(|e| {
                e.row(&EntityRows {
                    show_device: true,
                    toggle: write.then_some(here.as_str()),
                })
            })
            .collect(),
        filters: vec![
            FilterField::text("device_id", "Device id", &query.device_id),
            FilterField::text("domain", "Domain", &query.domain),
            FilterField::text("platform", "Platform", &query.platform),
            FilterField::select(
                "disabled",
                "Status",
                &query.disabled,
                &[("false", "enabled"), ("true", "disabled")],
            ),
        ],
        action: LIST.into(),
        empty: "No entities match these filters.",
        ..Table::default()
    }
    .sortable(
        LIST,
        &kept,
        &[(0, "entity_id"), (2, "domain")],
        &sort.param(),
    );
    if let Some(request) = &request {
        table = table.paginate(LIST, &paged, &at, request, &found);
    }
    if write {
        let ids = found.items.iter().map(|e| e.entity_id.clone()).collect();
        table = table.add_first("New entity", format!("{LIST}/new")).bulk(
            BULK,
            EntityBulk::ACTIONS,
            ids,
            here.clone(),
        );
    }
    if let Some(err) = &refused {
        table = table.refused(err);
    }
    ctx.render_status(
        table.status(),
        &ListPage {
            layout: ctx.layout("Entities"),
            table,
            actions: if ctx.may(Permission::RegistryWrite) {
                vec![("New entity", format!("{LIST}/new"))]
            } else {
                vec![]
            },
            note: None,
        },
    )
}

/// Where the entity list's bulk actions post.
const BULK: &str = "/registry/entities/bulk";

/// The entity list's bulk actions: delete, enable, disable, each entity as its own page
/// does it.
pub struct EntityBulk;

impl BulkList for EntityBulk {
    const LIST: &'static str = LIST;
    const ROUTE: &'static str = BULK;
    const NOUN: (&'static str, &'static str) = ("entity", "entities");
    const ACTIONS: &'static [BulkAction] =
        &[BulkAction::Enable, BulkAction::Disable, BulkAction::Delete];

    fn what(action: BulkAction) -> &'static str {
        match action {
            BulkAction::Delete => {
                "Each entity is deleted; its device stays. The audit trail keeps what was done."
            }
            BulkAction::Disable => {
                "Each entity is marked disabled: consumers reading the registry skip it."
            }
            _ => "Each entity is marked enabled again.",
        }
    }

    async fn describe(
        state: &AppState,
        _: &Acting,
        _: BulkAction,
        ids: &[String],
    ) -> Result<Described, service::Error> {
        let mut names = Vec::with_capacity(ids.len());
        for id in ids {
            names.push(entities::get(&state.db, id).await?.entity_id);
        }
        Ok(Described {
            names,
            ..Described::default()
        })
    }

    async fn apply(
        state: &AppState,
        acting: &Acting,
        action: BulkAction,
        ids: &[String],
    ) -> Result<u64, service::Error> {
        let (by, db) = (acting.actor(), &state.db);
        for id in ids {
            match action {
                BulkAction::Delete => entities::delete(db, &by, acting.ip(), id).await?,
                other => {
                    let disabled = other == BulkAction::Disable;
                    entities::set_disabled(db, &by, acting.ip(), id, disabled).await?;
                }
            }
        }
        Ok(ids.len() as u64)
    }
}

#[derive(Debug, Deserialize)]
struct ToggleQuery {
    to: Option<String>,
    back: Option<String>,
}

/// Enables or disables one entity once confirmed; before that, asks (the list's toggle).
async fn toggle(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<ToggleQuery>,
    PageForm(form): PageForm<ConfirmForm>,
) -> Result<HttpResponse, PageError> {
    let disabled = match query.to.as_deref() {
        Some("true") => true,
        Some("false") => false,
        _ => return Err(bad_request("Say to=true or to=false.")),
    };
    // Only a page of this list is a place to come back to (no open redirect).
    let back = query
        .back
        .as_deref()
        .filter(|b| *b == LIST || b.starts_with("/registry/entities?"))
        .unwrap_or(LIST);
    if !form.is_given() {
        let entity = entities::get(&state.db, &id).await?;
        let (verb, what) = if disabled {
            (
                "Disable",
                "consumers reading the registry skip it until it is enabled again.",
            )
        } else {
            ("Enable", "consumers reading the registry see it again.")
        };
        let to = if disabled { "true" } else { "false" };
        return ctx.confirm(
            Confirmation::new(
                format!("{verb} the entity {}?", entity.entity_id),
                format!(
                    "{LIST}/{}/disabled?to={to}&back={}",
                    entity.entity_id,
                    urlencode(back)
                ),
                format!("{verb} entity"),
                back,
            )
            .what(format!(
                "The entity {} is marked {}: {what}",
                entity.entity_id,
                verb.to_lowercase() + "d"
            )),
        );
    }
    let entity =
        entities::set_disabled(&state.db, &acting.actor(), acting.ip(), &id, disabled).await?;
    let what = if entity.disabled {
        "disabled"
    } else {
        "enabled"
    };
    Ok(ctx.redirect(
        back,
        Flash::success(format!("The entity {} was {what}.", entity.entity_id)),
    ))
}

/// Registers the entity pages.
pub fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::RegistryRead);
    let write = Access::Permission(Permission::RegistryWrite);
    r.page(Method::GET, LIST, read, list)
        .page(Method::POST, BULK, write, bulk::handle::<EntityBulk>)
        .page(
            Method::POST,
            "/registry/entities/{entity_id}/disabled",
            write,
            toggle,
        );
}
