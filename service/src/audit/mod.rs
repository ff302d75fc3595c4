//! The admin audit trail: every admin action of every area, append-only and hash-chained.
//!
//! [`record`] is called inside the transaction of the change it records. Each row stores
//! `prev_hash` and `row_hash = SHA-256(prev_hash ‖ canonical content)`, so altering or
//! removing a row outside the application shows up in [`verify_chain`].

mod chain;
mod query;

pub use chain::{ChainStatus, GENESIS_HASH, verify_chain};
pub use query::{AuditFilter, AuditRecord, list};

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait};
use serde_json::Value;

use crate::Result;

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
    let row = Row {
        entry: &entry,
        actor: &actor,
        timestamp: &timestamp,
        content: &content,
    };
    if db.get_database_backend() == DbBackend::Postgres {
        append_at_head(db, &row).await
    } else {
        append_holding_the_write_lock(db, &row).await
    }
}

/// One row to append, with its canonical content (what its hash covers besides `prev_hash`).
struct Row<'a> {
    entry: &'a AuditEntry,
    actor: &'a str,
    timestamp: &'a DateTime<Utc>,
    content: &'a str,
}

impl Row<'_> {
    /// The row's columns other than its hashes, as bound values (in [`COLUMNS`] order).
    fn values(&self) -> [sea_orm::Value; 6] {
        [
            self.entry.action.into(),
            self.actor.into(),
            self.entry.target_id.clone().into(),
            self.entry.details.clone().into(),
            self.entry.ip_address.clone().into(),
            self.timestamp.fixed_offset().into(),
        ]
    }
}

/// The audit columns [`Row::values`] fills, then the two hashes.
const COLUMNS: &str = r#""action", "actor", "target_id", "details", "ip_address", "timestamp", "prev_hash", "row_hash""#;

/// PostgreSQL: one statement moves the head on (hashing the content onto it) and inserts the
/// row with the head's old and new hashes. Under READ COMMITTED an update that waited for the
/// head's lock re-reads the head as the transaction before it left it, so every append chains
/// onto the one committed before it, from any number of processes.
async fn append_at_head(db: &impl ConnectionTrait, row: &Row<'_>) -> Result<i64> {
    let sql = format!(
        r#"WITH head AS (
    UPDATE "audit_chain_head"
    SET "prev_hash" = "row_hash",
        "row_hash" = encode(sha256(convert_to("row_hash" || $1, 'UTF8')), 'hex')
    WHERE "chain" = 'audit'
    RETURNING "prev_hash", "row_hash"
)
INSERT INTO "audit" ({COLUMNS})
SELECT $2, $3, $4, $5, $6, $7, head."prev_hash", head."row_hash" FROM head
RETURNING "id", "prev_hash", "row_hash""#
    );
    let mut values = vec![sea_orm::Value::from(row.content)];
    values.extend(row.values());
    let statement = sea_orm::Statement::from_sql_and_values(DbBackend::Postgres, sql, values);
    let appended = db
        .query_one_raw(statement)
        .await?
        .ok_or_else(missing_head)?;
    let (id, prev_hash, row_hash): (i64, String, String) = appended.try_get_many_by_index()?;
    // The database hashed what this process would have: `verify_chain` recomputes it here.
    if chain::link(&prev_hash, row.content) != row_hash {
        return Err(crate::Error::internal(
            "PostgreSQL hashed an audit row differently (is the database's encoding UTF8?)",
        ));
    }
    Ok(id)
}

/// SQLite, whose writer holds the database's write lock: chain onto the head this process
/// appended last, checked in the INSERT itself (one statement); another process got in
/// between, or a rolled-back transaction left a head that never was: read the real head.
/// A trigger moves `audit_chain_head` on with every row.
async fn append_holding_the_write_lock(db: &impl ConnectionTrait, row: &Row<'_>) -> Result<i64> {
    if let Some(prev) = chain_head_hint() {
        let row_hash = chain::link(&prev, row.content);
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
    let row_hash = chain::link(&prev, row.content);
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
    let check = if checked {
        r#" AND "row_hash" = ?"#
    } else {
        ""
    };
    let sql = format!(
        r#"INSERT INTO "audit" ({COLUMNS})
SELECT ?, ?, ?, ?, ?, ?, ?, ? FROM "audit_chain_head" WHERE "chain" = 'audit'{check}
RETURNING "id""#
    );
    let mut values = row.values().to_vec();
    values.extend([prev.into(), row_hash.into()]);
    if checked {
        values.push(prev.into());
    }
    let statement = sea_orm::Statement::from_sql_and_values(db.get_database_backend(), sql, values);
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
