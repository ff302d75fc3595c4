//! The dashboard, the console's start page.

use actix_web::HttpResponse;
use actix_web::http::Method;
use askama::Template;

use super::router::Router;
use crate::auth::{Access, Caller};
use crate::error::PageError;
use crate::pages::{Layout, PageContext};

#[derive(Template)]
#[template(path = "home.html")]
struct Dashboard {
    layout: Layout,
    username: String,
    roles: String,
}

async fn dashboard(ctx: PageContext, caller: Caller) -> Result<HttpResponse, PageError> {
    let user = caller.user.as_ref();
    ctx.render(&Dashboard {
        layout: ctx.layout("Dashboard"),
        username: user.map(|u| u.username.clone()).unwrap_or_default(),
        roles: user.map(|u| u.roles.join(", ")).unwrap_or_default(),
    })
}

/// Registers the dashboard.
pub fn routes(r: &mut Router) {
    r.page(Method::GET, "/", Access::Signed, dashboard);
}
