//! The JSON body extractor every route uses, so every body is judged by the same rules:
//! not JSON → `415`; over the limit → `413`; malformed (or invalid UTF-8, or nested too
//! deep) → `400`; well-formed but the wrong shape, or an unknown field → `422` naming it.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use service::FieldError;

use crate::error::ApiError;

/// Body limit of ordinary JSON routes.
pub const DEFAULT_LIMIT: usize = 1024 * 1024;
/// Body limit of the bulk routes.
pub const BULK_LIMIT: usize = 16 * 1024 * 1024;

/// Per-scope body limit, set with `app_data(JsonLimit(BULK_LIMIT))`.
#[derive(Debug, Clone, Copy)]
pub struct JsonLimit(pub usize);

/// A JSON request body parsed into `T`.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req.app_data::<JsonLimit>().map_or(DEFAULT_LIMIT, |l| l.0);
        read_json(req, payload, limit)
    }
}

/// A JSON body of a bulk route: the same rules as [`Json`], with the bulk limit (16 MiB).
#[derive(Debug)]
pub struct BulkJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for BulkJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_json::<T>(req, payload, BULK_LIMIT);
        Box::pin(async move { body.await.map(|Json(v)| BulkJson(v)) })
    }
}

/// Reads and parses a JSON body of at most `limit` bytes.
fn read_json<T: DeserializeOwned + 'static>(
    req: &HttpRequest,
    payload: &mut Payload,
    limit: usize,
) -> Pin<Box<dyn Future<Output = Result<Json<T>, ApiError>>>> {
    {
        let content_type_ok = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|essence| {
                let essence = essence.trim().to_ascii_lowercase();
                essence == "application/json"
                    || (essence.starts_with("application/") && essence.ends_with("+json"))
            })
            .unwrap_or(false);
        let declared_len = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if !content_type_ok {
                return Err(ApiError::for_status(StatusCode::UNSUPPORTED_MEDIA_TYPE));
            }
            if declared_len.is_some_and(|n| n > limit) {
                return Err(too_large(limit));
            }
            let mut body = Vec::with_capacity(declared_len.unwrap_or(1024).min(limit));
            while let Some(chunk) = payload.next().await {
                let chunk = chunk
                    .map_err(|_| ApiError::bad_request("the request body could not be read"))?;
                if body.len() + chunk.len() > limit {
                    return Err(too_large(limit));
                }
                body.extend_from_slice(&chunk);
            }
            parse(&body).map(Json)
        })
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("the request body is larger than {} KiB", limit / 1024),
    )
}

/// Parses a body, classifying failures as the spec asks.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    // serde_json refuses invalid UTF-8 itself (in a string, or as a byte outside one), so a
    // body that parses is valid UTF-8, and only one that fails is looked at again: for
    // UTF-8, then with its path tracked, which costs a third of the parse, for the error's
    // field name.
    if let Ok(value) = serde_json::from_slice(body) {
        return Ok(value);
    }
    if std::str::from_utf8(body).is_err() {
        return Err(ApiError::bad_request("the request body is not valid UTF-8"));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de);
    if value.is_ok() {
        de.end().map_err(|e| {
            ApiError::bad_request(format!(
                "malformed JSON: {}",
                strip_position(&e.to_string())
            ))
        })?;
    }
    value.map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let (field, message) = describe_data_error(&path, &inner.to_string());
                ApiError::from(service::Error::Validation(vec![field_error(
                    field, message,
                )]))
            }
            _ => ApiError::bad_request(format!(
                "malformed JSON: {}",
                strip_position(&inner.to_string())
            )),
        }
    })
}

/// Items of a batch are reported with their `index` and the field inside the item.
fn field_error(field: String, message: String) -> FieldError {
    let index_of = |part: &str| {
        part.strip_prefix('[')
            .and_then(|s| s.strip_suffix(']'))
            .and_then(|s| s.parse().ok())
    };
    match field.split_once('.') {
        Some((first, rest)) if index_of(first).is_some() => {
            FieldError::at(index_of(first).unwrap_or(0), rest, message)
        }
        _ => match index_of(&field) {
            Some(index) => FieldError::at(index, "item", message),
            None => FieldError::new(field, message),
        },
    }
}

/// Turns serde's wording into a field name and a message for people.
fn describe_data_error(path: &str, raw: &str) -> (String, String) {
    let message = strip_position(raw);
    // serde_path_to_error already ends the path with an unknown field's name, not a missing one's.
    let join = |name: &str| match path {
        "." | "" => name.to_string(),
        p if p == name || p.ends_with(&format!(".{name}")) => p.to_string(),
        p => format!("{p}.{name}"),
    };
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let name = rest.split('`').next().unwrap_or_default();
        return (join(name), "is not a known field".into());
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or_default();
        return (join(name), "is required".into());
    }
    let field = if path == "." || path.is_empty() {
        "body".to_string()
    } else {
        path.to_string()
    };
    (field, message)
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        name: String,
        count: Option<u32>,
    }

    #[test]
    fn an_unknown_field_is_named() {
        let err = parse::<Item>(br#"{"name":"a","cuont":3}"#).unwrap_err();
        assert_eq!(err.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(err.details[0].field, "cuont");
    }

    #[test]
    fn a_bad_item_in_a_batch_names_its_index() {
        let err = parse::<Vec<Item>>(br#"[{"name":"a"},{"name":7}]"#).unwrap_err();
        assert_eq!(err.details[0].index, Some(1));
        assert_eq!(err.details[0].field, "name");
    }

    #[test]
    fn malformed_json_is_a_bad_request() {
        assert_eq!(
            parse::<Item>(br#"{"name":"#).unwrap_err().status,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            parse::<Item>(b"{\"name\":\"\xff\"}").unwrap_err().status,
            StatusCode::BAD_REQUEST
        );
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        assert_eq!(
            parse::<serde_json::Value>(deep.as_bytes())
                .unwrap_err()
                .status,
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn invalid_utf8_is_named_wherever_it_is() {
        for body in [
            &b"{\"name\":\"\xff\"}"[..],
            &b"{\"name\":\"a\"}\xc3"[..],
            &b"{\"name\":\"a\",\xe2\x82:1}"[..],
        ] {
            let err = parse::<Item>(body).unwrap_err();
            assert_eq!(err.status, StatusCode::BAD_REQUEST);
            assert_eq!(err.message, "the request body is not valid UTF-8");
        }
    }

    #[test]
    fn the_wrong_json_type_is_unprocessable() {
        let err = parse::<Vec<Item>>(br#"{"name":"a"}"#).unwrap_err();
        assert_eq!(err.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
}
