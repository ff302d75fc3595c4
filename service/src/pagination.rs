//! Keyset pagination shared by every list: a page size, an opaque cursor, and the page shape.
//!
//! A cursor is the URL-safe base64 of the JSON sort key of the last item returned, so page
//! 2,000 costs what page 1 costs. Callers fetch `limit + 1` rows to learn whether more follow.
//!
//! Pages read both ways: a request carries either the key it starts after (`cursor`, reading
//! forward) or the key it ends before (`before`, reading backward). A backward read runs the
//! same index-backed query with its ordering and comparison reversed, and
//! [`Page::from_request`] flips the rows back, so a page looks the same whichever way it was
//! reached.

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
    /// How many items a page holds.
    pub limit: u64,
    /// The page starts after this key (reading forward).
    pub after: Option<K>,
    /// The page ends before this key (reading backward); never set together with `after`.
    pub before: Option<K>,
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
        Ok(Self {
            limit,
            after,
            before: None,
        })
    }

    /// Parses `limit`, `cursor` and `before` as they arrive in a query string; a page starts
    /// after one key or ends before one, so both at once is a bad request.
    pub fn parse_both(
        limit: Option<u64>,
        cursor: Option<&str>,
        before: Option<&str>,
    ) -> Result<Self> {
        let mut page = Self::parse(limit, cursor)?;
        page.before = before
            .filter(|c| !c.is_empty())
            .map(decode_cursor)
            .transpose()?;
        if page.after.is_some() && page.before.is_some() {
            return Err(Error::invalid(
                "before",
                "cannot be given together with cursor",
            ));
        }
        Ok(page)
    }
}

impl<K> PageRequest<K> {
    /// Whether the query must read backward: ordering and comparison reversed.
    pub fn backward(&self) -> bool {
        self.before.is_some()
    }

    /// The key the query reads past, in whichever direction it reads.
    pub fn boundary(&self) -> Option<&K> {
        self.before.as_ref().or(self.after.as_ref())
    }

    /// Whether the query reads rows ordered descending: `descending` is the list's own
    /// order, which a backward read reverses.
    pub fn reads_descending(&self, descending: bool) -> bool {
        descending != self.backward()
    }
}

/// One page of results in the shape every list endpoint answers with.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    /// The page's items, in the list's order.
    pub items: Vec<T>,
    /// Present exactly when another item follows.
    pub next_cursor: Option<String>,
    /// The `before` cursor of the previous page: present when the page is not the first.
    /// Only the console's pager reads it; the JSON lists keep their documented shape.
    #[serde(skip)]
    pub prev_cursor: Option<String>,
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
            prev_cursor: None,
        }
    }

    /// Builds a page from the `limit + 1` rows a query read for `request`, in either
    /// direction: a backward read's rows come in reverse order and are flipped back. The
    /// cursors key on the page's first and last items; where the page is empty (its rows
    /// were deleted since), on the key it was asked from.
    pub fn from_request<K: Serialize>(
        mut rows: Vec<T>,
        request: &PageRequest<K>,
        key: impl Fn(&T) -> K,
    ) -> Self {
        let more = rows.len() as u64 > request.limit;
        rows.truncate(request.limit as usize);
        let backward = request.backward();
        if backward {
            rows.reverse();
        }
        let asked = request.boundary().map(encode_cursor);
        let first = || rows.first().map(|r| encode_cursor(&key(r)));
        let last = || rows.last().map(|r| encode_cursor(&key(r)));
        // Reading backward, the rows beyond the limit lie before the page and the page it
        // ended before follows it; reading forward, the other way round.
        let (prev_cursor, next_cursor) = match (backward, more) {
            (true, true) => (first(), last().or(asked)),
            (true, false) => (None, last().or(asked)),
            (false, true) => (request.after.as_ref().and(first()), last()),
            (false, false) => (request.after.as_ref().and(first().or(asked)), None),
        };
        Self {
            items: rows,
            next_cursor,
            prev_cursor,
        }
    }

    /// A page with nothing on it and no neighbours (a list whose filters were refused).
    pub fn empty() -> Self {
        Self {
            items: Vec::new(),
            next_cursor: None,
            prev_cursor: None,
        }
    }

    /// Replaces the items with `items` (the same ones, enriched), keeping the cursors.
    pub fn map_all<U>(self, items: Vec<U>) -> Page<U> {
        Page {
            items,
            next_cursor: self.next_cursor,
            prev_cursor: self.prev_cursor,
        }
    }

    /// Converts the items, keeping the cursors.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
            prev_cursor: self.prev_cursor,
        }
    }
}

/// The sortable columns of one list: a closed set, each walking an index, parsed at the edge
/// from the `sort` parameter.
pub trait SortField: Copy + Eq + 'static {
    /// Every sortable column, in the order an error message lists them.
    const ALL: &'static [Self];

    /// The column's name in the `sort` parameter.
    fn name(self) -> &'static str;
}

/// A list's order: one of its sortable columns, ascending, or descending when the `sort`
/// parameter names it with a leading `-` (`-name`). The list's id breaks ties, in the same
/// direction, so every order is total and a cursor names one place in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort<F> {
    pub field: F,
    pub descending: bool,
}

impl<F: SortField> Sort<F> {
    /// `field`, ascending.
    pub fn asc(field: F) -> Self {
        Self {
            field,
            descending: false,
        }
    }

    /// `field`, descending.
    pub fn desc(field: F) -> Self {
        Self {
            field,
            descending: true,
        }
    }

    /// Parses the `sort` parameter; absent or empty is `default`, an unknown column is a bad
    /// request naming the known ones.
    pub fn parse(raw: Option<&str>, default: Self) -> Result<Self> {
        let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
            return Ok(default);
        };
        let (descending, name) = match raw.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, raw),
        };
        F::ALL
            .iter()
            .find(|f| f.name() == name)
            .map(|&field| Self { field, descending })
            .ok_or_else(|| {
                let known: Vec<&str> = F::ALL.iter().map(|f| f.name()).collect();
                Error::invalid(
                    "sort",
                    format!(
                        "must be one of {} (a leading - reverses it)",
                        known.join(", ")
                    ),
                )
            })
    }

    /// The `sort` parameter naming this order.
    pub fn param(self) -> String {
        if self.descending {
            format!("-{}", self.field.name())
        } else {
            self.field.name().to_string()
        }
    }

    /// The order the query for `page` reads its rows in: the list's own, reversed when the
    /// page is read backward.
    pub fn order<K>(self, page: &PageRequest<K>) -> sea_orm::Order {
        if page.reads_descending(self.descending) {
            sea_orm::Order::Desc
        } else {
            sea_orm::Order::Asc
        }
    }
}

/// The rows past the key `(value, id)` of a list ordered by `(column, id_column)`, read
/// `descending` or not: `column` beyond `value`, or equal to it with `id_column` beyond
/// `id`. This is the keyset condition of every sort with an id tie-break; a composite index
/// on `(column, id)` serves it and the ordering together.
pub fn past_key<C: sea_orm::ColumnTrait>(
    column: C,
    value: impl Into<sea_orm::Value> + Clone,
    id_column: C,
    id: impl Into<sea_orm::Value>,
    descending: bool,
) -> sea_orm::Condition {
    let (beyond, id_beyond) = if descending {
        (column.lt(value.clone()), id_column.lt(id))
    } else {
        (column.gt(value.clone()), id_column.gt(id))
    };
    sea_orm::Condition::any().add(beyond).add(
        sea_orm::Condition::all()
            .add(column.eq(value))
            .add(id_beyond),
    )
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

    fn request(after: Option<i32>, before: Option<i32>) -> PageRequest<i32> {
        PageRequest {
            limit: 3,
            after,
            before,
        }
    }

    fn cursor(c: &Option<String>) -> Option<i32> {
        c.as_deref().map(|c| decode_cursor(c).unwrap())
    }

    #[test]
    fn the_first_page_has_no_previous_cursor() {
        let p = Page::from_request(vec![1, 2, 3, 4], &request(None, None), |x| *x);
        assert_eq!(p.items, vec![1, 2, 3]);
        assert_eq!(cursor(&p.prev_cursor), None);
        assert_eq!(cursor(&p.next_cursor), Some(3));
    }

    #[test]
    fn a_page_read_forward_points_back_at_its_first_item() {
        let p = Page::from_request(vec![4, 5], &request(Some(3), None), |x| *x);
        assert_eq!(p.items, vec![4, 5]);
        assert_eq!(cursor(&p.prev_cursor), Some(4));
        assert_eq!(cursor(&p.next_cursor), None);
    }

    #[test]
    fn a_page_read_backward_is_flipped_back_into_list_order() {
        // The query read 3, 2, 1, 0 (descending below 4): 0 proves an earlier page exists.
        let p = Page::from_request(vec![3, 2, 1, 0], &request(None, Some(4)), |x| *x);
        assert_eq!(p.items, vec![1, 2, 3]);
        assert_eq!(cursor(&p.prev_cursor), Some(1));
        assert_eq!(cursor(&p.next_cursor), Some(3));
    }

    #[test]
    fn reading_backward_to_the_start_reaches_the_first_page() {
        let p = Page::from_request(vec![2, 1], &request(None, Some(3)), |x| *x);
        assert_eq!(p.items, vec![1, 2]);
        assert_eq!(cursor(&p.prev_cursor), None);
        assert_eq!(cursor(&p.next_cursor), Some(2));
    }

    #[test]
    fn an_emptied_page_still_links_to_its_neighbours() {
        let p = Page::from_request(Vec::new(), &request(Some(7), None), |x: &i32| *x);
        assert_eq!(cursor(&p.prev_cursor), Some(7));
        assert_eq!(cursor(&p.next_cursor), None);
        let p = Page::from_request(Vec::new(), &request(None, Some(7)), |x: &i32| *x);
        assert_eq!(cursor(&p.prev_cursor), None);
        assert_eq!(cursor(&p.next_cursor), Some(7));
    }

    #[test]
    fn a_backward_read_reverses_the_order_it_reads_in() {
        assert!(request(None, Some(1)).reads_descending(false));
        assert!(!request(None, Some(1)).reads_descending(true));
        assert!(request(Some(1), None).reads_descending(true));
        assert_eq!(request(None, Some(1)).boundary(), Some(&1));
    }

    #[test]
    fn cursor_and_before_together_are_refused() {
        let c = encode_cursor(&1);
        assert!(PageRequest::<i32>::parse_both(None, Some(&c), Some(&c)).is_err());
        let p = PageRequest::<i32>::parse_both(None, None, Some(&c)).unwrap();
        assert_eq!(p.before, Some(1));
        assert!(p.after.is_none());
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Col {
        Name,
        Time,
    }

    impl SortField for Col {
        const ALL: &'static [Self] = &[Self::Name, Self::Time];
        fn name(self) -> &'static str {
            match self {
                Self::Name => "name",
                Self::Time => "time",
            }
        }
    }

    #[test]
    fn a_sort_is_a_known_column_with_an_optional_minus() {
        let default = Sort::desc(Col::Time);
        assert_eq!(Sort::parse(None, default).unwrap(), default);
        assert_eq!(Sort::parse(Some(""), default).unwrap(), default);
        assert_eq!(
            Sort::parse(Some("name"), default).unwrap(),
            Sort::asc(Col::Name)
        );
        assert_eq!(
            Sort::parse(Some("-name"), default).unwrap(),
            Sort::desc(Col::Name)
        );
        assert_eq!(Sort::desc(Col::Name).param(), "-name");
        assert!(Sort::parse(Some("password"), default).is_err());
        assert!(Sort::parse(Some("--name"), default).is_err());
    }

    #[test]
    fn a_backward_read_reverses_the_sort_order() {
        let sort = Sort::asc(Col::Name);
        assert_eq!(sort.order(&request(None, None)), sea_orm::Order::Asc);
        assert_eq!(sort.order(&request(None, Some(2))), sea_orm::Order::Desc);
        assert_eq!(
            Sort::desc(Col::Name).order(&request(None, Some(2))),
            sea_orm::Order::Asc
        );
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
