//! One webhook (`/webhooks/{id}`): edit, enable / disable, rotate the secret (shown once),
//! send a test event, the delivery log with redelivery, delete.

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use service::access::Permission;
use service::pagination::{PageRequest, Sort};
use service::webhooks::deliveries::{self, DeliveryStatus, DeliverySummary};
use service::webhooks::subscriptions::{self, WebhookPatch, WebhookSummary};

use super::pages::WebhookForm;
use crate::auth::{Access, Acting};
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::ShownOnce;
use crate::pages::{Confirmation, FormView, Layout, PageContext, Pager, SortLink, count_of};
use crate::routes::form_input::{when, when_or};
use crate::routes::forms::ConfirmForm;
use crate::routes::forms::{PageForm, Refused};
use crate::routes::router::Router;
use crate::state::AppState;

/// The webhook's name as people know it: its description, or its id when it has none.
pub(super) fn display_name(w: &WebhookSummary) -> String {
    w.description
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map_or_else(|| w.webhook_id.clone(), str::to_owned)
}

/// What the page shows about the webhook.
struct WebhookView {
    id: String,
    url: String,
    events: String,
    team: String,
    description: String,
    enabled: bool,
    disabled_reason: String,
    secret_hint: String,
    rotated: String,
    created: String,
    updated: String,
}

/// One row of the delivery log.
struct DeliveryRow {
    id: i64,
    event_type: String,
    message_id: String,
    status: String,
    badge: &'static str,
    attempts: i64,
    status_code: String,
    error: String,
    snippet: String,
    created: String,
    next_attempt: String,
}

impl From<DeliverySummary> for DeliveryRow {
    fn from(d: DeliverySummary) -> Self {
        Self {
            badge: match d.status.as_str() {
                "succeeded" => "badge ok",
                "failed" | "dead" => "badge bad",
                _ => "badge",
            },
            id: d.id,
            event_type: d.event_type,
            message_id: d.message_id,
            status: d.status,
            attempts: d.attempts,
            status_code: d
                .last_status_code
                .map(|c| c.to_string())
                .unwrap_or_default(),
            error: d.last_error.unwrap_or_default(),
            snippet: d.last_response_snippet.unwrap_or_default(),
            created: when(d.created_at),
            next_attempt: when_or(d.next_attempt_at, ""),
        }
    }
}

#[derive(Template)]
#[template(path = "webhook_edit.html")]
struct WebhookPage {
    layout: Layout,
    webhook: WebhookView,
    write: bool,
    edit: Option<FormView>,
    delete: Option<FormView>,
    deliveries: Vec<DeliveryRow>,
    status_filter: String,
    /// Links to the previous and next deliveries, the status filter and the order kept.
    pager: Pager,
    /// The "Created" header: the log in the other order, and the order now (`aria-sort`).
    sort_link: SortLink,
}

#[derive(Debug, Deserialize)]
struct LogQuery {
    status: Option<String>,
    sort: Option<String>,
    cursor: Option<String>,
    before: Option<String>,
}

fn edit_form(w: &WebhookSummary, sent: Option<&WebhookForm>) -> FormView {
    let current = WebhookForm {
        url: w.url.clone(),
        events: w.events.clone(),
        team: w.team.clone().unwrap_or_default(),
        description: w.description.clone().unwrap_or_default(),
    };
    FormView::new(
        format!("/webhooks/{}", w.webhook_id),
        "Save changes",
        sent.unwrap_or(&current).fields(),
    )
}

fn delete_form(w: &WebhookSummary) -> FormView {
    FormView::danger_button(
        format!("/webhooks/{}/delete", w.webhook_id),
        "Delete webhook…",
    )
}

/// A question about the webhook `w`, posting back to its action `action`.
fn question(w: &WebhookSummary, title: String, action: &str, label: &str) -> Confirmation {
    let page = format!("/webhooks/{}", w.webhook_id);
    Confirmation::new(title, format!("{page}/{action}"), label, page)
}

async fn render(
    ctx: &PageContext,
    state: &AppState,
    status: StatusCode,
    w: &WebhookSummary,
    edit: FormView,
    delete: FormView,
    log: &LogQuery,
) -> Result<HttpResponse, PageError> {
    let write = ctx.may(Permission::WebhooksWrite);
    let filter = log
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(DeliveryStatus::parse)
        .transpose()
        .map_err(|e| PageError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    let page =
        PageRequest::<i64>::parse_both(Some(25), log.cursor.as_deref(), log.before.as_deref())
            .map_err(|e| PageError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    let newest = deliveries::NEWEST_DELIVERIES_FIRST;
    let sort = Sort::parse(log.sort.as_deref(), newest)
        .map_err(|e| PageError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    let found = deliveries::list(&state.db, &w.webhook_id, filter, sort, &page).await?;
    let status_filter = log.status.clone().unwrap_or_default();
    let sorted = |s: Sort<_>| {
        let pairs = [("status", status_filter.clone()), ("sort", s.param())];
        format!(
            "/webhooks/{}?{}#deliveries",
            w.webhook_id,
            serde_urlencoded::to_string(pairs).unwrap_or_default()
        )
    };
    let sort_link = SortLink {
        column: 7,
        href: sorted(Sort {
            descending: !sort.descending,
            ..sort
        }),
        state: if sort.descending {
            "descending"
        } else {
            "ascending"
        },
    };
    let link = |key: &str, c: String| {
        let pairs = [
            ("status", status_filter.clone()),
            ("sort", sort.param()),
            (key, c),
        ];
        format!(
            "/webhooks/{}?{}#deliveries",
            w.webhook_id,
            serde_urlencoded::to_string(pairs).unwrap_or_default()
        )
    };
    let pager = Pager {
        prev: found.prev_cursor.map(|c| link("before", c)),
        next: found.next_cursor.map(|c| link("cursor", c)),
        position: None,
    };
    ctx.render_status(
        status,
        &WebhookPage {
            layout: ctx.layout(format!("Webhook {}", display_name(w))),
            webhook: WebhookView {
                id: w.webhook_id.clone(),
                url: w.url.clone(),
                events: w.events.join(", "),
                team: w.team.clone().unwrap_or_default(),
                description: w.description.clone().unwrap_or_default(),
                enabled: w.is_enabled,
                disabled_reason: w.disabled_reason.clone().unwrap_or_default(),
                secret_hint: w.secret_hint.clone(),
                rotated: when_or(w.secret_rotated_at, "never"),
                created: when(w.created_at),
                updated: when(w.updated_at),
            },
            write,
            edit: write.then_some(edit),
            delete: write.then_some(delete),
            deliveries: found.items.into_iter().map(DeliveryRow::from).collect(),
            status_filter,
            pager,
            sort_link,
        },
    )
}

async fn show(
    ctx: PageContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
    log: web::Query<LogQuery>,
) -> Result<HttpResponse, PageError> {
    let w = subscriptions::get(&state.db, &state.webhooks, &id).await?;
    render(
        &ctx,
        &state,
        StatusCode::OK,
        &w,
        edit_form(&w, None),
        delete_form(&w),
        &log,
    )
    .await
}

fn no_log() -> LogQuery {
    LogQuery {
        status: None,
        sort: None,
        cursor: None,
        before: None,
    }
}

async fn update(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    id: web::Path<String>,
    PageForm(form): PageForm<WebhookForm>,
) -> Result<HttpResponse, PageError> {
    let w = subscriptions::get(&state.db, &state.webhooks, &id).await?;
    let saved = match form.parse(w.is_enabled) {
        Ok(change) => {
            let mut patch = WebhookPatch::from(change);
            patch.is_enabled = None;
            let ip = acting.ip();
            subscriptions::update(&state.db, &state.webhooks, &acting.actor(), ip, &id, patch).await
        }
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => Ok(ctx.redirect(
            &format!("/webhooks/{id}"),
            Flash::success(format!("The changes to {id} were saved.")),
        )),
        Err(e) => {
            let refused = Refused::sort(e)?;
            let edit = edit_form(&w, Some(&form)).with_error(&refused.error);
            render(
                &ctx,
                &state,
                refused.status,
                &w,
                edit,
                delete_form(&w),
                &no_log(),
            )
            .await
        }
    }
}

async fn set_enabled(
    ctx: &PageContext,
    acting: &Acting,
    state: &AppState,
    id: &str,
    enabled: bool,
) -> Result<HttpResponse, PageError> {
    let patch = WebhookPatch {
        is_enabled: Some(enabled),
        ..WebhookPatch::default()
    };
    let ip = acting.ip();
    subscriptions::update(&state.db, &state.webhooks, &acting.actor(), ip, id, patch).await?;
    let message = if enabled {
        format!("{id} is enabled; held deliveries go out now.")
    } else {
        format!("{id} is disabled; its deliveries are held until it is enabled.")
    };
    Ok(ctx.redirect(&format!("/webhooks/{id}"), Flash::success(message)))
}

async fn enable(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    set_enabled(&ctx, &acting, &state, &id, true).await
}

/// Disables the webhook once confirmed; before that, asks, naming the deliveries it holds.
async fn disable(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    id: web::Path<String>,
    PageForm(form): PageForm<ConfirmForm>,
) -> Result<HttpResponse, PageError> {
    if !form.is_given() {
        let w = subscriptions::get(&state.db, &state.webhooks, &id).await?;
        let waiting = deliveries::waiting(&state.db, &id).await?;
        let name = display_name(&w);
        return ctx.confirm(
            question(
                &w,
                format!("Disable the webhook {name}?"),
                "disable",
                "Disable webhook",
            )
            .what(format!(
                "{} receives nothing until it is enabled again; events for it are held \
                     and go out when it is.",
                w.url
            ))
            .consequence(format!(
                "{} waiting to be sent {} held.",
                count_of(waiting, "delivery", "deliveries"),
                if waiting == 1 { "is" } else { "are" }
            )),
        );
    }
    set_enabled(&ctx, &acting, &state, &id, false).await
}

/// Gives the webhook a new secret once confirmed (shown once, after a redirect).
async fn rotate(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    id: web::Path<String>,
    PageForm(form): PageForm<ConfirmForm>,
) -> Result<HttpResponse, PageError> {
    if !form.is_given() {
        let w = subscriptions::get(&state.db, &state.webhooks, &id).await?;
        let name = display_name(&w);
        return ctx.confirm(
            question(
                &w,
                format!("Rotate the secret of {name}?"),
                "rotate-secret",
                "Rotate secret",
            )
            .what(
                "A new signing secret is made and shown once. For 24 hours deliveries carry \
                 signatures with both the old and the new secret; after that the receiver \
                 refuses them unless it was given the new one.",
            ),
        );
    }
    let ip = acting.ip();
    let (w, secret) =
        subscriptions::rotate_secret(&state.db, &state.webhooks, &acting.actor(), ip, &id).await?;
    Ok(ctx.redirect_to_secret(ShownOnce::new(
        &ctx,
        "Secret rotated",
        format!(
            "The new signing secret of {}. For 24 hours deliveries carry signatures with \
             both the old and this secret; update the receiver before then. \
             It is not shown again.",
            display_name(&w)
        ),
        secret.expose().to_string(),
        format!("/webhooks/{}", w.webhook_id),
    )))
}

async fn test(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let ip = acting.ip();
    let flash = match subscriptions::send_test(&state.db, &acting.actor(), ip, &id).await {
        Ok(message_id) => Flash::success(format!(
            "A webhook.test event ({message_id}) was queued; its delivery shows below."
        )),
        Err(e @ service::Error::Conflict { .. }) => Flash::error(e.to_string()),
        Err(e) => return Err(e.into()),
    };
    Ok(ctx.redirect(&format!("/webhooks/{id}"), flash))
}

async fn redeliver(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let (id, delivery) = path.into_inner();
    let not_found = || PageError::new(StatusCode::NOT_FOUND, "delivery not found");
    let delivery: i64 = delivery.parse().map_err(|_| not_found())?;
    let ip = acting.ip();
    let flash = match deliveries::redeliver(&state.db, &acting.actor(), ip, delivery).await {
        Ok(d) if d.webhook_id == id => Flash::success(format!(
            "Delivery {delivery} is sent again as delivery {} (same message id {}).",
            d.id, d.message_id
        )),
        Ok(_) => return Err(not_found()),
        Err(e @ service::Error::Conflict { .. }) => Flash::error(e.to_string()),
        Err(e) => return Err(e.into()),
    };
    Ok(ctx.redirect(&format!("/webhooks/{id}#deliveries"), flash))
}

/// Deletes the webhook once confirmed; before that, asks, naming the deliveries it drops.
async fn delete(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    id: web::Path<String>,
    PageForm(form): PageForm<ConfirmForm>,
) -> Result<HttpResponse, PageError> {
    let w = subscriptions::get(&state.db, &state.webhooks, &id).await?;
    let name = display_name(&w);
    if !form.is_given() {
        let waiting = deliveries::waiting(&state.db, &id).await?;
        return ctx.confirm(
            question(
                &w,
                format!("Delete the webhook {name}?"),
                "delete",
                "Delete webhook",
            )
            .what(format!(
                "{} receives nothing from now on; the delivery log goes with the webhook \
                     (the audit trail keeps what was done).",
                w.url
            ))
            .consequence(format!(
                "{} waiting to be sent {} dropped.",
                count_of(waiting, "delivery", "deliveries"),
                if waiting == 1 { "is" } else { "are" }
            )),
        );
    }
    match subscriptions::delete(&state.db, &acting.actor(), acting.ip(), &id).await {
        Ok(()) => Ok(ctx.redirect(
            "/webhooks",
            Flash::success(format!("The webhook {name} was deleted.")),
        )),
        Err(e) => {
            let refused = Refused::sort(e)?;
            let del = delete_form(&w).with_error(&refused.error);
            render(
                &ctx,
                &state,
                refused.status,
                &w,
                edit_form(&w, None),
                del,
                &no_log(),
            )
            .await
        }
    }
}

/// Registers the pages of one webhook (after `/webhooks/new`).
pub fn routes(r: &mut Router) {
    let write = Access::Permission(Permission::WebhooksWrite);
    r.page(
        Method::GET,
        "/webhooks/{id}",
        Access::Permission(Permission::WebhooksRead),
        show,
    )
    .page(Method::POST, "/webhooks/{id}", write, update)
    .page(Method::POST, "/webhooks/{id}/enable", write, enable)
    .page(Method::POST, "/webhooks/{id}/disable", write, disable)
    .page(Method::POST, "/webhooks/{id}/rotate-secret", write, rotate)
    .page(Method::POST, "/webhooks/{id}/test", write, test)
    .page(Method::POST, "/webhooks/{id}/delete", write, delete)
    .page(
        Method::POST,
        "/webhooks/{id}/deliveries/{delivery_id}/redeliver",
        write,
        redeliver,
    );
}
