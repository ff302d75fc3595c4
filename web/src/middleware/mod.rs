//! Middleware applied to every request.

pub mod request_log;
pub mod security_headers;
