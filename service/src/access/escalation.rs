//! Nobody grants what they do not hold (spec 02).
//!
//! Every change to who may do what — roles given to a user, permissions put in a role, scopes
//! allowed to an OAuth client — and every action on another user (reset their password,
//! deactivate, delete, end their sessions) is checked here, against what the caller holds:
//! the permissions of a signed-in user, or the effective scope of a token. The command line
//! runs as the installation's operator and holds everything.

use super::{PermissionSet, users};
use crate::audit::Actor;
use crate::{Error, Result};
use sea_orm::ConnectionTrait;

/// Who changes access, and what they hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Grantor {
    /// The audit trail's name for the caller.
    pub actor: Actor,
    /// Everything the caller may grant, or act upon.
    pub holds: PermissionSet,
}

impl Grantor {
    /// A caller holding `holds`: a signed-in user's permissions, or a token's effective scope.
    pub fn new(actor: Actor, holds: PermissionSet) -> Self {
        Self { actor, holds }
    }

    /// The operator at the command line, or Metadeck itself: holds every permission.
    pub fn operator(actor: Actor) -> Self {
        Self::new(actor, PermissionSet::all())
    }

    /// The one rule: `wanted` must lie within what the caller holds. Otherwise `NotHeld`
    /// (`403`), naming `action` and every permission the caller lacks.
    pub fn ensure_holds(&self, wanted: PermissionSet, action: impl Into<String>) -> Result<()> {
        let missing = wanted.difference(self.holds);
        if missing.is_empty() {
            return Ok(());
        }
        Err(Error::NotHeld {
            action: action.into(),
            missing: missing.names(),
        })
    }

    /// Acting on a user (password, sessions, active flag, roles, deletion) needs every
    /// permission that user holds, active or not. `action` reads "deleting", "changing", ….
    pub async fn ensure_may_act_on(
        &self,
        db: &impl ConnectionTrait,
        user_id: i64,
        action: &str,
    ) -> Result<()> {
        let (username, held_by_target) = users::holdings(db, user_id).await?;
        self.ensure_holds(held_by_target, format!("{action} the user {username}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{BuiltinRole, Permission};

    #[test]
    fn granting_within_what_one_holds_passes() {
        let by = Grantor::new(Actor::System, BuiltinRole::Operator.permissions());
        let wanted = PermissionSet::from_iter([Permission::SyncWrite, Permission::SyncRead]);
        assert!(by.ensure_holds(wanted, "assigning").is_ok());
        assert!(by.ensure_holds(PermissionSet::EMPTY, "assigning").is_ok());
    }

    #[test]
    fn granting_beyond_what_one_holds_names_every_missing_permission() {
        let holds = PermissionSet::from_iter([Permission::UsersRead, Permission::UsersWrite]);
        let by = Grantor::new(Actor::User("u".into()), holds);
        let err = by
            .ensure_holds(BuiltinRole::Admin.permissions(), "assigning the role admin")
            .unwrap_err();
        match err {
            Error::NotHeld { action, missing } => {
                assert_eq!(action, "assigning the role admin");
                assert_eq!(missing.len(), Permission::ALL.len() - 2);
                assert!(missing.contains(&"oauth:write") && !missing.contains(&"users:write"));
            }
            other => panic!("expected NotHeld, got {other:?}"),
        }
    }

    #[test]
    fn the_operator_holds_everything() {
        let by = Grantor::operator(Actor::Cli);
        assert!(by.ensure_holds(PermissionSet::all(), "anything").is_ok());
    }
}
