//! `/api/ops/events`: appends to the event log (one event, or an array of up to 10,000 in one
//! transaction, all or nothing) and its tail, oldest first after an id.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use serde_json::value::RawValue;
use service::access::Permission;
use service::orchestration::Level;
use service::orchestration::events::{
    self, Appended, EventDetails, EventFilter, MAX_BATCH, NewEvent, Start,
};
use service::pagination::decode_cursor;
use service::{Error, FieldError};

use super::bodies::{AppendEvent, EventPage, EventQuery};
use crate::auth::Access;
use crate::error::{ApiError, ErrorBody};
use crate::json::BulkJson;
use crate::routes::api_errors::{BodyErrors, QueryErrors, ReadErrors, WriteErrors};
use crate::routes::router::Router;
use crate::state::AppState;

/// Default and largest page of the tail.
const TAIL_DEFAULT: u64 = 100;
const TAIL_MAX: u64 = 1_000;
/// Longest event message.
const MESSAGE_MAX: usize = 65_536;

/// The message of a parse error without its position, which would count from the start of
/// the one event rather than the body.
fn without_position(e: &serde_json::Error) -> String {
    let message = e.to_string();
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message,
    }
}

/// Checks one event, given as its JSON text; problems go to `errors` under its index (when in
/// an array).
fn parse_event(raw: &str, index: Option<usize>, errors: &mut Vec<FieldError>) -> Option<NewEvent> {
    let at = |field: &str, message: String| match index {
        Some(i) => FieldError::at(i, field, message),
        None => FieldError::new(field, message),
    };
    let body: AppendEvent = match serde_json::from_str(raw) {
        Ok(body) => body,
        Err(e) => {
            let message = without_position(&e);
            let field = [
                "level",
                "message",
                "run_id",
                "plan_unit_id",
                "details",
                "timestamp",
            ]
            .into_iter()
            .find(|f| message.contains(&format!("`{f}`")))
            .unwrap_or("item");
            errors.push(at(field, message));
            return None;
        }
    };
    let level =
        Level::parse(&body.level, "level").map_err(|e| errors.push(at("level", e.to_string())));
    if body.message.chars().count() > MESSAGE_MAX {
        errors.push(at(
            "message",
            format!("must be at most {MESSAGE_MAX} characters"),
        ));
        return None;
    }
    let details = match body.details.map(EventDetails::parse).transpose() {
        Ok(details) => details.unwrap_or_default(),
        Err(message) => {
            errors.push(at("details", message.into()));
            return None;
        }
    };
    for (field, value) in [
        ("run_id", &body.run_id),
        ("plan_unit_id", &body.plan_unit_id),
    ] {
        if let Some(v) = value
            && let Err(e) = service::orchestration::OpsKey::parse(v, field)
        {
            errors.push(at(field, e.to_string()));
            return None;
        }
    }
    Some(NewEvent {
        run_id: body.run_id,
        plan_unit_id: body.plan_unit_id,
        level: level.ok()?,
        message: body.message,
        details,
        timestamp: body.timestamp,
    })
}

/// Appends one event or an array of up to 10,000; all or none are written.
#[utoipa::path(post, path = "/api/ops/events", tag = "orchestration", request_body = Vec<AppendEvent>,
    responses(
        (status = 201, description = "Appended", body = Appended),
        WriteErrors, BodyErrors,
        (status = 422, description = "Invalid events, each named by its index; nothing was written", body = ErrorBody),
    ))]
pub async fn append(
    state: web::Data<AppState>,
    body: BulkJson<Box<RawValue>>,
) -> Result<HttpResponse, ApiError> {
    // The body is checked as JSON once, then each event is read from its own text: no tree
    // of the whole batch is built, and an event's details are kept as the text they are.
    let mut errors = Vec::new();
    let raw = body.0.get();
    let batch: Vec<NewEvent> = if raw.trim_start().starts_with('[') {
        let items: Vec<&RawValue> = serde_json::from_str(raw)
            .map_err(|e| ApiError::invalid_field("body", without_position(&e)))?;
        if items.is_empty() || items.len() > MAX_BATCH {
            return Err(ApiError::invalid_field(
                "body",
                format!("must hold 1 to {MAX_BATCH} events"),
            ));
        }
        items
            .into_iter()
            .enumerate()
            .filter_map(|(i, item)| parse_event(item.get(), Some(i), &mut errors))
            .collect()
    } else {
        parse_event(raw, None, &mut errors).into_iter().collect()
    };
    if !errors.is_empty() {
        return Err(Error::Validation(errors).into());
    }
    let appended = state
        .write(move |db| async move { events::append(&db, batch).await })
        .await?;
    Ok(HttpResponse::Created().json(appended))
}

/// The log, oldest first after `after_id` (or the newest before `before_id`), filtered.
#[utoipa::path(get, path = "/api/ops/events", tag = "orchestration", params(EventQuery),
    responses(
        (status = 200, description = "A page of events, oldest first", body = EventPage),
        ReadErrors, QueryErrors,
    ))]
pub async fn tail(
    state: web::Data<AppState>,
    query: web::Query<EventQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let (filter, start, limit) = parse_tail(&query).map_err(ApiError::bad_query)?;
    let page = events::tail(&state.db, &filter, start, limit).await?;
    Ok(HttpResponse::Ok().json(EventPage::from(page)))
}

/// The filter, start and page size of a tail query.
pub(super) fn parse_tail(q: &EventQuery) -> service::Result<(EventFilter, Start, u64)> {
    let level = |raw: &Option<String>, field| {
        raw.as_deref()
            .filter(|l| !l.is_empty())
            .map(|l| Level::parse(l, field))
            .transpose()
    };
    let limit = q.limit.unwrap_or(TAIL_DEFAULT);
    if !(1..=TAIL_MAX).contains(&limit) {
        return Err(Error::invalid(
            "limit",
            format!("must be between 1 and {TAIL_MAX}"),
        ));
    }
    let cursor = q
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(decode_cursor::<i64>)
        .transpose()?;
    let start = match (q.before_id, cursor.or(q.after_id)) {
        (Some(_), Some(_)) => {
            return Err(Error::invalid(
                "before_id",
                "cannot be given together with after_id or cursor",
            ));
        }
        (Some(before), None) => Start::Before(before),
        (None, after) => Start::After(after.unwrap_or(0)),
    };
    let filter = EventFilter {
        run_id: q.run_id.clone().filter(|r| !r.is_empty()),
        plan_unit_id: q.plan_unit_id.clone().filter(|u| !u.is_empty()),
        level: level(&q.level, "level")?,
        min_level: level(&q.min_level, "min_level")?,
    };
    Ok((filter, start, limit))
}

/// Registers the event routes.
pub fn routes(r: &mut Router) {
    r.api(
        Method::GET,
        "/api/ops/events",
        Access::Permission(Permission::OpsRead),
        tail,
    )
    .api(
        Method::POST,
        "/api/ops/events",
        Access::Permission(Permission::OpsWrite),
        append,
    );
}
