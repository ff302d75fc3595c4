//! View structs for the pages: what a template may show, and nothing more.
//!
//! Templates never receive entities, so a secret column cannot reach a page by accident.
//! [`PageContext`] gives every page its layout (navigation the caller may open, flash
//! message, CSRF token) and renders it.

mod bulk;
mod components;
mod confirmation;
mod context;
mod nav;
mod shown_once;

pub use bulk::{Bulk, BulkAction};
pub use components::{
    Cell, Choice, Field, FilterField, FormView, ListRow, Pager, PagerQuery, Row, SortLink, Table,
    rows, thousands,
};
pub use confirmation::{Confirmation, ConfirmationPage, Consequence, count_of};
pub use context::{PageContext, see_other};
pub use nav::{NavGroup, NavItem, menu};
pub use shown_once::{PATH as SHOWN_ONCE_PATH, ShownOnce};

use actix_web::http::StatusCode;
use askama::Template;

use crate::flash::Flash;

/// What every page's layout needs.
#[derive(Debug, Clone)]
pub struct Layout {
    pub title: String,
    /// `light`, `dark` or `auto`.
    pub theme: &'static str,
    pub version: &'static str,
    /// The signed-in user's name.
    pub user: Option<String>,
    /// The sidebar: the groups of pages the caller may open (empty when signed out).
    pub nav: Vec<NavGroup>,
    pub csrf_token: String,
    pub flash: Option<Flash>,
}

impl Layout {
    /// The layout of a page without a signed-in user (error pages, login).
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            theme: "auto",
            version: env!("CARGO_PKG_VERSION"),
            user: None,
            nav: Vec::new(),
            csrf_token: String::new(),
            flash: None,
        }
    }
}

/// The shared error page (403, 404, 500, …).
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub layout: Layout,
    pub status: u16,
    pub heading: &'static str,
    pub message: String,
}

impl ErrorPage {
    /// The page for `status` with a message for the reader, in `layout` (a signed-in
    /// caller's sidebar and sign-out, or [`Layout::new`] for anyone else).
    pub fn new(status: StatusCode, message: &str, layout: Option<Layout>) -> Self {
        let heading = match status.as_u16() {
            400 => "Bad request",
            403 => "Forbidden",
            404 => "Not found",
            405 => "Method not allowed",
            429 => "Too many attempts",
            s if s >= 500 => "Something went wrong",
            _ => "The request could not be served",
        };
        Self {
            layout: layout
                .map(|mut l| {
                    l.title = heading.to_string();
                    l
                })
                .unwrap_or_else(|| Layout::new(heading)),
            status: status.as_u16(),
            heading,
            message: message.to_string(),
        }
    }
}
