//! One structured log line per request: method, route, status, latency, request id.
//!
//! The route is the matched pattern (`/api/devices/{device_id}`), never the raw path or
//! query string, so ids, codes and tokens in URLs stay out of the logs.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;

/// The response header carrying the request id.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Logs the request when its response is ready. The request id is always answered; the rest
/// of the line is only put together when request lines are logged at all.
pub async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4();
    let method = req.method().clone();
    let result = next.call(req).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let mut id_text = uuid::Uuid::encode_buffer();
    let request_id = &*request_id.hyphenated().encode_lower(&mut id_text);
    match result {
        Ok(mut res) => {
            if let Ok(value) = HeaderValue::from_str(request_id) {
                res.headers_mut().insert(REQUEST_ID, value);
            }
            if tracing::enabled!(target: "metadeck::http", tracing::Level::INFO) {
                let route = res
                    .request()
                    .match_pattern()
                    .unwrap_or_else(|| "(unmatched)".into());
                let status = res.status().as_u16();
                tracing::info!(target: "metadeck::http", %method, %route, status, latency_ms, %request_id, "request");
            }
            Ok(res)
        }
        Err(err) => {
            tracing::warn!(target: "metadeck::http", %method, error = %err, latency_ms, %request_id, "request failed");
            Err(err)
        }
    }
}
