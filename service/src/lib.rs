//! Metadeck's business rules and every query, organised by area.
//!
//! Inputs arrive already parsed into validated types; every failure is a typed [`Error`]
//! that the web layer maps to HTTP in one place.
//!
//! # What a function takes as its connection
//!
//! The first parameter says whether a function composes into a caller's transaction:
//!
//! - **Reads and in-transaction steps take `db: &impl ConnectionTrait`**, so the same function
//!   runs on the pool or inside a caller's transaction (a [`db::WriteTxn`] is a
//!   `ConnectionTrait`; so is a `&DatabaseConnection`, which keeps call sites unchanged). A
//!   write that another write builds on gets such a function (`…_in(txn, …)`) holding its
//!   statements; it does not commit, and answers the audit row of its change with its result
//!   so that whoever holds the transaction commits them together
//!   ([`registry::devices::put_in`] under [`registry::devices::create`], for instance).
//! - **The rows nearly every request reads** (a caller's session and identity, a device by
//!   id, an access token by hash) are read through [`db::hot`] only, one function per row,
//!   taking a [`db::Handle`]: through the pool it takes the fastest path the backend has, in a
//!   transaction it is a plain query. Never read those rows a second way.
//! - **Only an entry point that starts a write takes `&DatabaseConnection`**: it takes the
//!   SQLite writer turn ([`db::begin_write`], [`db::writer_turn`]), calls the composable steps
//!   with the transaction, and finishes an audited change with [`audit::commit_audited`]
//!   (the change, its audit row and its webhook events committed together). Keep it thin.

pub mod access;
pub mod affected;
pub mod audit;
pub mod db;
pub mod error;
pub mod gateway;
pub mod oauth;
pub mod operations;
pub mod orchestration;
pub mod pagination;
pub mod registry;
pub mod sync;
pub mod vocabulary;
pub mod webhooks;

pub use error::{Error, FieldError, Result};
