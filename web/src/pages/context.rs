//! The per-request page context and rendering.

use actix_web::cookie::{Cookie, Key};
use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, web};
use askama::Template;
use futures_util::future::LocalBoxFuture;
use service::access::Permission;
use service::registry::preferences::{self, UiPreferences};

use super::{Layout, NavItem};
use crate::auth::{Caller, csrf};
use crate::error::PageError;
use crate::flash::{self, Flash};
use crate::state::AppState;

/// Navigation: label, address, and what opening it needs (`None`: any signed-in user).
const NAV: &[(&str, &str, Option<Permission>)] = &[
    ("Dashboard", "/", None),
    ("Sync", "/sync", Some(Permission::SyncRead)),
    (
        "Devices",
        "/registry/devices",
        Some(Permission::RegistryRead),
    ),
    (
        "Entities",
        "/registry/entities",
        Some(Permission::RegistryRead),
    ),
    ("Webhooks", "/webhooks", Some(Permission::WebhooksRead)),
    ("Runs", "/ops/runs", Some(Permission::OpsRead)),
    (
        "OAuth clients",
        "/oauth/clients",
        Some(Permission::OauthRead),
    ),
    ("Users", "/admin/users", Some(Permission::UsersRead)),
    ("Roles", "/admin/roles", Some(Permission::UsersRead)),
    (
        "Sessions",
        "/admin/sessions",
        Some(Permission::SessionsRead),
    ),
    ("Audit", "/audit", Some(Permission::AuditRead)),
];

/// Everything a page handler needs to render within the console shell.
pub struct PageContext {
    pub caller: Option<Caller>,
    pub path: String,
    flash: Option<Flash>,
    csrf_token: String,
    /// A pre-session CSRF cookie to set (forms shown before sign-in).
    new_csrf_cookie: Option<Cookie<'static>>,
    /// Key that signs flash cookies.
    key: Key,
    /// Whether cookies set by the page carry `Secure` (the session cookie's setting).
    secure: bool,
    /// The signed-in user's console preferences (theme, page size, default tenant).
    ui: UiPreferences,
}

impl FromRequest for PageContext {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let ctx = Self::from_parts(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let mut ctx = ctx?;
            let user = ctx.caller.as_ref().and_then(Caller::user_id);
            if let (Some(state), Some(user)) = (state, user) {
                // A page still renders (with the default theme) if this lookup fails.
                ctx.ui = preferences::ui(&state.db, user).await.unwrap_or_default();
            }
            Ok(ctx)
        })
    }
}

impl PageContext {
    /// Everything but the user's preferences, read from the request.
    fn from_parts(req: &HttpRequest) -> Result<Self, actix_web::Error> {
        let Some(state) = req.app_data::<web::Data<AppState>>() else {
            return Err(PageError::new(StatusCode::INTERNAL_SERVER_ERROR, "no state").into());
        };
        let key = state.cookie_key.clone();
        let caller = req.extensions().get::<Caller>().cloned();
        let (csrf_token, new_csrf_cookie) = match caller.as_ref().and_then(|c| c.csrf()) {
            Some(t) => (t.to_string(), None),
            None => match csrf::pre_session_token(req, &key) {
                Some(t) => (t, None),
                None => {
                    let t = csrf::new_token();
                    let secure = state.cookie_secure;
                    (t.clone(), Some(csrf::pre_session_cookie(&key, &t, secure)))
                }
            },
        };
        Ok(Self {
            flash: flash::read(req, &key),
            caller,
            path: req.path().to_string(),
            csrf_token,
            new_csrf_cookie,
            key,
            secure: state.cookie_secure,
            ui: UiPreferences::default(),
        })
    }
}

impl PageContext {
    /// The layout of a page titled `title`, with the navigation the caller may open.
    pub fn layout(&self, title: impl Into<String>) -> Layout {
        let mut layout = Layout::new(title);
        layout.theme = self.ui.theme.as_str();
        layout.csrf_token = self.csrf_token.clone();
        layout.flash = self.flash.clone();
        if let Some(caller) = &self.caller {
            layout.user = caller.user.as_ref().map(|u| u.username.clone());
            layout.nav = NAV
                .iter()
                .filter(|(_, _, need)| need.is_none_or(|p| caller.may(p)))
                .map(|(label, href, _)| NavItem {
                    label,
                    href,
                    active: if *href == "/" {
                        self.path == "/"
                    } else {
                        self.path.starts_with(href)
                    },
                })
                .collect();
        }
        layout
    }

    /// The signed-in user's console preferences (defaults for anyone else).
    pub fn ui(&self) -> &UiPreferences {
        &self.ui
    }

    /// May the caller do what `p` grants?
    pub fn may(&self, p: Permission) -> bool {
        self.caller.as_ref().is_some_and(|c| c.may(p))
    }

    /// Renders `page` with `200`.
    pub fn render(&self, page: &impl Template) -> Result<HttpResponse, PageError> {
        self.render_status(StatusCode::OK, page)
    }

    /// Renders `page` with `status` (e.g. `422` for a form with errors).
    pub fn render_status(
        &self,
        status: StatusCode,
        page: &impl Template,
    ) -> Result<HttpResponse, PageError> {
        let html = page.render().map_err(|e| {
            tracing::error!(error = %e, "template failed to render");
            PageError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The page could not be rendered.",
            )
        })?;
        let mut res = HttpResponse::build(status);
        res.content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"));
        if self.flash.is_some() {
            res.cookie(flash::removal(self.secure));
        }
        if let Some(cookie) = &self.new_csrf_cookie {
            res.cookie(cookie.clone());
        }
        Ok(res.body(html))
    }

    /// A `303` to `location` carrying a flash message (Post/Redirect/Get).
    pub fn redirect(&self, location: &str, message: Flash) -> HttpResponse {
        HttpResponse::SeeOther()
            .insert_header((header::LOCATION, location.to_string()))
            .cookie(flash::cookie(&self.key, &message, self.secure))
            .finish()
    }
}

/// A plain `303 See Other`.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_string()))
        .finish()
}
