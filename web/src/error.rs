//! The one place where failures become HTTP responses.
//!
//! JSON routes answer with the spec's error shape (`{"error": {code, message, details}}`),
//! pages with an HTML error page. Service errors are classified once in [`classify`]; the
//! framework's own failures (unknown route, wrong method, …) are rewritten by
//! [`framework_errors`] so that no text/plain framework message ever reaches a caller.

use actix_web::body::BoxBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::{StatusCode, header};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use serde::Serialize;
use service::FieldError;
use utoipa::ToSchema;

use actix_web::{FromRequest, HttpMessage, web};

use crate::auth::{Caller, Kind, from_session};
use crate::pages::{ErrorPage, Layout, PageContext};
use crate::routes::router::kind_of;
use crate::state::AppState;
use crate::wording::plain;

/// The body of every JSON error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong, for machines (`code`) and people (`message`), field by field.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// One of `bad_request`, `unauthorized`, `forbidden`, `insufficient_scope`, `not_found`,
    /// `method_not_allowed`, `conflict`, `payload_too_large`, `unsupported_media_type`,
    /// `validation_failed`, `rate_limited`, `internal`, `unavailable`.
    pub code: &'static str,
    pub message: String,
    pub details: Vec<FieldError>,
}

/// Status, code and public message of a service error. Internal details go to the log only.
pub fn classify(err: &service::Error) -> (StatusCode, &'static str, String) {
    use service::Error as E;
    match err {
        E::NotFound(_) => (StatusCode::NOT_FOUND, "not_found", err.to_string()),
        E::Conflict { .. } => (StatusCode::CONFLICT, "conflict", err.to_string()),
        E::Validation(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            err.to_string(),
        ),
        E::InvalidCredentials => (
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "invalid credentials".into(),
        ),
        E::Forbidden(_) | E::NotHeld { .. } => {
            (StatusCode::FORBIDDEN, "forbidden", err.to_string())
        }
        E::RateLimited { .. } => (
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            err.to_string(),
        ),
        E::OAuth(e) => (
            StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
            if e.status() == 401 {
                "unauthorized"
            } else {
                "bad_request"
            },
            e.description.clone(),
        ),
        E::Unavailable(cause) => {
            tracing::error!(error = %cause, "database unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the database is unavailable".into(),
            )
        }
        E::Internal(cause) => {
            tracing::error!(error = %cause, "internal error");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "an internal error occurred".into(),
            )
        }
    }
}

/// An error answered to a JSON caller.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Vec<FieldError>,
    /// `Retry-After` seconds for `429`.
    pub retry_after: Option<u64>,
    /// The RFC 6750 `error` named in `WWW-Authenticate` for a `401`, such as `invalid_token`.
    pub bearer_error: Option<&'static str>,
}

impl ApiError {
    /// An error without field details.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
            retry_after: None,
            bearer_error: None,
        }
    }

    /// `401 unauthorized` for a bearer token that is unknown, expired or revoked, answered
    /// with `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3.1).
    pub fn invalid_token() -> Self {
        Self {
            bearer_error: Some("invalid_token"),
            ..Self::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "the access token is invalid, expired or revoked",
            )
        }
    }

    /// `400 bad_request`: malformed JSON, bad query string, bad cursor.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// A rule broken by a query parameter is a bad request (`400`), never a clamp.
    pub fn bad_query(err: service::Error) -> Self {
        match err {
            service::Error::Validation(details) => {
                let message = details
                    .first()
                    .map(|d| format!("{} {}", d.field, d.message))
                    .unwrap_or_default();
                Self {
                    details,
                    ..Self::bad_request(message)
                }
            }
            other => other.into(),
        }
    }

    /// `422` naming one field.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        service::Error::invalid(field, message).into()
    }

    /// A generic error for a status produced by the framework itself.
    pub fn for_status(status: StatusCode) -> Self {
        let (code, message) = match status.as_u16() {
            400 => ("bad_request", "the request is malformed"),
            401 => ("unauthorized", "authentication is required"),
            403 => ("forbidden", "you may not do this"),
            404 => ("not_found", "no such resource"),
            405 => ("method_not_allowed", "this method is not allowed here"),
            413 => ("payload_too_large", "the request body is too large"),
            415 => (
                "unsupported_media_type",
                "the request body must be application/json",
            ),
            422 => ("validation_failed", "the request is invalid"),
            429 => ("rate_limited", "too many requests"),
            503 => ("unavailable", "the service is unavailable"),
            s if s >= 500 => ("internal", "an internal error occurred"),
            _ => ("bad_request", "the request cannot be served"),
        };
        Self::new(status, code, message)
    }
}

impl From<service::Error> for ApiError {
    fn from(err: service::Error) -> Self {
        let (status, code, message) = classify(&err);
        let retry_after = match err {
            service::Error::RateLimited { retry_after_secs } => Some(retry_after_secs),
            _ => None,
        };
        let details = match err {
            service::Error::Validation(details) | service::Error::Conflict { details, .. } => {
                details
            }
            service::Error::NotHeld { missing, .. } => missing
                .into_iter()
                .map(|p| FieldError::new("permissions", format!("you do not hold {p}")))
                .collect(),
            _ => Vec::new(),
        };
        Self {
            status,
            code,
            message,
            details,
            retry_after,
            bearer_error: None,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        let mut res = HttpResponse::build(self.status);
        match (self.status, self.code) {
            (StatusCode::UNAUTHORIZED, _) => match self.bearer_error {
                Some(error) => {
                    res.insert_header((
                        header::WWW_AUTHENTICATE,
                        format!("Bearer error=\"{error}\""),
                    ));
                }
                None => {
                    res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
                }
            },
            (StatusCode::FORBIDDEN, "insufficient_scope") => {
                res.insert_header((
                    header::WWW_AUTHENTICATE,
                    "Bearer error=\"insufficient_scope\"",
                ));
            }
            _ => {}
        }
        if let Some(secs) = self.retry_after {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        // Whatever produced the error, no parsing library's wording reaches the caller.
        let details = self
            .details
            .iter()
            .map(|d| FieldError {
                message: plain(&d.message),
                ..d.clone()
            })
            .collect();
        res.json(ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: plain(&self.message),
                details,
            },
        })
    }
}

/// An error answered to a person with a browser: an HTML page with the right status.
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub message: String,
}

impl PageError {
    /// A page error with a message for the reader.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

impl From<service::Error> for PageError {
    fn from(err: service::Error) -> Self {
        let (status, _, message) = classify(&err);
        Self { status, message }
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        render_error_page(self.status, &self.message)
    }
}

/// What an error page says, kept on its response so that [`framework_errors`] can render it
/// again with the signed-in caller's navigation (the mapper that made it had no request).
#[derive(Debug, Clone)]
struct ErrorPageShown {
    message: String,
}

/// Renders the shared error page (403, 404, 500, …) without navigation; a signed-in caller
/// gets it again with theirs from [`framework_errors`].
pub fn render_error_page(status: StatusCode, message: &str) -> HttpResponse<BoxBody> {
    let mut res = error_page_in(status, message, None);
    res.extensions_mut().insert(ErrorPageShown {
        message: message.to_string(),
    });
    res
}

/// The error page for `status` in `layout` ([`ErrorPage::new`]).
fn error_page_in(
    status: StatusCode,
    message: &str,
    layout: Option<Layout>,
) -> HttpResponse<BoxBody> {
    let page = ErrorPage::new(status, &plain(message), layout);
    match page.render() {
        Ok(html) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(html),
        Err(err) => {
            tracing::error!(error = %err, "error page failed to render");
            HttpResponse::build(status)
                .content_type("text/html; charset=utf-8")
                .body("<!doctype html><title>Error</title>")
        }
    }
}

/// `res`, an error page, rendered again with the sidebar and sign-out of the request's
/// signed-in session (read here when the error came before the route's rule did); anyone
/// else keeps the plain page.
async fn with_navigation(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let Some(shown) = res.response().extensions().get::<ErrorPageShown>().cloned() else {
        return res;
    };
    let (req, old) = res.into_parts();
    let known = req.extensions().get::<Caller>().cloned();
    let caller = match known {
        Some(caller) => Some(caller),
        None => match req.app_data::<web::Data<AppState>>() {
            // A failed lookup leaves the plain page: the error being shown matters more.
            Some(state) => from_session(&req, state).await.ok().flatten(),
            None => None,
        },
    };
    let Some(caller) = caller.filter(|c| c.csrf().is_some()) else {
        return ServiceResponse::new(req, old);
    };
    req.extensions_mut().insert(caller);
    let layout = match PageContext::extract(&req).await {
        Ok(ctx) => ctx.error_layout(),
        Err(_) => return ServiceResponse::new(req, old),
    };
    let mut new = error_page_in(old.status(), &shown.message, Some(layout));
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            new.headers_mut().insert(name.clone(), value.clone());
        }
    }
    ServiceResponse::new(req, new)
}

/// Rewrites error responses that the framework produced (empty or text/plain bodies)
/// into the JSON error shape or the HTML error page, as the route's declared kind says.
pub fn framework_errors<B: actix_web::body::MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(|res: ServiceResponse<B>| {
        let already_shaped = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json") || ct.starts_with("text/html"));
        let shaped = if already_shaped {
            res.map_into_boxed_body()
        } else {
            let status = res.status();
            let json = kind_of(res.request()) != Kind::Page;
            let (req, old) = res.into_parts();
            let mut new = if json {
                ApiError::for_status(status).error_response()
            } else {
                page_for_status(status)
            };
            for name in [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
                if let Some(v) = old.headers().get(&name) {
                    new.headers_mut().insert(name.clone(), v.clone());
                }
            }
            ServiceResponse::new(req, new)
        };
        if shaped
            .response()
            .extensions()
            .get::<ErrorPageShown>()
            .is_none()
        {
            return Ok(ErrorHandlerResponse::Response(shaped.map_into_right_body()));
        }
        Ok(ErrorHandlerResponse::Future(Box::pin(async move {
            Ok(with_navigation(shaped).await.map_into_right_body())
        })))
    })
}

/// The error page for a status the framework (or a middleware) decided, with its message.
pub fn page_for_status(status: StatusCode) -> HttpResponse<BoxBody> {
    let message = match status.as_u16() {
        404 => "There is no page at this address.",
        405 => "This page cannot be used that way.",
        403 => "You do not have permission to open this page.",
        413 => "The form is too large to be sent.",
        s if s >= 500 => "Something went wrong on our side. The problem has been logged.",
        _ => "The request could not be served.",
    };
    render_error_page(status, message)
}
