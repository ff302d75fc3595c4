//! The webhook subscriptions JSON API: list, create (the secret returned once), read
//! (masked), replace, patch, delete, rotate the secret, send a test event.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use service::access::Permission;
use service::pagination::PageRequest;
use service::webhooks::WebhookSecret;
use service::webhooks::ssrf::WebhookUrl;
use service::webhooks::subscriptions::{
    self, EventList, WebhookFilter, WebhookId, WebhookInput, WebhookPatch, optional_text,
};

use crate::auth::{Access, Acting};
use crate::error::ApiError;
use crate::json::Json;
use crate::routes::api_errors::{BodyErrors, NotFound, QueryErrors, ReadErrors, WriteErrors};
use crate::routes::form_input::merge_errors;
use crate::routes::router::Router;
use crate::state::AppState;

pub use super::bodies::{
    CreateWebhook, DESCRIPTION_MAX, PatchWebhook, ReplaceWebhook, TEAM_MAX, TestQueued,
    WebhookJson, WebhookPage, WebhookQuery, WebhookWithSecret,
};

/// Parses the fields shared by create and replace, reporting every bad field at once.
fn parse_input(
    url: &str,
    events: &[String],
    team: Option<&str>,
    description: Option<&str>,
    is_enabled: Option<bool>,
) -> Result<WebhookInput, service::Error> {
    let url = WebhookUrl::parse(url, "url");
    let events = EventList::parse(events, "events");
    let team = optional_text(team, "team", TEAM_MAX);
    let description = optional_text(description, "description", DESCRIPTION_MAX);
    match (url, events, team, description) {
        (Ok(url), Ok(events), Ok(team), Ok(description)) => Ok(WebhookInput {
            url,
            events,
            team,
            description,
            is_enabled: is_enabled.unwrap_or(true),
        }),
        (u, e, t, d) => Err(merge_errors(vec![u.err(), e.err(), t.err(), d.err()])
            .unwrap_or_else(|| service::Error::internal("no error"))),
    }
}

/// Lists webhook subscriptions by id, secrets masked.
#[utoipa::path(get, path = "/api/webhooks", tag = "webhooks", params(WebhookQuery),
    responses(
        (status = 200, description = "A page of webhooks", body = WebhookPage),
        ReadErrors, QueryErrors,
    ))]
pub async fn list(
    state: web::Data<AppState>,
    query: web::Query<WebhookQuery>,
) -> Result<HttpResponse, ApiError> {
    let page =
        PageRequest::parse(query.limit, query.cursor.as_deref()).map_err(ApiError::bad_query)?;
    let filter = WebhookFilter {
        team: query.team.clone(),
        is_enabled: query.is_enabled,
    };
    let by_id = subscriptions::BY_WEBHOOK_ID;
    let page = subscriptions::list(&state.db, &state.webhooks, &filter, by_id, &page).await?;
    Ok(HttpResponse::Ok().json(WebhookPage {
        items: page.items.into_iter().map(WebhookJson::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Creates a subscription; the answer carries the secret, once.
#[utoipa::path(post, path = "/api/webhooks", tag = "webhooks", request_body = CreateWebhook,
    responses(
        (status = 201, description = "Created; the secret is shown only here", body = WebhookWithSecret),
        WriteErrors, BodyErrors,
        (status = 409, description = "The webhook_id is taken", body = crate::error::ErrorBody),
        (status = 422, description = "Invalid fields, an event outside the catalog, or a refused destination", body = crate::error::ErrorBody),
    ))]
pub async fn create(
    state: web::Data<AppState>,
    acting: Acting,
    body: Json<CreateWebhook>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let input = parse_input(
        &body.url,
        &body.events,
        body.team.as_deref(),
        body.description.as_deref(),
        body.is_enabled,
    );
    let id = body
        .webhook_id
        .as_deref()
        .map(|id| WebhookId::parse(id, "webhook_id"))
        .transpose();
    let secret = body
        .secret
        .as_deref()
        .map(|s| WebhookSecret::parse(s, "secret"))
        .transpose();
    let (input, id, secret) = match (input, id, secret) {
        (Ok(i), Ok(id), Ok(s)) => (i, id, s),
        (i, id, s) => {
            return Err(merge_errors(vec![i.err(), id.err(), s.err()])
                .unwrap_or_else(|| service::Error::internal("no error"))
                .into());
        }
    };
    let ip = acting.ip();
    let (config, actor) = (state.webhooks.clone(), acting.actor());
    let (webhook, secret) = state
        .write(move |db| async move {
            subscriptions::create(&db, &config, &actor, ip, id, input, secret).await
        })
        .await?;
    Ok(HttpResponse::Created().json(WebhookWithSecret::new(webhook, &secret)))
}

/// One subscription, secret masked.
#[utoipa::path(get, path = "/api/webhooks/{webhook_id}", tag = "webhooks",
    params(("webhook_id" = String, Path, description = "The webhook's id")),
    responses(
        (status = 200, description = "The webhook", body = WebhookJson),
        ReadErrors, NotFound,
    ))]
pub async fn get(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let webhook = subscriptions::get(&state.db, &state.webhooks, &id).await?;
    Ok(HttpResponse::Ok().json(WebhookJson::from(webhook)))
}

/// Replaces a subscription: `url` and `events` required, omitted optional fields cleared.
#[utoipa::path(put, path = "/api/webhooks/{webhook_id}", tag = "webhooks", request_body = ReplaceWebhook,
    params(("webhook_id" = String, Path, description = "The webhook's id")),
    responses(
        (status = 200, description = "The webhook as saved", body = WebhookJson),
        WriteErrors, BodyErrors, NotFound,
        (status = 422, description = "Invalid fields or a refused destination", body = crate::error::ErrorBody),
    ))]
pub async fn replace(
    state: web::Data<AppState>,
    acting: Acting,
    id: web::Path<String>,
    body: Json<ReplaceWebhook>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let input = parse_input(
        &body.url,
        &body.events,
        body.team.as_deref(),
        body.description.as_deref(),
        body.is_enabled,
    )?;
    let ip = acting.ip();
    let (config, actor, id) = (state.webhooks.clone(), acting.actor(), id.into_inner());
    let patch = WebhookPatch::from(input);
    let webhook = state
        .write(move |db| async move {
            subscriptions::update(&db, &config, &actor, ip, &id, patch).await
        })
        .await?;
    Ok(HttpResponse::Ok().json(WebhookJson::from(webhook)))
}

/// Changes the given fields of a subscription (`{"is_enabled": true}` re-enables it).
#[utoipa::path(patch, path = "/api/webhooks/{webhook_id}", tag = "webhooks", request_body = PatchWebhook,
    params(("webhook_id" = String, Path, description = "The webhook's id")),
    responses(
        (status = 200, description = "The webhook as saved", body = WebhookJson),
        WriteErrors, BodyErrors, NotFound,
        (status = 422, description = "Invalid fields or a refused destination", body = crate::error::ErrorBody),
    ))]
pub async fn patch(
    state: web::Data<AppState>,
    acting: Acting,
    id: web::Path<String>,
    body: Json<PatchWebhook>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let url = body
        .url
        .as_deref()
        .map(|u| WebhookUrl::parse(u, "url"))
        .transpose();
    let events = body
        .events
        .as_deref()
        .map(|e| EventList::parse(e, "events"))
        .transpose();
    let team = body
        .team
        .map(|t| optional_text(t.as_deref(), "team", TEAM_MAX))
        .transpose();
    let description = body
        .description
        .map(|d| optional_text(d.as_deref(), "description", DESCRIPTION_MAX))
        .transpose();
    let patch = match (url, events, team, description) {
        (Ok(url), Ok(events), Ok(team), Ok(description)) => WebhookPatch {
            url,
            events,
            team,
            description,
            is_enabled: body.is_enabled,
        },
        (u, e, t, d) => {
            return Err(merge_errors(vec![u.err(), e.err(), t.err(), d.err()])
                .unwrap_or_else(|| service::Error::internal("no error"))
                .into());
        }
    };
    let ip = acting.ip();
    let (config, actor, id) = (state.webhooks.clone(), acting.actor(), id.into_inner());
    let webhook = state
        .write(move |db| async move {
            subscriptions::update(&db, &config, &actor, ip, &id, patch).await
        })
        .await?;
    Ok(HttpResponse::Ok().json(WebhookJson::from(webhook)))
}

/// Deletes a subscription and its delivery log.
#[utoipa::path(delete, path = "/api/webhooks/{webhook_id}", tag = "webhooks",
    params(("webhook_id" = String, Path, description = "The webhook's id")),
    responses(
        (status = 204, description = "Deleted"),
        WriteErrors, NotFound,
    ))]
pub async fn delete(
    state: web::Data<AppState>,
    acting: Acting,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let ip = acting.ip();
    let (actor, id) = (acting.actor(), id.into_inner());
    state
        .write(move |db| async move { subscriptions::delete(&db, &actor, ip, &id).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Gives the subscription a new secret, returned once; the old one co-signs for 24 hours.
#[utoipa::path(post, path = "/api/webhooks/{webhook_id}/rotate-secret", tag = "webhooks",
    params(("webhook_id" = String, Path, description = "The webhook's id")),
    responses(
        (status = 200, description = "The webhook with its new secret, shown only here", body = WebhookWithSecret),
        WriteErrors, NotFound,
    ))]
pub async fn rotate(
    state: web::Data<AppState>,
    acting: Acting,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let ip = acting.ip();
    let (config, actor, id) = (state.webhooks.clone(), acting.actor(), id.into_inner());
    let (webhook, secret) = state
        .write(move |db| async move {
            subscriptions::rotate_secret(&db, &config, &actor, ip, &id).await
        })
        .await?;
    Ok(HttpResponse::Ok().json(WebhookWithSecret::new(webhook, &secret)))
}

/// Queues a `webhook.test` event to this endpoint only.
#[utoipa::path(post, path = "/api/webhooks/{webhook_id}/test", tag = "webhooks",
    params(("webhook_id" = String, Path, description = "The webhook's id")),
    responses(
        (status = 202, description = "Queued", body = TestQueued),
        WriteErrors, NotFound,
        (status = 409, description = "The webhook is disabled", body = crate::error::ErrorBody),
    ))]
pub async fn test(
    state: web::Data<AppState>,
    acting: Acting,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let ip = acting.ip();
    let (actor, id) = (acting.actor(), id.into_inner());
    let message_id = state
        .write(move |db| async move { subscriptions::send_test(&db, &actor, ip, &id).await })
        .await?;
    Ok(HttpResponse::Accepted().json(TestQueued { message_id }))
}

/// Registers the subscription routes.
pub fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::WebhooksRead);
    let write = Access::Permission(Permission::WebhooksWrite);
    r.api(Method::GET, "/api/webhooks", read, list)
        .api(Method::POST, "/api/webhooks", write, create)
        .api(Method::GET, "/api/webhooks/{webhook_id}", read, get)
        .api(Method::PUT, "/api/webhooks/{webhook_id}", write, replace)
        .api(Method::PATCH, "/api/webhooks/{webhook_id}", write, patch)
        .api(Method::DELETE, "/api/webhooks/{webhook_id}", write, delete)
        .api(
            Method::POST,
            "/api/webhooks/{webhook_id}/rotate-secret",
            write,
            rotate,
        )
        .api(Method::POST, "/api/webhooks/{webhook_id}/test", write, test);
}
