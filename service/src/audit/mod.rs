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
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DbBackend, EntityTrait, QueryOrder, QuerySelect, Set,
};
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

/// Key of the PostgreSQL advisory lock that orders concurrent appends to the chain.
const CHAIN_LOCK: i64 = 0x6d65_7461_6465_636b; // "metadeck"

/// Appends `entry` to the trail. Call it with the transaction of the change it records.
pub async fn record(db: &impl ConnectionTrait, entry: AuditEntry) -> Result<i64> {
    // SQLite writers already hold the database's write lock (BEGIN IMMEDIATE); PostgreSQL
    // needs a lock so that two transactions never chain onto the same predecessor.
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({CHAIN_LOCK})"))
            .await?;
    }
    let timestamp = Utc::now().trunc_subsecs(6);
    let actor = entry.actor.as_string();
    let hash_onto = |prev: &str| {
        chain::row_hash(
            prev,
            entry.action,
            &actor,
            entry.target_id.as_deref(),
            entry.details.as_ref(),
            entry.ip_address.as_deref(),
            &timestamp,
        )
    };
    // Most appends follow this process's previous one: chain onto it in the INSERT itself,
    // which checks that it still is the newest row (one statement instead of a read and a
    // write inside the write lock). Another writer got in between, or a rolled-back
    // transaction left a head that never was: read the real head and append normally.
    let hinted = chain_head_hint();
    if let Some(prev) = hinted {
        let row_hash = hash_onto(&prev);
        if let Some(id) = append_onto(db, &entry, &actor, &timestamp, &prev, &row_hash).await? {
            set_chain_head_hint(row_hash);
            return Ok(id);
        }
    }
    let prev_hash = match entity::audit::Entity::find()
        .select_only()
        .column(entity::audit::Column::RowHash)
        .order_by_desc(entity::audit::Column::Id)
        .limit(1)
        .into_tuple::<String>()
        .one(db)
        .await?
    {
        Some(hash) => hash,
        None => chain::anchor_hash(db).await?,
    };
    let row_hash = hash_onto(&prev_hash);
    let row = entity::audit::ActiveModel {
        action: Set(entry.action.to_string()),
        actor: Set(actor),
        target_id: Set(entry.target_id),
        details: Set(entry.details),
        ip_address: Set(entry.ip_address),
        timestamp: Set(timestamp.fixed_offset()),
        prev_hash: Set(prev_hash),
        row_hash: Set(row_hash.clone()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    set_chain_head_hint(row_hash);
    Ok(row.id)
}

/// The `row_hash` this process appended last: a guess at the chain's head, checked by
/// [`append_onto`] (another process, or a rolled-back transaction, makes it wrong).
static CHAIN_HEAD: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

fn chain_head_hint() -> Option<String> {
    CHAIN_HEAD.lock().ok().and_then(|head| head.clone())
}

fn set_chain_head_hint(row_hash: String) {
    if let Ok(mut head) = CHAIN_HEAD.lock() {
        *head = Some(row_hash);
    }
}

/// `INSERT … SELECT … WHERE <newest row_hash> = prev RETURNING id`: the row's id, or `None`
/// (nothing written) when `prev` is not the chain's head.
async fn append_onto(
    db: &impl ConnectionTrait,
    entry: &AuditEntry,
    actor: &str,
    timestamp: &DateTime<Utc>,
    prev: &str,
    row_hash: &str,
) -> Result<Option<i64>> {
    use entity::audit::{Column, Entity};
    use sea_orm::sea_query::{Expr, ExprTrait, Query, SubQueryStatement};
    let newest = Query::select()
        .column(Column::RowHash)
        .from(Entity)
        .order_by(Column::Id, sea_orm::Order::Desc)
        .limit(1)
        .to_owned();
    let values = Query::select()
        .exprs([
            Expr::val(entry.action),
            Expr::val(actor),
            Expr::val(entry.target_id.clone()),
            Expr::val(entry.details.clone()),
            Expr::val(entry.ip_address.clone()),
            Expr::val(timestamp.fixed_offset()),
            Expr::val(prev),
            Expr::val(row_hash),
        ])
        .and_where(
            Expr::SubQuery(None, Box::new(SubQueryStatement::SelectStatement(newest))).eq(prev),
        )
        .to_owned();
    let insert = Query::insert()
        .into_table(Entity)
        .columns([
            Column::Action,
            Column::Actor,
            Column::TargetId,
            Column::Details,
            Column::IpAddress,
            Column::Timestamp,
            Column::PrevHash,
            Column::RowHash,
        ])
        .select_from(values)
        .map_err(crate::Error::internal)?
        .returning_col(Column::Id)
        .to_owned();
    let row = db.query_one(&insert).await?;
    match row {
        Some(row) => Ok(Some(row.try_get_by_index::<i64>(0)?)),
        None => Ok(None),
    }
}

/// The canonical text form of a stored timestamp.
pub(crate) fn canonical_time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}
