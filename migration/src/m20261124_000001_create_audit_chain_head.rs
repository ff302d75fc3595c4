//! The audit chain's head: one row holding the hashes of the newest audit row, so that an
//! append finds its predecessor, and on PostgreSQL takes its turn, by updating one row.

use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

use crate::support::exec;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditChainHead {
    Table,
    Chain,
    PrevHash,
    RowHash,
}

/// The head as the trail stands: its newest row, else the hash the retention purge anchored
/// the chain to, else genesis (all zeros).
const START_FROM_TRAIL: &str = "
INSERT INTO audit_chain_head (chain, prev_hash, row_hash)
SELECT 'audit',
       COALESCE((SELECT prev_hash FROM audit ORDER BY id DESC LIMIT 1), start.hash),
       COALESCE((SELECT row_hash FROM audit ORDER BY id DESC LIMIT 1), start.hash)
FROM (SELECT COALESCE(
        (SELECT last_purged_hash FROM audit_anchors ORDER BY id DESC LIMIT 1),
        '0000000000000000000000000000000000000000000000000000000000000000') AS hash) AS start";

/// SQLite: appends hold the database's write lock already, so the head simply follows each
/// row appended. (PostgreSQL's appends update the head themselves: that update is their turn.)
const SQLITE_FOLLOW: &str = "
CREATE TRIGGER audit_chain_head_follows AFTER INSERT ON audit
BEGIN
    UPDATE audit_chain_head SET prev_hash = NEW.prev_hash, row_hash = NEW.row_hash
    WHERE chain = 'audit';
END";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AuditChainHead::Table)
                .col(string(AuditChainHead::Chain).primary_key())
                .col(string(AuditChainHead::PrevHash))
                .col(string(AuditChainHead::RowHash))
                .to_owned(),
        )
        .await?;
        exec(m, START_FROM_TRAIL).await?;
        if m.get_database_backend() == DbBackend::Sqlite {
            exec(m, SQLITE_FOLLOW).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DbBackend::Sqlite {
            exec(m, "DROP TRIGGER IF EXISTS audit_chain_head_follows").await?;
        }
        m.drop_table(Table::drop().table(AuditChainHead::Table).to_owned())
            .await
    }
}
