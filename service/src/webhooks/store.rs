//! The dispatcher's queries: claim due rows, load an endpoint, record an attempt, report
//! the worker's state.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use entity::webhook_deliveries::{self, Column};
use entity::webhooks;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LockBehavior, LockType, Query, SubQueryStatement};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select, prelude::DateTimeWithTimeZone,
};
use serde_json::{Value, json};

use super::WebhookConfig;
use super::deliveries::DeliveryStatus;
use super::sender::{Attempt, Endpoint};
use crate::audit::{self, Actor, AuditEntry};
use crate::db::{begin_write, writer_turn};
use crate::{Error, Result};

/// How long after a rotation the old secret still co-signs.
const DUAL_SIGNING: chrono::Duration = chrono::Duration::hours(24);
/// An endpoint failing every attempt for this long is disabled.
const FAILING_LIMIT: chrono::Duration = chrono::Duration::days(5);

/// A row this instance has leased.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub webhook_id: String,
    pub message_id: String,
    pub attempts: i64,
    /// The exact body to send.
    pub body: Vec<u8>,
}

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// How many more rows the caller may take per endpoint.
#[derive(Debug, Clone)]
pub struct Room {
    /// Attempts in flight per webhook id.
    pub in_flight: HashMap<String, usize>,
    /// Most attempts in flight to one endpoint.
    pub per_endpoint: usize,
}

impl Room {
    fn left(&self, webhook_id: &str) -> usize {
        self.per_endpoint
            .saturating_sub(self.in_flight.get(webhook_id).copied().unwrap_or(0))
    }
}

/// The statuses of a delivery still to send, each a run of its own in
/// `idx_webhook_deliveries_due (status, next_attempt_at)`.
const TO_SEND: [DeliveryStatus; 2] = [DeliveryStatus::Pending, DeliveryStatus::Failed];

/// A due delivery as the claim sees it: id, webhook, when it became due.
type Due = (i64, String, DateTimeWithTimeZone);

/// The `limit` earliest due, unleased deliveries in `status`, of webhooks neither disabled nor
/// in `exclude`, in send order.
///
/// One status per query is what keeps a claim cheap under a backlog: with equality on the
/// index's first column and a range on its second, both databases read the index in
/// `next_attempt_at` order (on SQLite its entries end with the rowid, `id`, so ties come in
/// `id` order too) and stop after `limit` matching rows. A single query over both statuses
/// cannot be read in order and sorted every due row instead (112 ms a claim with 37,000 due on
/// PostgreSQL). Whether the webhook is enabled is a scalar subquery per candidate row, one
/// primary-key lookup: `NOT IN` the list of disabled webhooks made SQLite read every webhook
/// on every poll, and `NOT EXISTS` let PostgreSQL plan an anti-join which, with statistics
/// that had not yet seen thousands of new disabled webhooks, compared every candidate with
/// every disabled webhook (85 ms a claim). A subquery in `WHERE` cannot become a join, so
/// neither planner can drive the lookup from a list of webhooks.
fn due_in(
    status: DeliveryStatus,
    now: DateTime<Utc>,
    limit: u64,
    exclude: &[String],
) -> Select<webhook_deliveries::Entity> {
    let webhook_enabled = Query::select()
        .column((webhooks::Entity, webhooks::Column::IsEnabled))
        .from(webhooks::Entity)
        .and_where(
            Expr::col((webhooks::Entity, webhooks::Column::WebhookId))
                .equals((webhook_deliveries::Entity, Column::WebhookId)),
        )
        .to_owned();
    let mut due = webhook_deliveries::Entity::find()
        .select_only()
        .column(Column::Id)
        .column(Column::WebhookId)
        .column(Column::NextAttemptAt)
        .filter(Column::Status.eq(status.as_str()))
        .filter(Column::NextAttemptAt.lte(now.fixed_offset()))
        .filter(
            Condition::any()
                .add(Column::ClaimedUntil.is_null())
                .add(Column::ClaimedUntil.lt(now.fixed_offset())),
        )
        // As before, a delivery whose webhook row is gone is not held back (`NULL` → true).
        .filter(
            Expr::expr(Func::coalesce([
                Expr::SubQuery(
                    None,
                    Box::new(SubQueryStatement::SelectStatement(webhook_enabled)),
                ),
                Expr::val(true),
            ]))
            .eq(true),
        )
        .order_by_asc(Column::NextAttemptAt)
        .order_by_asc(Column::Id)
        .limit(limit);
    if !exclude.is_empty() {
        due = due.filter(Column::WebhookId.is_not_in(exclude.iter().cloned()));
    }
    due
}

/// The `limit` earliest due deliveries of every status still to send ([`due_in`]), merged in
/// send order. With `lock` (PostgreSQL, inside the claiming transaction) rows another instance
/// is claiming right now are skipped, not waited for.
async fn earliest_due<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
    limit: u64,
    exclude: &[String],
    lock: bool,
) -> Result<Vec<Due>> {
    let mut due = Vec::new();
    for status in TO_SEND {
        let mut query = due_in(status, now, limit, exclude);
        if lock {
            query = query.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        due.extend(query.into_tuple::<Due>().all(conn).await?);
    }
    due.sort_by_key(|(id, _, due_at)| (*due_at, *id));
    due.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(due)
}

/// Leases up to `limit` due rows of enabled webhooks, at most what `room` leaves for each
/// endpoint (endpoints without room are skipped in the query, so they never starve others).
pub async fn claim(
    db: &DatabaseConnection,
    limit: u64,
    mut room: Room,
    lease: Duration,
) -> Result<Vec<Claimed>> {
    let exclude: Vec<String> = room
        .in_flight
        .keys()
        .filter(|id| room.left(id) == 0)
        .cloned()
        .collect();
    let now = now();
    // A plain read first: an idle dispatcher never takes SQLite's write lock.
    if earliest_due(db, now, 1, &exclude, false).await?.is_empty() {
        return Ok(Vec::new());
    }
    let txn = begin_write(db).await?;
    let lock = db.get_database_backend() == DbBackend::Postgres;
    let candidates = earliest_due(&txn, now, limit, &exclude, lock).await?;
    // Rows beyond an endpoint's room are left unleased for the next round (or instance).
    let mut ids = Vec::new();
    for (id, webhook_id, _) in candidates {
        if room.left(&webhook_id) > 0 {
            *room.in_flight.entry(webhook_id).or_default() += 1;
            ids.push(id);
        }
    }
    if ids.is_empty() {
        txn.commit().await?;
        return Ok(Vec::new());
    }
    let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60));
    webhook_deliveries::Entity::update_many()
        .set(webhook_deliveries::ActiveModel {
            claimed_until: Set(Some(until.fixed_offset())),
            ..Default::default()
        })
        .filter(Column::Id.is_in(ids.clone()))
        .exec(&txn)
        .await?;
    let rows = webhook_deliveries::Entity::find()
        .filter(Column::Id.is_in(ids))
        .order_by_asc(Column::NextAttemptAt)
        .all(&txn)
        .await?;
    txn.commit().await?;
    Ok(rows
        .into_iter()
        .map(|r| Claimed {
            body: serde_json::to_vec(&r.payload.unwrap_or(Value::Null)).unwrap_or_default(),
            id: r.id,
            webhook_id: r.webhook_id,
            message_id: r.message_id,
            attempts: r.attempts,
        })
        .collect())
}

/// Gives a claimed row back without an attempt, in this process's writer turn like every
/// other write (on SQLite a write outside it would wait on the file lock instead of the queue).
pub async fn release(db: &DatabaseConnection, id: i64) -> Result<()> {
    let turn = writer_turn(db).await?;
    webhook_deliveries::Entity::update_many()
        .set(webhook_deliveries::ActiveModel {
            claimed_until: Set(None),
            ..Default::default()
        })
        .filter(Column::Id.eq(id))
        .exec(&turn)
        .await?;
    Ok(())
}

/// The endpoint of an enabled webhook, with its signing secrets; `None` when it is gone or
/// disabled.
pub async fn endpoint(
    db: &impl sea_orm::ConnectionTrait,
    config: &WebhookConfig,
    webhook_id: &str,
) -> Result<Option<Endpoint>> {
    let Some(webhook) = webhooks::Entity::find_by_id(webhook_id).one(db).await? else {
        return Ok(None);
    };
    if !webhook.is_enabled {
        return Ok(None);
    }
    let mut secrets = vec![config.cipher.decrypt(webhook_id, &webhook.secret)?];
    let recent = webhook
        .secret_rotated_at
        .is_some_and(|at| Utc::now() - at.to_utc() < DUAL_SIGNING);
    if let (true, Some(previous)) = (recent, webhook.previous_secret.as_deref()) {
        secrets.push(config.cipher.decrypt(webhook_id, previous)?);
    }
    Ok(Some(Endpoint {
        url: webhook.url,
        secrets,
    }))
}

/// Records a batch of attempts in one write transaction: each delivery's outcome, then what
/// they mean for their endpoints (`410` and five days of failure disable one, with an audit
/// row; a success ends its failing streak). The endpoints are read once per batch, not once
/// per attempt. All or none: a failed batch is sent again after its leases run out, with the
/// same message ids.
pub async fn record_attempts(
    db: &DatabaseConnection,
    schedule: &[Duration],
    batch: &[(Claimed, Attempt)],
) -> Result<()> {
    let now = now();
    let txn = begin_write(db).await?;
    let mut recorded = Vec::with_capacity(batch.len());
    for (row, attempt) in batch {
        if record_outcome(&txn, schedule, row, attempt, now).await? {
            recorded.push((row, attempt));
        }
    }
    let mut endpoints = endpoint_states(&txn, recorded.iter().map(|(row, _)| row)).await?;
    // Endpoint rows are changed in id order (each endpoint's attempts keep theirs), so two
    // instances recording at once lock them in the same order and never deadlock (PostgreSQL).
    recorded.sort_by(|(a, _), (b, _)| a.webhook_id.cmp(&b.webhook_id));
    for (row, attempt) in recorded {
        if let Some(state) = endpoints.get_mut(row.webhook_id.as_str()) {
            follow_endpoint(&txn, state, row, attempt, now).await?;
        }
    }
    txn.commit().await?;
    Ok(())
}

/// Stores one attempt's outcome on its delivery: success, retry on the schedule, or dead.
/// `false` when this instance no longer holds the attempt (a lease that ran out and was taken
/// by another instance loses the race quietly).
async fn record_outcome(
    txn: &impl sea_orm::ConnectionTrait,
    schedule: &[Duration],
    row: &Claimed,
    attempt: &Attempt,
    now: DateTime<Utc>,
) -> Result<bool> {
    let attempts = row.attempts + 1;
    let (status, next) = if attempt.succeeded() {
        (DeliveryStatus::Succeeded, None)
    } else if attempt.gone() || attempts as usize > schedule.len() {
        (DeliveryStatus::Dead, None)
    } else {
        let wait = schedule
            .get(attempts as usize - 1)
            .copied()
            .unwrap_or(Duration::from_secs(60));
        let wait = chrono::Duration::from_std(wait).map_err(Error::internal)?;
        (DeliveryStatus::Failed, Some(now + wait))
    };
    let updated = webhook_deliveries::Entity::update_many()
        .set(webhook_deliveries::ActiveModel {
            status: Set(status.as_str().into()),
            attempts: Set(attempts),
            next_attempt_at: Set(next.map(|t| t.fixed_offset())),
            claimed_until: Set(None),
            last_status_code: Set(attempt.status_code.map(i64::from)),
            last_error: Set(attempt.error.clone()),
            last_response_snippet: Set(attempt.snippet.clone()),
            delivered_at: Set(attempt.succeeded().then(|| now.fixed_offset())),
            ..Default::default()
        })
        .filter(Column::Id.eq(row.id))
        .filter(Column::Attempts.eq(row.attempts))
        .exec(txn)
        .await?;
    Ok(updated.rows_affected > 0)
}

/// What the recorder needs to know of an endpoint, kept current as the batch changes it.
struct EndpointState {
    is_enabled: bool,
    failing_since: Option<DateTime<Utc>>,
}

/// The state of every endpoint `rows` were sent to, in one query.
async fn endpoint_states<'a>(
    txn: &impl sea_orm::ConnectionTrait,
    rows: impl Iterator<Item = &'a &'a Claimed>,
) -> Result<HashMap<String, EndpointState>> {
    let mut ids: Vec<&str> = rows.map(|row| row.webhook_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    use webhooks::Column as W;
    let found: Vec<(String, bool, Option<chrono::DateTime<chrono::FixedOffset>>)> =
        webhooks::Entity::find()
            .select_only()
            .columns([W::WebhookId, W::IsEnabled, W::FailingSince])
            .filter(W::WebhookId.is_in(ids))
            .into_tuple()
            .all(txn)
            .await?;
    Ok(found
        .into_iter()
        .map(|(id, is_enabled, failing_since)| {
            let failing_since = failing_since.map(|t| t.to_utc());
            (
                id,
                EndpointState {
                    is_enabled,
                    failing_since,
                },
            )
        })
        .collect())
}

/// Applies one recorded attempt to its endpoint: a success ends a failing streak, `410`
/// disables it, a failure starts a streak or, five days into one, disables it.
async fn follow_endpoint(
    txn: &impl sea_orm::ConnectionTrait,
    state: &mut EndpointState,
    row: &Claimed,
    attempt: &Attempt,
    now: DateTime<Utc>,
) -> Result<()> {
    let webhook_id = row.webhook_id.as_str();
    if attempt.succeeded() {
        if state.failing_since.is_some() {
            set_webhook(txn, webhook_id, None, None, now).await?;
            state.failing_since = None;
        }
    } else if attempt.gone() {
        if state.is_enabled {
            disable(txn, webhook_id, "gone (410)", row, now).await?;
            (state.is_enabled, state.failing_since) = (false, None);
        }
    } else {
        match state.failing_since {
            None => {
                set_webhook(txn, webhook_id, Some(now), None, now).await?;
                state.failing_since = Some(now);
            }
            Some(since) if state.is_enabled && now - since >= FAILING_LIMIT => {
                let reason = format!(
                    "failing: every attempt since {} failed (5 days)",
                    since.format("%Y-%m-%d %H:%M UTC")
                );
                disable(txn, webhook_id, &reason, row, now).await?;
                (state.is_enabled, state.failing_since) = (false, None);
            }
            Some(_) => {}
        }
    }
    Ok(())
}

async fn set_webhook(
    txn: &impl sea_orm::ConnectionTrait,
    webhook_id: &str,
    failing_since: Option<DateTime<Utc>>,
    disabled_reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut change = webhooks::ActiveModel {
        failing_since: Set(failing_since.map(|t| t.fixed_offset())),
        ..Default::default()
    };
    if let Some(reason) = disabled_reason {
        change.is_enabled = Set(false);
        change.disabled_reason = Set(Some(reason.to_string()));
        change.updated_at = Set(now.fixed_offset());
    }
    webhooks::Entity::update_many()
        .set(change)
        .filter(webhooks::Column::WebhookId.eq(webhook_id))
        .exec(txn)
        .await?;
    Ok(())
}

async fn disable(
    txn: &impl sea_orm::ConnectionTrait,
    webhook_id: &str,
    reason: &str,
    row: &Claimed,
    now: DateTime<Utc>,
) -> Result<()> {
    set_webhook(txn, webhook_id, None, Some(reason), now).await?;
    // Recorded in the dispatcher's transaction, which goes on to settle the delivery and
    // commits once for both; there is nothing to commit here.
    audit::record(
        txn,
        AuditEntry::new("webhook.disabled", &Actor::System)
            .target(webhook_id)
            .details(
                json!({"reason": reason, "delivery_id": row.id, "message_id": row.message_id}),
            ),
    )
    .await?;
    tracing::warn!(webhook = webhook_id, reason, "webhook disabled");
    Ok(())
}

#[cfg(test)]
mod tests {
    use sea_orm::{ActiveModelTrait, ConnectionTrait, QueryTrait};

    use super::*;
    use crate::db::migrated_file_database;

    /// Each status's query walks the due index in send order and stops at its limit: no sort
    /// of the backlog, whatever webhooks are excluded.
    #[tokio::test]
    async fn a_claim_reads_the_due_index_in_send_order() {
        let (_dir, _path, db) = migrated_file_database().await;
        for exclude in [vec![], vec!["wh_full".to_string()]] {
            for status in TO_SEND {
                let mut statement =
                    due_in(status, Utc::now(), 50, &exclude).build(DbBackend::Sqlite);
                statement.sql = format!("EXPLAIN QUERY PLAN {}", statement.sql);
                let plan = db.query_all_raw(statement).await.unwrap();
                let plan: Vec<String> = plan
                    .iter()
                    .map(|row| row.try_get::<String>("", "detail").unwrap())
                    .collect();
                let plan = plan.join("\n");
                assert!(
                    plan.contains(
                        "SEARCH webhook_deliveries USING INDEX idx_webhook_deliveries_due (status=? AND next_attempt_at<?)"
                    ),
                    "{plan}"
                );
                assert!(!plan.contains("TEMP B-TREE"), "{plan}");
                // A candidate's webhook is looked up by its key, never read in full.
                assert!(
                    plan.contains(
                        "SEARCH webhooks USING INDEX sqlite_autoindex_webhooks_1 (webhook_id=?)"
                    ),
                    "{plan}"
                );
                assert!(!plan.contains("SCAN webhooks"), "{plan}");
            }
        }
    }

    /// Due deliveries of a disabled webhook wait; those of enabled webhooks are leased.
    #[tokio::test]
    async fn a_claim_skips_the_deliveries_of_disabled_webhooks() {
        let (_dir, _path, db) = migrated_file_database().await;
        let at = (Utc::now() - chrono::Duration::seconds(5)).fixed_offset();
        for (webhook_id, is_enabled) in [("wh_on", true), ("wh_off", false)] {
            webhooks::ActiveModel {
                webhook_id: Set(webhook_id.into()),
                url: Set("https://192.0.2.1/hook".into()),
                events: Set(json!(["*"])),
                secret: Set("sealed".into()),
                created_at: Set(at),
                updated_at: Set(at),
                is_enabled: Set(is_enabled),
                ..Default::default()
            }
            .insert(&db)
            .await
            .unwrap();
            for (n, status) in TO_SEND.iter().enumerate() {
                webhook_deliveries::ActiveModel {
                    webhook_id: Set(webhook_id.into()),
                    message_id: Set(format!("msg_{webhook_id}_{n}")),
                    event_type: Set("sync.started".into()),
                    status: Set(status.as_str().into()),
                    next_attempt_at: Set(Some(at)),
                    created_at: Set(at),
                    ..Default::default()
                }
                .insert(&db)
                .await
                .unwrap();
            }
        }
        let room = Room {
            in_flight: HashMap::new(),
            per_endpoint: 10,
        };
        let claimed = claim(&db, 10, room, Duration::from_secs(60)).await.unwrap();
        let mut leased: Vec<&str> = claimed.iter().map(|c| c.webhook_id.as_str()).collect();
        leased.sort_unstable();
        assert_eq!(leased, ["wh_on", "wh_on"]);
    }
}
