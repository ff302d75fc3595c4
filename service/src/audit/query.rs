//! Reading the audit trail: newest first, filtered, keyset-paginated by id.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use serde_json::Value;

use crate::Result;
use crate::pagination::{Page, PageRequest, Sort, SortField, past_key};

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

/// The sortable columns of the trail, each on an index ending in the row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditSortField {
    /// Time of writing: the row id, which grows with it.
    Time,
    Actor,
    Action,
}

impl SortField for AuditSortField {
    const ALL: &'static [Self] = &[Self::Time, Self::Actor, Self::Action];

    fn name(self) -> &'static str {
        match self {
            Self::Time => "time",
            Self::Actor => "actor",
            Self::Action => "action",
        }
    }
}

/// The trail's order; newest first unless the page asks otherwise.
pub type AuditSort = Sort<AuditSortField>;

/// The default order: newest first.
pub const NEWEST_FIRST: AuditSort = Sort {
    field: AuditSortField::Time,
    descending: true,
};

/// Where a page of the trail starts or ends: the row id, with the sorted text first when the
/// trail is sorted by actor or action. A bare id reads as it did before sorting existed, so
/// cursors handed out by `GET /api/audit` stay valid.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum AuditKey {
    Id(i64),
    Text(String, i64),
}

/// The ids of the users named by the `user:` actors of `records`, by username, read in one
/// query for the whole page: how the audit page links each such actor to the user's own page.
/// Users deleted since are left out.
pub async fn actor_user_ids(
    db: &impl ConnectionTrait,
    records: &[AuditRecord],
) -> Result<HashMap<String, i64>> {
    let mut names: Vec<&str> = records
        .iter()
        .filter_map(|r| r.actor.strip_prefix("user:"))
        .collect();
    names.sort_unstable();
    names.dedup();
    if names.is_empty() {
        return Ok(HashMap::new());
    }
    use entity::local_users::{Column as User, Entity as Users};
    let found: Vec<(i64, String)> = Users::find()
        .select_only()
        .column(User::Id)
        .column(User::Username)
        .filter(User::Username.is_in(names))
        .into_tuple()
        .all(db)
        .await?;
    Ok(found.into_iter().map(|(id, name)| (name, id)).collect())
}

/// How many distinct actions an action prefix may cover for its page in time order to be read
/// one action at a time; past it, the prefix's range is read and sorted.
const ACTIONS_READ_APART: usize = 32;

/// How a page's query matches the action.
enum ActionMatch<'a> {
    /// Any action (no action filter).
    Any,
    /// Actions starting with this text.
    Prefix(&'a str),
    /// Exactly this action.
    Exactly(&'a str),
}

/// A page of the trail in `sort` order.
///
/// An action prefix read in time order, with no actor or target to narrow it, is read one
/// action at a time: each action's page comes straight from `(action, id)` and the pages are
/// merged, so the page costs the same however many rows the prefix covers. Reading the
/// prefix's range instead would sort every row it holds.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &AuditFilter,
    sort: AuditSort,
    page: &PageRequest<AuditKey>,
) -> Result<Page<AuditRecord>> {
    let prefix = filter.action_prefix.as_deref().filter(|p| !p.is_empty());
    let apart = match prefix {
        Some(prefix)
            if sort.field == AuditSortField::Time
                && filter.actor.is_none()
                && filter.target_id.is_none() =>
        {
            let actions = actions_with_prefix(db, prefix, ACTIONS_READ_APART + 1).await?;
            (actions.len() <= ACTIONS_READ_APART).then_some(actions)
        }
        _ => None,
    };
    let rows = match apart {
        Some(actions) => {
            let mut rows = Vec::new();
            for action in &actions {
                let query = page_query(filter, ActionMatch::Exactly(action), sort, page)?;
                rows.extend(query.all(db).await?);
            }
            // Each action's rows are its first in the page's order; theirs is the page.
            if sort.order(page) == sea_orm::Order::Desc {
                rows.sort_unstable_by_key(|r| std::cmp::Reverse(r.id));
            } else {
                rows.sort_unstable_by_key(|r| r.id);
            }
            rows.truncate(usize::try_from(page.limit + 1).unwrap_or(usize::MAX));
            rows
        }
        None => {
            let action = prefix.map_or(ActionMatch::Any, ActionMatch::Prefix);
            page_query(filter, action, sort, page)?.all(db).await?
        }
    };
    let page = Page::from_request(rows, page, |r| match sort.field {
        AuditSortField::Time => AuditKey::Id(r.id),
        AuditSortField::Actor => AuditKey::Text(r.actor.clone(), r.id),
        AuditSortField::Action => AuditKey::Text(r.action.clone(), r.id),
    });
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

/// The distinct actions starting with `prefix`, in order, at most `limit`: a recursive query
/// hops from one to the next through `idx_audit_action`, one index lookup per action however
/// many rows each has.
async fn actions_with_prefix(
    db: &impl ConnectionTrait,
    prefix: &str,
    limit: usize,
) -> Result<Vec<String>> {
    let backend = db.get_database_backend();
    let (p1, p2, p3) = match backend {
        sea_orm::DbBackend::Postgres => ("$1", "$2", "$3"),
        _ => ("?1", "?2", "?3"),
    };
    let sql = format!(
        "WITH RECURSIVE a(action, n) AS ( \
           SELECT (SELECT min(action) FROM audit WHERE action >= {p1} AND action < {p2}), 1 \
           UNION ALL \
           SELECT (SELECT min(t.action) FROM audit t WHERE t.action > a.action AND t.action < {p2}), a.n + 1 \
           FROM a WHERE a.action IS NOT NULL AND a.n < {p3} \
         ) SELECT action FROM a WHERE action IS NOT NULL ORDER BY n"
    );
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = db
        .query_all_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            sql,
            [prefix.into(), prefix_end(prefix).into(), limit.into()],
        ))
        .await?;
    rows.iter()
        .map(|r| r.try_get_by_index::<String>(0).map_err(Into::into))
        .collect()
}

/// The first text past every text starting with `prefix`, for a range instead of `LIKE`: the
/// index serves a range, and `%` or `_` in the prefix need no escaping.
fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

/// The query of one page under `action`.
fn page_query(
    filter: &AuditFilter,
    action: ActionMatch<'_>,
    sort: AuditSort,
    page: &PageRequest<AuditKey>,
) -> Result<sea_orm::Select<entity::audit::Entity>> {
    // Reading backward walks the same index the other way.
    let order = sort.order(page);
    let descending = order == sea_orm::Order::Desc;
    let column = match sort.field {
        AuditSortField::Time => None,
        AuditSortField::Actor => Some(Column::Actor),
        AuditSortField::Action => Some(Column::Action),
    };
    let mut query = entity::audit::Entity::find().limit(page.limit + 1);
    if let Some(column) = column {
        query = query.order_by(column, order.clone());
    }
    query = query.order_by(Column::Id, order);
    match (column, page.boundary()) {
        (_, None) => {}
        (None, Some(AuditKey::Id(id))) => {
            query = query.filter(if descending {
                Column::Id.lt(*id)
            } else {
                Column::Id.gt(*id)
            });
        }
        (Some(column), Some(AuditKey::Text(value, id))) => {
            query = query.filter(past_key(
                column,
                value.as_str(),
                Column::Id,
                *id,
                descending,
            ));
        }
        _ => return Err(crate::Error::invalid("cursor", "is not a valid cursor")),
    }
    if let Some(actor) = &filter.actor {
        query = query.filter(Column::Actor.eq(actor.as_str()));
    }
    match action {
        ActionMatch::Any => {}
        ActionMatch::Prefix(prefix) => {
            query = query
                .filter(Column::Action.gte(prefix))
                .filter(Column::Action.lt(prefix_end(prefix)));
        }
        ActionMatch::Exactly(action) => query = query.filter(Column::Action.eq(action)),
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
    Ok(query)
}
