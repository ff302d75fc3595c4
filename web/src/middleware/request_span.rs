//! One span per request, and one structured log line when its response is ready.
//!
//! [`TracingLogger`](tracing_actix_web::TracingLogger) opens the span with [`RequestSpan`], so
//! every line logged while the request is served (by a service function too) carries the
//! request id, method and route pattern. The span records the matched pattern
//! (`/api/devices/{device_id}`), never the raw path, the query string or any header, so ids,
//! codes and tokens in URLs stay out of the logs.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing::field::Empty;
use tracing_actix_web::{RequestId, RootSpanBuilder};

/// The response header carrying the request id.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Builds the root span of each request and logs the request line when it ends.
pub struct RequestSpan;

/// What the request line needs from the start of the request.
struct Started {
    at: Instant,
    method: Method,
    route: String,
}

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(ToString::to_string)
            .unwrap_or_default();
        let route = request
            .match_pattern()
            .unwrap_or_else(|| "(unmatched)".into());
        // At the error level the span is enabled whenever anything is logged at all, so a
        // warning inside a request carries its id even when request lines are filtered out.
        let span = tracing::error_span!(
            target: "metadeck::http",
            "request",
            request_id = %request_id,
            method = %request.method(),
            route = %route,
            status = Empty,
            latency_ms = Empty,
        );
        request.extensions_mut().insert(Started {
            at: Instant::now(),
            method: request.method().clone(),
            route,
        });
        span
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        match outcome {
            Ok(res) => {
                let status = res.status().as_u16();
                let extensions = res.request().extensions();
                let Some(started) = extensions.get::<Started>() else {
                    return;
                };
                let latency_ms = started.at.elapsed().as_secs_f64() * 1000.0;
                span.record("status", status);
                span.record("latency_ms", latency_ms);
                let request_id = extensions
                    .get::<RequestId>()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                let Started { method, route, .. } = started;
                // The line repeats the span's fields, so it reads whole on its own.
                tracing::info!(target: "metadeck::http", %method, %route, status, latency_ms, %request_id, "request");
            }
            Err(err) => {
                tracing::warn!(target: "metadeck::http", error = %err, "request failed");
            }
        }
    }
}

/// Answers the request id that [`TracingLogger`](tracing_actix_web::TracingLogger) gave the
/// request in `X-Request-Id`, so a caller can quote it when reporting a problem.
pub async fn request_id_header(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req.extensions().get::<RequestId>().map(ToString::to_string);
    let mut res = next.call(req).await?;
    if let Some(value) = id.and_then(|id| HeaderValue::from_str(&id).ok()) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(res)
}
