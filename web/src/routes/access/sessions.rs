//! Sessions: one's own (`/account/sessions`) and everyone's (`/admin/sessions`), with
//! sign-out buttons. A revoked session's next request is treated as signed out.

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use service::access::sessions::{self, SessionSummary};
use service::access::{Permission, users};

use super::sessions_bulk::SessionBulk;
use crate::auth::{Access, Acting, Caller};
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::{Bulk, Confirmation, Layout, PageContext};
use crate::routes::bulk::{self, BulkList};
use crate::routes::form_input::{acting_user, when};
use crate::routes::forms::{ConfirmForm, PageForm};
use crate::routes::router::Router;
use crate::state::AppState;

/// One session as the table shows it.
struct SessionRow {
    /// The stored id (a hash), for the row's bulk box.
    id: String,
    username: String,
    created: String,
    last_seen: String,
    ip: String,
    user_agent: String,
    current: bool,
    /// Where its sign-out button posts, when it has one.
    revoke: Option<String>,
}

#[derive(Template)]
#[template(path = "sessions.html")]
struct SessionsPage {
    layout: Layout,
    rows: Vec<SessionRow>,
    show_user: bool,
    /// The user filter's value (the admin page has one).
    user_filter: Option<String>,
    revoke_others: Option<&'static str>,
    empty: &'static str,
    /// The bulk sign-out (everyone's sessions, for those who may end them).
    bulk: Option<Bulk>,
}

/// The row of `s`; `revoke` builds its button's address, if it gets one.
fn row(s: &SessionSummary, caller: &Caller, revoke: impl Fn(&str) -> Option<String>) -> SessionRow {
    SessionRow {
        id: s.id.clone(),
        username: s.username.clone(),
        created: when(s.created_at),
        last_seen: when(s.last_seen_at),
        ip: s.ip.clone().unwrap_or_default(),
        user_agent: s.user_agent.clone().unwrap_or_default(),
        current: caller.session_id() == Some(s.id.as_str()),
        revoke: revoke(&s.id),
    }
}

async fn own(
    ctx: PageContext,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let list = sessions::list(&state.db, Some(acting_user(&caller)?)).await?;
    let others = list
        .iter()
        .any(|s| caller.session_id() != Some(s.id.as_str()));
    let rows = list
        .iter()
        .map(|s| {
            row(s, &caller, |id| {
                (caller.session_id() != Some(id)).then(|| format!("/account/sessions/{id}/revoke"))
            })
        })
        .collect();
    ctx.render(&SessionsPage {
        layout: ctx.layout("Your sessions"),
        rows,
        show_user: false,
        user_filter: None,
        revoke_others: others.then_some("/account/sessions/revoke-others"),
        empty: "You have no sessions.",
        bulk: None,
    })
}

/// The question before signing out the session `id` (one of `owner`'s, or anyone's), from
/// the list at `back`.
async fn ask_revoke(
    ctx: &PageContext,
    state: &AppState,
    id: &str,
    owner: Option<i64>,
    back: &str,
) -> Result<HttpResponse, PageError> {
    let Some(s) = sessions::list(&state.db, owner)
        .await?
        .into_iter()
        .find(|s| s.id == id)
    else {
        return Err(PageError::new(StatusCode::NOT_FOUND, "session not found"));
    };
    ctx.confirm(
        Confirmation::new(
            format!("Sign out this session of {}?", s.username),
            format!("{back}/{id}/revoke"),
            "Sign out session",
            back,
        )
        .what(format!(
            "The browser signed in as {} from {} (last seen {}) is signed out at once and \
             must sign in again.",
            s.username,
            s.ip.as_deref().unwrap_or("an unknown address"),
            when(s.last_seen_at)
        )),
    )
}

async fn revoke_own(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    id: web::Path<String>,
    PageForm(form): PageForm<ConfirmForm>,
) -> Result<HttpResponse, PageError> {
    let owner = Some(acting_user(&acting)?);
    if !form.is_given() {
        return ask_revoke(&ctx, &state, &id, owner, "/account/sessions").await;
    }
    let ip = acting.ip();
    sessions::revoke(&state.db, &acting.grantor(), ip, &id, owner).await?;
    Ok(ctx.redirect(
        "/account/sessions",
        Flash::success("The session was signed out."),
    ))
}

async fn revoke_others(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    PageForm(form): PageForm<ConfirmForm>,
) -> Result<HttpResponse, PageError> {
    let user_id = acting_user(&acting)?;
    let keep = acting.session_id().unwrap_or_default();
    if !form.is_given() {
        let others = sessions::list(&state.db, Some(user_id))
            .await?
            .iter()
            .filter(|s| s.id != keep)
            .count() as u64;
        return ctx.confirm(
            Confirmation::new(
                "Sign out everywhere else?",
                "/account/sessions/revoke-others",
                "Sign out everywhere else",
                "/account/sessions",
            )
            .what("This browser stays signed in; every other one must sign in again.")
            .consequence(format!(
                "{} signed out at once.",
                match others {
                    1 => "1 other session is".to_string(),
                    n => format!("{n} other sessions are"),
                }
            )),
        );
    }
    let ip = acting.ip();
    let ended = sessions::revoke_others(&state.db, &acting.actor(), ip, user_id, keep).await?;
    let message = match ended {
        1 => "One other session was signed out.".to_string(),
        n => format!("{n} other sessions were signed out."),
    };
    Ok(ctx.redirect("/account/sessions", Flash::success(message)))
}

#[derive(Debug, Deserialize)]
struct AdminQuery {
    user: Option<String>,
}

async fn everyone(
    ctx: PageContext,
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<AdminQuery>,
) -> Result<HttpResponse, PageError> {
    let name = query.user.as_deref().map(str::trim).unwrap_or_default();
    let list = if name.is_empty() {
        sessions::list(&state.db, None).await?
    } else {
        match users::find_by_username(&state.db, name).await? {
            Some(user) => sessions::list(&state.db, Some(user.id)).await?,
            None => Vec::new(),
        }
    };
    let may_revoke = ctx.may(Permission::SessionsWrite);
    let rows = list
        .iter()
        .map(|s| {
            row(s, &caller, |id| {
                may_revoke.then(|| format!("/admin/sessions/{id}/revoke"))
            })
        })
        .collect();
    ctx.render(&SessionsPage {
        layout: ctx.layout("Sessions"),
        rows,
        show_user: true,
        user_filter: Some(name.to_string()),
        revoke_others: None,
        empty: "No sessions match this filter.",
        bulk: may_revoke.then(|| {
            Bulk::new(
                SessionBulk::ROUTE,
                SessionBulk::ACTIONS,
                list.iter().map(|s| s.id.clone()).collect(),
                bulk::here(&req, SessionBulk::LIST),
            )
        }),
    })
}

async fn revoke_any(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    id: web::Path<String>,
    PageForm(form): PageForm<ConfirmForm>,
) -> Result<HttpResponse, PageError> {
    if !form.is_given() {
        return ask_revoke(&ctx, &state, &id, None, "/admin/sessions").await;
    }
    let ip = acting.ip();
    sessions::revoke(&state.db, &acting.grantor(), ip, &id, None).await?;
    Ok(ctx.redirect(
        "/admin/sessions",
        Flash::success("The session was signed out."),
    ))
}

/// Registers the session pages.
pub fn routes(r: &mut Router) {
    r.page(Method::GET, "/account/sessions", Access::Signed, own)
        .page(
            Method::POST,
            "/account/sessions/revoke-others",
            Access::Signed,
            revoke_others,
        )
        .page(
            Method::POST,
            "/account/sessions/{id}/revoke",
            Access::Signed,
            revoke_own,
        )
        .page(
            Method::GET,
            "/admin/sessions",
            Access::Permission(Permission::SessionsRead),
            everyone,
        )
        .page(
            Method::POST,
            "/admin/sessions/{id}/revoke",
            Access::Permission(Permission::SessionsWrite),
            revoke_any,
        );
}
