//! How a change reaches every instance: each write counts itself on the config clock and
//! stamps its key with the count ([`stamp`]); each instance polls for keys stamped past the
//! last count it saw ([`poll`], [`run`]) and forgets them.
//!
//! The clock's row is updated inside the writing transaction, so on PostgreSQL a second writer
//! waits for the first to commit before it counts: counts become visible in order, and
//! "every key stamped past `n`" misses nothing. On SQLite the one writer at a time gives the
//! same order. Instances on one SQLite file and instances on one PostgreSQL database are
//! kept in step alike.

use std::sync::Arc;

use entity::gateway_config_clock as clock;
use entity::gateway_config_versions as versions;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use tokio::sync::watch;

use super::ConfigCache;
use super::key::ConfigKey;
use crate::{Error, Result};

/// The clock's row.
const CLOCK: &str = "gateway_config";

/// Counts one change of `key` on the clock and stamps the key with the count. Runs inside the
/// change's transaction.
pub(crate) async fn stamp(txn: &impl ConnectionTrait, key: &ConfigKey) -> Result<i64> {
    clock::Entity::update_many()
        .col_expr(
            clock::Column::Version,
            Expr::col(clock::Column::Version).add(1),
        )
        .filter(clock::Column::Name.eq(CLOCK))
        .exec(txn)
        .await?;
    let version = current(txn).await?;
    versions::Entity::insert(versions::ActiveModel {
        key: Set(key.as_str().to_owned()),
        version: Set(version),
    })
    .on_conflict(
        OnConflict::column(versions::Column::Key)
            .update_column(versions::Column::Version)
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(version)
}

/// The clock's count now.
async fn current(db: &impl ConnectionTrait) -> Result<i64> {
    clock::Entity::find_by_id(CLOCK.to_owned())
        .one(db)
        .await?
        .map(|row| row.version)
        .ok_or_else(|| Error::internal("the gateway_config clock row is missing"))
}

/// Brings `cache` up to date with every change counted after `seen` (`None`: nothing seen
/// yet, so everything is forgotten and the count now is the start), and answers the last
/// count it saw.
pub async fn poll(
    db: &impl ConnectionTrait,
    cache: &ConfigCache,
    seen: Option<i64>,
) -> Result<i64> {
    let started = cache.poll_started();
    let seen = match seen {
        Some(seen) => {
            let changed = versions::Entity::find()
                .filter(versions::Column::Version.gt(seen))
                .order_by_asc(versions::Column::Version)
                .all(db)
                .await?;
            if !changed.is_empty() {
                cache.forget(changed.iter().map(|row| row.key.as_str()));
            }
            changed.last().map_or(seen, |row| row.version)
        }
        None => {
            let now = current(db).await?;
            cache.forget_all();
            now
        }
    };
    cache.synced(started);
    Ok(seen)
}

/// Polls every [`ConfigCache::poll_every`] until `shutdown` turns true (or its sender goes
/// away). A failed poll is logged and retried at the next turn; the cache stops answering
/// while polls fail (see [`super::cache::TRUSTED_FOR`]).
pub async fn run(
    db: sea_orm::DatabaseConnection,
    cache: Arc<ConfigCache>,
    mut seen: Option<i64>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut failing = false;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(cache.poll_every()) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
        match poll(&db, &cache, seen).await {
            Ok(now) => {
                if failing {
                    tracing::info!("config changes are followed again");
                    failing = false;
                }
                seen = Some(now);
            }
            Err(err) => {
                if !failing {
                    tracing::warn!(error = %err, "could not look for config changes; config reads go to the database until it works again");
                    failing = true;
                }
            }
        }
    }
}

/// Makes `cache` follow the changes of every instance: a first poll now (so the cache answers
/// from the start when the database does), then [`run`] on the current runtime.
pub async fn start(
    db: &sea_orm::DatabaseConnection,
    cache: &Arc<ConfigCache>,
    shutdown: &watch::Receiver<bool>,
) {
    let seen = match poll(db, cache, None).await {
        Ok(seen) => Some(seen),
        Err(err) => {
            tracing::warn!(error = %err, "could not read the config clock; config reads go to the database until it works");
            None
        }
    };
    tokio::spawn(run(db.clone(), cache.clone(), seen, shutdown.clone()));
}
