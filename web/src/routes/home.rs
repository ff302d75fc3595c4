//! The start page.

use actix_web::{Responder, web};

use crate::pages::{HomePage, Layout};

/// Renders the start page.
pub async fn home() -> impl Responder {
    HomePage {
        layout: Layout::new("Start"),
    }
}

/// Registers the start page.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/").route(web::get().to(home)));
}
