//! Computing and verifying the audit hash chain.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::canonical_time;
use crate::Result;

/// The `prev_hash` of the very first row.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A row's canonical content, which its `row_hash` covers after `prev_hash`: the JSON array
/// of its fields, timestamp as text.
pub(crate) fn content(
    action: &str,
    actor: &str,
    target_id: Option<&str>,
    details: Option<&Value>,
    ip_address: Option<&str>,
    timestamp: &DateTime<Utc>,
) -> String {
    // serde_json orders object keys, so the same details always serialise the same way.
    serde_json::json!([
        action,
        actor,
        target_id,
        details,
        ip_address,
        canonical_time(timestamp)
    ])
    .to_string()
}

/// SHA-256 (hex) of `prev_hash` followed by `content`, as UTF-8 (PostgreSQL's appends compute
/// the same with `sha256(convert_to(prev_hash || content, 'UTF8'))`).
pub(crate) fn link(prev_hash: &str, content: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(content.as_bytes());
    hex::encode(hasher.finalize())
}

/// Where the chain starts: the hash of the last row the retention purge removed, or genesis.
async fn anchor_hash(db: &impl ConnectionTrait) -> Result<String> {
    let anchor = entity::audit_anchors::Entity::find()
        .order_by_desc(entity::audit_anchors::Column::Id)
        .one(db)
        .await?;
    Ok(anchor
        .map(|a| a.last_purged_hash)
        .unwrap_or_else(|| GENESIS_HASH.to_string()))
}

/// The result of walking the chain.
#[derive(Debug, Clone, Serialize)]
pub struct ChainStatus {
    pub intact: bool,
    pub rows_checked: u64,
    /// The first row whose hashes do not match its content or its predecessor.
    pub first_broken_id: Option<i64>,
    /// The chain's head (`audit_chain_head`) names no row of the trail: its newest rows were
    /// removed. `newest_id` is then the newest row still there (`None`: none is).
    pub newest_rows_removed: bool,
    pub newest_id: Option<i64>,
}

impl ChainStatus {
    /// What is wrong, as a sentence's end ("broken at row 12: …"); `None` when intact.
    pub fn problem(&self) -> Option<String> {
        match (
            self.first_broken_id,
            self.newest_rows_removed,
            self.newest_id,
        ) {
            (Some(id), _, _) => Some(format!(
                "broken at row {id}: the trail was altered outside Metadeck"
            )),
            (None, true, Some(id)) => Some(format!(
                "broken after row {id}: its newest rows were removed outside Metadeck"
            )),
            (None, true, None) => {
                Some("broken: its rows were removed outside Metadeck".to_string())
            }
            (None, false, _) => None,
        }
    }
}

/// Walks the whole trail in id order, in batches, and reports the first broken row, or that
/// the rows the chain's head was read naming are gone.
///
/// The head is read first: the row it names was committed with it, so a walk that follows
/// finds it unless it was removed (rows appended meanwhile come after it).
pub async fn verify_chain(db: &impl ConnectionTrait) -> Result<ChainStatus> {
    let head = entity::audit_chain_head::Entity::find_by_id("audit")
        .one(db)
        .await?
        .map(|head| head.row_hash);
    let mut expected_prev = anchor_hash(db).await?;
    let mut head_found = head.as_deref() == Some(expected_prev.as_str());
    let mut after = i64::MIN;
    let mut newest_id = None;
    let mut rows_checked = 0;
    loop {
        let batch = entity::audit::Entity::find()
            .filter(entity::audit::Column::Id.gt(after))
            .order_by_asc(entity::audit::Column::Id)
            .limit(1000)
            .all(db)
            .await?;
        if batch.is_empty() {
            return Ok(ChainStatus {
                intact: head_found,
                rows_checked,
                first_broken_id: None,
                newest_rows_removed: !head_found,
                newest_id,
            });
        }
        for row in batch {
            rows_checked += 1;
            let recomputed = link(
                &row.prev_hash,
                &content(
                    &row.action,
                    &row.actor,
                    row.target_id.as_deref(),
                    row.details.as_ref(),
                    row.ip_address.as_deref(),
                    &row.timestamp.to_utc(),
                ),
            );
            if row.prev_hash != expected_prev || recomputed != row.row_hash {
                return Ok(ChainStatus {
                    intact: false,
                    rows_checked,
                    first_broken_id: Some(row.id),
                    newest_rows_removed: false,
                    newest_id: None,
                });
            }
            head_found |= head.as_deref() == Some(row.row_hash.as_str());
            expected_prev = row.row_hash;
            after = row.id;
            newest_id = Some(row.id);
        }
    }
}

/// A cheap check of the chain's newest end, for pages that cannot afford [`verify_chain`]'s
/// walk: the newest row must be the one the chain's head names, and its hash must match its
/// content. This catches the newest rows removed or the newest row altered; an older row
/// altered is found only by the full walk. `None` when the head holds, else what is wrong.
///
/// The head and the newest row are read in one statement, so an append committed meanwhile
/// cannot make them disagree.
pub async fn check_head(db: &impl ConnectionTrait) -> Result<Option<String>> {
    let backend = db.get_database_backend();
    let sql = r#"SELECT h.row_hash AS head, a.*
        FROM audit_chain_head h
        LEFT JOIN audit a ON a.id = (SELECT MAX(id) FROM audit)
        WHERE h.chain = 'audit'"#;
    let Some(row) = db
        .query_one_raw(sea_orm::Statement::from_string(backend, sql))
        .await?
    else {
        // No head yet: nothing was ever appended.
        return Ok(None);
    };
    let head: String = row.try_get("", "head")?;
    if row.try_get::<Option<i64>>("", "id")?.is_none() {
        return Ok((head != anchor_hash(db).await?)
            .then(|| "broken: its rows were removed outside Metadeck".to_string()));
    }
    let newest = <entity::audit::Model as sea_orm::FromQueryResult>::from_query_result(&row, "")?;
    let recomputed = link(
        &newest.prev_hash,
        &content(
            &newest.action,
            &newest.actor,
            newest.target_id.as_deref(),
            newest.details.as_ref(),
            newest.ip_address.as_deref(),
            &newest.timestamp.to_utc(),
        ),
    );
    Ok(if newest.row_hash != head {
        Some(format!(
            "broken after row {}: its newest rows were removed outside Metadeck",
            newest.id
        ))
    } else if recomputed != newest.row_hash {
        Some(format!(
            "broken at row {}: the trail was altered outside Metadeck",
            newest.id
        ))
    } else {
        None
    })
}
