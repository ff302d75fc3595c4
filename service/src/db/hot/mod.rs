//! The hot rows: what (nearly) every request reads, each behind one read function that every
//! caller uses, so a change to one of these tables is made here and nowhere else.
//!
//! | row | function |
//! |---|---|
//! | a signed-in caller's session, by its key's hash | [`caller::session`] |
//! | a caller's identity: user, roles, permissions | [`caller::identity`] |
//! | a device with its entities, by id | [`device::device`] |
//! | an access token with its client, by the token's hash | [`access_token::access_token`] |
//! | a resource's current state, by its type and name | [`resource::resource`] |
//!
//! Each function takes any [`Handle`]. Inside a caller's transaction it is one query on that
//! transaction, which sees the transaction's own writes. Through the pool it takes the fastest
//! path the backend offers, all answering exactly what that one query answers:
//!
//! - a SQLite file: a read on the calling thread ([`super::point_reads`]), which skips the
//!   trip to the pool's connection thread;
//! - PostgreSQL: lookups of the same row kind that arrive together go out as one query
//!   (`db::coalesced`);
//! - otherwise, or when those cannot answer, the one query through the pool.
//!
//! Each row kind's module holds all three, side by side, with a test that they agree.

pub mod access_token;
pub mod caller;
pub mod device;
pub mod resource;

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;

use sea_orm::DatabaseConnection;

use super::Handle;
use super::coalesced::{self, Coalesced};
use super::per_pool::PerPool;
use super::point_reads;
use crate::Result;

/// One hot row under `key`: through `db`'s transaction by `alone`; through the pool, by
/// `point` on the calling thread (a SQLite file), else batched by `batch` with the lookups
/// kept in `lookups` (PostgreSQL), else by `alone`.
async fn read<K, T, B, BFut, A, AFut>(
    db: &impl Handle,
    lookups: &PerPool<Coalesced<K, T>>,
    key: K,
    point: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<Option<T>>,
    batch: B,
    alone: A,
) -> Result<Option<T>>
where
    K: Clone + Eq + Hash + Send + 'static,
    T: Clone + Send + 'static,
    B: Fn(DatabaseConnection, Vec<K>) -> BFut + Send + 'static,
    BFut: Future<Output = Result<HashMap<K, T>>> + Send + 'static,
    A: FnOnce() -> AFut,
    AFut: Future<Output = Result<Option<T>>>,
{
    let Some(pool) = db.pool() else {
        return alone().await;
    };
    point_reads::read_or_pool(pool, point, || {
        coalesced::lookup(lookups, pool, key, batch, alone)
    })
    .await
}

/// A JSON text column (SQLite keeps JSON as text); text that is not JSON is a conversion
/// error, so the read is left to the pool, which reports it.
pub(super) fn json_column(
    row: &rusqlite::Row<'_>,
    index: usize,
) -> rusqlite::Result<serde_json::Value> {
    let text: String = row.get(index)?;
    serde_json::from_str(&text).map_err(|err| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(err))
    })
}
