//! Fewer index entries per appended event. The event log is written far more often than it
//! is filtered, and each secondary index costs every append one more B-tree insert: the
//! index of a run's events by level and the index of a plan unit's events (added with the
//! list indexes) more than halved a batch append, the unit index alone because one batch
//! names a few hundred units and so touches a few hundred leaf pages of it.
//!
//! They are replaced by one partial index holding only a run's warnings and errors, the
//! rows the run page's "errors and warnings only" switch reads; an info or debug event
//! never enters it. A plan unit's events are read from its run's range of `idx_events_run`
//! (`service::orchestration::events::tail`), whose cost is bounded by the run's size.

use sea_orm_migration::prelude::*;

use crate::support::exec;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The levels the partial index holds. Queries that want to read it repeat this predicate
/// word for word (`service::orchestration::events::SERIOUS_LEVELS`): SQLite uses a partial
/// index only when the query's `WHERE` contains its predicate.
const SERIOUS: &str = "\"level\" IN ('warn', 'error')";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        exec(m, "DROP INDEX idx_events_run_level").await?;
        exec(m, "DROP INDEX idx_events_unit").await?;
        exec(
            m,
            &format!(
                "CREATE INDEX idx_events_run_serious ON \"events\" (run_id, id) WHERE {SERIOUS}"
            ),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        exec(m, "DROP INDEX idx_events_run_serious").await?;
        exec(
            m,
            "CREATE INDEX idx_events_run_level ON \"events\" (run_id, level, id)",
        )
        .await?;
        exec(
            m,
            "CREATE INDEX idx_events_unit ON \"events\" (plan_unit_id, id)",
        )
        .await
    }
}
