//! Single sign-on through upstream identity providers: `GET /login/sso/{name}` sends the
//! browser to the provider, `GET /login/sso/{name}/callback` takes its answer. The decisions
//! are the service's ([`service::gateway::sso`]); here are the cookie of the pending flow,
//! the session a sign-in creates, and the refusal page.

use actix_session::Session;
use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use service::gateway::sso::{self, CallbackParams, Outcome, Refusal};

use super::auth::{safe_next, start_session};
use crate::auth::session_store::keys;
use crate::auth::{Access, client_ip, sso_flow};
use crate::error::PageError;
use crate::pages::{Layout, PageContext, see_other};
use crate::routes::router::Router;
use crate::state::AppState;

/// A "Sign in with …" button of the sign-in page.
pub(super) struct SsoButton {
    pub(super) name: String,
    pub(super) display_name: String,
    pub(super) href: String,
}

/// The buttons of every enabled provider, each carrying `next` on.
pub(super) async fn buttons(state: &AppState, next: &str) -> Result<Vec<SsoButton>, PageError> {
    let next: String = url::form_urlencoded::byte_serialize(safe_next(next).as_bytes()).collect();
    Ok(service::gateway::providers::list_enabled(&state.db)
        .await?
        .into_iter()
        .map(|p| SsoButton {
            href: format!("/login/sso/{}?next={next}", p.name),
            name: p.name,
            display_name: p.display_name,
        })
        .collect())
}

#[derive(Template)]
#[template(path = "sso_refused.html")]
struct RefusedPage {
    layout: Layout,
    reason: &'static str,
    message: String,
    show_groups: bool,
    groups: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct StartQuery {
    next: Option<String>,
}

/// The callback's query; unknown parameters (`iss`, `session_state`, …) are ignored.
#[derive(Debug, Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// This instance's callback URL for provider `name`.
fn redirect_uri(state: &AppState, name: &str) -> String {
    format!("{}/login/sso/{name}/callback", state.public_url)
}

/// `GET /login/sso/{name}`: a new flow, its cookie, and the way to the provider.
async fn start(
    ctx: PageContext,
    state: web::Data<AppState>,
    name: web::Path<String>,
    query: web::Query<StartQuery>,
) -> Result<HttpResponse, PageError> {
    let next = safe_next(query.next.as_deref().unwrap_or("/"));
    if ctx.caller.is_some() {
        return Ok(see_other(next));
    }
    let started = sso::start(&state.db, &name, &redirect_uri(&state, &name), next).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, started.authorize_url))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(sso_flow::cookie(
            &started.flow,
            &state.cookie_key,
            state.cookie_secure,
        ))
        .finish())
}

/// `GET /login/sso/{name}/callback`: the provider's answer, decided by the service; a session
/// only for a sign-in it accepted.
async fn callback(
    ctx: PageContext,
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    name: web::Path<String>,
    query: web::Query<CallbackQuery>,
) -> Result<HttpResponse, PageError> {
    let ip = client_ip(&req, &state.settings.trusted_proxies);
    let flow = sso_flow::from_request(&req, &state.cookie_key);
    let query = query.into_inner();
    let params = CallbackParams {
        code: query.code,
        state: query.state,
        error: query.error,
    };
    let outcome = sso::finish(
        &state.db,
        &state.gateway,
        &name,
        flow,
        params,
        &redirect_uri(&state, &name),
        Some(ip.to_string()),
    )
    .await?;
    let mut response = match outcome {
        Outcome::SignedIn(signed_in) => {
            start_session(&req, &session, signed_in.user_id, ip)?;
            // The provider vouches for the second factor: the local one is not asked for.
            session.insert(keys::SSO, true).map_err(|e| {
                tracing::error!(error = %e, "session could not be written");
                PageError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The session could not be started.",
                )
            })?;
            see_other(safe_next(&signed_in.next))
        }
        Outcome::Refused(refusal) => {
            let (show_groups, groups) = match &refusal {
                Refusal::Unmapped { groups } => (true, groups.clone()),
                _ => (false, Vec::new()),
            };
            let page = RefusedPage {
                layout: ctx.layout("Sign-in refused"),
                reason: refusal.code(),
                message: refusal.message(),
                show_groups,
                groups,
            };
            ctx.render_status(status_of(&refusal), &page)?
        }
    };
    response
        .add_cookie(&sso_flow::removal(state.cookie_secure))
        .map_err(|e| {
            tracing::error!(error = %e, "cookie could not be set");
            PageError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The page could not be answered.",
            )
        })?;
    Ok(response)
}

/// The status of a refusal: `403` when the provider vouched for the user but Metadeck gives
/// it nothing (no mapped role, a deactivated user); `400` when the answer itself cannot be
/// accepted (forged, replayed, tampered, or from a provider that is off).
fn status_of(refusal: &Refusal) -> StatusCode {
    match refusal {
        Refusal::Unmapped { .. } | Refusal::UserInactive => StatusCode::FORBIDDEN,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// Registers the single sign-on routes.
pub fn routes(r: &mut Router) {
    r.page(Method::GET, "/login/sso/{name}", Access::Public, start)
        .page(
            Method::GET,
            "/login/sso/{name}/callback",
            Access::Public,
            callback,
        );
}
