//! Metadeck's business rules and every query, organised by area.
//!
//! Functions take `db: &impl ConnectionTrait` first so that the same function runs on the
//! pool or inside a transaction. Inputs arrive already parsed into validated types; every
//! failure is a typed [`Error`] that the web layer maps to HTTP in one place.

pub mod access;
pub mod audit;
pub mod db;
pub mod error;
pub mod oauth;
pub mod operations;
pub mod orchestration;
pub mod pagination;
pub mod registry;
pub mod sync;
pub mod webhooks;

pub use error::{Error, FieldError, Result};
