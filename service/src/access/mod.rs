//! Admin access: users, roles and permissions, passwords, sessions, login throttling (spec 02).

mod caller_read;
pub mod escalation;
mod guard;
pub mod login;
pub mod password;
pub mod permissions;
pub mod roles;
pub mod sessions;
pub mod throttle;
pub mod users;

pub use escalation::Grantor;
pub use login::{LoginAttempt, login};
pub use password::Password;
pub use permissions::{BuiltinRole, Permission, PermissionSet};
pub use users::{Identity, Username, current_identity, identity};
