//! `/api/ops/runs` and `/api/ops/plan-units`: an engine records a run with its plan, moves
//! the run and its units along their state machines; readers list and read runs.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use service::access::Permission;
use service::orchestration::OpsKey;
use service::orchestration::runs::{self, NewRun, RunDetail, RunView};
use service::orchestration::units::{self, NewUnit, UnitView};
use service::pagination::PageRequest;
use service::{Error, FieldError};

use super::bodies::{CreateRun, PatchRun, PatchUnit, RunPage, RunQuery};
use crate::auth::{Access, Acting};
use crate::error::{ApiError, ErrorBody};
use crate::json::{BulkJson, Json};
use crate::routes::api_errors::{BodyErrors, NotFound, QueryErrors, ReadErrors, WriteErrors};
use crate::routes::router::Router;
use crate::state::AppState;

/// Longest plan path and error text.
const TEXT_MAX: usize = 4096;

/// Pushes the validation errors of `result` (renamed under `prefix` and `index`) to `errors`.
fn collect<T>(
    result: service::Result<T>,
    index: Option<usize>,
    prefix: &str,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    match result {
        Ok(v) => Some(v),
        Err(Error::Validation(list)) => {
            errors.extend(list.into_iter().map(|mut e| {
                if !prefix.is_empty() {
                    e.field = format!("{prefix}.{}", e.field);
                }
                e.index = index.or(e.index);
                e
            }));
            None
        }
        Err(other) => {
            errors.push(FieldError::new(prefix, other.to_string()));
            None
        }
    }
}

/// Checks a free text of at most [`TEXT_MAX`] characters.
pub(super) fn text(raw: &str, field: &str) -> service::Result<String> {
    if raw.chars().count() > TEXT_MAX {
        return Err(Error::invalid(
            field,
            format!("must be at most {TEXT_MAX} characters"),
        ));
    }
    Ok(raw.to_string())
}

/// Parses the body of a run creation, reporting every bad field (units by index).
fn parse_run(body: CreateRun) -> Result<NewRun, Error> {
    let mut errors = Vec::new();
    let id = collect(OpsKey::parse(&body.id, "id"), None, "", &mut errors);
    let plan_path = collect(text(&body.plan_path, "plan_path"), None, "", &mut errors);
    if body
        .metadata
        .as_ref()
        .is_some_and(|m| !m.is_object() && !m.is_null())
    {
        errors.push(FieldError::new("metadata", "must be a JSON object"));
    }
    let mut units = Vec::new();
    for (i, u) in body.plan_units.unwrap_or_default().into_iter().enumerate() {
        let uid = collect(
            OpsKey::parse(&u.id, "id"),
            Some(i),
            "plan_units",
            &mut errors,
        );
        let rt = collect(
            OpsKey::parse(&u.resource_type, "resource_type"),
            Some(i),
            "plan_units",
            &mut errors,
        );
        let rn = collect(
            OpsKey::parse(&u.resource_name, "resource_name"),
            Some(i),
            "plan_units",
            &mut errors,
        );
        if let (Some(id), Some(resource_type), Some(resource_name)) = (uid, rt, rn) {
            units.push(NewUnit {
                id,
                resource_type,
                resource_name,
                action: u.action,
                dependencies: u.dependencies,
                desired_state: u.desired_state,
            });
        }
    }
    match (id, plan_path) {
        (Some(id), Some(plan_path)) if errors.is_empty() => Ok(NewRun {
            id,
            plan_path,
            metadata: body.metadata.filter(|m| !m.is_null()),
            units,
        }),
        _ => Err(Error::Validation(errors)),
    }
}

/// Lists runs, newest first.
#[utoipa::path(get, path = "/api/ops/runs", tag = "orchestration", params(RunQuery),
    responses(
        (status = 200, description = "A page of runs", body = RunPage),
        ReadErrors, QueryErrors,
    ))]
pub async fn list(
    state: web::Data<AppState>,
    query: web::Query<RunQuery>,
) -> Result<HttpResponse, ApiError> {
    let page =
        PageRequest::parse(query.limit, query.cursor.as_deref()).map_err(ApiError::bad_query)?;
    let found = runs::list(&state.db, query.status, &page).await?;
    Ok(HttpResponse::Ok().json(RunPage::from(found)))
}

/// Creates a run (`pending`) and its plan units in one transaction.
#[utoipa::path(post, path = "/api/ops/runs", tag = "orchestration", request_body = CreateRun,
    responses(
        (status = 201, description = "Created, with its plan units", body = RunDetail),
        WriteErrors, BodyErrors,
        (status = 409, description = "The run id, or a plan unit id, is taken", body = ErrorBody),
        (status = 422, description = "Invalid fields, or dependencies that name unknown units or form a cycle (each id named)", body = ErrorBody),
    ))]
pub async fn create(
    state: web::Data<AppState>,
    acting: Acting,
    body: BulkJson<CreateRun>,
) -> Result<HttpResponse, ApiError> {
    let new = parse_run(body.0)?;
    let (actor, ip) = (acting.actor(), acting.ip());
    let run = state
        .write(move |db| async move { runs::create(&db, &actor, ip, new).await })
        .await?;
    Ok(HttpResponse::Created().json(run))
}

/// A run with its plan units and its last 100 events (oldest first).
#[utoipa::path(get, path = "/api/ops/runs/{id}", tag = "orchestration",
    params(("id" = String, Path, description = "The run's id")),
    responses(
        (status = 200, description = "The run", body = RunDetail),
        ReadErrors, NotFound,
    ))]
pub async fn get(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(runs::get(&state.db, &id).await?))
}

/// Moves a run along `pending → running → succeeded | failed`, or a non-terminal run to
/// `canceled`; a run that ends emits `run.succeeded` / `run.failed`.
#[utoipa::path(patch, path = "/api/ops/runs/{id}", tag = "orchestration", request_body = PatchRun,
    params(("id" = String, Path, description = "The run's id")),
    responses(
        (status = 200, description = "The run as it is now", body = RunView),
        WriteErrors, BodyErrors, NotFound,
        (status = 409, description = "The state machine does not allow this move", body = ErrorBody),
    ))]
pub async fn patch(
    state: web::Data<AppState>,
    acting: Acting,
    id: web::Path<String>,
    body: Json<PatchRun>,
) -> Result<HttpResponse, ApiError> {
    let PatchRun { status, error } = body.0;
    let error = error.map(|e| text(&e, "error")).transpose()?;
    let (actor, ip, id) = (acting.actor(), acting.ip(), id.into_inner());
    let run = state
        .write(move |db| async move { runs::transition(&db, &actor, ip, &id, status, error).await })
        .await?;
    Ok(HttpResponse::Ok().json(run))
}

/// Moves a plan unit along `pending → running → succeeded | failed` or `pending → skipped`.
#[utoipa::path(patch, path = "/api/ops/plan-units/{id}", tag = "orchestration", request_body = PatchUnit,
    params(("id" = String, Path, description = "The plan unit's id")),
    responses(
        (status = 200, description = "The plan unit as it is now", body = UnitView),
        WriteErrors, BodyErrors, NotFound,
        (status = 409, description = "The state machine does not allow this move", body = ErrorBody),
    ))]
pub async fn patch_unit(
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: Json<PatchUnit>,
) -> Result<HttpResponse, ApiError> {
    let PatchUnit { status, error } = body.0;
    let error = error.map(|e| text(&e, "error")).transpose()?;
    let id = id.into_inner();
    let unit = state
        .write(move |db| async move { units::transition(&db, &id, status, error).await })
        .await?;
    Ok(HttpResponse::Ok().json(unit))
}

/// Registers the run and plan-unit routes.
pub fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::OpsRead);
    let write = Access::Permission(Permission::OpsWrite);
    r.api(Method::GET, "/api/ops/runs", read, list)
        .api(Method::POST, "/api/ops/runs", write, create)
        .api(Method::GET, "/api/ops/runs/{id}", read, get)
        .api(Method::PATCH, "/api/ops/runs/{id}", write, patch)
        .api(Method::PATCH, "/api/ops/plan-units/{id}", write, patch_unit);
}
