//! The webhook list's bulk actions: enable, disable and delete the ticked webhooks, each as
//! its own page does it.

use actix_web::http::Method;
use service::access::Permission;
use service::webhooks::deliveries;
use service::webhooks::subscriptions::{self, WebhookPatch};

use super::page_edit::display_name;
use crate::auth::{Access, Acting};
use crate::pages::{BulkAction, count_of};
use crate::routes::bulk::{self, BulkList, Described};
use crate::routes::router::Router;
use crate::state::AppState;

/// The webhook list's bulk actions.
pub struct WebhookBulk;

impl BulkList for WebhookBulk {
    const LIST: &'static str = "/webhooks";
    const ROUTE: &'static str = "/webhooks/bulk";
    const NOUN: (&'static str, &'static str) = ("webhook", "webhooks");
    const ACTIONS: &'static [BulkAction] =
        &[BulkAction::Enable, BulkAction::Disable, BulkAction::Delete];

    fn what(action: BulkAction) -> &'static str {
        match action {
            BulkAction::Delete => {
                "Each webhook receives nothing from now on; its delivery log goes with it \
                 (the audit trail keeps what was done)."
            }
            BulkAction::Disable => {
                "Each webhook receives nothing until it is enabled again; events for it are \
                 held and go out when it is."
            }
            _ => "Each webhook receives events again; deliveries held for it go out now.",
        }
    }

    async fn describe(
        state: &AppState,
        _: &Acting,
        action: BulkAction,
        ids: &[String],
    ) -> Result<Described, service::Error> {
        let mut names = Vec::with_capacity(ids.len());
        let mut waiting = 0;
        for id in ids {
            let w = subscriptions::get(&state.db, &state.webhooks, id).await?;
            names.push(format!("{} ({})", display_name(&w), w.url));
            waiting += deliveries::waiting(&state.db, id).await?;
        }
        let fate = match action {
            BulkAction::Delete => "dropped",
            BulkAction::Disable => "held",
            _ => "sent",
        };
        let consequences = (waiting > 0)
            .then(|| {
                format!(
                    "{} waiting to be sent {} {fate}.",
                    count_of(waiting, "delivery", "deliveries"),
                    if waiting == 1 { "is" } else { "are" }
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
        let (by, db) = (acting.actor(), &state.db);
        for id in ids {
            if action == BulkAction::Delete {
                subscriptions::delete(db, &by, acting.ip(), id).await?;
            } else {
                let patch = WebhookPatch {
                    is_enabled: Some(action == BulkAction::Enable),
                    ..WebhookPatch::default()
                };
                subscriptions::update(db, &state.webhooks, &by, acting.ip(), id, patch).await?;
            }
        }
        Ok(ids.len() as u64)
    }
}

/// Registers the bulk route (before `/webhooks/{id}`, which would match `bulk`).
pub fn routes(r: &mut Router) {
    let write = Access::Permission(Permission::WebhooksWrite);
    r.page(
        Method::POST,
        WebhookBulk::ROUTE,
        write,
        bulk::handle::<WebhookBulk>,
    );
}
