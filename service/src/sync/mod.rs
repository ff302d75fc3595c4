//! Sync tracking (spec 03): orchestrators start syncs, report progress and end them; admins
//! watch them live and read the history.
//!
//! - [`runs`]: the rules — one running sync per tenant, monotonic progress, terminal
//!   immutability — with each status change's webhook event and audit row;
//! - [`query`]: history, the seed's status answer, tenants, recent runs;
//! - [`stale`]: failing syncs that stopped reporting;
//! - [`live`] and [`hub`]: the dashboard's cards and the feed that pushes their changes.

pub mod hub;
pub mod live;
pub mod model;
pub mod query;
pub mod runs;
pub mod stale;

pub use hub::{LiveEvent, LiveHub, LiveSubscription};
pub use live::TenantCard;
pub use model::{EntityCounts, SyncRecord, SyncStatus, SyncType, TenantId};
pub use query::{
    HistoryFilter, HistoryKey, HistorySort, HistorySortField, NEWEST_SYNC_FIRST, StatusAnswer,
    TenantSummary,
};
pub use runs::{NewSync, SyncUpdate};
