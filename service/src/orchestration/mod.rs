//! The orchestration store (spec 07, seed 003): runs and their plan units (a DAG), the
//! append-only event log, resource state with a hash and its versions, facts with a TTL, and
//! the sweeper that removes expired facts and fails lost runs.
//!
//! Split by what each part holds: [`runs`] and [`units`] (with the [`dag`] check and the
//! state machines of [`status`]), [`events`] (written by `event_rows`), [`resources`] (hashed by [`canonical`]) with
//! their [`versions`], [`facts`], and the [`sweeper`].

pub mod canonical;
pub mod dag;
pub mod diff;
mod event_rows;
pub mod events;
pub mod facts;
pub mod input;
pub mod resources;
pub mod runs;
pub mod status;
pub mod sweeper;
pub mod units;
pub mod versions;

use chrono::{DateTime, SubsecRound, Utc};

pub use input::OpsKey;
pub use status::{Action, Level, RunStatus, UnitStatus};

/// The store's clock: microseconds, as both backends keep them.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
