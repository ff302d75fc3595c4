//! The end of every audited change.

use super::{AuditEntry, record};
use crate::Result;
use crate::db::WriteTxn;
use crate::webhooks::{Event, outbox};

/// Finishes an audited change made in `txn`: appends `entry` to the audit trail, queues
/// `events` for the webhooks that want them, and commits. All three go in the transaction of
/// the change, so the change, its audit row and its events are written together or not at
/// all: no change escapes the trail, and no webhook announces a change that rolled back.
///
/// An area's own log rows (the OAuth log) are written by the caller before this.
pub async fn commit_audited(txn: WriteTxn, entry: AuditEntry, events: &[Event]) -> Result<()> {
    record(&txn, entry).await?;
    outbox::emit(&txn, events).await?;
    txn.commit().await?;
    Ok(())
}
