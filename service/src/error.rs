//! The one error type of the service layer, typed by meaning rather than by origin.

use sea_orm::{DbErr, SqlErr};
use serde::Serialize;

/// Result of a service call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One problem with one input field (and, for batch items, the item's index).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The offending field, e.g. `progress_percentage` or `items.3.device_id`.
    pub field: String,
    /// What is wrong with it, phrased for a person.
    pub message: String,
    /// Position of the item in a batch request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// The sync a conflict is about: the tenant's running sync that blocks starting another.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync_id: Option<i64>,
}

impl FieldError {
    /// A problem with `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
            index: None,
            sync_id: None,
        }
    }

    /// Names the sync this problem is about.
    pub fn with_sync_id(mut self, sync_id: i64) -> Self {
        self.sync_id = Some(sync_id);
        self
    }

    /// A problem with `field` of the batch item at `index`.
    pub fn at(index: usize, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            index: Some(index),
            ..Self::new(field, message)
        }
    }
}

/// Everything a service call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The named object does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The request conflicts with the current state (duplicate key, terminal status, stale hash).
    #[error("{message}")]
    Conflict {
        message: String,
        details: Vec<FieldError>,
    },
    /// Well-formed input that breaks a rule; each field says which.
    #[error("{}", summary(.0))]
    Validation(Vec<FieldError>),
    /// Username / password (or client credentials) did not match.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Authenticated, but not allowed to do this.
    #[error("{0}")]
    Forbidden(String),
    /// Granting, or acting on a user holding, permissions the caller does not hold (spec 02:
    /// nobody grants what they do not hold).
    #[error("{action} needs permissions you do not hold: {}", .missing.join(", "))]
    NotHeld {
        action: String,
        missing: Vec<&'static str>,
    },
    /// Too many attempts; retry after the given number of seconds.
    #[error("too many attempts; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// The database cannot be reached.
    #[error("the database is unavailable")]
    Unavailable(#[source] DbErr),
    /// An OAuth protocol refusal, answered in RFC 6749's own format by the protocol endpoints.
    #[error("{0}")]
    OAuth(#[from] crate::oauth::OAuthError),
    /// A bug or an unexpected failure; the message is for logs, never for a response.
    #[error("internal error: {0}")]
    Internal(String),
}

fn summary(errors: &[FieldError]) -> String {
    match errors.first() {
        Some(e) => format!("{} {}", e.field, e.message),
        None => "invalid input".into(),
    }
}

impl Error {
    /// A conflict without field details.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict {
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// A validation failure of one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// An unexpected failure, kept for the logs.
    pub fn internal(message: impl std::fmt::Display) -> Self {
        Self::Internal(message.to_string())
    }
}

impl From<DbErr> for Error {
    /// Database errors are classified once, here: constraint violations become conflicts,
    /// lost connections become `Unavailable`, the rest are internal.
    fn from(err: DbErr) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                return Self::conflict("an object with this key already exists");
            }
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
                return Self::conflict(
                    "the object refers to, or is referred to by, another object",
                );
            }
            _ => {}
        }
        match &err {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => Self::Unavailable(err),
            _ => Self::Internal(err.to_string()),
        }
    }
}

impl From<validator::ValidationErrors> for Error {
    fn from(errors: validator::ValidationErrors) -> Self {
        let mut out: Vec<FieldError> = errors
            .field_errors()
            .into_iter()
            .flat_map(|(field, errs)| {
                errs.iter().map(move |e| {
                    let message = e
                        .message
                        .as_ref()
                        .map(|m| m.to_string())
                        .unwrap_or_else(|| e.code.to_string());
                    FieldError::new(field.to_string(), message)
                })
            })
            .collect();
        out.sort_by(|a, b| a.field.cmp(&b.field));
        Self::Validation(out)
    }
}
