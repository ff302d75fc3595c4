//! `oauth_audit_logs`: the protocol's own append-only event log.

use chrono::{DateTime, NaiveDate, Utc};
use entity::oauth_audit_logs::{self, Column};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::Result;
use crate::pagination::{Page, PageRequest, Sort, SortField};

/// The events of the log, as `event_type` spells them.
pub const EVENTS: &[&str] = &[
    "client.created",
    "client.updated",
    "client.enabled",
    "client.disabled",
    "client.secret_rotated",
    "client.deleted",
    "code.issued",
    "code.redeemed",
    "code.reuse_detected",
    "token.issued",
    "token.refreshed",
    "token.revoked",
    "refresh_token.reuse_detected",
    "device_code.issued",
    "device_code.approved",
    "device_code.denied",
    "consent.granted",
    "consent.denied",
];

/// One event to log. `metadata` never holds a secret, code or token.
#[derive(Debug, Clone)]
pub struct OAuthEvent {
    pub event_type: &'static str,
    pub client_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub subject: Option<String>,
    pub metadata: Option<Value>,
    /// `user:<name>`, `client:<id>`, `cli` or `system`.
    pub by: String,
}

impl OAuthEvent {
    /// An event about `client_id`, done by `by`.
    pub fn new(event_type: &'static str, client_id: Option<Uuid>, by: impl Into<String>) -> Self {
        Self {
            event_type,
            client_id,
            user_id: None,
            subject: None,
            metadata: None,
            by: by.into(),
        }
    }

    /// The resource owner involved.
    pub fn user(mut self, user_id: Option<Uuid>) -> Self {
        self.user_id = user_id;
        self
    }

    /// What the event is about, e.g. a token id.
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// Details (scopes, counts), never a credential.
    pub fn metadata(mut self, metadata: Value) -> Self {
        self.metadata = Some(metadata);
        self
    }
}

/// Appends `event` (inside the caller's transaction).
pub async fn log(db: &impl ConnectionTrait, event: OAuthEvent) -> Result<()> {
    let now = Utc::now().fixed_offset();
    oauth_audit_logs::Entity::insert(oauth_audit_logs::ActiveModel {
        event_type: Set(event.event_type.to_owned()),
        subject: Set(event.subject),
        client_id: Set(event.client_id),
        user_id: Set(event.user_id),
        metadata: Set(event.metadata),
        created_at: Set(now),
        created_by: Set(Some(event.by.clone())),
        updated_at: Set(now),
        updated_by: Set(Some(event.by)),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Filters of the log view.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    pub event_type: Option<String>,
    /// `oauth_clients.id`.
    pub client_id: Option<Uuid>,
    /// `oauth_users.id`.
    pub user_id: Option<Uuid>,
    /// First day included.
    pub from: Option<NaiveDate>,
    /// Last day included.
    pub to: Option<NaiveDate>,
}

/// A logged event, as the pages and the API show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LogRecord {
    pub id: i64,
    pub event_type: String,
    pub subject: Option<String>,
    pub client_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub metadata: Option<Value>,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
}

/// The sortable columns of the log: the time of writing, which the id follows (the primary
/// key serves it both ways).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogSortField {
    Time,
}

impl SortField for LogSortField {
    const ALL: &'static [Self] = &[Self::Time];

    fn name(self) -> &'static str {
        "time"
    }
}

/// The log's order.
pub type LogSort = Sort<LogSortField>;

/// The default order: newest first.
pub const NEWEST_EVENTS_FIRST: LogSort = Sort {
    field: LogSortField::Time,
    descending: true,
};

/// The log in `sort` order, by id.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &LogFilter,
    sort: LogSort,
    page: &PageRequest<i64>,
) -> Result<Page<LogRecord>> {
    // Reading backward walks the primary key the other way.
    let descending = page.reads_descending(sort.descending);
    let mut query = oauth_audit_logs::Entity::find()
        .order_by(
            Column::Id,
            if descending {
                sea_orm::Order::Desc
            } else {
                sea_orm::Order::Asc
            },
        )
        .limit(page.limit + 1);
    if let Some(&key) = page.boundary() {
        query = query.filter(if descending {
            Column::Id.lt(key)
        } else {
            Column::Id.gt(key)
        });
    }
    if let Some(event) = filter.event_type.as_deref().filter(|e| !e.is_empty()) {
        query = query.filter(Column::EventType.eq(event));
    }
    if let Some(client) = filter.client_id {
        query = query.filter(Column::ClientId.eq(client));
    }
    if let Some(user) = filter.user_id {
        query = query.filter(Column::UserId.eq(user));
    }
    if let Some(from) = filter.from.and_then(|d| d.and_hms_opt(0, 0, 0)) {
        query = query.filter(Column::CreatedAt.gte(from.and_utc().fixed_offset()));
    }
    if let Some(to) = filter
        .to
        .and_then(|d| d.succ_opt())
        .and_then(|d| d.and_hms_opt(0, 0, 0))
    {
        query = query.filter(Column::CreatedAt.lt(to.and_utc().fixed_offset()));
    }
    let rows = query.all(db).await?;
    Ok(Page::from_request(rows, page, |r| r.id).map(|r| LogRecord {
        id: r.id,
        event_type: r.event_type,
        subject: r.subject,
        client_id: r.client_id,
        user_id: r.user_id,
        metadata: r.metadata,
        created_at: r.created_at.to_utc(),
        created_by: r.created_by,
    }))
}
