//! The client list's bulk actions: enable, disable and delete the ticked clients. Each client
//! is checked by the single-client rule (acting on a client needs every scope it is allowed)
//! before anything changes.

use service::oauth::clients::{self, ClientInput};

use crate::auth::Acting;
use crate::pages::{BulkAction, count_of};
use crate::routes::bulk::{BulkList, Described};
use crate::state::AppState;

/// The client list's bulk actions.
pub struct ClientBulk;

impl BulkList for ClientBulk {
    const LIST: &'static str = "/oauth/clients";
    const ROUTE: &'static str = "/oauth/clients/bulk";
    const NOUN: (&'static str, &'static str) = ("client", "clients");
    const ACTIONS: &'static [BulkAction] =
        &[BulkAction::Enable, BulkAction::Disable, BulkAction::Delete];

    fn what(action: BulkAction) -> &'static str {
        match action {
            BulkAction::Delete => {
                "Each client is deleted with its codes, tokens and device codes; services using \
                 it can no longer call the API."
            }
            BulkAction::Disable => {
                "Each client is disabled: its tokens stop working at once and it obtains no \
                 new ones until enabled again."
            }
            _ => "Each client is enabled and may obtain tokens again.",
        }
    }

    async fn describe(
        state: &AppState,
        acting: &Acting,
        action: BulkAction,
        ids: &[String],
    ) -> Result<Described, service::Error> {
        let by = acting.grantor();
        let verb = match action {
            BulkAction::Delete => "deleting",
            _ => "changing",
        };
        let mut names = Vec::with_capacity(ids.len());
        let mut tokens = 0;
        for id in ids {
            let name = clients::may_act_on(&state.db, &by, id, verb).await?;
            names.push(format!("{name} ({id})"));
            tokens += clients::live_tokens(&state.db, id).await?.len() as u64;
        }
        let consequences = (tokens > 0 && action != BulkAction::Enable)
            .then(|| {
                format!(
                    "{} stop working at once.",
                    count_of(tokens, "live token", "live tokens")
                )
            })
            .into_iter()
            .collect();
        Ok(Described {
            names,
            consequences,
        })
    }

    async fn apply(
        state: &AppState,
        acting: &Acting,
        action: BulkAction,
        ids: &[String],
    ) -> Result<u64, service::Error> {
        let by = acting.grantor();
        for id in ids {
            if action == BulkAction::Delete {
                clients::delete(&state.db, &by, acting.ip(), id).await?;
            } else {
                let change = ClientInput {
                    is_enabled: Some(action == BulkAction::Enable),
                    ..ClientInput::default()
                };
                clients::update(&state.db, &by, acting.ip(), id, change).await?;
            }
        }
        Ok(ids.len() as u64)
    }
}
