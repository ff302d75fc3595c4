//! The shared page components: one list table and one form, used by every area.

use actix_web::http::StatusCode;
use service::FieldError;
use service::pagination::{Page, PageRequest};

use super::bulk::{Bulk, BulkAction};
use crate::wording::plain;

/// One cell of a list table.
#[derive(Debug, Clone, Default)]
pub struct Cell {
    pub text: String,
    /// Makes the cell a link.
    pub href: Option<String>,
    /// A CSS class (`badge ok`, `mono`, …).
    pub class: &'static str,
    /// The full value, shown on hover, when `text` is a shortened form of it.
    pub title: Option<String>,
}

impl Cell {
    /// Plain text.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }

    /// A link.
    pub fn link(text: impl Into<String>, href: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            href: Some(href.into()),
            ..Self::default()
        }
    }

    /// Text in a fixed-width font (ids, hashes, codes).
    pub fn mono(text: impl Into<String>) -> Self {
        Self {
            class: "mono",
            ..Self::text(text)
        }
    }

    /// A long value (a hash, an id, JSON, a user agent) cut to its first `keep` characters so
    /// the table keeps its columns in view; the full value shows on hover.
    pub fn short(text: impl Into<String>, keep: usize) -> Self {
        let full: String = text.into();
        if full.chars().count() <= keep {
            return Self::mono(full);
        }
        let cut: String = full.chars().take(keep).collect();
        Self {
            text: format!("{cut}…"),
            class: "mono",
            title: Some(full),
            href: None,
        }
    }

    /// A time, kept on one line.
    pub fn time(text: impl Into<String>) -> Self {
        Self {
            class: "nowrap",
            ..Self::text(text)
        }
    }

    /// Makes the cell a link to `href`.
    pub fn linked(mut self, href: impl Into<String>) -> Self {
        self.href = Some(href.into());
        self
    }

    /// A one-button form (a toggle) that POSTs to `action` with the page's CSRF token; any
    /// parameter rides in `action`'s query string.
    pub fn post_button(text: impl Into<String>, action: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            href: Some(action.into()),
            class: Self::POST_BUTTON,
            title: None,
        }
    }

    /// The class marking a [`Cell::post_button`].
    pub const POST_BUTTON: &'static str = "post-button";

    /// A status badge.
    pub fn badge(text: impl Into<String>, class: &'static str) -> Self {
        Self {
            text: text.into(),
            href: None,
            class,
            title: None,
        }
    }
}

/// One table row: its cells in column order.
pub type Row = Vec<Cell>;

/// The one conversion of a summary shown in a list into its row of the [`Table`], so a
/// summary looks the same wherever it is listed. `C` is what the row needs beyond the item
/// itself (counts read beside the page, the viewer's permissions, the page to come back to);
/// `()` when nothing.
pub trait ListRow<C: ?Sized = ()> {
    /// The item's cells, in the order of the table's columns.
    fn row(&self, ctx: &C) -> Row;
}

/// The rows of `items`, each by its [`ListRow`] conversion with the same `ctx`.
pub fn rows<'a, T, C>(items: impl IntoIterator<Item = &'a T>, ctx: &C) -> Vec<Row>
where
    T: ListRow<C> + 'a,
    C: ?Sized,
{
    items.into_iter().map(|item| item.row(ctx)).collect()
}

/// A filter input above a table: a search box, a date, or (with `options`) a select; a box
/// on a fixed vocabulary offers its known values (`suggestions`, as a `<datalist>`).
#[derive(Debug, Clone, Default)]
pub struct FilterField {
    pub name: &'static str,
    pub label: &'static str,
    pub value: String,
    pub options: Vec<Choice>,
    /// The input's type: `search` or `date`.
    pub kind: &'static str,
    /// Known values offered while typing.
    pub suggestions: Vec<String>,
    /// Why the value was refused, shown under the field.
    pub error: Option<String>,
}

impl FilterField {
    /// A search box holding `value` (absent is empty).
    pub fn text(name: &'static str, label: &'static str, value: &Option<String>) -> Self {
        Self {
            name,
            label,
            value: value.clone().unwrap_or_default(),
            kind: "search",
            ..Self::default()
        }
    }

    /// A date box (the browser's date picker); it sends `YYYY-MM-DD`. A value it cannot
    /// show (an RFC 3339 time, a typo) falls back to a text box, so it is kept as typed.
    pub fn date(name: &'static str, label: &'static str, value: &Option<String>) -> Self {
        let value = value.clone().unwrap_or_default();
        let is_date =
            value.is_empty() || chrono::NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").is_ok();
        Self {
            kind: if is_date { "date" } else { "search" },
            ..Self::text(name, label, &Some(value))
        }
    }

    /// A select of `options` (value, label), the one equal to `value` selected.
    pub fn select(
        name: &'static str,
        label: &'static str,
        value: &Option<String>,
        options: &[(&str, &str)],
    ) -> Self {
        let value = value.clone().unwrap_or_default();
        Self {
            options: options
                .iter()
                .map(|(v, l)| Choice {
                    value: v.to_string(),
                    label: l.to_string(),
                    checked: *v == value,
                })
                .collect(),
            ..Self::text(name, label, &Some(value))
        }
    }

    /// Offers `values` while typing.
    pub fn suggest(mut self, values: Vec<String>) -> Self {
        self.suggestions = values;
        self
    }
}

/// The one list-page component: columns, rows, filters, sortable headers, keyset pagination
/// with the position, empty state.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
    pub filters: Vec<FilterField>,
    /// Where the filter form submits (the list page itself).
    pub action: String,
    /// The previous and next links and the page's position; `None` when the list has one
    /// page.
    pub pager: Option<Pager>,
    /// Headers that sort the list (see [`Table::sortable`]).
    pub sort_links: Vec<SortLink>,
    pub empty: &'static str,
    /// The button an empty list offers to add the first item: label and address (only for
    /// those who may add).
    pub empty_action: Option<(&'static str, String)>,
    /// What was wrong with the query that no filter field shows (the sort, a cursor, the
    /// page size).
    pub error: Option<String>,
    /// A checkbox per row and an action on the rows ticked (only for those who may act).
    pub bulk: Option<Bulk>,
}

/// A column header that sorts the list.
#[derive(Debug, Clone)]
pub struct SortLink {
    /// The column's position in [`Table::columns`].
    pub column: usize,
    /// The list sorted by this column: ascending, or descending when it is sorted ascending
    /// by it now; the filters kept, from the first page.
    pub href: String,
    /// `ascending`, `descending` or `none`, for `aria-sort`.
    pub state: &'static str,
}

/// The pager under a list: previous and next links, each keeping the list's filters, and
/// where the page lies in the list ("51–100").
#[derive(Debug, Clone, Default)]
pub struct Pager {
    /// The page before this one (`before` cursor); absent on the first page.
    pub prev: Option<String>,
    /// The page after this one (`cursor`); absent on the last page.
    pub next: Option<String>,
    /// The rows shown, counted from the list's start; absent when not known (a link
    /// from before positions were carried).
    pub position: Option<String>,
}

/// What the pager reads of a list page's query string beside the page's own query struct
/// (so the JSON lists sharing those structs keep their documented parameters): the `before`
/// cursor and the position of the page's first row.
#[derive(Debug, Default, serde::Deserialize)]
pub struct PagerQuery {
    /// Reads the page that ends before this cursor.
    pub before: Option<String>,
    /// The page's first row is the list's `from`-th (1-based). Carried by the pager's links
    /// rather than counted, so a page deep in a long list costs what the first does.
    pub from: Option<u64>,
}

impl Table {
    /// Sets the pager from the filters in use (`params`, the sort among them), the request
    /// the page answered and the page itself: previous and next links (keyset both ways)
    /// and the position of its rows.
    pub fn paginate<K, T>(
        mut self,
        base: &str,
        params: &[(&str, Option<String>)],
        at: &PagerQuery,
        request: &PageRequest<K>,
        page: &Page<T>,
    ) -> Self {
        // The first page is row 1 whatever the link said; elsewhere the link says.
        let first = match (&page.prev_cursor, at.from) {
            (None, _) => Some(1),
            (Some(_), Some(from)) if from > 1 => Some(from),
            (Some(_), _) => None,
        };
        let shown = page.items.len() as u64;
        let from = |n: u64| ("from", n.to_string());
        let pager = Pager {
            prev: page.prev_cursor.clone().map(|c| {
                let mut extra = vec![("before", c)];
                extra.extend(first.map(|f| from(f.saturating_sub(request.limit).max(1))));
                list_url(base, params, &extra)
            }),
            next: page.next_cursor.clone().map(|c| {
                let mut extra = vec![("cursor", c)];
                extra.extend(first.map(|f| from(f + shown)));
                list_url(base, params, &extra)
            }),
            position: first
                .filter(|_| shown > 0)
                .map(|f| format!("Rows {}–{}", thousands(f), thousands(f + shown - 1))),
        };
        self.pager = (pager.prev.is_some() || pager.next.is_some()).then_some(pager);
        self
    }

    /// Makes the headers of `sorts` (a column's position and its sort parameter) links that
    /// sort the list, given the sort in use (`current`, `-` first when descending) and the
    /// filters in `params` (without the sort). A header sorts ascending first, and reverses
    /// the order it already sorts by.
    pub fn sortable(
        mut self,
        base: &str,
        params: &[(&str, Option<String>)],
        sorts: &[(usize, &str)],
        current: &str,
    ) -> Self {
        self.sort_links = sorts
            .iter()
            .map(|&(column, ascending)| {
                let descending = format!("-{ascending}");
                let (state, next) = if current == ascending {
                    ("ascending", descending)
                } else if current == descending {
                    ("descending", ascending.to_string())
                } else {
                    ("none", ascending.to_string())
                };
                SortLink {
                    column,
                    href: list_url(base, params, &[("sort", next)]),
                    state,
                }
            })
            .collect();
        self
    }

    /// The sort link of the column at `column`, if it sorts (by reference, as templates pass
    /// their arguments).
    pub fn sort_link(&self, column: &usize) -> Option<&SortLink> {
        self.sort_links.iter().find(|l| l.column == *column)
    }

    /// Gives each row a checkbox (its id from `ids`, in row order) and the list a button per
    /// action of `actions`, each posting the ticked ids to `route`; `back` is the page to
    /// return to.
    pub fn bulk(
        mut self,
        route: impl Into<String>,
        actions: &[BulkAction],
        ids: Vec<String>,
        back: impl Into<String>,
    ) -> Self {
        self.bulk = Some(Bulk::new(route, actions, ids, back));
        self
    }

    /// Offers `label` (linking to `href`) when the list is empty: how to add the first item.
    pub fn add_first(mut self, label: &'static str, href: impl Into<String>) -> Self {
        self.empty_action = Some((label, href.into()));
        self
    }

    /// Shows why the query was refused: each field error under its filter, anything else
    /// above the table. The rows are left out, as they answer no valid query.
    pub fn refused(mut self, err: &service::Error) -> Self {
        let details: &[FieldError] = match err {
            service::Error::Validation(d) => d,
            _ => &[],
        };
        let mut unplaced = Vec::new();
        for d in details {
            let message = plain(&d.message);
            match self.filters.iter_mut().find(|f| f.name == d.field) {
                Some(f) => f.error = Some(message),
                None => unplaced.push(format!("The {} {message}.", d.field)),
            }
        }
        if details.is_empty() {
            unplaced.push(crate::error::classify(err).2);
        }
        self.error = (!unplaced.is_empty()).then(|| unplaced.join(" "));
        self.rows.clear();
        self.pager = None;
        self
    }

    /// `400` when the query was refused (see [`Table::refused`]), else `200`.
    pub fn status(&self) -> StatusCode {
        let refused = self.error.is_some() || self.filters.iter().any(|f| f.error.is_some());
        if refused {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        }
    }
}

/// Thousands separators (`12,345`).
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `base` with the non-empty `params` and then `extra` as its query string.
fn list_url(base: &str, params: &[(&str, Option<String>)], extra: &[(&str, String)]) -> String {
    let pairs: Vec<(&str, String)> = params
        .iter()
        .filter_map(|(k, v)| v.clone().filter(|v| !v.is_empty()).map(|v| (*k, v)))
        .chain(extra.iter().map(|(k, v)| (*k, v.clone())))
        .collect();
    format!(
        "{base}?{}",
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    )
}

/// An option of a select or a checkbox of a group.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

/// One form field with the user's input and its error.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    /// `text`, `password`, `email`, `hidden`, `textarea`, `select`, `checkbox`, `checkboxes`.
    pub kind: &'static str,
    pub value: String,
    pub choices: Vec<Choice>,
    pub help: Option<&'static str>,
    pub error: Option<String>,
    pub autocomplete: &'static str,
}

impl Field {
    /// A field of `kind`.
    pub fn new(name: &'static str, label: &'static str, kind: &'static str) -> Self {
        Self {
            name,
            label,
            kind,
            value: String::new(),
            choices: Vec::new(),
            help: None,
            error: None,
            autocomplete: "off",
        }
    }

    /// With a value (kept input, or the current value).
    pub fn value(mut self, value: impl Into<String>) -> Self {
        self.value = value.into();
        self
    }

    /// With choices (select, checkbox group).
    pub fn choices(mut self, choices: Vec<Choice>) -> Self {
        self.choices = choices;
        self
    }

    /// With a hint under the field.
    pub fn help(mut self, help: &'static str) -> Self {
        self.help = Some(help);
        self
    }

    /// With an `autocomplete` hint for browsers.
    pub fn autocomplete(mut self, hint: &'static str) -> Self {
        self.autocomplete = hint;
        self
    }
}

/// The one form component: fields with kept input and per-field errors.
#[derive(Debug, Clone)]
pub struct FormView {
    pub action: String,
    pub submit: &'static str,
    pub fields: Vec<Field>,
    /// A message about the whole form.
    pub error: Option<String>,
    /// The submit button is styled as danger (the form starts a destructive action).
    pub danger: bool,
}

impl FormView {
    /// A form posting to `action`.
    pub fn new(action: impl Into<String>, submit: &'static str, fields: Vec<Field>) -> Self {
        Self {
            action: action.into(),
            submit,
            fields,
            error: None,
            danger: false,
        }
    }

    /// A form of one danger-styled button that starts a destructive or disruptive action at
    /// `action`; the action's route asks first (see [`crate::pages::Confirmation`]).
    pub fn danger_button(action: impl Into<String>, label: &'static str) -> Self {
        Self {
            danger: true,
            ..Self::new(action, label, Vec::new())
        }
    }

    /// True for the one field the browser focuses when the page loads (`autofocus`): the
    /// first field in error after a refused submission, else the form's first field. Only the
    /// first `autofocus` of a page counts, so on a page of several forms the first one wins.
    pub fn focuses(&self, name: &str) -> bool {
        let visible = |f: &&Field| f.kind != "hidden" && f.kind != "checkboxes";
        let focused = self
            .fields
            .iter()
            .filter(visible)
            .find(|f| f.error.is_some())
            .or_else(|| self.fields.iter().find(visible));
        focused.is_some_and(|f| f.name == name)
    }

    /// Attaches a service error: field errors to their fields, anything else to the form.
    pub fn with_error(mut self, err: &service::Error) -> Self {
        let details: &[FieldError] = match err {
            service::Error::Validation(d) | service::Error::Conflict { details: d, .. } => d,
            _ => &[],
        };
        let mut unplaced = Vec::new();
        for d in details {
            let message = plain(&d.message);
            match self.fields.iter_mut().find(|f| f.name == d.field) {
                Some(f) => f.error = Some(message),
                None => unplaced.push(format!("{} {message}", d.field)),
            }
        }
        if details.is_empty() {
            self.error = Some(crate::error::classify(err).2);
        } else if !unplaced.is_empty() {
            self.error = Some(unplaced.join("; "));
        }
        self
    }
}
