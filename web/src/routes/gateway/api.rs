//! The MCP servers JSON API: list, create, read, replace, delete, check, approve the tools,
//! and the tools with their pins.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use service::access::Permission;
use service::gateway::servers::{self, BY_NAME, McpServerFilter};
use service::gateway::{McpServerSummary, check, pins};
use service::pagination::{PageRequest, Sort};

use super::bodies::{McpServerBody, McpServerPage, McpServerQuery, McpToolsJson};
use crate::auth::{Access, Acting};
use crate::error::ApiError;
use crate::json::Json;
use crate::routes::api_errors::{BodyErrors, NotFound, QueryErrors, ReadErrors, WriteErrors};
use crate::routes::router::Router;
use crate::state::AppState;

/// Lists MCP servers by name; header values are never returned.
#[utoipa::path(get, path = "/api/gateway/mcp-servers", tag = "gateway", params(McpServerQuery),
    responses(
        (status = 200, description = "A page of MCP servers", body = McpServerPage),
        ReadErrors, QueryErrors,
    ))]
pub async fn list(
    state: web::Data<AppState>,
    query: web::Query<McpServerQuery>,
) -> Result<HttpResponse, ApiError> {
    let sort = Sort::parse(query.sort.as_deref(), BY_NAME).map_err(ApiError::bad_query)?;
    let page =
        PageRequest::parse(query.limit, query.cursor.as_deref()).map_err(ApiError::bad_query)?;
    let filter = McpServerFilter {
        status: query.status.clone(),
        drift: query.drift,
    };
    let page = servers::list(&state.db, &filter, sort, &page).await?;
    Ok(HttpResponse::Ok().json(McpServerPage {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// Creates an MCP server.
#[utoipa::path(post, path = "/api/gateway/mcp-servers", tag = "gateway", request_body = McpServerBody,
    responses(
        (status = 201, description = "Created", body = McpServerSummary),
        WriteErrors, BodyErrors,
        (status = 409, description = "The name is taken", body = crate::error::ErrorBody),
        (status = 422, description = "Invalid fields or a refused destination", body = crate::error::ErrorBody),
    ))]
pub async fn create(
    state: web::Data<AppState>,
    acting: Acting,
    body: Json<McpServerBody>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0.parse()?;
    let (config, actor, ip) = (state.gateway.clone(), acting.actor(), acting.ip());
    let server = state
        .write(move |db| async move { servers::create(&db, &config, &actor, ip, input).await })
        .await?;
    Ok(HttpResponse::Created().json(server))
}

/// One MCP server.
#[utoipa::path(get, path = "/api/gateway/mcp-servers/{id}", tag = "gateway",
    params(("id" = String, Path, description = "The server's id")),
    responses(
        (status = 200, description = "The MCP server", body = McpServerSummary),
        ReadErrors, NotFound,
    ))]
pub async fn get(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(servers::get(&state.db, &id).await?))
}

/// Replaces an MCP server's settings (headers left out are kept).
#[utoipa::path(put, path = "/api/gateway/mcp-servers/{id}", tag = "gateway", request_body = McpServerBody,
    params(("id" = String, Path, description = "The server's id")),
    responses(
        (status = 200, description = "The MCP server as saved", body = McpServerSummary),
        WriteErrors, BodyErrors, NotFound,
        (status = 409, description = "The name is taken", body = crate::error::ErrorBody),
        (status = 422, description = "Invalid fields or a refused destination", body = crate::error::ErrorBody),
    ))]
pub async fn replace(
    state: web::Data<AppState>,
    acting: Acting,
    id: web::Path<String>,
    body: Json<McpServerBody>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0.parse()?;
    let (config, actor, ip, id) = (
        state.gateway.clone(),
        acting.actor(),
        acting.ip(),
        id.into_inner(),
    );
    let server = state
        .write(move |db| async move { servers::update(&db, &config, &actor, ip, &id, input).await })
        .await?;
    Ok(HttpResponse::Ok().json(server))
}

/// Deletes an MCP server and its tool pins.
#[utoipa::path(delete, path = "/api/gateway/mcp-servers/{id}", tag = "gateway",
    params(("id" = String, Path, description = "The server's id")),
    responses(
        (status = 204, description = "Deleted"),
        WriteErrors, NotFound,
    ))]
pub async fn delete(
    state: web::Data<AppState>,
    acting: Acting,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (actor, ip, id) = (acting.actor(), acting.ip(), id.into_inner());
    state
        .write(move |db| async move { servers::delete(&db, &actor, ip, &id).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Checks the server now (initialize, initialized, tools/list to the end; at most 10 s) and
/// answers it as recorded. A failed check is a `200` whose `last_error` says why.
#[utoipa::path(post, path = "/api/gateway/mcp-servers/{id}/check", tag = "gateway",
    params(("id" = String, Path, description = "The server's id")),
    responses(
        (status = 200, description = "The MCP server with the check's outcome", body = McpServerSummary),
        WriteErrors, NotFound,
    ))]
pub async fn check(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (config, id) = (state.gateway.clone(), id.into_inner());
    let server = state
        .write(move |db| async move { check::check(&db, &config, &id).await })
        .await?;
    Ok(HttpResponse::Ok().json(server))
}

/// Approves the server's current tools, which pins them.
#[utoipa::path(post, path = "/api/gateway/mcp-servers/{id}/approve", tag = "gateway",
    params(("id" = String, Path, description = "The server's id")),
    responses(
        (status = 200, description = "The MCP server, its tools pinned again", body = McpServerSummary),
        WriteErrors, NotFound,
        (status = 409, description = "The tools are as approved: nothing to approve", body = crate::error::ErrorBody),
    ))]
pub async fn approve(
    state: web::Data<AppState>,
    acting: Acting,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (actor, ip, id) = (acting.actor(), acting.ip(), id.into_inner());
    let server = state
        .write(move |db| async move { pins::approve(&db, &actor, ip, &id).await })
        .await?;
    Ok(HttpResponse::Ok().json(server))
}

/// The server's tools, each with its pinned and current hash and status.
#[utoipa::path(get, path = "/api/gateway/mcp-servers/{id}/tools", tag = "gateway",
    params(("id" = String, Path, description = "The server's id")),
    responses(
        (status = 200, description = "The tools and their pins", body = McpToolsJson),
        ReadErrors, NotFound,
    ))]
pub async fn tools(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (server, tools) = pins::tools(&state.db, &id).await?;
    Ok(HttpResponse::Ok().json(McpToolsJson {
        server_id: server.id,
        tools_drift: server.tools_drift,
        tools,
    }))
}

/// Registers the MCP server API.
pub fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::GatewayRead);
    let write = Access::Permission(Permission::GatewayWrite);
    r.api(Method::GET, "/api/gateway/mcp-servers", read, list)
        .api(Method::POST, "/api/gateway/mcp-servers", write, create)
        .api(Method::GET, "/api/gateway/mcp-servers/{id}", read, get)
        .api(Method::PUT, "/api/gateway/mcp-servers/{id}", write, replace)
        .api(
            Method::DELETE,
            "/api/gateway/mcp-servers/{id}",
            write,
            delete,
        )
        .api(
            Method::POST,
            "/api/gateway/mcp-servers/{id}/check",
            write,
            check,
        )
        .api(
            Method::POST,
            "/api/gateway/mcp-servers/{id}/approve",
            write,
            approve,
        )
        .api(
            Method::GET,
            "/api/gateway/mcp-servers/{id}/tools",
            read,
            tools,
        );
}
