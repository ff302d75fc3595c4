//! What the buttons of a client's page do: save settings, enable / disable, rotate the
//! secret, delete, revoke tokens.

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, web};
use service::access::Permission;
use service::oauth::clients::{self, ClientInput};
use uuid::Uuid;

use super::detail::render_client;
use super::form::ClientForm;
use crate::auth::{Access, Acting};
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::{FormView, PageContext};
use crate::routes::forms::ConfirmForm;
use crate::routes::forms::{PageForm, Refused};
use crate::routes::router::Router;
use crate::routes::views::{self, SecretPage};
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

async fn disable(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    client_id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    set_enabled(&ctx, &acting, &state, &client_id, false).await
}

async fn rotate(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    client_id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let secret =
        clients::rotate_secret(&state.db, &acting.grantor(), acting.ip(), &client_id).await?;
    ctx.render(&SecretPage {
        layout: ctx.layout("Secret rotated"),
        intro: format!(
            "The new secret of client {client_id}. The old one stopped working. Copy it now: it is never shown again."
        ),
        secret,
        back: format!("/oauth/clients/{client_id}"),
    })
}

async fn delete(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    client_id: web::Path<String>,
    PageForm(form): PageForm<ConfirmForm>,
) -> Result<HttpResponse, PageError> {
    let outcome = match form.confirmed() {
        Ok(()) => clients::delete(&state.db, &acting.grantor(), acting.ip(), &client_id).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => Ok(ctx.redirect(
            "/oauth/clients",
            Flash::success(format!("The client {client_id} was deleted.")),
        )),
        Err(e) => {
            let refused = Refused::sort(e)?;
            let client = clients::view(&state.db, &client_id).await?;
            let form = views::delete_form(
                format!("/oauth/clients/{client_id}/delete"),
                "Delete client",
                format!("Yes, delete {} with all its codes and tokens", client.name),
            )
            .with_error(&refused.error);
            let failed = Some(("delete-client", form));
            render_client(&ctx, &state, refused.status, &client_id, failed).await
        }
    }
}

async fn revoke_one(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let (client_id, token) = path.into_inner();
    let token: Uuid = token
        .parse()
        .map_err(|_| PageError::new(StatusCode::NOT_FOUND, "token not found"))?;
    clients::revoke_token(&state.db, &acting.actor(), acting.ip(), token).await?;
    Ok(ctx.redirect(
        &format!("/oauth/clients/{client_id}"),
        Flash::success("The token was revoked."),
    ))
}

async fn revoke_all(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    client_id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
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
