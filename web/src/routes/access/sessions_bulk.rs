//! The session list's bulk action: sign out the ticked sessions. Each is checked by the
//! single-session rule (ending another user's session needs everything that user holds)
//! before anything changes.

use actix_web::http::Method;
use service::access::{Permission, sessions};

use crate::auth::{Access, Acting};
use crate::pages::BulkAction;
use crate::routes::bulk::{self, BulkList, Described};
use crate::routes::form_input::when;
use crate::routes::router::Router;
use crate::state::AppState;

/// The session list's bulk action.
pub struct SessionBulk;

impl BulkList for SessionBulk {
    const LIST: &'static str = "/admin/sessions";
    const ROUTE: &'static str = "/admin/sessions/bulk";
    const NOUN: (&'static str, &'static str) = ("session", "sessions");
    const ACTIONS: &'static [BulkAction] = &[BulkAction::SignOut];

    fn what(_: BulkAction) -> &'static str {
        "Each browser is signed out at once and must sign in again; its user is told why."
    }

    async fn describe(
        state: &AppState,
        acting: &Acting,
        _: BulkAction,
        ids: &[String],
    ) -> Result<Described, service::Error> {
        let by = acting.grantor();
        let all = sessions::list(&state.db, None).await?;
        let mut names = Vec::with_capacity(ids.len());
        for id in ids {
            let s = all
                .iter()
                .find(|s| s.id == *id)
                .ok_or_else(|| service::Error::NotFound("session".into()))?;
            by.ensure_may_act_on(&state.db, s.user_id, "ending a session of")
                .await?;
            names.push(format!(
                "{} from {} (last seen {})",
                s.username,
                s.ip.as_deref().unwrap_or("an unknown address"),
                when(s.last_seen_at)
            ));
        }
        Ok(Described {
            names,
            ..Described::default()
        })
    }

    async fn apply(
        state: &AppState,
        acting: &Acting,
        _: BulkAction,
        ids: &[String],
    ) -> Result<u64, service::Error> {
        let by = acting.grantor();
        for id in ids {
            sessions::revoke(&state.db, &by, acting.ip(), id, None).await?;
        }
        Ok(ids.len() as u64)
    }
}

/// Registers the bulk route.
pub fn routes(r: &mut Router) {
    let write = Access::Permission(Permission::SessionsWrite);
    r.page(
        Method::POST,
        SessionBulk::ROUTE,
        write,
        bulk::handle::<SessionBulk>,
    );
}
