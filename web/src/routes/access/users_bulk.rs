//! The user list's bulk actions: activate, deactivate and delete the ticked users. Each user
//! is checked by the single-user rule (nobody acts on a user holding a permission they do
//! not hold, nor deactivates or deletes themselves) before anything changes.

use actix_web::http::Method;
use service::access::Permission;
use service::access::users::{self, UserSummary, UserUpdate};

use crate::auth::{Access, Acting};
use crate::pages::BulkAction;
use crate::routes::bulk::{self, BulkList, Described};
use crate::routes::router::Router;
use crate::state::AppState;

/// The user list's bulk actions.
pub struct UserBulk;

/// The user an id of the list names; anything but a number names nobody.
async fn user(state: &AppState, id: &str) -> Result<UserSummary, service::Error> {
    let id = id
        .parse()
        .map_err(|_| service::Error::NotFound(format!("user {id}")))?;
    users::get(&state.db, id).await
}

impl BulkList for UserBulk {
    const LIST: &'static str = "/admin/users";
    const ROUTE: &'static str = "/admin/users/bulk";
    const NOUN: (&'static str, &'static str) = ("user", "users");
    const ACTIONS: &'static [BulkAction] =
        &[BulkAction::Enable, BulkAction::Disable, BulkAction::Delete];

    fn what(action: BulkAction) -> &'static str {
        match action {
            BulkAction::Delete => {
                "Each user can no longer sign in: their sessions end at once and their tokens \
                 stop working. The audit trail keeps what they did."
            }
            BulkAction::Disable => {
                "Each user is deactivated: their sessions end at once and they cannot sign in \
                 until activated again."
            }
            _ => "Each user is activated and may sign in again.",
        }
    }

    async fn describe(
        state: &AppState,
        acting: &Acting,
        action: BulkAction,
        ids: &[String],
    ) -> Result<Described, service::Error> {
        let (by, me) = (acting.grantor(), acting.user_id());
        let verb = match action {
            BulkAction::Delete => "deleting",
            _ => "changing",
        };
        let mut names = Vec::with_capacity(ids.len());
        for id in ids {
            let u = user(state, id).await?;
            if me == Some(u.id) && action != BulkAction::Enable {
                return Err(service::Error::Forbidden(format!(
                    "you cannot {} yourself",
                    action.verb().to_lowercase()
                )));
            }
            by.ensure_may_act_on(&state.db, u.id, verb).await?;
            names.push(u.username);
        }
        Ok(Described {
            names,
            ..Described::default()
        })
    }

    async fn apply(
        state: &AppState,
        acting: &Acting,
        action: BulkAction,
        ids: &[String],
    ) -> Result<u64, service::Error> {
        let by = acting.grantor();
        let me = acting
            .user_id()
            .ok_or_else(|| service::Error::Forbidden("sign in first".into()))?;
        for id in ids {
            let u = user(state, id).await?;
            if action == BulkAction::Delete {
                users::delete(&state.db, &by, me, acting.ip(), u.id).await?;
                continue;
            }
            let change = UserUpdate {
                email: u.email.clone(),
                is_active: action == BulkAction::Enable,
                roles: u.roles.clone(),
            };
            users::update(&state.db, &by, me, acting.ip(), u.id, change).await?;
        }
        Ok(ids.len() as u64)
    }
}

/// Registers the bulk route (before `/admin/users/{id}`, which would match `bulk`).
pub fn routes(r: &mut Router) {
    let write = Access::Permission(Permission::UsersWrite);
    r.page(
        Method::POST,
        UserBulk::ROUTE,
        write,
        bulk::handle::<UserBulk>,
    );
}
