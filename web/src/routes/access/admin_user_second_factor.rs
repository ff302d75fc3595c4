//! An admin's reset of a user's second factor (`/admin/users/{id}/reset-2fa`), for a lost
//! phone without recovery codes: asked first, then audited (`totp.reset`). The admin must hold
//! every permission the user holds (nobody acts on a user beyond their own permissions).

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use service::access::{Permission, totp, users};

use crate::auth::{Access, Acting};
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::{Confirmation, FormView, PageContext};
use crate::routes::form_input::path_id;
use crate::routes::forms::{ConfirmForm, PageForm};
use crate::routes::router::Router;
use crate::state::AppState;

/// The user page's button that starts the reset, when the user has a second factor.
pub async fn reset_button(state: &AppState, user_id: i64) -> Result<Option<FormView>, PageError> {
    Ok(totp::is_on(&state.db, user_id).await?.then(|| {
        FormView::danger_button(
            format!("/admin/users/{user_id}/reset-2fa"),
            "Reset second factor…",
        )
    }))
}

/// Resets the second factor once confirmed; before that, asks.
async fn reset(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    id: web::Path<String>,
    PageForm(form): PageForm<ConfirmForm>,
) -> Result<HttpResponse, PageError> {
    let id = path_id(&id, "user")?;
    let user = users::get(&state.db, id).await?;
    let back = format!("/admin/users/{id}");
    if !form.is_given() {
        return ctx.confirm(
            Confirmation::new(
                format!("Reset the second factor of {}?", user.username),
                format!("/admin/users/{id}/reset-2fa"),
                "Reset second factor",
                back,
            )
            .what(format!(
                "{} then signs in with the password alone and sets up an authenticator app \
                 again; their app and recovery codes stop working at once.",
                user.username
            )),
        );
    }
    let reset = totp::reset(&state.db, &acting.grantor(), acting.ip(), id).await?;
    let message = if reset {
        format!("The second factor of {} was reset.", user.username)
    } else {
        format!("{} had no second factor.", user.username)
    };
    Ok(ctx.redirect(&back, Flash::success(message)))
}

/// Registers the reset.
pub fn routes(r: &mut Router) {
    r.page(
        Method::POST,
        "/admin/users/{id}/reset-2fa",
        Access::Permission(Permission::UsersWrite),
        reset,
    );
}
