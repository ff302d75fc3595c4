//! The signed-in user's own account (`/account`): profile, password change, sessions summary,
//! and `/account/password`, where a user signed in with a generated password must set their
//! own before anything else opens ([`crate::auth::enforce`]).

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, web};
use askama::Template;
use secrecy::{ExposeSecret, SecretString};
use service::access::{Password, sessions, totp, users};

use super::second_factor;
use crate::auth::{Access, Acting, Caller};
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::{Field, FormView, Layout, PageContext, see_other};
use crate::routes::form_input::{acting_user, merge_errors, when};
use crate::routes::forms::{PageForm, Refused, page_form};
use crate::routes::router::Router;
use crate::routes::views::FormPage;
use crate::state::AppState;

/// Where a user with a generated password is sent until they set their own.
pub const SET_PASSWORD: &str = "/account/password";

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    username: String,
    email: String,
    roles: String,
    sessions: usize,
    form: FormView,
    /// Theme, page size and default tenant (the registry area's preferences form).
    preferences: FormView,
    second_factor: SecondFactorView,
}

/// The account page's second-factor panel.
struct SecondFactorView {
    /// Since when it is on (`None`: off).
    since: Option<String>,
    recovery_codes_left: u64,
    renew: FormView,
    disable: FormView,
}

fn password_form() -> FormView {
    FormView::new(
        SET_PASSWORD,
        "Change password",
        vec![
            Field::new(
                PasswordForm::current_password,
                "Current password",
                "password",
            )
            .autocomplete("current-password"),
            Field::new(PasswordForm::new_password, "New password", "password")
                .autocomplete("new-password")
                .help("12 to 128 characters, not your username. Your other sessions will end."),
        ],
    )
}

async fn render(
    ctx: &PageContext,
    state: &AppState,
    caller: &Caller,
    status: StatusCode,
    form: FormView,
) -> Result<HttpResponse, PageError> {
    let user = users::get(&state.db, acting_user(caller)?).await?;
    let sessions = sessions::list(&state.db, Some(user.id)).await?.len();
    let factor = totp::status(&state.db, user.id).await?;
    ctx.render_status(
        status,
        &AccountPage {
            layout: ctx.layout("Your account"),
            email: user.email.unwrap_or_default(),
            roles: user.roles.join(", "),
            username: user.username,
            sessions,
            form,
            preferences: crate::routes::registry::preferences_page::form(ctx.ui()),
            second_factor: SecondFactorView {
                since: factor.since.map(when),
                recovery_codes_left: factor.recovery_codes_left,
                renew: second_factor::renew_form(),
                disable: second_factor::disable_form(),
            },
        },
    )
}

/// The page of a user who must replace a generated password: the form alone.
fn set_password_page(
    ctx: &PageContext,
    status: StatusCode,
    form: FormView,
) -> Result<HttpResponse, PageError> {
    ctx.render_status(
        status,
        &FormPage {
            layout: ctx.layout("Set your own password"),
            form: FormView {
                submit: "Set password",
                ..form
            },
            intro: Some(
                "You signed in with a password that was generated for you. Choose your own \
                 to continue: the console opens once it is set."
                    .into(),
            ),
        },
    )
}

/// `GET /account/password`: the forced change for a generated password, else the account page.
async fn show_set_password(caller: Caller, ctx: PageContext) -> Result<HttpResponse, PageError> {
    if must_change(&caller) {
        set_password_page(&ctx, StatusCode::OK, password_form())
    } else {
        Ok(see_other("/account"))
    }
}

fn must_change(caller: &Caller) -> bool {
    caller.user.as_ref().is_some_and(|u| u.must_change_password)
}

async fn show(
    ctx: PageContext,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    render(&ctx, &state, &caller, StatusCode::OK, password_form()).await
}

page_form! {
    /// The password-change form, as sent. Both passwords are secrets, so the derived `Debug`
    /// prints `[REDACTED]`.
    struct PasswordForm {
        current_password: SecretString,
        new_password: SecretString,
    }
}

impl PasswordForm {
    /// Checks the current password and the policy for the new one, each error on its field.
    async fn parse(
        &self,
        state: &AppState,
        user_id: i64,
        username: &str,
    ) -> Result<Password, service::Error> {
        let current_ok =
            users::verify_password(&state.db, user_id, self.current_password.expose_secret())
                .await?;
        let current = (!current_ok).then(|| {
            service::Error::invalid(
                PasswordForm::current_password,
                "is not your current password",
            )
        });
        match (
            current,
            Password::parse(
                self.new_password.expose_secret(),
                username,
                PasswordForm::new_password,
            ),
        ) {
            (None, Ok(new)) => Ok(new),
            (current, new) => Err(merge_errors(vec![current, new.err()])
                .unwrap_or_else(|| service::Error::internal("no error"))),
        }
    }
}

async fn change_password(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    PageForm(form): PageForm<PasswordForm>,
) -> Result<HttpResponse, PageError> {
    let user_id = acting_user(&acting)?;
    let username = acting
        .user
        .as_ref()
        .map(|u| u.username.clone())
        .unwrap_or_default();
    let changed = match form.parse(&state, user_id, &username).await {
        Ok(new) => {
            let keep = acting.session_id();
            let by = acting.grantor();
            users::change_own_password(&state.db, &by, acting.ip(), user_id, &new, keep).await
        }
        Err(e) => Err(e),
    };
    let forced = must_change(&acting);
    match changed {
        Ok(()) if forced => Ok(ctx.redirect(
            "/",
            Flash::success("Your password is set. Welcome to the console."),
        )),
        Ok(()) => Ok(ctx.redirect(
            "/account",
            Flash::success("Your password was changed. Your other sessions were signed out."),
        )),
        Err(e) => {
            // Passwords are never sent back, so the form is shown empty with its errors.
            let refused = Refused::sort(e)?;
            let form = password_form().with_error(&refused.error);
            if forced {
                set_password_page(&ctx, refused.status, form)
            } else {
                render(&ctx, &state, &acting, refused.status, form).await
            }
        }
    }
}

/// Registers the account pages.
pub fn routes(r: &mut Router) {
    r.page(Method::GET, "/account", Access::Signed, show)
        .page(Method::GET, SET_PASSWORD, Access::Signed, show_set_password)
        .page(Method::POST, SET_PASSWORD, Access::Signed, change_password);
}
