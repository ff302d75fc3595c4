//! Each user's preferences: selected teams, notification settings and the console's UI
//! (theme, default sync tenant, page size). Other areas read them through [`get`].

use chrono::Utc;
use entity::user_preferences::{self, Column};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::db::writer_turn;
use crate::pagination::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::{Error, FieldError, Result};

/// The console's colour scheme.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    Light,
    Dark,
    /// Follows the system's setting.
    #[default]
    Auto,
}

impl Theme {
    /// The `data-theme` value of the page.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Light => "light",
            Self::Dark => "dark",
            Self::Auto => "auto",
        }
    }

    /// Parses `light`, `dark` or `auto`.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "light" => Some(Self::Light),
            "dark" => Some(Self::Dark),
            "auto" => Some(Self::Auto),
            _ => None,
        }
    }
}

/// The console settings of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct UiPreferences {
    pub theme: Theme,
    /// The sync dashboard opens on this tenant.
    pub default_tenant: Option<String>,
    /// Rows per page of the console's lists (1–500).
    pub page_size: u64,
}

impl Default for UiPreferences {
    fn default() -> Self {
        Self {
            theme: Theme::Auto,
            default_tenant: None,
            page_size: DEFAULT_LIMIT,
        }
    }
}

/// Everything a user may set for themselves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Preferences {
    pub selected_teams: Vec<String>,
    #[schema(value_type = Object)]
    pub notification_settings: Map<String, Value>,
    pub ui: UiPreferences,
}

impl Default for Preferences {
    fn default() -> Self {
        Self {
            selected_teams: Vec::new(),
            notification_settings: Map::new(),
            ui: UiPreferences::default(),
        }
    }
}

/// Most teams a user may select.
const MAX_TEAMS: usize = 1_000;

impl Preferences {
    /// Checks the rules a stored value must meet, naming each field at fault.
    pub fn validate(&self) -> Result<()> {
        let mut errors = Vec::new();
        if self.selected_teams.len() > MAX_TEAMS {
            errors.push(FieldError::new(
                "selected_teams",
                "may list at most 1,000 teams",
            ));
        }
        if self
            .selected_teams
            .iter()
            .any(|t| t.is_empty() || t.chars().count() > 255)
        {
            errors.push(FieldError::new(
                "selected_teams",
                "each team must be 1 to 255 characters long",
            ));
        }
        if self
            .ui
            .default_tenant
            .as_ref()
            .is_some_and(|t| t.is_empty() || t.chars().count() > 255)
        {
            errors.push(FieldError::new(
                "ui.default_tenant",
                "must be 1 to 255 characters long, or null",
            ));
        }
        let has_nul = self.selected_teams.iter().any(|t| t.contains('\0'))
            || self
                .ui
                .default_tenant
                .as_ref()
                .is_some_and(|t| t.contains('\0'))
            || serde_json::to_string(&self.notification_settings)
                .map_or(true, |s| s.contains("\\u0000"));
        if has_nul {
            errors.push(FieldError::new("body", super::input::NUL_MESSAGE));
        }
        if !(1..=MAX_LIMIT).contains(&self.ui.page_size) {
            errors.push(FieldError::new(
                "ui.page_size",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(errors))
        }
    }
}

/// A user's preferences; the defaults until they save any. A stored value that no longer
/// reads (an older shape) falls back to the default of that part, never to an error.
pub async fn get(db: &impl ConnectionTrait, user_id: i64) -> Result<Preferences> {
    let Some(row) = user_preferences::Entity::find_by_id(user_id)
        .one(db)
        .await?
    else {
        return Ok(Preferences::default());
    };
    Ok(Preferences {
        selected_teams: serde_json::from_value(row.selected_teams).unwrap_or_default(),
        notification_settings: serde_json::from_value(row.notification_settings)
            .unwrap_or_default(),
        ui: serde_json::from_value(row.ui).unwrap_or_default(),
    })
}

/// Only the UI part (what every page needs for its theme and page size).
pub async fn ui(db: &impl ConnectionTrait, user_id: i64) -> Result<UiPreferences> {
    get(db, user_id).await.map(|p| p.ui)
}

/// Replaces a user's preferences, in this process's writer turn (one statement, so no
/// transaction of its own).
#[tracing::instrument(name = "registry.preferences.put", skip_all, fields(user_id))]
pub async fn put(db: &DatabaseConnection, user_id: i64, prefs: Preferences) -> Result<Preferences> {
    let turn = writer_turn(db).await?;
    put_in(&turn, user_id, prefs).await
}

/// Replaces a user's preferences inside a write the caller holds (a transaction or a writer
/// turn).
pub async fn put_in(
    db: &impl ConnectionTrait,
    user_id: i64,
    prefs: Preferences,
) -> Result<Preferences> {
    upsert(
        db,
        user_id,
        &prefs,
        &[
            Column::SelectedTeams,
            Column::NotificationSettings,
            Column::Ui,
        ],
    )
    .await?;
    Ok(prefs)
}

/// Replaces only the console settings of a user's preferences, leaving their teams and
/// notifications as stored. One statement: a concurrent change of the other parts (through
/// the JSON API, say) is never overwritten by a stale copy read before it.
#[tracing::instrument(name = "registry.preferences.put_ui", skip_all, fields(user_id))]
pub async fn put_ui(
    db: &DatabaseConnection,
    user_id: i64,
    ui: UiPreferences,
) -> Result<UiPreferences> {
    let prefs = Preferences {
        ui,
        ..Preferences::default()
    };
    let turn = writer_turn(db).await?;
    upsert(&turn, user_id, &prefs, &[Column::Ui]).await?;
    Ok(prefs.ui)
}

/// Writes `prefs` as the user's row when there is none, else only the `parts` of it.
async fn upsert(
    db: &impl ConnectionTrait,
    user_id: i64,
    prefs: &Preferences,
    parts: &[Column],
) -> Result<()> {
    prefs.validate()?;
    let row = user_preferences::ActiveModel {
        user_id: Set(user_id),
        selected_teams: Set(serde_json::to_value(&prefs.selected_teams).map_err(Error::internal)?),
        notification_settings: Set(Value::Object(prefs.notification_settings.clone())),
        ui: Set(serde_json::to_value(&prefs.ui).map_err(Error::internal)?),
        updated_at: Set(Utc::now().fixed_offset()),
    };
    let columns = parts.iter().copied().chain([Column::UpdatedAt]);
    user_preferences::Entity::insert(row)
        .on_conflict(
            OnConflict::column(Column::UserId)
                .update_columns(columns)
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_those_of_the_spec() {
        let json = serde_json::to_value(Preferences::default()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"selected_teams": [], "notification_settings": {},
                "ui": {"theme": "auto", "default_tenant": null, "page_size": 50}})
        );
    }

    #[test]
    fn a_page_size_outside_one_to_five_hundred_is_refused() {
        let mut p = Preferences::default();
        p.ui.page_size = 0;
        assert!(p.validate().is_err());
        p.ui.page_size = 500;
        assert!(p.validate().is_ok());
    }
}
