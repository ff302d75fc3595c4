//! The second step of signing in (`/login/second-factor`): after a right password, a code from
//! the authenticator app or a recovery code. Only a right code creates the session.

use actix_session::Session;
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::SecretString;
use service::access::totp;

use super::auth::{LoginPage, login_form, start_session, too_many};
use crate::auth::pending_login::PendingLogin;
use crate::auth::{Access, client_ip};
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::{Field, FormView, PageContext, count_of, see_other};
use crate::routes::forms::{PageForm, page_form};
use crate::routes::router::Router;
use crate::state::AppState;

/// The page of the second step.
pub const PATH: &str = "/login/second-factor";

page_form! {
    /// The second step's form, as sent.
    struct CodeForm {
        /// Held as a secret, so the derived `Debug` prints `[REDACTED]`.
        code: SecretString,
    }
}

fn code_form() -> FormView {
    FormView::new(
        PATH,
        "Verify",
        vec![
            Field::new(CodeForm::code, "Code", "text")
                .autocomplete("one-time-code")
                .help(
                    "The 6-digit code your authenticator app shows now, or one of your \
                     recovery codes.",
                ),
        ],
    )
}

/// `GET /login/second-factor`: the code form, while a password step is pending; else the
/// sign-in form (the password comes first), or home for someone signed in already.
async fn second_step_page(
    ctx: PageContext,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    if ctx.caller.is_some() {
        return Ok(see_other("/"));
    }
    if PendingLogin::from_request(&req, &state.cookie_key).is_none() {
        return ctx.render(&LoginPage {
            layout: ctx.layout("Sign in"),
            form: login_form("", "/"),
            message: Some("Enter your password first; the code is asked for after it.".into()),
            providers: Vec::new(),
        });
    }
    ctx.render(&LoginPage {
        layout: ctx.layout("Second factor"),
        form: code_form(),
        message: None,
        providers: Vec::new(),
    })
}

/// `POST /login/second-factor`: a right code completes the sign-in (Post/Redirect/Get to where
/// the user was going); after a recovery code, the user is told at once how many are left.
async fn second_step(
    ctx: PageContext,
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    PageForm(form): PageForm<CodeForm>,
) -> Result<HttpResponse, PageError> {
    let Some(pending) = PendingLogin::from_request(&req, &state.cookie_key) else {
        return Ok(ctx.redirect(
            "/login",
            Flash::warning("The sign-in took too long. Enter your password again."),
        ));
    };
    let ip = client_ip(&req, &state.settings.trusted_proxies);
    let step = totp::SecondStep {
        user_id: pending.user_id,
        code: form.code,
        ip,
    };
    let refused = |status: StatusCode, message: String| {
        let page = LoginPage {
            layout: ctx.layout("Second factor"),
            form: code_form(),
            message: Some(message),
            providers: Vec::new(),
        };
        ctx.render_status(status, &page)
    };
    match totp::second_step(&state.db, &state.totp, step).await {
        Ok(signed_in) => {
            start_session(&req, &session, signed_in.identity.user_id, ip)?;
            let mut res = match signed_in.recovery_codes_left {
                None => see_other(&pending.next),
                Some(left) => ctx.redirect(
                    &pending.next,
                    Flash::warning(format!(
                        "You signed in with a recovery code; it cannot be used again. {} left. \
                         If your phone is lost, make new codes on your account page.",
                        count_of(left, "recovery code is", "recovery codes are")
                    )),
                ),
            };
            // Adding a cookie to a fresh response only fails on a malformed name; this one is
            // a constant.
            let _ = res.add_cookie(&PendingLogin::removal(state.cookie_secure));
            Ok(res)
        }
        Err(service::Error::InvalidCredentials | service::Error::Validation(_)) => refused(
            StatusCode::UNAUTHORIZED,
            "That code is not valid. Codes work once; wait for the next one, or use a recovery \
             code."
                .into(),
        ),
        Err(service::Error::RateLimited { retry_after_secs }) => {
            too_many(refused, retry_after_secs)
        }
        Err(e) => Err(e.into()),
    }
}

/// Registers the second step.
pub fn routes(r: &mut Router) {
    r.page(Method::GET, PATH, Access::Public, second_step_page)
        .page(Method::POST, PATH, Access::Public, second_step);
}
