//! The migration CLI as `sea-orm-cli` expects it: `up`, `down`, `status`, `fresh`, `refresh`, `reset`.
use sea_orm_migration::prelude::*;

#[tokio::main]
async fn main() {
    cli::run_cli(migration::Migrator).await;
}
