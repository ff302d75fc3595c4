//! What the buttons of a client's page do: save settings, enable / disable, rotate the
//! secret, delete, revoke tokens.

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, web};
use secrecy::ExposeSecret;
use service::access::Permission;
use service::oauth::clients::{self, ClientInput, ClientView};
use uuid::Uuid;

use super::detail::render_client;
use super::form::ClientForm;
use crate::auth::{Access, Acting};
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::ShownOnce;
use crate::pages::{Confirmation, FormView, PageContext, count_of};
use crate::routes::forms::ConfirmForm;
use crate::routes::forms::{PageForm, Refused};
use crate::routes::router::Router;
use crate::state::AppState;

async fn update(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    client_id: web::Path<String>,
    PageForm(form): PageForm<ClientForm>,
) -> Result<HttpResponse, PageError> {
    let outcome = match form.parse(false) {
        Ok(change) => {
            clients::update(
                &state.db,
                &acting.grantor(),
                acting.ip(),
                &client_id,
                change,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(view) => Ok(ctx.redirect(
            &format!("/oauth/clients/{client_id}"),
            Flash::success(format!("The settings of {} were saved.", view.name)),
        )),
        Err(e) => {
            let refused = Refused::sort(e)?;
            let form = FormView::new(
                format!("/oauth/clients/{client_id}"),
                "Save changes",
                form.fields(false),
            )
            .with_error(&refused.error);
            let failed = Some(("edit-client", form));
            render_client(&ctx, &state, refused.status, &client_id, failed).await
        }
    }
}

/// Asks before an action on the client: the question `build` makes of the client and the
/// number of its live tokens.
async fn ask(
    ctx: &PageContext,
    state: &AppState,
    client_id: &str,
    build: impl FnOnce(&ClientView, u64) -> Confirmation,
) -> Result<HttpResponse, PageError> {
    let client = clients::view(&state.db, client_id).await?;
    let tokens = clients::live_tokens(&state.db, client_id).await?.len() as u64;
    ctx.confirm(build(&client, tokens))
}

/// "3 live tokens".
fn live_tokens(n: u64) -> String {
    count_of(n, "live token", "live tokens")
}

/// A question about the client `client`, posting back to its action `action`.
fn question(client: &ClientView, title: String, action: &str, label: &str) -> Confirmation {
    let page = format!("/oauth/clients/{}", client.client_id);
    Confirmation::new(title, format!("{page}/{action}"), label, page)
}

async fn set_enabled(
    ctx: &PageContext,
    acting: &Acting,
    state: &AppState,
    client_id: &str,
    enabled: bool,
) -> Result<HttpResponse, PageError> {
    let change = ClientInput {
        is_enabled: Some(enabled),
        ..ClientInput::default()
    };
    let view =
        clients::update(&state.db, &acting.grantor(), acting.ip(), client_id, change).await?;
    Ok(ctx.redirect(
        &format!("/oauth/clients/{client_id}"),
        Flash::success(if enabled {
            format!("{} is enabled.", view.name)
        } else {
            format!("{} is disabled; its tokens no longer work.", view.name)
        }),
    ))
}

async fn enable(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    client_id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    set_enabled(&ctx, &acting, &state, &client_id, true).await
}

/// Disables the client once confirmed; before that, asks, naming its live tokens.
async fn disable(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    client_id: web::Path<String>,
    PageForm(form): PageForm<ConfirmForm>,
) -> Result<HttpResponse, PageError> {
    if !form.is_given() {
        // Nobody is asked about what the action would then refuse.
        clients::may_act_on(&state.db, &acting.grantor(), &client_id, "changing").await?;
        return ask(&ctx, &state, &client_id, |client, tokens| {
            question(
                client,
                format!("Disable the client {}?", client.name),
                "disable",
                "Disable client",
            )
            .what(format!(
                "{} can no longer get tokens, and the tokens it holds stop working at once, \
                 until it is enabled again.",
                client.name
            ))
            .consequence(format!("{} stop working now.", live_tokens(tokens)))
        })
        .await;
    }
    set_enabled(&ctx, &acting, &state, &client_id, false).await
}

/// Replaces the secret once confirmed (the new one is shown once, after a redirect);
/// before that, asks: the current secret stops working at once.
async fn rotate(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    client_id: web::Path<String>,
    PageForm(form): PageForm<ConfirmForm>,
) -> Result<HttpResponse, PageError> {
    if !form.is_given() {
        // Nobody is asked about what the action would then refuse.
        clients::may_act_on(
            &state.db,
            &acting.grantor(),
            &client_id,
            "rotating the secret of",
        )
        .await?;
        return ask(&ctx, &state, &client_id, |client, tokens| {
            question(
                client,
                format!("Rotate the secret of {}?", client.name),
                "rotate-secret",
                "Rotate secret",
            )
            .what(
                "Rotating stops the current secret at once: every application using it is \
                 refused until it is given the new one, which is shown once.",
            )
            .consequence(format!(
                "{} issued with the current secret keep working until they expire.",
                live_tokens(tokens)
            ))
        })
        .await;
    }
    let secret =
        clients::rotate_secret(&state.db, &acting.grantor(), acting.ip(), &client_id).await?;
    Ok(ctx.redirect_to_secret(ShownOnce::new(
        &ctx,
        "Secret rotated",
        format!(
            "The new secret of client {client_id}. The old one stopped working. \
             Copy it now: it is never shown again."
        ),
        secret.expose_secret().to_owned(),
        format!("/oauth/clients/{client_id}"),
    )))
}

/// Deletes the client once confirmed; before that, asks, naming its live tokens.
async fn delete(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    client_id: web::Path<String>,
    PageForm(form): PageForm<ConfirmForm>,
) -> Result<HttpResponse, PageError> {
    if !form.is_given() {
        // Nobody is asked about what the action would then refuse.
        clients::may_act_on(&state.db, &acting.grantor(), &client_id, "deleting").await?;
        return ask(&ctx, &state, &client_id, |client, tokens| {
            question(
                client,
                format!("Delete the client {}?", client.name),
                "delete",
                "Delete client",
            )
            .what(format!(
                "{} is deleted for good with its codes and tokens; applications using it are \
                 refused from now on.",
                client.name
            ))
            .consequence(format!("{} stop working now.", live_tokens(tokens)))
        })
        .await;
    }
    match clients::delete(&state.db, &acting.grantor(), acting.ip(), &client_id).await {
        Ok(()) => Ok(ctx.redirect(
            "/oauth/clients",
            Flash::success(format!("The client {client_id} was deleted.")),
        )),
        Err(e) => {
            let refused = Refused::sort(e)?;
            let form = FormView::danger_button(
                format!("/oauth/clients/{client_id}/delete"),
                "Delete client…",
            )
            .with_error(&refused.error);
            let failed = Some(("delete-client", form));
            render_client(&ctx, &state, refused.status, &client_id, failed).await
        }
    }
}

/// Revokes one token once confirmed.
async fn revoke_one(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    PageForm(form): PageForm<ConfirmForm>,
) -> Result<HttpResponse, PageError> {
    let (client_id, token) = path.into_inner();
    let token: Uuid = token
        .parse()
        .map_err(|_| PageError::new(StatusCode::NOT_FOUND, "token not found"))?;
    if !form.is_given() {
        let client = clients::view(&state.db, &client_id).await?;
        let live = clients::live_tokens(&state.db, &client_id).await?;
        let Some(t) = live.iter().find(|t| t.id == token) else {
            return Err(PageError::new(StatusCode::NOT_FOUND, "token not found"));
        };
        let holder = t.username.as_deref().unwrap_or("the client itself");
        return ctx.confirm(
            question(
                &client,
                format!("Revoke this {} token of {}?", t.kind, client.name),
                &format!("tokens/{token}/revoke"),
                "Revoke token",
            )
            .what(format!(
                "The {} token issued to {holder} (scope {}) stops working at once.",
                t.kind, t.scope
            )),
        );
    }
    clients::revoke_token(&state.db, &acting.actor(), acting.ip(), token).await?;
    Ok(ctx.redirect(
        &format!("/oauth/clients/{client_id}"),
        Flash::success("The token was revoked."),
    ))
}

/// Revokes every live token of the client once confirmed.
async fn revoke_all(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    client_id: web::Path<String>,
    PageForm(form): PageForm<ConfirmForm>,
) -> Result<HttpResponse, PageError> {
    if !form.is_given() {
        return ask(&ctx, &state, &client_id, |client, tokens| {
            question(
                client,
                format!("Revoke every token of {}?", client.name),
                "tokens/revoke",
                "Revoke all",
            )
            .what("Applications and users holding them must sign in or ask for a token again.")
            .consequence(format!("{} stop working now.", live_tokens(tokens)))
        })
        .await;
    }
    let n = clients::revoke_all(&state.db, &acting.actor(), acting.ip(), &client_id).await?;
    Ok(ctx.redirect(
        &format!("/oauth/clients/{client_id}"),
        Flash::success(format!("{n} tokens were revoked.")),
    ))
}

/// Declares the client's actions.
pub(super) fn routes(r: &mut Router) {
    let write = Access::Permission(Permission::OauthWrite);
    r.page(Method::POST, "/oauth/clients/{client_id}", write, update)
        .page(
            Method::POST,
            "/oauth/clients/{client_id}/enable",
            write,
            enable,
        )
        .page(
            Method::POST,
            "/oauth/clients/{client_id}/disable",
            write,
            disable,
        )
        .page(
            Method::POST,
            "/oauth/clients/{client_id}/rotate-secret",
            write,
            rotate,
        )
        .page(
            Method::POST,
            "/oauth/clients/{client_id}/delete",
            write,
            delete,
        )
        .page(
            Method::POST,
            "/oauth/clients/{client_id}/tokens/revoke",
            write,
            revoke_all,
        )
        .page(
            Method::POST,
            "/oauth/clients/{client_id}/tokens/{token_id}/revoke",
            write,
            revoke_one,
        );
}
