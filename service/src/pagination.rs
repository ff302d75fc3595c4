//! Keyset pagination shared by every list: a page size, an opaque cursor, and the page shape.
//!
//! A cursor is the URL-safe base64 of the JSON sort key of the last item returned, so page
//! 2,000 costs what page 1 costs. Callers fetch `limit + 1` rows to learn whether more follow.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Serialize, de::DeserializeOwned};

use crate::{Error, Result};

/// Default page size when the caller gives none.
pub const DEFAULT_LIMIT: u64 = 50;
/// Largest page size a caller may ask for.
pub const MAX_LIMIT: u64 = 500;

/// A validated page request: `limit` within 1–500 and the decoded cursor, if any.
#[derive(Debug, Clone)]
pub struct PageRequest<K> {
    pub limit: u64,
    pub after: Option<K>,
}

impl<K: DeserializeOwned> PageRequest<K> {
    /// Parses `limit` and `cursor` as they arrive in a query string.
    pub fn parse(limit: Option<u64>, cursor: Option<&str>) -> Result<Self> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Error::invalid(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let after = cursor
            .filter(|c| !c.is_empty())
            .map(decode_cursor)
            .transpose()?;
        Ok(Self { limit, after })
    }
}

/// One page of results in the shape every list endpoint answers with.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Present exactly when another item follows.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from `limit + 1` fetched rows, keying the cursor on the last item kept.
    pub fn from_rows<K: Serialize>(mut rows: Vec<T>, limit: u64, key: impl Fn(&T) -> K) -> Self {
        let more = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        let next_cursor = if more {
            rows.last().map(|last| encode_cursor(&key(last)))
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
        }
    }

    /// Converts the items, keeping the cursor.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

/// Encodes a sort key as an opaque cursor.
pub fn encode_cursor<K: Serialize>(key: &K) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).unwrap_or_default())
}

/// Decodes a cursor made by [`encode_cursor`]; anything else is a bad request.
pub fn decode_cursor<K: DeserializeOwned>(cursor: &str) -> Result<K> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| Error::invalid("cursor", "is not a valid cursor"))?;
    serde_json::from_slice(&bytes).map_err(|_| Error::invalid("cursor", "is not a valid cursor"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips() {
        let c = encode_cursor(&("2026-11-22T19:03:00Z", 42));
        let k: (String, i64) = decode_cursor(&c).unwrap();
        assert_eq!(k, ("2026-11-22T19:03:00Z".to_string(), 42));
    }

    #[test]
    fn limits_outside_one_to_five_hundred_are_refused() {
        assert!(PageRequest::<i64>::parse(Some(0), None).is_err());
        assert!(PageRequest::<i64>::parse(Some(501), None).is_err());
        assert_eq!(PageRequest::<i64>::parse(None, None).unwrap().limit, 50);
    }

    #[test]
    fn a_tampered_cursor_is_refused() {
        assert!(PageRequest::<i64>::parse(None, Some("not*base64")).is_err());
    }

    #[test]
    fn the_last_page_has_no_cursor() {
        let p = Page::from_rows(vec![1, 2, 3], 3, |x| *x);
        assert!(p.next_cursor.is_none());
        let p = Page::from_rows(vec![1, 2, 3, 4], 3, |x| *x);
        assert_eq!(p.items, vec![1, 2, 3]);
        assert_eq!(
            decode_cursor::<i32>(p.next_cursor.as_deref().unwrap()).unwrap(),
            3
        );
    }
}
