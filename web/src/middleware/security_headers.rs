//! The security headers of spec 02 on every response.

use actix_web::middleware::DefaultHeaders;

/// `Content-Security-Policy`, `X-Content-Type-Options` and `Referrer-Policy`.
pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((
            "Content-Security-Policy",
            "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "same-origin"))
}
