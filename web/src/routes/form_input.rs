//! What the admin and account pages share: multi-valued form input, the audit address,
//! the status of a refused form, and how times read on a page.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use chrono::{DateTime, Utc};

use crate::auth::{Caller, client_ip};
use crate::error::PageError;
use crate::state::AppState;

/// A submitted form as name/value pairs, so that a checkbox group (`roles`, `permissions`)
/// keeps every ticked value.
#[derive(Debug, Default)]
pub struct FormInput(Vec<(String, String)>);

impl From<web::Form<Vec<(String, String)>>> for FormInput {
    fn from(form: web::Form<Vec<(String, String)>>) -> Self {
        Self(form.into_inner())
    }
}

impl FormInput {
    /// Input made of these pairs (a record's current values, shown in its form).
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        Self(pairs)
    }

    /// The first value of `name`, or `""`.
    pub fn text(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }

    /// Every value of `name`, in the order sent, without repeats.
    pub fn all(&self, name: &str) -> Vec<String> {
        let mut values: Vec<String> = Vec::new();
        for (_, v) in self.0.iter().filter(|(k, _)| k == name) {
            if !values.contains(v) {
                values.push(v.clone());
            }
        }
        values
    }

    /// True when the checkbox `name` was ticked (it sends `true` or `yes`).
    pub fn checked(&self, name: &str) -> bool {
        matches!(self.text(name), "true" | "yes" | "on")
    }
}

/// True when every name and value of a query string or form body (URL-encoded) decodes to
/// valid UTF-8.
///
/// The decoders behind `web::Query`, `web::Form` and `serde_urlencoded` replace invalid
/// bytes with U+FFFD without a word, so the stored text would differ from what was sent;
/// the spec asks for `400` instead. One pass over the whole input suffices: the separators
/// (`&`, `=`, `+`) are ASCII, which never falls inside a multi-byte character, so the whole
/// decodes to valid UTF-8 exactly when every name and value does.
pub fn urlencoded_is_utf8(raw: &[u8]) -> bool {
    if !raw.contains(&b'%') {
        return std::str::from_utf8(raw).is_ok();
    }
    let hex = |i: usize| raw.get(i).and_then(|b| char::from(*b).to_digit(16));
    let mut decoded = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        // A `%` not followed by two hex digits stays a literal `%`, as the decoders keep it.
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(high), Some(low)) => {
                decoded.extend(u8::try_from(high * 16 + low).ok());
                i += 3;
            }
            _ => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    std::str::from_utf8(&decoded).is_ok()
}

/// The address an audit row records for this request.
pub fn audit_ip(req: &HttpRequest, state: &AppState) -> Option<String> {
    Some(client_ip(req, &state.settings.trusted_proxies).to_string())
}

/// The signed-in user acting on a page (pages are only reached with a session).
pub fn acting_user(caller: &Caller) -> Result<i64, PageError> {
    caller.user_id().ok_or_else(|| {
        PageError::new(
            StatusCode::FORBIDDEN,
            "This page is for signed-in users only.",
        )
    })
}

/// The numeric id in a page's path; anything else names no record, so the page is a `404`.
pub fn path_id(raw: &str, what: &str) -> Result<i64, PageError> {
    raw.parse()
        .map_err(|_| PageError::new(StatusCode::NOT_FOUND, format!("{what} not found")))
}

/// The status of a form shown again after `err`: `422` for input to correct, the error's
/// own status (`403`, `409`, …) for a refused action.
pub fn form_status(err: &service::Error) -> StatusCode {
    match err {
        service::Error::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
        service::Error::Conflict { details, .. } if !details.is_empty() => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        other => crate::error::classify(other).0,
    }
}

/// True for failures a form shows itself; the rest (not found, internal) become error pages.
pub fn shown_on_form(err: &service::Error) -> bool {
    matches!(
        err,
        service::Error::Validation(_)
            | service::Error::Conflict { .. }
            | service::Error::Forbidden(_)
            | service::Error::NotHeld { .. }
    )
}

/// Merges the field errors of several checks into one validation error.
pub fn merge_errors(results: Vec<Option<service::Error>>) -> Option<service::Error> {
    let mut details = Vec::new();
    for err in results.into_iter().flatten() {
        match err {
            service::Error::Validation(d) => details.extend(d),
            other => return Some(other),
        }
    }
    (!details.is_empty()).then_some(service::Error::Validation(details))
}

/// A time as pages show it.
pub fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// An optional time, or `none` when there is none.
pub fn when_or(t: Option<DateTime<Utc>>, none: &str) -> String {
    t.map(when).unwrap_or_else(|| none.to_string())
}

#[cfg(test)]
mod tests {
    use super::urlencoded_is_utf8;

    #[test]
    fn valid_utf8_in_any_spelling_passes() {
        for raw in [
            "",
            "q=plain&page=2",
            "name=caf%C3%A9",
            "name=caf\u{e9}",
            "a=%E2%82%AC+%F0%9F%98%80",
            "odd=100%&also=%zz&end=%",
            "k%3Dv=%26",
        ] {
            assert!(urlencoded_is_utf8(raw.as_bytes()), "{raw}");
        }
    }

    #[test]
    fn invalid_utf8_anywhere_is_caught() {
        for raw in [
            &b"q=%FF"[..],
            b"name=%C3%28",
            b"a=1&name=%C3",
            b"%C3=1",
            b"a=%C3&b=%A9",
            b"a=%ED%A0%80",
            b"a=%C0%AF",
            b"raw=\xff",
        ] {
            assert!(!urlencoded_is_utf8(raw), "{}", String::from_utf8_lossy(raw));
        }
    }
}
