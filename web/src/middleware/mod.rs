//! Middleware applied to every request.

pub mod request_span;
pub mod security_headers;
