//! Webhook pages: the list (`/webhooks`) and creating one (`/webhooks/new`).

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use service::access::Permission;
use service::pagination::{Page, PageRequest, Sort};
use service::webhooks::EventType;
use service::webhooks::deliveries::{self, DeliveryStats};
use service::webhooks::ssrf::WebhookUrl;
use service::webhooks::subscriptions::{
    self, EventList, WebhookFilter, WebhookInput, WebhookKey, WebhookSort, WebhookSummary,
    optional_text,
};
use std::collections::HashMap;

use super::api::{DESCRIPTION_MAX, TEAM_MAX};
use super::list_bulk::WebhookBulk;
use super::page_edit::display_name;
use crate::auth::{Access, Acting};
use crate::error::PageError;
use crate::pages::ShownOnce;
use crate::pages::{
    Cell, Choice, Field, FilterField, FormView, ListRow, PageContext, PagerQuery, Row, Table, rows,
};
use crate::routes::bulk::{self, BulkList};
use crate::routes::form_input::merge_errors;
use crate::routes::forms::{PageForm, distinct, page_form};
use crate::routes::router::Router;
use crate::routes::views::{FormPage, ListPage, duplicate_warning};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
struct ListQuery {
    team: Option<String>,
    status: Option<String>,
    sort: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
}

/// Every entry a subscription may tick: `*`, each family's `x.*`, then each event.
pub fn event_choices(selected: &[String]) -> Vec<Choice> {
    let mut values = vec![("*".to_string(), "* (every event)".to_string())];
    let mut families: Vec<&str> = Vec::new();
    for e in EventType::ALL {
        if *e != EventType::WebhookTest && !families.contains(&e.family()) {
            families.push(e.family());
        }
    }
    values.extend(
        families
            .iter()
            .map(|f| (format!("{f}.*"), format!("{f}.* (every {f} event)"))),
    );
    values.extend(
        EventType::ALL
            .iter()
            .filter(|e| **e != EventType::WebhookTest)
            .map(|e| (e.as_str().to_string(), e.as_str().to_string())),
    );
    values
        .into_iter()
        .map(|(value, label)| Choice {
            checked: selected.contains(&value),
            value,
            label,
        })
        .collect()
}

page_form! {
    /// The webhook form (create and edit), as sent.
    pub struct WebhookForm {
        pub url: String,
        pub events: Vec<String>,
        pub team: String,
        pub description: String,
    }
}

impl WebhookForm {
    /// The subscription the form describes, each error under its field.
    pub fn parse(&self, is_enabled: bool) -> Result<WebhookInput, service::Error> {
        let url = WebhookUrl::parse(&self.url, Self::url);
        let events = EventList::parse(&distinct(&self.events), Self::events);
        let team = optional_text(Some(&self.team), Self::team, TEAM_MAX);
        let description =
            optional_text(Some(&self.description), Self::description, DESCRIPTION_MAX);
        match (url, events, team, description) {
            (Ok(url), Ok(events), Ok(team), Ok(description)) => Ok(WebhookInput {
                url,
                events,
                team,
                description,
                is_enabled,
            }),
            (u, e, t, d) => Err(merge_errors(vec![u.err(), e.err(), t.err(), d.err()])
                .unwrap_or_else(|| service::Error::internal("no error"))),
        }
    }

    /// The form's fields with these values.
    pub fn fields(&self) -> Vec<Field> {
        vec![
            Field::new(Self::url, "URL", "url")
                .value(&self.url)
                .help("http or https. Private and loopback addresses are refused unless METADECK_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true."),
            Field::new(Self::events, "Events", "checkboxes").choices(event_choices(&self.events)),
            Field::new(Self::team, "Team", "text").value(&self.team),
            Field::new(Self::description, "Name", "text")
                .value(&self.description)
                .help("Shown in lists and on pages; empty: the URL's host."),
        ]
    }

    fn new_form(&self) -> FormView {
        FormView::new("/webhooks/new", "Create webhook", self.fields())
    }
}

fn failure_rate(stats: Option<&DeliveryStats>) -> String {
    match stats {
        Some(s) if s.finished > 0 => format!(
            "{:.0}% of {}",
            s.failed as f64 * 100.0 / s.finished as f64,
            s.finished
        ),
        _ => "—".into(),
    }
}

/// A webhook in the webhook list, with its delivery figures (keyed by webhook id).
impl ListRow<HashMap<String, DeliveryStats>> for WebhookSummary {
    fn row(&self, stats: &HashMap<String, DeliveryStats>) -> Row {
        let w = self;
        let stats = stats.get(&w.webhook_id);
        let last = stats.and_then(|s| s.last_status.clone());
        vec![
            Cell::short(display_name(w), 32).linked(format!("/webhooks/{}", w.webhook_id)),
            Cell::short(&w.url, 40),
            Cell::text(w.events.join(", ")),
            Cell::text(w.team.clone().unwrap_or_default()),
            if w.is_enabled {
                Cell::badge("enabled", "badge ok")
            } else {
                Cell::badge(
                    format!(
                        "disabled: {}",
                        w.disabled_reason.as_deref().unwrap_or("by an admin")
                    ),
                    "badge bad",
                )
            },
            match last.as_deref() {
                Some("succeeded") => Cell::badge("succeeded", "badge ok"),
                Some(s @ ("failed" | "dead")) => Cell::badge(s, "badge bad"),
                Some(s) => Cell::badge(s, "badge"),
                None => Cell::text("none yet"),
            },
            Cell::time(failure_rate(stats)),
        ]
    }
}

/// The sort, the filter and the page a webhook-list query asks for; a bad value is an error
/// under its field.
fn parse(
    query: &ListQuery,
    at: &PagerQuery,
) -> Result<(WebhookSort, WebhookFilter, PageRequest<WebhookKey>), service::Error> {
    let sort = Sort::parse(query.sort.as_deref(), subscriptions::BY_WEBHOOK_ID)?;
    let is_enabled = match query.status.as_deref().unwrap_or_default() {
        "" => None,
        "enabled" => Some(true),
        "disabled" => Some(false),
        _ => {
            return Err(service::Error::invalid(
                "status",
                "must be enabled or disabled",
            ));
        }
    };
    let page = PageRequest::parse_both(query.limit, query.cursor.as_deref(), at.before.as_deref())?;
    let filter = WebhookFilter {
        team: query.team.clone().filter(|t| !t.trim().is_empty()),
        is_enabled,
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
    let (found, request, refused) = match parse(&query, &at) {
        Ok((sort, filter, request)) => (
            subscriptions::list(&state.db, &state.webhooks, &filter, sort, &request).await?,
            Some(request),
            None,
        ),
        Err(e @ service::Error::Validation(_)) => (Page::empty(), None, Some(e)),
        Err(e) => return Err(e.into()),
    };
    let ids: Vec<String> = found.items.iter().map(|w| w.webhook_id.clone()).collect();
    let stats = deliveries::stats(&state.db, &ids).await?;
    let mut table = Table {
        columns: vec![
            "Webhook",
            "URL",
            "Events",
            "Team",
            "State",
            "Last delivery",
            "Failures (24 h)",
        ],
        rows: rows(&found.items, &stats),
        filters: vec![
            FilterField::text("team", "Team", &query.team),
            FilterField::select(
                "status",
                "State",
                &query.status,
                &[("enabled", "enabled"), ("disabled", "disabled")],
            ),
        ],
        action: "/webhooks".into(),
        empty: "No webhooks match these filters.",
        ..Table::default()
    };
    let sort = Sort::parse(query.sort.as_deref(), subscriptions::BY_WEBHOOK_ID)
        .unwrap_or(subscriptions::BY_WEBHOOK_ID);
    let kept = [
        ("team", query.team.clone()),
        ("status", query.status.clone()),
        ("limit", query.limit.map(|l| l.to_string())),
    ];
    table = table.sortable("/webhooks", &kept, &[(1, "url")], &sort.param());
    if let Some(request) = &request {
        let mut paged = kept.to_vec();
        paged.push(("sort", Some(sort.param())));
        table = table.paginate("/webhooks", &paged, &at, request, &found);
    }
    if let Some(err) = &refused {
        table = table.refused(err);
    }
    let mut actions = Vec::new();
    if ctx.may(Permission::WebhooksWrite) {
        actions.push(("New webhook", "/webhooks/new".to_string()));
        let here = bulk::here(&req, WebhookBulk::LIST);
        table = table.add_first("New webhook", "/webhooks/new").bulk(
            WebhookBulk::ROUTE,
            WebhookBulk::ACTIONS,
            ids,
            here,
        );
    }
    ctx.render_status(
        table.status(),
        &ListPage {
            layout: ctx.layout("Webhooks"),
            table,
            actions,
            note: Some(
                "Deliveries are signed to the Standard Webhooks specification and retried with backoff; a disabled endpoint is re-enabled from its page.".into(),
            ),
        },
    )
}

async fn new_page(ctx: PageContext) -> Result<HttpResponse, PageError> {
    ctx.render(&FormPage {
        layout: ctx.layout("New webhook"),
        form: WebhookForm::default().new_form(),
        intro: Some("A signing secret is generated and shown once after creation.".into()),
    })
}

/// Creates a webhook; without a name it is named after its URL's host. The secret is shown
/// once after a redirect, with a warning when another webhook has the same URL or name.
async fn create(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    PageForm(form): PageForm<WebhookForm>,
) -> Result<HttpResponse, PageError> {
    let created = match form.parse(true) {
        Ok(mut new) => {
            if new.description.is_none() {
                new.description = url::Url::parse(new.url.as_str())
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_owned));
            }
            let (by, ip) = (acting.actor(), acting.ip());
            subscriptions::create(&state.db, &state.webhooks, &by, ip, None, new, None).await
        }
        Err(e) => Err(e),
    };
    let (webhook, secret) = match created {
        Ok(created) => created,
        Err(e) => return ctx.form_again(e, "New webhook", form.new_form()),
    };
    let name = display_name(&webhook);
    let twins: Vec<String> =
        subscriptions::similar(&state.db, &webhook.url, webhook.description.as_deref())
            .await?
            .into_iter()
            .filter(|id| *id != webhook.webhook_id)
            .collect();
    Ok(ctx.redirect_to_secret(
        ShownOnce::new(
            &ctx,
            "Webhook created",
            format!(
                "The webhook {name} signs its deliveries with this secret. \
                 Copy it into the receiver now: it is not shown again."
            ),
            secret.expose().to_string(),
            format!("/webhooks/{}", webhook.webhook_id),
        )
        .map(|s| s.warn(duplicate_warning("webhook", "URL or name", &twins))),
    ))
}

/// Registers the list and creation pages (before `/webhooks/{id}`, which would match `new`).
pub fn routes(r: &mut Router) {
    let write = Access::Permission(Permission::WebhooksWrite);
    r.page(
        Method::GET,
        "/webhooks",
        Access::Permission(Permission::WebhooksRead),
        list,
    )
    .page(Method::GET, "/webhooks/new", write, new_page)
    .page(Method::POST, "/webhooks/new", write, create);
}
