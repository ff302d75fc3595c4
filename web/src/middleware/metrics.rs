//! Counts and times every request for `/metrics`, under its route pattern
//! (`/api/devices/{device_id}`), never its raw path: labels stay bounded whatever the
//! callers send.

use std::time::Instant;

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use service::operations::metrics::metrics;

/// The route label of a request no route matched (an unknown address, a static miss).
pub const UNMATCHED: &str = "unmatched";

/// The method label: the standard methods by name, anything else as `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Records the request once its response is ready.
pub async fn record_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = method_label(req.method());
    let answered = next.call(req).await;
    let (route, status) = match &answered {
        Ok(res) => (res.request().match_pattern(), res.status().as_u16()),
        Err(err) => (None, err.as_response_error().status_code().as_u16()),
    };
    metrics().request(
        route.as_deref().unwrap_or(UNMATCHED),
        method,
        status,
        started.elapsed().as_secs_f64(),
    );
    answered
}
