//! Reading syncs: history with filters, the seed's status answer, tenants, recent runs.

use chrono::{DateTime, Utc};
use entity::sync_history::{self, Column};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement,
};
use serde::Serialize;
use utoipa::ToSchema;

use super::model::{EntityCounts, SyncRecord, SyncStatus, SyncType, TenantId};
use super::runs::running_of;
use crate::Result;
use crate::pagination::{Page, PageRequest, Sort, SortField, past_key};
use crate::vocabulary::equals_ignoring_case;

/// Filters of the history; all optional. `since` is inclusive, `until` exclusive, both on
/// `start_time`.
#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    pub tenant_id: Option<TenantId>,
    pub status: Option<SyncStatus>,
    pub sync_type: Option<SyncType>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// The history's sort key: `start_time`, then `id`, both descending.
pub type HistoryKey = (DateTime<Utc>, i64);

/// The sortable column of the history: when a sync started (index `(start_time, id)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistorySortField {
    Started,
}

impl SortField for HistorySortField {
    const ALL: &'static [Self] = &[Self::Started];

    fn name(self) -> &'static str {
        "started"
    }
}

/// The history's order.
pub type HistorySort = Sort<HistorySortField>;

/// The default order: newest first.
pub const NEWEST_SYNC_FIRST: HistorySort = Sort {
    field: HistorySortField::Started,
    descending: true,
};

/// A page of the history in `sort` order (newest first by default).
pub async fn history(
    db: &impl ConnectionTrait,
    filter: &HistoryFilter,
    sort: HistorySort,
    page: &PageRequest<HistoryKey>,
) -> Result<Page<SyncRecord>> {
    // Reading backward walks the same index the other way.
    let order = sort.order(page);
    let descending = order == sea_orm::Order::Desc;
    let mut query = sync_history::Entity::find()
        .order_by(Column::StartTime, order.clone())
        .order_by(Column::Id, order)
        .limit(page.limit + 1);
    // The tenant ignores case ("Acme" finds "acme"), on the index of its lowered text.
    if let Some(t) = &filter.tenant_id {
        query = query.filter(equals_ignoring_case(
            db.get_database_backend(),
            "sync_history",
            "tenant_id",
            t.as_str(),
        ));
    }
    if let Some(s) = filter.status {
        query = query.filter(Column::Status.eq(s.as_str()));
    }
    if let Some(t) = filter.sync_type {
        query = query.filter(Column::SyncType.eq(t.as_str()));
    }
    if let Some(since) = filter.since {
        query = query.filter(Column::StartTime.gte(since.fixed_offset()));
    }
    if let Some(until) = filter.until {
        query = query.filter(Column::StartTime.lt(until.fixed_offset()));
    }
    if let Some(&(start, id)) = page.boundary() {
        query = query.filter(past_key(
            Column::StartTime,
            start.fixed_offset(),
            Column::Id,
            id,
            descending,
        ));
    }
    let rows = query.all(db).await?;
    let page = Page::from_request(rows, page, |r| (r.start_time.to_utc(), r.id));
    Ok(page.map(SyncRecord::from))
}

/// The seed's status answer for one tenant: its running sync (or else its latest), the
/// progress and counts of that sync, and the last completed one. `never` without history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StatusAnswer {
    pub tenant_id: String,
    /// `running`, `completed`, `failed`, `canceled`, or `never`.
    pub status: String,
    /// 0–100.
    pub progress: i64,
    pub entity_counts: EntityCounts,
    /// The running sync, or the latest one; null when there is none.
    pub sync: Option<SyncRecord>,
    /// The last completed sync; null when there is none.
    pub last_completed: Option<SyncRecord>,
}

impl StatusAnswer {
    /// The answer for `tenant` given its current (running or latest) and last completed syncs.
    pub fn new(
        tenant: &str,
        current: Option<SyncRecord>,
        last_completed: Option<SyncRecord>,
    ) -> Self {
        Self {
            tenant_id: tenant.to_string(),
            status: current
                .as_ref()
                .map_or_else(|| "never".to_string(), |s| s.status.clone()),
            progress: current.as_ref().map_or(0, |s| s.progress_percentage),
            entity_counts: current.as_ref().map(EntityCounts::from).unwrap_or_default(),
            sync: current,
            last_completed,
        }
    }
}

/// The newest sync of `tenant` with `status` (any status when `None`).
async fn newest(
    db: &impl ConnectionTrait,
    tenant: &str,
    status: Option<SyncStatus>,
) -> Result<Option<SyncRecord>> {
    let mut query = sync_history::Entity::find()
        .filter(Column::TenantId.eq(tenant))
        .order_by_desc(Column::StartTime)
        .order_by_desc(Column::Id);
    if let Some(s) = status {
        query = query.filter(Column::Status.eq(s.as_str()));
    }
    Ok(query.one(db).await?.map(SyncRecord::from))
}

/// The running sync of `tenant`, or else its latest.
pub async fn current(db: &impl ConnectionTrait, tenant: &str) -> Result<Option<SyncRecord>> {
    match running_of(db, tenant).await? {
        Some(running) => Ok(Some(running.into())),
        None => newest(db, tenant, None).await,
    }
}

/// The last completed sync of `tenant`.
pub async fn last_completed(db: &impl ConnectionTrait, tenant: &str) -> Result<Option<SyncRecord>> {
    newest(db, tenant, Some(SyncStatus::Completed)).await
}

/// The newest sync of `tenant` that recorded an error.
pub async fn last_error(db: &impl ConnectionTrait, tenant: &str) -> Result<Option<SyncRecord>> {
    Ok(sync_history::Entity::find()
        .filter(Column::TenantId.eq(tenant))
        .filter(Column::ErrorDetails.is_not_null())
        .order_by_desc(Column::StartTime)
        .order_by_desc(Column::Id)
        .one(db)
        .await?
        .map(SyncRecord::from))
}

/// The status answer for `tenant`.
pub async fn status(db: &impl ConnectionTrait, tenant: &TenantId) -> Result<StatusAnswer> {
    status_of(db, tenant.as_str()).await
}

/// The status answer for a stored tenant id.
pub(crate) async fn status_of(db: &impl ConnectionTrait, tenant: &str) -> Result<StatusAnswer> {
    let current = current(db, tenant).await?;
    let last = match &current {
        None => None,
        Some(c) if c.status() == SyncStatus::Completed => Some(c.clone()),
        Some(_) => last_completed(db, tenant).await?,
    };
    Ok(StatusAnswer::new(tenant, current, last))
}

/// A tenant with its latest and last completed sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TenantSummary {
    pub tenant_id: String,
    /// The running sync, or else the latest.
    pub latest: Option<SyncRecord>,
    pub last_completed: Option<SyncRecord>,
}

/// Tenant ids in ascending order after `after`, at most `limit`.
///
/// A recursive query hops from one tenant to the next through the `(tenant_id, …)` index, so
/// listing 50 tenants costs 50 index lookups however many syncs each has.
pub async fn tenant_ids(
    db: &impl ConnectionTrait,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<String>> {
    let backend = db.get_database_backend();
    let (p1, p2) = match backend {
        DbBackend::Postgres => ("$1", "$2"),
        _ => ("?", "?"),
    };
    let sql = format!(
        "WITH RECURSIVE t(tenant_id, n) AS ( \
           SELECT min(tenant_id), 1 FROM sync_history WHERE tenant_id > {p1} \
           UNION ALL \
           SELECT (SELECT min(s.tenant_id) FROM sync_history s WHERE s.tenant_id > t.tenant_id), t.n + 1 \
           FROM t WHERE t.tenant_id IS NOT NULL AND t.n < {p2} \
         ) SELECT tenant_id FROM t WHERE tenant_id IS NOT NULL ORDER BY n"
    );
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [after.unwrap_or_default().into(), limit.into()],
        ))
        .await?;
    rows.iter()
        .map(|r| r.try_get_by_index::<String>(0).map_err(Into::into))
        .collect()
}

/// A page of tenants by id, each with its latest and last completed sync.
pub async fn tenants(
    db: &impl ConnectionTrait,
    page: &PageRequest<String>,
) -> Result<Page<TenantSummary>> {
    let ids = tenant_ids(db, page.after.as_deref(), page.limit + 1).await?;
    let page = Page::from_rows(ids, page.limit, Clone::clone);
    let mut items = Vec::with_capacity(page.items.len());
    for tenant in &page.items {
        let answer = status_of(db, tenant).await?;
        items.push(TenantSummary {
            tenant_id: answer.tenant_id,
            latest: answer.sync,
            last_completed: answer.last_completed,
        });
    }
    Ok(page.map_all(items))
}

/// The last `n` syncs of `tenant`, oldest first (for its chart).
pub async fn recent(db: &impl ConnectionTrait, tenant: &str, n: u64) -> Result<Vec<SyncRecord>> {
    let mut rows: Vec<SyncRecord> = sync_history::Entity::find()
        .filter(Column::TenantId.eq(tenant))
        .order_by_desc(Column::StartTime)
        .order_by_desc(Column::Id)
        .limit(n)
        .all(db)
        .await?
        .into_iter()
        .map(SyncRecord::from)
        .collect();
    rows.reverse();
    Ok(rows)
}
