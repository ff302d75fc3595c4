//! Admin access: users, roles and permissions, passwords, sessions, login throttling (spec 02).

pub mod escalation;
pub(crate) mod guard;
pub mod login;
pub mod password;
pub mod permissions;
pub mod roles;
pub mod sessions;
pub mod throttle;
pub mod totp;
pub mod users;

pub use crate::db::hot::caller::identity;
pub use escalation::Grantor;
pub use login::{LoginAttempt, SignIn, login};
pub use password::Password;
pub use permissions::{BuiltinRole, Permission, PermissionSet};
pub use users::{Identity, Username};
