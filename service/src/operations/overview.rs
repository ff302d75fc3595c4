//! What the console's start page shows: per area, how much there is and what needs action.
//!
//! Each area is read with one query where one will do, and none of them walks a big table
//! row by row: counts of the big tables (devices, entities) are the backend's cheap count
//! ([`big_table_counts`]); the rest reads small tables (users, clients, webhooks) or walks an
//! index to a handful of rows (running and failed syncs, the newest audit rows).

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement,
};
use serde::Serialize;

use crate::Result;
use crate::audit::{self, AuditFilter, AuditRecord};
use crate::pagination::PageRequest;

/// A row count, exact or (for a table past [`ESTIMATE_FROM`] rows) an estimate: the
/// planner's on PostgreSQL, the span of the rowids on SQLite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Count {
    pub value: i64,
    pub estimated: bool,
}

/// From this many rows a count is an estimate: an exact `count(*)` reads every row
/// (PostgreSQL, visibility included) or every entry of an index (SQLite), so the start page
/// would slow down as the registry grows.
const ESTIMATE_FROM: i64 = 100_000;

/// Counts of `tables` in one statement, exact below [`ESTIMATE_FROM`] rows and estimated
/// above: PostgreSQL answers `pg_class.reltuples` (a `CASE` runs the count only on the branch
/// that needs it); SQLite counts at most that many entries of the table's smallest index and
/// past them answers the span of its rowids.
/// Table names come from this module, never from a caller.
async fn big_table_counts<const N: usize>(
    db: &impl ConnectionTrait,
    tables: [&str; N],
) -> Result<[Count; N]> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            let columns: Vec<String> = tables
                .iter()
                .map(|t| {
                    format!(
                        r#"(SELECT CASE WHEN reltuples >= {ESTIMATE_FROM} THEN reltuples::bigint
                             ELSE (SELECT count(*) FROM "{t}") END FROM pg_class WHERE oid = '"{t}"'::regclass),
                           (SELECT CASE WHEN reltuples >= {ESTIMATE_FROM} THEN 1 ELSE 0 END
                             FROM pg_class WHERE oid = '"{t}"'::regclass)::bigint"#
                    )
                })
                .collect();
            format!("SELECT {}", columns.join(", "))
        }
        // SQLite keeps no row count: up to ESTIMATE_FROM rows are counted, and past that the
        // span of the rowids (both ends of the table's B-tree) is the estimate. Each table is
        // counted once, in a derived table answering both the value and whether it is an
        // estimate (the count reached ESTIMATE_FROM).
        _ => {
            let counted: Vec<String> = tables
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let span = super::sqlite_rowid_span(t);
                    format!(
                        r#"(SELECT CASE WHEN n < {ESTIMATE_FROM} THEN n ELSE {span} END AS value,
                             n / {ESTIMATE_FROM} AS estimated
                           FROM (SELECT COUNT(*) AS n FROM (SELECT 1 FROM "{t}" LIMIT {ESTIMATE_FROM}))) AS c{i}"#
                    )
                })
                .collect();
            let columns: Vec<String> = (0..N)
                .map(|i| format!("c{i}.value, c{i}.estimated"))
                .collect();
            format!("SELECT {} FROM {}", columns.join(", "), counted.join(", "))
        }
    };
    let row = db
        .query_one_raw(Statement::from_string(backend, sql))
        .await?
        .ok_or_else(|| crate::Error::internal("a count answered no row"))?;
    let mut counts = [Count {
        value: 0,
        estimated: false,
    }; N];
    for (i, count) in counts.iter_mut().enumerate() {
        count.value = row.try_get_by_index::<i64>(2 * i)?;
        count.estimated = row.try_get_by_index::<i64>(2 * i + 1)? == 1;
    }
    Ok(counts)
}

/// The registry: devices and entities.
#[derive(Debug, Clone, Serialize)]
pub struct RegistryOverview {
    pub devices: Count,
    pub entities: Count,
}

/// How many devices and entities there are, in one statement.
pub async fn registry(db: &impl ConnectionTrait) -> Result<RegistryOverview> {
    let [devices, entities] = big_table_counts(db, ["devices", "entities"]).await?;
    Ok(RegistryOverview { devices, entities })
}

/// A sync that failed recently.
#[derive(Debug, Clone, Serialize)]
pub struct SyncFailure {
    pub id: i64,
    pub tenant_id: String,
    pub sync_type: String,
    pub failed_at: DateTime<Utc>,
    pub error: Option<String>,
}

/// Syncs running now and failed within the last day.
#[derive(Debug, Clone, Serialize)]
pub struct SyncOverview {
    pub running: u64,
    pub failed_last_day: u64,
    /// The newest of those failures, newest first.
    pub failures: Vec<SyncFailure>,
}

/// Running syncs and the last day's failures (the `(status, updated_at)` index serves both).
pub async fn sync(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    show: u64,
) -> Result<SyncOverview> {
    use entity::sync_history::{Column, Entity};
    let since = (now - Duration::days(1)).fixed_offset();
    let failed = Condition::all()
        .add(Column::Status.eq("failed"))
        .add(Column::UpdatedAt.gte(since));
    // Three walks of the `(status, updated_at)` index, each over only the rows it counts.
    let running = Entity::find()
        .filter(Column::Status.eq("running"))
        .count(db)
        .await?;
    let failed_last_day = Entity::find().filter(failed.clone()).count(db).await?;
    let failures = Entity::find()
        .filter(failed)
        .order_by_desc(Column::UpdatedAt)
        .limit(show)
        .all(db)
        .await?;
    Ok(SyncOverview {
        running,
        failed_last_day,
        failures: failures
            .into_iter()
            .map(|s| SyncFailure {
                id: s.id,
                tenant_id: s.tenant_id,
                sync_type: s.sync_type,
                failed_at: s.updated_at.to_utc(),
                error: s.error_details,
            })
            .collect(),
    })
}

/// A webhook that delivers nothing: disabled, or its endpoint failing.
#[derive(Debug, Clone, Serialize)]
pub struct WebhookAttention {
    pub webhook_id: String,
    /// Its description, else its address.
    pub name: String,
    pub is_enabled: bool,
    pub disabled_reason: Option<String>,
    pub failing_since: Option<DateTime<Utc>>,
}

/// Webhook subscriptions and those that need attention.
#[derive(Debug, Clone, Serialize)]
pub struct WebhookOverview {
    pub total: u64,
    pub disabled: u64,
    pub failing: u64,
    /// The first of the disabled or failing ones, by id.
    pub attention: Vec<WebhookAttention>,
}

/// Webhook counts and the ones not delivering. Subscriptions are few (a thousand at the
/// largest dataset the bars name), so one read of the table answers all of it.
pub async fn webhooks(db: &impl ConnectionTrait, show: usize) -> Result<WebhookOverview> {
    use entity::webhooks::{Column, Entity};
    // The columns that tell whether a webhook delivers (never its secret).
    #[derive(sea_orm::FromQueryResult)]
    struct State {
        webhook_id: String,
        url: String,
        description: Option<String>,
        is_enabled: bool,
        disabled_reason: Option<String>,
        failing_since: Option<chrono::DateTime<chrono::FixedOffset>>,
    }
    let rows: Vec<State> = Entity::find()
        .select_only()
        .columns([
            Column::WebhookId,
            Column::Url,
            Column::Description,
            Column::IsEnabled,
            Column::DisabledReason,
            Column::FailingSince,
        ])
        .order_by_asc(Column::WebhookId)
        .into_model()
        .all(db)
        .await?;
    let total = rows.len() as u64;
    let attention: Vec<WebhookAttention> = rows
        .into_iter()
        .filter(|w| !w.is_enabled || w.failing_since.is_some())
        .map(|w| WebhookAttention {
            webhook_id: w.webhook_id,
            name: w
                .description
                .filter(|d| !d.trim().is_empty())
                .unwrap_or(w.url),
            is_enabled: w.is_enabled,
            disabled_reason: w.disabled_reason,
            failing_since: w.failing_since.map(|t| t.to_utc()),
        })
        .collect();
    Ok(WebhookOverview {
        total,
        disabled: attention.iter().filter(|w| !w.is_enabled).count() as u64,
        failing: attention
            .iter()
            .filter(|w| w.failing_since.is_some())
            .count() as u64,
        attention: attention.into_iter().take(show).collect(),
    })
}

/// How many OAuth clients are registered, and how many of them are disabled.
pub async fn oauth_clients(db: &impl ConnectionTrait) -> Result<(u64, u64)> {
    use entity::oauth_clients::{Column, Entity};
    let enabled: Vec<bool> = Entity::find()
        .select_only()
        .column(Column::IsEnabled)
        .into_tuple()
        .all(db)
        .await?;
    let disabled = enabled.iter().filter(|e| !**e).count() as u64;
    Ok((enabled.len() as u64, disabled))
}

/// Users, and who still signs in with a generated password.
#[derive(Debug, Clone, Serialize)]
pub struct AccessOverview {
    pub users: u64,
    /// Usernames whose generated password has not been replaced yet (the first few).
    pub generated_passwords: Vec<String>,
    pub generated_total: usize,
}

/// How many users there are and who must still replace a generated password.
pub async fn access(db: &impl ConnectionTrait, show: usize) -> Result<AccessOverview> {
    let users = entity::local_users::Entity::find().count(db).await?;
    let (generated_passwords, generated_total) =
        crate::access::users::with_generated_password(db, show).await?;
    Ok(AccessOverview {
        users,
        generated_passwords,
        generated_total,
    })
}

/// The newest audit rows and whether the chain's newest end holds.
#[derive(Debug, Clone, Serialize)]
pub struct AuditOverview {
    pub newest: Vec<AuditRecord>,
    /// What is wrong with the chain's head, as [`audit::ChainStatus::problem`] words it.
    pub chain_problem: Option<String>,
}

/// The `show` newest audit rows (by the primary key) and the cheap head check
/// ([`audit::check_head`]); the full walk stays on `/audit`.
pub async fn audit(db: &impl ConnectionTrait, show: u64) -> Result<AuditOverview> {
    let page = PageRequest {
        limit: show.max(1),
        after: None,
        before: None,
    };
    let newest = audit::list(db, &AuditFilter::default(), audit::NEWEST_FIRST, &page)
        .await?
        .items;
    let chain_problem = audit::check_head(db).await?;
    Ok(AuditOverview {
        newest,
        chain_problem,
    })
}

/// The MCP servers as the overview counts them (a small table: read in one statement).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct McpOverview {
    /// Enabled servers.
    pub enabled: u64,
    /// Enabled servers shown unreachable (two failed checks in a row).
    pub unreachable: u64,
    /// Enabled servers whose tools changed since they were approved.
    pub drifted: u64,
}

/// How many enabled MCP servers there are, and how many are unreachable or drifted.
pub async fn mcp_servers(db: &impl ConnectionTrait) -> Result<McpOverview> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT COUNT(*) AS enabled, \
             COALESCE(SUM(CASE WHEN last_status = 'unreachable' THEN 1 ELSE 0 END), 0) AS unreachable, \
             COALESCE(SUM(CASE WHEN tools_drift THEN 1 ELSE 0 END), 0) AS drifted \
             FROM mcp_servers WHERE enabled",
        ))
        .await?;
    let Some(row) = row else {
        return Ok(McpOverview::default());
    };
    let count = |column: &str| -> Result<u64> { Ok(row.try_get::<i64>("", column)?.max(0) as u64) };
    Ok(McpOverview {
        enabled: count("enabled")?,
        unreachable: count("unreachable")?,
        drifted: count("drifted")?,
    })
}

/// The backups as the overview shows them.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BackupOverview {
    /// When the newest verified backup finished.
    pub last_verified: Option<DateTime<Utc>>,
    /// The newest backup, when it failed: when, and why.
    pub failed: Option<(DateTime<Utc>, String)>,
}

/// The newest verified backup, and whether the newest backup of all failed (a failure
/// followed by a good backup needs nothing more).
pub async fn backups(db: &impl ConnectionTrait) -> Result<BackupOverview> {
    use entity::backups;
    let newest = backups::Entity::find()
        .order_by_desc(backups::Column::FinishedAt)
        .one(db)
        .await?;
    let failed = newest
        .filter(|b| b.status != "succeeded")
        .map(|b| (b.finished_at.to_utc(), b.error.unwrap_or_default()));
    Ok(BackupOverview {
        last_verified: super::backup::last_success(db).await?,
        failed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::file_database;

    /// A small table is counted exactly; past [`ESTIMATE_FROM`] rows the count is the span of
    /// the rowids, flagged as an estimate (rows deleted inside the span still count).
    #[tokio::test]
    async fn sqlite_counts_small_tables_exactly_and_estimates_big_ones() {
        let (_dir, _, db) = file_database(1).await;
        db.execute_unprepared(
            "CREATE TABLE small (x INTEGER); CREATE TABLE big (x INTEGER); \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10) \
             INSERT INTO small SELECT i FROM n; \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100020) \
             INSERT INTO big SELECT i FROM n; \
             DELETE FROM big WHERE rowid BETWEEN 10 AND 19",
        )
        .await
        .unwrap();
        let [small, big, again] = big_table_counts(&db, ["small", "big", "small"])
            .await
            .unwrap();
        assert_eq!(
            small,
            Count {
                value: 10,
                estimated: false
            }
        );
        assert_eq!(
            big,
            Count {
                value: 100_020,
                estimated: true
            }
        );
        assert_eq!(again, small);
    }
}
