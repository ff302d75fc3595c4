//! Who is calling, and may they? Sessions, the caller, CSRF and the per-route rule.
//!
//! Every route declares its [`Access`] once, in its area's router; [`enforce`] applies it
//! before the handler runs, so no handler can forget a check.

mod acting;
mod client_ip;
pub mod csrf;
mod enforce;
pub mod pending_login;
mod private_cookie;
pub mod session_store;
pub mod sso_flow;

pub use acting::Acting;
pub use client_ip::client_ip;
pub use enforce::{Access, Caller, Kind, Rule, bearer_token, enforce, from_session};
