//! The admin audit trail: every admin action of every area, append-only and hash-chained.
//!
//! [`record`] is called inside the transaction of the change it records. Each row stores
//! `prev_hash` and `row_hash = SHA-256(prev_hash ‖ canonical content)`, so altering or
//! removing a row outside the application shows up in [`verify_chain`].

mod chain;
mod commit;
mod query;

pub use chain::{ChainStatus, GENESIS_HASH, check_head, verify_chain};
pub use commit::commit_audited;
pub use query::{
    AuditFilter, AuditKey, AuditRecord, AuditSort, AuditSortField, NEWEST_FIRST, actor_user_ids,
    list,
};

use std::sync::LazyLock;

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::sea_query::{InsertStatement, PostgresQueryBuilder};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryResult, Statement,
};
use serde_json::Value;

use crate::Result;
use crate::db::{Backend, begin_write};

/// Who did something: `user:<username>`, `client:<client_id>`, `cli` or `system`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    User(String),
    Client(String),
    Cli,
    System,
}

impl Actor {
    /// The `actor` column's form.
    pub fn as_string(&self) -> String {
        match self {
            Self::User(name) => format!("user:{name}"),
            Self::Client(id) => format!("client:{id}"),
            Self::Cli => "cli".into(),
            Self::System => "system".into(),
        }
    }
}

/// One action to record. `details` holds what changed (old and new values), never a secret.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub action: &'static str,
    pub actor: Actor,
    pub target_id: Option<String>,
    pub details: Option<Value>,
    pub ip_address: Option<String>,
}

impl AuditEntry {
    /// An entry for `action` by `actor`.
    pub fn new(action: &'static str, actor: &Actor) -> Self {
        Self {
            action,
            actor: actor.clone(),
            target_id: None,
            details: None,
            ip_address: None,
        }
    }

    /// Names the object acted on.
    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target_id = Some(target.into());
        self
    }

    /// Attaches what changed.
    pub fn details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// Attaches the client's address.
    pub fn ip(mut self, ip: Option<String>) -> Self {
        self.ip_address = ip;
        self
    }
}

/// Appends `entry` to the trail. Call it with the transaction of the change it records.
///
/// The row chains onto the head of the trail (`audit_chain_head`, the newest row's hashes),
/// which is also what orders concurrent appends: on PostgreSQL the append updates the head
/// row, and that row's lock makes the next append wait until this transaction ends; on
/// SQLite the writer already holds the database's write lock (`BEGIN IMMEDIATE`).
pub async fn record(db: &impl ConnectionTrait, entry: AuditEntry) -> Result<i64> {
    let row = Row::of(&entry);
    if db.get_database_backend() == DbBackend::Postgres {
        append_at_head(db, &row).await
    } else {
        append_holding_the_write_lock(db, &row).await
    }
}

/// One row to append, with its canonical content (what its hash covers besides `prev_hash`).
struct Row<'a> {
    entry: &'a AuditEntry,
    actor: String,
    timestamp: DateTime<Utc>,
    content: String,
}

impl<'a> Row<'a> {
    /// The row recording `entry` now.
    fn of(entry: &'a AuditEntry) -> Self {
        let timestamp = Utc::now().trunc_subsecs(6);
        let actor = entry.actor.as_string();
        let content = chain::content(
            entry.action,
            &actor,
            entry.target_id.as_deref(),
            entry.details.as_ref(),
            entry.ip_address.as_deref(),
            &timestamp,
        );
        Self {
            entry,
            actor,
            timestamp,
            content,
        }
    }

    /// The row's columns other than its hashes, as bound values (in [`COLUMNS`] order).
    fn values(&self) -> [sea_orm::Value; 6] {
        [
            self.entry.action.into(),
            self.actor.as_str().into(),
            self.entry.target_id.clone().into(),
            self.entry.details.clone().into(),
            self.entry.ip_address.clone().into(),
            self.timestamp.fixed_offset().into(),
        ]
    }

    /// The parameters of a PostgreSQL append ([`pg_append`]): the content, then the columns.
    fn pg_values(&self) -> Vec<sea_orm::Value> {
        let mut values = vec![sea_orm::Value::from(self.content.as_str())];
        values.extend(self.values());
        values
    }
}

/// The audit columns [`Row::values`] fills, then the two hashes.
const COLUMNS: &str = r#""action", "actor", "target_id", "details", "ip_address", "timestamp", "prev_hash", "row_hash""#;

/// PostgreSQL: one statement moves the head on (hashing the content onto it) and inserts the
/// row with the head's old and new hashes. Under READ COMMITTED an update that waited for the
/// head's lock re-reads the head as the transaction before it left it, so every append chains
/// onto the one committed before it, from any number of processes.
async fn append_at_head(db: &impl ConnectionTrait, row: &Row<'_>) -> Result<i64> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            r#"WITH {} SELECT "audit_id", "audit_prev_hash", "audit_row_hash" FROM "appended""#,
            pg_append(1)
        )
    });
    let statement =
        Statement::from_sql_and_values(DbBackend::Postgres, SQL.as_str(), row.pg_values());
    let appended = db
        .query_one_raw(statement)
        .await?
        .ok_or_else(missing_head)?;
    check_pg_hash(&appended, row)
}

/// The common table expressions `head` (the head moved on) and `appended` (the audit row,
/// returning `audit_id`, `audit_prev_hash` and `audit_row_hash`) of a PostgreSQL append, with
/// their parameters (the content, then the [`Row::values`]) numbered from `$first`.
fn pg_append(first: usize) -> String {
    let p = |i: usize| format!("${}", first + i);
    format!(
        r#""head" AS (
    UPDATE "audit_chain_head"
    SET "prev_hash" = "row_hash",
        "row_hash" = encode(sha256(convert_to("row_hash" || {content}, 'UTF8')), 'hex')
    WHERE "chain" = 'audit'
    RETURNING "prev_hash", "row_hash"
), "appended" AS (
    INSERT INTO "audit" ({COLUMNS})
    SELECT {}, {}, {}, {}, {}, {}, "head"."prev_hash", "head"."row_hash" FROM "head"
    RETURNING "id" AS "audit_id", "prev_hash" AS "audit_prev_hash", "row_hash" AS "audit_row_hash"
)"#,
        p(1),
        p(2),
        p(3),
        p(4),
        p(5),
        p(6),
        content = p(0),
    )
}

/// The id of the audit row in `appended`, once its hash is known to be the one this process
/// computes (which `verify_chain` recomputes). They agree on the UTF8 database that
/// [`crate::db::connect`] requires; should they not, [`record`]'s transaction rolls back, and
/// [`insert_recorded`]'s statement, committed on its own, is reported as the error it is.
fn check_pg_hash(appended: &QueryResult, row: &Row<'_>) -> Result<i64> {
    let id: i64 = appended.try_get("", "audit_id")?;
    let prev_hash: String = appended.try_get("", "audit_prev_hash")?;
    let row_hash: String = appended.try_get("", "audit_row_hash")?;
    if chain::link(&prev_hash, &row.content) != row_hash {
        return Err(crate::Error::internal(
            "PostgreSQL hashed an audit row differently from Metadeck",
        ));
    }
    Ok(id)
}

/// Inserts one row and records `entry` about it, atomically; returns the inserted row (the
/// statement's `RETURNING *`), for the caller to read its model from.
///
/// For a change that is a single INSERT, this is [`record`] without a transaction of its own
/// on PostgreSQL: the insert, the head's update and the audit row go as one statement (one
/// trip instead of four, and the head is held only for that statement and its commit). On
/// SQLite it is a write transaction with [`record`].
pub async fn insert_recorded(
    db: &DatabaseConnection,
    insert: InsertStatement,
    entry: AuditEntry,
) -> Result<QueryResult> {
    let mut insert = insert;
    insert.returning_all();
    if Backend::of(db) != Backend::Postgres {
        let txn = begin_write(db).await?;
        let inserted = txn
            .query_one(&insert)
            .await?
            .ok_or_else(|| crate::Error::internal("an INSERT returned no row"))?;
        record(&txn, entry).await?;
        txn.commit().await?;
        return Ok(inserted);
    }
    let row = Row::of(&entry);
    let (insert_sql, insert_values) = insert.build(PostgresQueryBuilder);
    let mut values = insert_values.0;
    let sql = format!(
        r#"WITH "inserted" AS ({insert_sql}), {} SELECT * FROM "inserted", "appended""#,
        pg_append(values.len() + 1)
    );
    values.extend(row.pg_values());
    let statement = Statement::from_sql_and_values(DbBackend::Postgres, sql, values);
    let inserted = db
        .query_one_raw(statement)
        .await?
        .ok_or_else(missing_head)?;
    check_pg_hash(&inserted, &row)?;
    Ok(inserted)
}

/// SQLite, whose writer holds the database's write lock: chain onto the head this process
/// appended last, checked in the INSERT itself (one statement); another process got in
/// between, or a rolled-back transaction left a head that never was: read the real head.
/// A trigger moves `audit_chain_head` on with every row.
async fn append_holding_the_write_lock(db: &impl ConnectionTrait, row: &Row<'_>) -> Result<i64> {
    if let Some(prev) = chain_head_hint() {
        let row_hash = chain::link(&prev, &row.content);
        if let Some(id) = insert_onto(db, row, &prev, &row_hash, true).await? {
            set_chain_head_hint(row_hash);
            return Ok(id);
        }
    }
    let prev = entity::audit_chain_head::Entity::find_by_id("audit")
        .one(db)
        .await?
        .ok_or_else(missing_head)?
        .row_hash;
    let row_hash = chain::link(&prev, &row.content);
    let id = insert_onto(db, row, &prev, &row_hash, false)
        .await?
        .ok_or_else(missing_head)?;
    set_chain_head_hint(row_hash);
    Ok(id)
}

/// `INSERT … SELECT … FROM audit_chain_head`: the row's id, or `None` (nothing written) when
/// `checked` and `prev` is not the head's `row_hash`.
async fn insert_onto(
    db: &impl ConnectionTrait,
    row: &Row<'_>,
    prev: &str,
    row_hash: &str,
    checked: bool,
) -> Result<Option<i64>> {
    static SQL: LazyLock<[String; 2]> = LazyLock::new(|| {
        ["", r#" AND "row_hash" = ?"#].map(|check| {
            format!(
                r#"INSERT INTO "audit" ({COLUMNS})
SELECT ?, ?, ?, ?, ?, ?, ?, ? FROM "audit_chain_head" WHERE "chain" = 'audit'{check}
RETURNING "id""#
            )
        })
    });
    let sql = SQL[usize::from(checked)].as_str();
    let mut values = row.values().to_vec();
    values.extend([prev.into(), row_hash.into()]);
    if checked {
        values.push(prev.into());
    }
    let statement = Statement::from_sql_and_values(db.get_database_backend(), sql, values);
    match db.query_one_raw(statement).await? {
        Some(inserted) => Ok(Some(inserted.try_get_by_index::<i64>(0)?)),
        None => Ok(None),
    }
}

fn missing_head() -> crate::Error {
    crate::Error::internal("the audit chain has no head (audit_chain_head is empty)")
}

/// The `row_hash` this process appended last on SQLite: a guess at the chain's head, checked
/// by [`insert_onto`] (another process, or a rolled-back transaction, makes it wrong).
static CHAIN_HEAD: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

fn chain_head_hint() -> Option<String> {
    CHAIN_HEAD.lock().ok().and_then(|head| head.clone())
}

fn set_chain_head_hint(row_hash: String) {
    if let Ok(mut head) = CHAIN_HEAD.lock() {
        *head = Some(row_hash);
    }
}

/// The canonical text form of a stored timestamp.
pub(crate) fn canonical_time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}
