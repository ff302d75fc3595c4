//! The error responses API routes share, as `IntoResponses` sets for `#[utoipa::path]`.
//!
//! A route's `responses(...)` lists its success responses, then the sets that apply to it,
//! then only what is particular to it:
//!
//! ```text
//! responses(
//!     (status = 200, description = "The webhook as saved", body = WebhookJson),
//!     WriteErrors, BodyErrors, NotFound,
//!     (status = 409, description = "The webhook is disabled", body = ErrorBody),
//! )
//! ```
//!
//! utoipa adds the entries in that order, so a tuple after a set replaces the set's response
//! of the same status: that is how a route words its own `422` or an extra reason for `403`.
//! Every response here carries the one error shape, [`ErrorBody`]. The document then names
//! each route's permission in its `403` (see [`super::openapi`]), from the router's catalog.

use std::collections::BTreeMap;

use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{IntoResponses, ToSchema};

use crate::error::ErrorBody;

/// The responses for `(status, description)` pairs, each with the [`ErrorBody`] shape.
fn errors(list: &[(u16, &str)]) -> BTreeMap<String, RefOr<Response>> {
    let schema = Ref::from_schema_name(ErrorBody::name());
    list.iter()
        .map(|&(status, description)| {
            let response = ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(schema.clone())).build(),
                )
                .build();
            (status.to_string(), RefOr::T(response))
        })
        .collect()
}

/// `401` without a session or a valid bearer token.
const UNAUTHENTICATED: (u16, &str) = (401, "Not signed in, and no valid bearer token");
/// `503` when the database does not answer.
const UNAVAILABLE: (u16, &str) = (503, "The database is unavailable");

/// What every route behind sign-in can answer to a read: `401`, `403`, `503`.
pub struct ReadErrors;

impl IntoResponses for ReadErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        errors(&[
            UNAUTHENTICATED,
            (403, "The caller lacks the route's permission"),
            UNAVAILABLE,
        ])
    }
}

/// What every route behind sign-in can answer to a change: [`ReadErrors`], with a `403`
/// for a session that sent no valid `X-CSRF-Token` too.
pub struct WriteErrors;

impl IntoResponses for WriteErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        errors(&[
            UNAUTHENTICATED,
            (
                403,
                "The caller lacks the route's permission, or a session sent no valid X-CSRF-Token",
            ),
            UNAVAILABLE,
        ])
    }
}

/// What a route taking a JSON body can answer about it: `400`, `413`, `415`, `422`.
pub struct BodyErrors;

impl IntoResponses for BodyErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        errors(&[
            (400, "Malformed JSON"),
            (413, "Body too large"),
            (415, "Not JSON"),
            (422, "Invalid fields, each named in `details`"),
        ])
    }
}

/// What a list can answer about its query string: `400`.
pub struct QueryErrors;

impl IntoResponses for QueryErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        errors(&[(400, "A bad filter, limit or cursor")])
    }
}

/// What a route whose path segments are parsed or checked can answer about them: `400` for a
/// segment that is not of the route's type, `422` for one that is refused (named in `details`).
pub struct PathErrors;

impl IntoResponses for PathErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        errors(&[
            (400, "A path segment is not of the route's type"),
            (422, "A path segment is refused, each named in `details`"),
        ])
    }
}

/// What a route whose path names one thing answers when there is no such thing: `404`.
pub struct NotFound;

impl IntoResponses for NotFound {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        errors(&[(404, "Nothing has the id of the path")])
    }
}
