//! Purging the audit trail keeps its hash chain verifiable from the recorded anchor.

use chrono::{Duration, Utc};
use entity::{audit, audit_anchors};
use sea_orm::{EntityTrait, QueryOrder};
use service::audit::{Actor, AuditEntry, verify_chain};
use service::operations::purge::purge_at;
use service::operations::retention::RetentionSettings;

use super::count;
use crate::helpers::spawn_app;

/// Appends `n` rows to the trail, each in a write transaction as the application does.
async fn append(db: &sea_orm::DatabaseConnection, n: usize) {
    for i in 0..n {
        let txn = service::db::begin_write(db).await.unwrap();
        let entry = AuditEntry::new("test.recorded", &Actor::Cli).target(format!("row-{i}"));
        service::audit::commit_audited(txn, entry, &[])
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn the_chain_still_verifies_after_its_oldest_rows_are_purged() {
    let app = spawn_app().await;
    append(&app.db, 6).await;
    let rows = audit::Entity::find()
        .order_by_asc(audit::Column::Id)
        .all(&app.db)
        .await
        .unwrap();
    assert!(rows.len() >= 6);
    // As if a year has passed since the third-to-last row: it stays (just inside), every row
    // before it goes (just outside).
    let edge = &rows[rows.len() - 3];
    let now = edge.timestamp.to_utc() + Duration::days(365);

    let report = purge_at(&app.db, &RetentionSettings::default(), now)
        .await
        .unwrap();

    let older = rows.iter().filter(|r| r.timestamp < edge.timestamp).count();
    assert!(older >= 3);
    assert_eq!(report.removed.audit as usize, older);
    assert_eq!(
        count::<audit::Entity>(&app).await as usize,
        rows.len() - older
    );
    let anchors = audit_anchors::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(anchors.len(), 1, "only the newest anchor is kept");
    let last_purged = rows
        .iter()
        .rev()
        .find(|r| r.timestamp < edge.timestamp)
        .unwrap();
    assert_eq!(anchors[0].last_purged_hash, last_purged.row_hash);
    let status = verify_chain(&app.db).await.unwrap();
    assert!(status.intact, "{:?}", status.problem());

    // Appends after the purge chain on, and `metadeck check` agrees.
    append(&app.db, 2).await;
    let status = verify_chain(&app.db).await.unwrap();
    assert!(status.intact, "{:?}", status.problem());
    let report = service::operations::check_database(&app.db).await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
}

#[tokio::test]
async fn a_purge_of_the_whole_trail_leaves_a_chain_that_verifies() {
    let app = spawn_app().await;
    append(&app.db, 3).await;
    let now = Utc::now() + Duration::days(400);

    let report = purge_at(&app.db, &RetentionSettings::default(), now)
        .await
        .unwrap();

    assert!(report.removed.audit >= 3);
    assert_eq!(count::<audit::Entity>(&app).await, 0);
    assert!(verify_chain(&app.db).await.unwrap().intact);
    append(&app.db, 1).await;
    assert!(verify_chain(&app.db).await.unwrap().intact);
}
