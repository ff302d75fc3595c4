//! `GET /api/users` and `POST /api/users`: admin users for scripts and services.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use service::access::users::{self, NewUser, UserFilter, UserSummary};
use service::access::{Password, Permission, Username};
use service::pagination::PageRequest;
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Access, Acting};
use crate::error::ApiError;
use crate::json::Json;
use crate::routes::api_errors::{BodyErrors, QueryErrors, ReadErrors, WriteErrors};
use crate::routes::router::Router;
use crate::state::AppState;

/// An admin user in JSON.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserJson {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub is_active: bool,
    pub roles: Vec<String>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<UserSummary> for UserJson {
    fn from(u: UserSummary) -> Self {
        Self {
            id: u.id,
            username: u.username,
            email: u.email,
            is_active: u.is_active,
            roles: u.roles,
            last_login_at: u.last_login_at,
            created_at: u.created_at,
        }
    }
}

/// A page of users.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    pub items: Vec<UserJson>,
    pub next_cursor: Option<String>,
}

/// Query of the user list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct UserQuery {
    /// Substring of the username or email.
    pub q: Option<String>,
    /// Only holders of this role.
    pub role: Option<String>,
    /// `true` or `false`.
    pub active: Option<bool>,
    /// 1–500, default 50.
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// Body of `POST /api/users`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// Stored lowercase; unique without regard to case.
    #[schema(pattern = "^[A-Za-z0-9._@-]{1,64}$")]
    pub username: String,
    #[schema(format = "email")]
    pub email: Option<String>,
    /// Omit to have a password generated and returned once. 12–128 characters, not the
    /// username, not one character repeated.
    #[schema(min_length = 12, max_length = 128)]
    pub password: Option<String>,
    pub roles: Vec<String>,
}

/// Answer of `POST /api/users`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUser {
    pub user: UserJson,
    /// The generated password, shown only in this answer; null when one was given.
    pub password: Option<String>,
}

/// Lists admin users by username.
#[utoipa::path(get, path = "/api/users", tag = "access", params(UserQuery),
    responses(
        (status = 200, description = "A page of users", body = UserPage),
        ReadErrors, QueryErrors,
    ))]
pub async fn list(
    state: web::Data<AppState>,
    query: web::Query<UserQuery>,
) -> Result<HttpResponse, ApiError> {
    let page =
        PageRequest::parse(query.limit, query.cursor.as_deref()).map_err(ApiError::bad_query)?;
    let filter = UserFilter {
        q: query.q.clone(),
        role: query.role.clone(),
        active: query.active,
    };
    let page = users::list(&state.db, &filter, users::BY_USERNAME, &page).await?;
    Ok(HttpResponse::Ok().json(UserPage {
        items: page.items.into_iter().map(UserJson::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Creates an admin user.
#[utoipa::path(post, path = "/api/users", tag = "access", request_body = CreateUser,
    responses(
        (status = 201, description = "Created", body = CreatedUser),
        WriteErrors, BodyErrors,
        (status = 403, description = "The caller lacks the route's permission or one that a given role grants, or a session sent no valid X-CSRF-Token", body = crate::error::ErrorBody),
        (status = 409, description = "The username is taken", body = crate::error::ErrorBody),
    ))]
pub async fn create(
    state: web::Data<AppState>,
    acting: Acting,
    body: Json<CreateUser>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let username = Username::parse(&body.username)?;
    let email = users::parse_email(body.email.as_deref())?;
    let password = body
        .password
        .as_deref()
        .map(|p| Password::parse(p, username.as_str(), "password"))
        .transpose()?;
    let ip = acting.ip();
    let input = NewUser {
        username,
        email,
        password,
        roles: body.roles,
    };
    let by = acting.grantor();
    let (user, generated) = state
        .write(move |db| async move { users::create(&db, &by, ip, input).await })
        .await?;
    Ok(HttpResponse::Created().json(CreatedUser {
        user: user.into(),
        password: generated.map(|p| p.expose().to_string()),
    }))
}

/// Registers the users API.
pub fn routes(r: &mut Router) {
    r.api(
        Method::GET,
        "/api/users",
        Access::Permission(Permission::UsersRead),
        list,
    )
    .api(
        Method::POST,
        "/api/users",
        Access::Permission(Permission::UsersWrite),
        create,
    );
}
