//! `GET` / `PUT /api/me/preferences`: the signed-in user's own preferences.

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value};
use service::registry::preferences::{self, Preferences, Theme, UiPreferences};
use utoipa::ToSchema;

use crate::auth::{Access, Caller};
use crate::error::{ApiError, ErrorBody};
use crate::json::Json;
use crate::routes::api_errors::{BodyErrors, ReadErrors, WriteErrors};
use crate::routes::router::Router;
use crate::state::AppState;

/// Body of `PUT /api/me/preferences`; omitted parts take their defaults.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesBody {
    #[serde(default)]
    pub selected_teams: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub notification_settings: Map<String, Value>,
    #[serde(default)]
    pub ui: UiBody,
}

/// The `ui` part of [`PreferencesBody`].
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UiBody {
    pub theme: Option<Theme>,
    pub default_tenant: Option<String>,
    /// 1–500, default 50.
    pub page_size: Option<u64>,
}

impl From<PreferencesBody> for Preferences {
    fn from(b: PreferencesBody) -> Self {
        let defaults = UiPreferences::default();
        Self {
            selected_teams: b.selected_teams,
            notification_settings: b.notification_settings,
            ui: UiPreferences {
                theme: b.ui.theme.unwrap_or(defaults.theme),
                default_tenant: b.ui.default_tenant,
                page_size: b.ui.page_size.unwrap_or(defaults.page_size),
            },
        }
    }
}

fn user_of(caller: &Caller) -> Result<i64, ApiError> {
    caller.user_id().ok_or_else(|| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "preferences belong to a user; this token has none",
        )
    })
}

/// The caller's preferences (the defaults until saved).
#[utoipa::path(get, path = "/api/me/preferences", tag = "registry",
    responses(
        (status = 200, description = "The preferences", body = Preferences),
        ReadErrors,
        (status = 403, description = "A client without a user", body = ErrorBody),
    ))]
pub async fn get(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let prefs = preferences::get(&state.db, user_of(&caller)?).await?;
    Ok(HttpResponse::Ok().json(prefs))
}

/// Replaces the caller's preferences.
#[utoipa::path(put, path = "/api/me/preferences", tag = "registry", request_body = PreferencesBody,
    responses(
        (status = 200, description = "Saved", body = Preferences),
        WriteErrors, BodyErrors,
        (status = 403, description = "A client without a user, or a session sent no valid X-CSRF-Token", body = ErrorBody),
    ))]
pub async fn put(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<PreferencesBody>,
) -> Result<HttpResponse, ApiError> {
    let user = user_of(&caller)?;
    let change = body.0.into();
    let saved = state
        .write(move |db| async move { preferences::put(&db, user, change).await })
        .await?;
    Ok(HttpResponse::Ok().json(saved))
}

/// Registers the preferences API.
pub fn routes(r: &mut Router) {
    r.api(Method::GET, "/api/me/preferences", Access::Signed, get)
        .api(Method::PUT, "/api/me/preferences", Access::Signed, put);
}
