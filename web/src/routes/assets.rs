//! Static assets from `static/`, embedded in the binary so it runs from any directory.
//!
//! Served with an `ETag` (their SHA-256) and `Cache-Control: no-cache`, so browsers keep
//! them but revalidate: a `304` costs a round trip and no bytes, and a new release is seen at once.

use actix_web::http::Method;
use actix_web::http::header::{self, EntityTag};
use actix_web::{HttpRequest, HttpResponse, web};
use rust_embed::RustEmbed;

use super::router::Router;
use crate::auth::Access;

/// The files of `static/`.
#[derive(RustEmbed)]
#[folder = "../static/"]
#[exclude = "docs/*"]
pub struct Assets;

async fn asset(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    serve(&req, &path)
}

async fn favicon(req: HttpRequest) -> HttpResponse {
    serve(&req, "favicon.svg")
}

fn serve(req: &HttpRequest, path: &str) -> HttpResponse {
    let Some(file) = Assets::get(path) else {
        return HttpResponse::NotFound().finish();
    };
    let etag = EntityTag::new_strong(hex::encode(&file.metadata.sha256_hash()[..16]));
    let tag = etag.to_string();
    // If-None-Match is a list of entity tags, compared weakly (RFC 9110 §13.1.2).
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|value| {
            value
                .split(',')
                .map(str::trim)
                .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == tag)
        });
    let mut res = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header(header::ETag(etag))
        .insert_header((header::CACHE_CONTROL, "no-cache"));
    if fresh {
        return res.finish();
    }
    res.content_type(file.metadata.mimetype())
        .body(file.data.into_owned())
}

/// Registers `/static/{path}` and `/favicon.ico`.
pub fn routes(r: &mut Router) {
    r.page(Method::GET, "/static/{path:.*}", Access::Public, asset)
        .page(Method::GET, "/favicon.ico", Access::Public, favicon);
}
