//! Sign in and sign out.

use actix_session::Session;
use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use secrecy::SecretString;
use serde::Deserialize;
use service::access::{self, LoginAttempt, SignIn};

use crate::auth::pending_login::PendingLogin;
use crate::auth::session_store::keys;
use crate::auth::{Access, Acting, client_ip, csrf};
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::{Field, FormView, Layout, PageContext, see_other};
use crate::routes::forms::{PageForm, page_form};
use crate::routes::router::Router;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "login.html")]
pub(super) struct LoginPage {
    pub(super) layout: Layout,
    pub(super) form: FormView,
    pub(super) message: Option<String>,
    /// "Sign in with …" for each enabled identity provider.
    pub(super) providers: Vec<super::sso::SsoButton>,
}

#[derive(Debug, Deserialize)]
struct NextQuery {
    next: Option<String>,
}

page_form! {
    /// The sign-in form, as sent.
    struct LoginForm {
        username: String,
        /// Held as a secret, so the derived `Debug` prints `[REDACTED]`.
        password: SecretString,
        next: String,
    }
}

/// Where to go after signing in: a local path (one leading `/`, not `//` or `/\`), else `/`.
pub fn safe_next(next: &str) -> &str {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control());
    if local { next } else { "/" }
}

pub(super) fn login_form(username: &str, next: &str) -> FormView {
    FormView::new(
        "/login",
        "Sign in",
        vec![
            Field::new(LoginForm::username, "Username", "text")
                .value(username)
                .autocomplete("username"),
            Field::new(LoginForm::password, "Password", "password")
                .autocomplete("current-password"),
            Field::new(LoginForm::next, "", "hidden").value(safe_next(next)),
        ],
    )
}

async fn login_page(
    ctx: PageContext,
    session: Session,
    state: web::Data<AppState>,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, PageError> {
    let next = query.next.as_deref().unwrap_or("/");
    if ctx.caller.is_some() {
        return Ok(see_other(safe_next(next)));
    }
    let mut layout = ctx.layout("Sign in");
    // Come here straight from a session that is over: say why.
    if let Some(why) = crate::auth::session_store::ended(&session) {
        layout.flash = Some(why);
    }
    ctx.render(&LoginPage {
        layout,
        form: login_form("", next),
        message: None,
        providers: super::sso::buttons(&state, next).await?,
    })
}

fn session_error(e: impl std::fmt::Display) -> PageError {
    tracing::error!(error = %e, "session could not be written");
    PageError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "The session could not be started.",
    )
}

async fn login(
    ctx: PageContext,
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    PageForm(form): PageForm<LoginForm>,
) -> Result<HttpResponse, PageError> {
    let ip = client_ip(&req, &state.settings.trusted_proxies);
    let attempt = LoginAttempt {
        username: form.username.clone(),
        password: form.password,
        ip,
    };
    let providers = super::sso::buttons(&state, &form.next).await?;
    let refused = |status: StatusCode, message: String| {
        let page = LoginPage {
            layout: ctx.layout("Sign in"),
            form: login_form(&form.username, &form.next),
            message: Some(message),
            providers,
        };
        ctx.render_status(status, &page)
    };
    match access::login(&state.db, attempt).await {
        Ok(SignIn::Complete(identity)) => {
            start_session(&req, &session, identity.user_id, ip)?;
            Ok(see_other(safe_next(&form.next)))
        }
        Ok(SignIn::SecondFactor { user_id }) => {
            // No session yet: the password alone opens nothing.
            let pending = PendingLogin::new(user_id, safe_next(&form.next));
            Ok(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, super::second_step::PATH))
                .cookie(pending.cookie(&state.cookie_key, state.cookie_secure))
                .finish())
        }
        Err(service::Error::InvalidCredentials) => refused(
            StatusCode::UNAUTHORIZED,
            "Invalid username or password".into(),
        ),
        Err(service::Error::RateLimited { retry_after_secs }) => {
            too_many(refused, retry_after_secs)
        }
        Err(e) => Err(e.into()),
    }
}

/// The `429` page of a locked sign-in step, saying when to retry.
pub(super) fn too_many(
    refused: impl FnOnce(StatusCode, String) -> Result<HttpResponse, PageError>,
    retry_after_secs: u64,
) -> Result<HttpResponse, PageError> {
    let minutes = retry_after_secs.div_ceil(60);
    let mut res = refused(
        StatusCode::TOO_MANY_REQUESTS,
        format!(
            "Too many failed attempts. Try again in {minutes} minute{}.",
            if minutes == 1 { "" } else { "s" }
        ),
    )?;
    res.headers_mut()
        .insert(header::RETRY_AFTER, retry_after_secs.into());
    Ok(res)
}

/// Starts the signed-in session of `user_id`: a new session key (a key planted before sign-in
/// is worthless after it), its CSRF token, address and user agent.
pub(super) fn start_session(
    req: &HttpRequest,
    session: &Session,
    user_id: i64,
    ip: std::net::IpAddr,
) -> Result<(), PageError> {
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(300).collect::<String>());
    session.renew();
    session
        .insert(keys::USER_ID, user_id)
        .map_err(session_error)?;
    session
        .insert(csrf::SESSION_KEY, csrf::new_token())
        .map_err(session_error)?;
    session
        .insert(keys::IP, ip.to_string())
        .map_err(session_error)?;
    if let Some(ua) = user_agent {
        session
            .insert(keys::USER_AGENT, ua)
            .map_err(session_error)?;
    }
    Ok(())
}

async fn logout(
    ctx: PageContext,
    acting: Acting,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    access::login::record_logout(&state.db, &acting.actor(), acting.ip()).await?;
    session.purge();
    Ok(ctx.redirect("/login", Flash::success("You have been signed out.")))
}

/// Registers the sign-in routes.
pub fn routes(r: &mut Router) {
    r.page(Method::GET, "/login", Access::Public, login_page)
        .page(Method::POST, "/login", Access::Public, login)
        .page(Method::POST, "/logout", Access::Signed, logout);
}
