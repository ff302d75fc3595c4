//! Client administration: registration rules, create / change / rotate / delete, and the
//! client's live tokens. Every change is written to `oauth_audit_logs` and the admin audit
//! trail in the same transaction.
//!
//! By what each part holds: `spec` validates settings, `views` reads clients, `admin` changes
//! them (with `rows`, their stored form), `tokens` shows and revokes their live tokens.

mod admin;
mod rows;
mod spec;
mod tokens;
mod views;

pub use admin::{Created, create, delete, may_act_on, rotate_secret, update};
pub use spec::{ClientInput, ClientSpec};
pub use tokens::{TokenView, live_tokens, revoke_all, revoke_token};
pub use views::{
    BY_NAME, Client, ClientSort, ClientSortField, ClientView, count, find, get, list, named,
    names_by_id, view,
};
