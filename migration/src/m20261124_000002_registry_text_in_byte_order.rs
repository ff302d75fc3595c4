//! The registry's text columns compare by bytes on PostgreSQL (collation `"C"`), as SQLite's
//! `BINARY` collation does.
//!
//! Two reasons. Lists and keyset cursors then order devices and entities the same way on
//! both backends and on every server locale (under `en_US.UTF-8`, `KITCHEN-plug` sorted after
//! `a2`; SQLite puts it first). And every B-tree step of a write compares these columns: with
//! the database's locale each comparison went through `strcoll`, about a fifth of a bulk
//! upsert's time, where `"C"` compares bytes. Searches that ignore case lower the text under
//! the database's own collation, so they still fold non-ASCII letters (see
//! `service::registry::devices`). SQLite is left as it is.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::support::exec;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Each table with its text columns. Both ends of `entities.device_id`'s foreign key change
/// together, in one statement per table.
const TEXT_COLUMNS: [(&str, &[&str]); 2] = [
    (
        "devices",
        &[
            "device_id",
            "name",
            "manufacturer",
            "model",
            "area_id",
            "integration",
        ],
    ),
    (
        "entities",
        &["entity_id", "device_id", "domain", "platform"],
    ),
];

/// `ALTER TABLE` statements giving every registry text column `collation`.
fn collate(collation: &str) -> Vec<String> {
    TEXT_COLUMNS
        .iter()
        .map(|(table, columns)| {
            let changes: Vec<String> = columns
                .iter()
                .map(|c| format!("ALTER COLUMN \"{c}\" TYPE varchar COLLATE {collation}"))
                .collect();
            format!("ALTER TABLE \"{table}\" {}", changes.join(", "))
        })
        .collect()
}

async fn set_collation(m: &SchemaManager<'_>, collation: &str) -> Result<(), DbErr> {
    if m.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    for statement in collate(collation) {
        exec(m, &statement).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        set_collation(m, "\"C\"").await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        set_collation(m, "\"default\"").await
    }
}
