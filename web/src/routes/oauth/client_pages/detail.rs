//! One client's page: its settings, live tokens and the forms of its actions.

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, web};
use askama::Template;
use service::access::Permission;
use service::oauth::clients::{self, ClientView};
use uuid::Uuid;

use super::form::ClientForm;
use crate::auth::Access;
use crate::error::PageError;
use crate::pages::{FormView, Layout, PageContext};
use crate::routes::form_input::{when, when_or};
use crate::routes::router::Router;
use crate::state::AppState;

struct TokenRow {
    id: Uuid,
    kind: &'static str,
    user: String,
    scope: String,
    created: String,
    expires: String,
}

#[derive(Template)]
#[template(path = "oauth_client.html")]
struct ClientPage {
    layout: Layout,
    client: ClientView,
    last_used: String,
    created: String,
    tokens: Vec<TokenRow>,
    write: bool,
    revoke_all: Option<FormView>,
    /// Title, test hook and form of each action section.
    forms: Vec<(&'static str, &'static str, FormView)>,
}

/// The page's action forms; `failed` replaces the one a refused submission came from.
fn action_forms(
    c: &ClientView,
    failed: Option<(&'static str, FormView)>,
) -> Vec<(&'static str, &'static str, FormView)> {
    let id = &c.client_id;
    let mut forms = vec![
        (
            "Settings",
            "edit-client",
            FormView::new(
                format!("/oauth/clients/{id}"),
                "Save changes",
                ClientForm::current(c).fields(false),
            ),
        ),
        (
            if c.is_enabled { "Disable" } else { "Enable" },
            "toggle-client",
            if c.is_enabled {
                FormView::danger_button(format!("/oauth/clients/{id}/disable"), "Disable client…")
            } else {
                FormView::new(
                    format!("/oauth/clients/{id}/enable"),
                    "Enable client",
                    vec![],
                )
            },
        ),
    ];
    if c.is_confidential {
        forms.push((
            "Rotate secret",
            "rotate-secret",
            FormView::danger_button(
                format!("/oauth/clients/{id}/rotate-secret"),
                "Rotate secret…",
            ),
        ));
    }
    forms.push((
        "Delete client",
        "delete-client",
        FormView::danger_button(format!("/oauth/clients/{id}/delete"), "Delete client…"),
    ));
    if let Some((testid, form)) = failed {
        for slot in forms.iter_mut().filter(|f| f.1 == testid) {
            slot.2 = form.clone();
        }
    }
    forms
}

/// The client's page; `failed` is a refused form shown again in its place, with `status`.
pub(super) async fn render_client(
    ctx: &PageContext,
    state: &AppState,
    status: StatusCode,
    client_id: &str,
    failed: Option<(&'static str, FormView)>,
) -> Result<HttpResponse, PageError> {
    let client = clients::view(&state.db, client_id).await?;
    let tokens = clients::live_tokens(&state.db, client_id)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            kind: t.kind,
            user: t.username.unwrap_or_else(|| "—".into()),
            scope: t.scope,
            created: when(t.created_at),
            expires: when(t.expires_at),
        })
        .collect();
    let write = ctx.may(Permission::OauthWrite);
    // The settings, toggle, rotation and deletion need every scope the client is allowed:
    // they show only to a caller holding them (a refused form shown again stays shown).
    let may_act = failed.is_some()
        || match &ctx.caller {
            Some(c) => clients::may_act_on(&state.db, &c.grantor(), client_id, "changing")
                .await
                .is_ok(),
            None => false,
        };
    ctx.render_status(
        status,
        &ClientPage {
            layout: ctx.layout(format!("Client {}", client.name)),
            last_used: when_or(client.last_used_at, "never"),
            created: when(client.created_at),
            tokens,
            write,
            revoke_all: write.then(|| {
                FormView::danger_button(
                    format!("/oauth/clients/{client_id}/tokens/revoke"),
                    "Revoke all…",
                )
            }),
            forms: if write && may_act {
                action_forms(&client, failed)
            } else {
                vec![]
            },
            client,
        },
    )
}

async fn show(
    ctx: PageContext,
    state: web::Data<AppState>,
    client_id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    render_client(&ctx, &state, StatusCode::OK, &client_id, None).await
}

/// Declares the client's page.
pub(super) fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::OauthRead);
    r.page(Method::GET, "/oauth/clients/{client_id}", read, show);
}
