//! `/device`: where a signed-in user enters the code a device shows and allows or denies it.

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use service::oauth::device::{self, CodeTyper};
use service::oauth::{Scope, secrets};

use super::consent::{ConsentPage, described};
use crate::auth::{Access, Acting, Caller};
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::{Field, FormView, PageContext};
use crate::routes::forms::{PageForm, page_form};
use crate::routes::router::Router;
use crate::routes::views::FormPage;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
struct DeviceQuery {
    user_code: Option<String>,
}

fn code_form(typed: &str) -> FormView {
    FormView::new(
        "/device",
        "Continue",
        vec![
            Field::new(DeviceForm::user_code, "Code shown on the device", "text")
                .value(typed)
                .autocomplete("off")
                .help("Eight letters, with or without the dash."),
        ],
    )
}

fn entry_page(
    ctx: &PageContext,
    status: StatusCode,
    typed: &str,
    error: Option<service::Error>,
) -> Result<HttpResponse, PageError> {
    let mut form = code_form(typed);
    if let Some(e) = error {
        form = form.with_error(&e);
    }
    ctx.render_status(
        status,
        &FormPage {
            layout: ctx.layout("Connect a device"),
            form,
            intro: Some("Enter the code your device or command-line tool shows.".into()),
        },
    )
}

/// The code's typer: the signed-in user at the request's address.
fn typer(acting: &Acting) -> Result<CodeTyper, PageError> {
    let user = acting.user.as_ref().ok_or_else(|| {
        PageError::new(StatusCode::FORBIDDEN, "Only a signed-in user can answer.")
    })?;
    Ok(CodeTyper {
        username: user.username.clone(),
        ip: acting.address(),
    })
}

page_form! {
    /// The code form, or the consent form's answer, as sent.
    struct DeviceForm {
        user_code: String,
        /// `approve` or `deny`; empty when only the code was typed.
        decision: String,
    }
}

impl DeviceForm {
    /// The answer: none yet (only the code was typed), allow, or deny.
    fn answer(&self) -> Result<Option<bool>, PageError> {
        match self.decision.as_str() {
            "" => Ok(None),
            "approve" => Ok(Some(true)),
            "deny" => Ok(Some(false)),
            _ => Err(PageError::new(
                StatusCode::BAD_REQUEST,
                "The decision is either approve or deny.",
            )),
        }
    }
}

/// The code form again, `429` with `Retry-After`, once too many wrong codes were typed.
fn too_many_guesses(
    ctx: &PageContext,
    typed: &str,
    retry_after_secs: u64,
) -> Result<HttpResponse, PageError> {
    let minutes = retry_after_secs.div_ceil(60);
    let mut res = entry_page(
        ctx,
        StatusCode::TOO_MANY_REQUESTS,
        typed,
        Some(service::Error::invalid(
            DeviceForm::user_code,
            format!("too many wrong codes; try again in {minutes} minutes"),
        )),
    )?;
    if let Ok(value) = retry_after_secs.to_string().parse() {
        res.headers_mut().insert(header::RETRY_AFTER, value);
    }
    Ok(res)
}

async fn consent(
    ctx: &PageContext,
    state: &AppState,
    caller: &Caller,
    typer: &CodeTyper,
    typed: &str,
) -> Result<HttpResponse, PageError> {
    match device::lookup(&state.db, typed, typer).await {
        Ok(pending) => {
            let held = caller
                .user
                .as_ref()
                .map(|u| u.permissions)
                .unwrap_or_default();
            let shown = secrets::display_user_code(&pending.user_code);
            ctx.render(&ConsentPage {
                layout: ctx.layout("Allow this device?"),
                client_name: pending.client.spec.name.clone(),
                scopes: described(pending.scope.intersect(Scope(held))),
                action: "/device",
                hidden: vec![(DeviceForm::user_code.into(), shown.clone())],
                user_code: Some(shown),
            })
        }
        Err(service::Error::NotFound(_)) => entry_page(
            ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            typed,
            Some(service::Error::invalid(
                DeviceForm::user_code,
                "no pending request has this code; it may have expired",
            )),
        ),
        Err(service::Error::RateLimited { retry_after_secs }) => {
            too_many_guesses(ctx, typed, retry_after_secs)
        }
        Err(e) => Err(e.into()),
    }
}

async fn show(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    query: web::Query<DeviceQuery>,
) -> Result<HttpResponse, PageError> {
    match query.user_code.as_deref().filter(|c| !c.trim().is_empty()) {
        Some(code) => consent(&ctx, &state, &acting, &typer(&acting)?, code).await,
        None => entry_page(&ctx, StatusCode::OK, "", None),
    }
}

async fn submit(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    PageForm(form): PageForm<DeviceForm>,
) -> Result<HttpResponse, PageError> {
    let typed = form.user_code.as_str();
    let typer = typer(&acting)?;
    let Some(approve) = form.answer()? else {
        return consent(&ctx, &state, &acting, &typer, typed).await;
    };
    let user = acting.user.clone().ok_or_else(|| {
        PageError::new(StatusCode::FORBIDDEN, "Only a signed-in user can answer.")
    })?;
    match device::decide(&state.db, typed, &user, typer.ip, approve).await {
        Ok(()) => Ok(ctx.redirect(
            "/device",
            if approve {
                Flash::success("The device is connected. You can return to it now.")
            } else {
                Flash::success("The device was denied access.")
            },
        )),
        Err(service::Error::NotFound(_) | service::Error::Conflict { .. }) => entry_page(
            &ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            typed,
            Some(service::Error::invalid(
                DeviceForm::user_code,
                "no pending request has this code; it may have expired",
            )),
        ),
        Err(e @ service::Error::Forbidden(_)) => {
            entry_page(&ctx, StatusCode::FORBIDDEN, typed, Some(e))
        }
        Err(service::Error::RateLimited { retry_after_secs }) => {
            too_many_guesses(&ctx, typed, retry_after_secs)
        }
        Err(e) => Err(e.into()),
    }
}

/// Declares the device verification page.
pub fn routes(r: &mut Router) {
    r.page(Method::GET, "/device", Access::Signed, show).page(
        Method::POST,
        "/device",
        Access::Signed,
        submit,
    );
}
