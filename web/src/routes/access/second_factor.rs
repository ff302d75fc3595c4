//! The signed-in user's second factor (`/account/second-factor`): enrolment with a QR code and
//! the secret in text, turning it off, and new recovery codes. The recovery codes are shown
//! once, on the `/shown-once` page reached by a redirect (Post/Redirect/Get).

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpResponse, web};
use askama::Template;
use qrcode::QrCode;
use qrcode::render::svg;
use secrecy::SecretString;
use service::access::totp::{self, Pending, enrolment::Holder, enrolment::Reauthentication};

use crate::auth::{Access, Acting, Caller};
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::{Field, FormView, Layout, PageContext, ShownOnce, see_other};
use crate::routes::forms::{PageForm, Refused, page_form};
use crate::routes::router::Router;
use crate::routes::views::FormPage;
use crate::state::AppState;

/// The enrolment page, where users whose permissions require a second factor are sent.
pub const ENROL: &str = "/account/second-factor";
/// The enrolment's QR code (SVG drawn here; no script or image from elsewhere).
pub const ENROL_QR: &str = "/account/second-factor/qr.svg";
/// Turning the second factor off.
const DISABLE: &str = "/account/second-factor/disable";
/// New recovery codes.
const RENEW: &str = "/account/second-factor/recovery-codes";

#[derive(Template)]
#[template(path = "second_factor.html")]
struct EnrolPage {
    layout: Layout,
    /// The secret in base32, for apps that cannot scan.
    secret: String,
    /// Sent here because the user's permissions require a second factor.
    required: bool,
    form: FormView,
}

page_form! {
    /// The enrolment's confirming code, as sent.
    struct ConfirmForm {
        code: String,
    }
}

page_form! {
    /// The password and a current code, as sent to turn the factor off or renew the codes.
    struct ReauthForm {
        /// Held as a secret, so the derived `Debug` prints `[REDACTED]`.
        password: SecretString,
        code: String,
    }
}

fn confirm_form() -> FormView {
    FormView::new(
        ENROL,
        "Turn on",
        vec![
            Field::new(ConfirmForm::code, "Code from the app", "text")
                .autocomplete("one-time-code")
                .help("The 6 digits the app shows for Metadeck now."),
        ],
    )
}

/// The form of `action` asking for the password and a current code.
pub fn reauth_form(action: &'static str, submit: &'static str) -> FormView {
    FormView::new(
        action,
        submit,
        vec![
            Field::new(ReauthForm::password, "Password", "password")
                .autocomplete("current-password"),
            Field::new(ReauthForm::code, "Code", "text")
                .autocomplete("one-time-code")
                .help("From your authenticator app, or one of your recovery codes."),
        ],
    )
}

/// The form that turns the second factor off.
pub fn disable_form() -> FormView {
    FormView {
        danger: true,
        ..reauth_form(DISABLE, "Turn off second factor")
    }
}

/// The form that makes new recovery codes.
pub fn renew_form() -> FormView {
    reauth_form(RENEW, "Make new recovery codes")
}

fn holder(caller: &Caller, ip: Option<std::net::IpAddr>) -> Result<Holder<'_>, PageError> {
    let user = caller.user.as_ref().ok_or_else(|| {
        PageError::new(StatusCode::FORBIDDEN, "This page is for signed-in users.")
    })?;
    Ok(Holder {
        user_id: user.user_id,
        username: &user.username,
        ip,
    })
}

/// The pending enrolment of the caller (made on the first visit).
async fn pending(state: &AppState, caller: &Caller) -> Result<Option<Pending>, PageError> {
    let who = holder(caller, None)?;
    match totp::begin(&state.db, &state.totp, who.user_id, who.username).await {
        Ok(pending) => Ok(Some(pending)),
        Err(service::Error::Conflict { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn render_enrol(
    ctx: &PageContext,
    state: &AppState,
    caller: &Caller,
    status: StatusCode,
    form: FormView,
) -> Result<HttpResponse, PageError> {
    let Some(pending) = pending(state, caller).await? else {
        return Ok(ctx.redirect("/account", Flash::success("Your second factor is on.")));
    };
    let required = !state
        .settings
        .require_2fa_for
        .intersection(caller.permissions)
        .is_empty();
    ctx.render_status(
        status,
        &EnrolPage {
            layout: ctx.layout("Set up a second factor"),
            secret: pending.secret_base32,
            required,
            form,
        },
    )
}

/// `GET /account/second-factor`: the QR code, the secret and the confirming form.
async fn show(
    ctx: PageContext,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    render_enrol(&ctx, &state, &caller, StatusCode::OK, confirm_form()).await
}

/// `GET /account/second-factor/qr.svg`: the pending enrolment's `otpauth://` URI as a QR code.
async fn qr(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let Some(pending) = pending(&state, &caller).await? else {
        return Err(PageError::new(
            StatusCode::NOT_FOUND,
            "Your second factor is already on.",
        ));
    };
    let code = QrCode::new(pending.otpauth_uri.as_bytes()).map_err(|e| {
        tracing::error!(error = %e, "the enrolment QR code cannot be drawn");
        PageError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The QR code could not be drawn.",
        )
    })?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build();
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml")
        // It carries the secret: never stored by a cache.
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(image))
}

/// `POST /account/second-factor`: the first valid code turns the factor on; the recovery codes
/// are then shown once.
async fn confirm(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    PageForm(form): PageForm<ConfirmForm>,
) -> Result<HttpResponse, PageError> {
    let who = holder(&acting, Some(acting.address()))?;
    match totp::confirm(&state.db, &state.totp, who, &form.code).await {
        Ok(codes) => Ok(ctx.redirect_to_secret(recovery_codes(&ctx, "Second factor on", codes))),
        Err(e) => {
            let refused = Refused::sort(e)?;
            let form = confirm_form().with_error(&refused.error);
            render_enrol(&ctx, &state, &acting, refused.status, form).await
        }
    }
}

/// The recovery codes as the page that shows them once presents them.
fn recovery_codes(ctx: &PageContext, title: &str, codes: Vec<String>) -> Option<ShownOnce> {
    ShownOnce::new(
        ctx,
        title,
        "Your recovery codes. Each signs you in once if your phone is lost; store them \
         somewhere safe (a password manager). Your account page shows how many are left.",
        codes.join(" "),
        "/account",
    )
}

/// Parses the password and code form.
fn reauthentication(form: ReauthForm) -> Reauthentication {
    Reauthentication {
        password: form.password,
        code: form.code,
    }
}

/// `POST /account/second-factor/disable`: after the password and a current code.
async fn disable(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    PageForm(form): PageForm<ReauthForm>,
) -> Result<HttpResponse, PageError> {
    let who = holder(&acting, Some(acting.address()))?;
    match totp::disable(&state.db, &state.totp, who, reauthentication(form)).await {
        Ok(()) => Ok(ctx.redirect(
            "/account",
            Flash::success("Your second factor is off. Signing in asks for the password only."),
        )),
        Err(e) => again(&ctx, e, "Turn off the second factor", disable_form()),
    }
}

/// `POST /account/second-factor/recovery-codes`: after the password and a current code; the
/// old codes stop working.
async fn renew(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    PageForm(form): PageForm<ReauthForm>,
) -> Result<HttpResponse, PageError> {
    let who = holder(&acting, Some(acting.address()))?;
    match totp::renew_recovery_codes(&state.db, &state.totp, who, reauthentication(form)).await {
        Ok(codes) => Ok(ctx.redirect_to_secret(recovery_codes(&ctx, "New recovery codes", codes))),
        Err(e) => again(&ctx, e, "New recovery codes", renew_form()),
    }
}

/// The form alone again after a refusal, each error under its field (a lock is its `429`).
fn again(
    ctx: &PageContext,
    err: service::Error,
    title: &str,
    form: FormView,
) -> Result<HttpResponse, PageError> {
    if let service::Error::RateLimited { .. } = err {
        return Err(err.into());
    }
    let refused = Refused::sort(err)?;
    ctx.render_status(
        refused.status,
        &FormPage {
            layout: ctx.layout(title),
            form: form.with_error(&refused.error),
            intro: Some("Confirm with your password and a current code.".into()),
        },
    )
}

/// `GET` of an action's address: its form lives on the account page.
async fn to_account() -> HttpResponse {
    see_other("/account")
}

/// Registers the second-factor pages.
pub fn routes(r: &mut Router) {
    r.page(Method::GET, ENROL, Access::Signed, show)
        .page(Method::POST, ENROL, Access::Signed, confirm)
        .page(Method::GET, ENROL_QR, Access::Signed, qr)
        .page(Method::GET, DISABLE, Access::Signed, to_account)
        .page(Method::POST, DISABLE, Access::Signed, disable)
        .page(Method::GET, RENEW, Access::Signed, to_account)
        .page(Method::POST, RENEW, Access::Signed, renew);
}
