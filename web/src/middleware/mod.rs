//! Middleware applied to every request.

pub mod metrics;
pub mod request_span;
pub mod security_headers;
