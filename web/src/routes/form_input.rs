//! What the console's pages share besides their forms: the UTF-8 check of URL-encoded input,
//! the signed-in user, path ids, merged field errors, and how times read on a page.

use actix_web::http::StatusCode;
use chrono::{DateTime, Utc};

use crate::auth::Caller;
use crate::error::PageError;

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

/// A `datetime-local` input's value (`2026-11-22T19:03`, seconds optional) read as UTC, the
/// zone every page states for its times; `None` for anything else.
pub fn local_utc(raw: &str) -> Option<DateTime<Utc>> {
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(raw.trim(), f).ok())
        .map(|t| t.and_utc())
}

/// A time as a `datetime-local` input shows it (UTC, seconds only when there are any).
pub fn as_local(t: DateTime<Utc>) -> String {
    use chrono::Timelike;
    if t.second() == 0 {
        t.format("%Y-%m-%dT%H:%M").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%S").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::{as_local, local_utc, urlencoded_is_utf8};

    #[test]
    fn a_local_time_is_read_as_utc_and_shown_back_the_same() {
        let t = local_utc("2026-11-22T19:03").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-22T19:03:00+00:00");
        assert_eq!(as_local(t), "2026-11-22T19:03");
        let t = local_utc("2026-11-22T19:03:05").unwrap();
        assert_eq!(as_local(t), "2026-11-22T19:03:05");
        assert!(local_utc("2026-11-22T19:03:00Z").is_none());
        assert!(local_utc("yesterday").is_none());
    }

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
