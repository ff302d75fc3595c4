//! The shared page components: one list table and one form, used by every area.

use service::FieldError;

/// One cell of a list table.
#[derive(Debug, Clone, Default)]
pub struct Cell {
    pub text: String,
    /// Makes the cell a link.
    pub href: Option<String>,
    /// A CSS class (`badge ok`, `mono`, …).
    pub class: &'static str,
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
            class: "",
        }
    }

    /// A one-button form (a toggle) that POSTs to `action` with the page's CSRF token; any
    /// parameter rides in `action`'s query string.
    pub fn post_button(text: impl Into<String>, action: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            href: Some(action.into()),
            class: Self::POST_BUTTON,
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

/// A filter input above a table; with `options` it is a select.
#[derive(Debug, Clone)]
pub struct FilterField {
    pub name: &'static str,
    pub label: &'static str,
    pub value: String,
    pub options: Vec<Choice>,
}

/// The one list-page component: columns, rows, filters, sortable headers, keyset pagination,
/// empty state.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
    pub filters: Vec<FilterField>,
    /// Where the filter form submits (the list page itself).
    pub action: String,
    /// The pager: links to the previous and next pages, built from the current filters and
    /// the page's cursors; `None` when the list has one page. (The field keeps the name it
    /// had when it held only the next link, as the OAuth pages still build their tables field
    /// by field.)
    pub next_url: Option<Pager>,
    /// Headers that sort the list (see [`Table::sortable`]).
    pub sort_links: Vec<SortLink>,
    pub empty: &'static str,
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

/// The pager under a list: previous and next links, each keeping the list's filters.
#[derive(Debug, Clone, Default)]
pub struct Pager {
    /// The page before this one (`before` cursor); absent on the first page.
    pub prev: Option<String>,
    /// The page after this one (`cursor`); absent on the last page.
    pub next: Option<String>,
}

/// The `before` cursor of a list page's query string, read beside the page's own query
/// struct so the JSON lists sharing those structs keep their documented parameters.
#[derive(Debug, Default, serde::Deserialize)]
pub struct BeforeQuery {
    /// Reads the page that ends before this cursor.
    pub before: Option<String>,
}

impl Table {
    /// Sets the next-page link from the filters in use and the page's cursor, for lists
    /// that page forward only.
    pub fn paginate(
        self,
        base: &str,
        params: &[(&str, Option<String>)],
        next_cursor: Option<String>,
    ) -> Self {
        self.paginate_both(base, params, None, next_cursor)
    }

    /// Sets the previous- and next-page links from the filters in use and the page's
    /// cursors ([`service::pagination::Page`]'s `prev_cursor` and `next_cursor`).
    pub fn paginate_both(
        mut self,
        base: &str,
        params: &[(&str, Option<String>)],
        prev_cursor: Option<String>,
        next_cursor: Option<String>,
    ) -> Self {
        let pager = Pager {
            prev: prev_cursor.map(|c| list_url(base, params, &[("before", c)])),
            next: next_cursor.map(|c| list_url(base, params, &[("cursor", c)])),
        };
        self.next_url = (pager.prev.is_some() || pager.next.is_some()).then_some(pager);
        self
    }

    /// Makes the headers of `sorts` (a column's position and its ascending sort value; the
    /// descending one is the same with a leading `-`) links that sort the list, given the sort
    /// in use (`current`) and the filters in `params` (without the sort).
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
            match self.fields.iter_mut().find(|f| f.name == d.field) {
                Some(f) => f.error = Some(d.message.clone()),
                None => unplaced.push(format!("{} {}", d.field, d.message)),
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
