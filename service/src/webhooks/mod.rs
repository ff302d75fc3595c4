//! Webhook subscriptions and the durable delivery outbox.
//!
//! Areas that emit events call [`outbox::emit`] inside the transaction of the change, so an
//! event exists exactly when its change does; the dispatcher sends the rows later.

pub mod catalog;
pub mod outbox;

pub use catalog::{EventPattern, EventType};
pub use outbox::{Event, emit};
