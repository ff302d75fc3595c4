//! Reading the audit trail: newest first, filtered, keyset-paginated by id.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use serde_json::Value;

use crate::Result;
use crate::pagination::{Page, PageRequest};

use entity::audit::Column;

/// Filters of `/audit` and `GET /api/audit`.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    /// Matches actions starting with this text (`user.` finds every user action).
    pub action_prefix: Option<String>,
    pub target_id: Option<String>,
    /// Inclusive.
    pub since: Option<DateTime<Utc>>,
    /// Exclusive.
    pub until: Option<DateTime<Utc>>,
}

/// One audit row as callers see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditRecord {
    pub id: i64,
    pub action: String,
    pub actor: String,
    pub target_id: Option<String>,
    pub details: Option<Value>,
    pub ip_address: Option<String>,
    pub timestamp: DateTime<Utc>,
    pub prev_hash: String,
    pub row_hash: String,
}

/// A page of the trail, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &AuditFilter,
    page: &PageRequest<i64>,
) -> Result<Page<AuditRecord>> {
    // Reading backward (towards newer rows) walks the primary key the other way.
    let mut query = entity::audit::Entity::find().limit(page.limit + 1);
    if page.reads_descending(true) {
        query = query.order_by_desc(Column::Id);
        if let Some(&after) = page.boundary() {
            query = query.filter(Column::Id.lt(after));
        }
    } else {
        query = query.order_by_asc(Column::Id);
        if let Some(&before) = page.boundary() {
            query = query.filter(Column::Id.gt(before));
        }
    }
    if let Some(actor) = &filter.actor {
        query = query.filter(Column::Actor.eq(actor.as_str()));
    }
    if let Some(prefix) = filter.action_prefix.as_deref().filter(|p| !p.is_empty()) {
        // A range instead of LIKE, so the index serves it and `%`/`_` need no escaping.
        query = query
            .filter(Column::Action.gte(prefix))
            .filter(Column::Action.lt(format!("{prefix}\u{10FFFF}")));
    }
    if let Some(target) = &filter.target_id {
        query = query.filter(Column::TargetId.eq(target.as_str()));
    }
    if let Some(since) = filter.since {
        query = query.filter(Column::Timestamp.gte(since.fixed_offset()));
    }
    if let Some(until) = filter.until {
        query = query.filter(Column::Timestamp.lt(until.fixed_offset()));
    }
    let rows = query.all(db).await?;
    let page = Page::from_request(rows, page, |r| r.id);
    Ok(page.map(|r| AuditRecord {
        id: r.id,
        action: r.action,
        actor: r.actor,
        target_id: r.target_id,
        details: r.details,
        ip_address: r.ip_address,
        timestamp: r.timestamp.to_utc(),
        prev_hash: r.prev_hash,
        row_hash: r.row_hash,
    }))
}
