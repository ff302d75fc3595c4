//! The page a secret is shown on once, reached by the redirect after the create or rotation
//! that made it (see [`crate::pages::ShownOnce`]).

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse};

use crate::auth::Access;
use crate::error::PageError;
use crate::pages::PageContext;
use crate::routes::router::Router;
use crate::routes::views::SecretPage;

/// Shows the secret the request carries and forgets it; without one (a refresh, a second
/// tab), says it can no longer be shown.
async fn show(ctx: PageContext, req: HttpRequest) -> Result<HttpResponse, PageError> {
    let page = match ctx.take_secret(&req) {
        Some(shown) => SecretPage {
            layout: ctx.layout(shown.title),
            intro: shown.intro,
            secret: Some(shown.secret),
            back: shown.back,
        },
        None => SecretPage {
            layout: ctx.layout("Secret no longer shown"),
            intro:
                "This secret can no longer be shown: it was shown once, right after it was made. \
                    If it was not stored, make a new one (reset the password or rotate the secret)."
                    .into(),
            secret: None,
            back: "/".into(),
        },
    };
    Ok(ctx.forget_secret(ctx.render(&page)?))
}

/// Declares the page.
pub fn routes(r: &mut Router) {
    r.page(
        Method::GET,
        crate::pages::SHOWN_ONCE_PATH,
        Access::Signed,
        show,
    );
}
