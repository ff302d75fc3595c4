//! Page views shared by the admin areas: the generic list and form pages, a secret shown
//! once.

use askama::Template;

use crate::pages::{Choice, Field, FormView, Layout, Table};

/// The generic list page.
#[derive(Template)]
#[template(path = "list.html")]
pub struct ListPage<'a> {
    pub layout: Layout,
    pub table: Table,
    /// Buttons above the table: label and address.
    pub actions: Vec<(&'a str, String)>,
    pub note: Option<String>,
}

/// The generic form page.
#[derive(Template)]
#[template(path = "form_page.html")]
pub struct FormPage {
    pub layout: Layout,
    pub form: FormView,
    pub intro: Option<String>,
}

/// A password shown once: a generated one for a new user or after a reset.
#[derive(Template)]
#[template(path = "secret.html")]
pub struct SecretPage {
    pub layout: Layout,
    pub intro: String,
    /// `None` once it was shown: the page says it can no longer be.
    pub secret: Option<String>,
    /// Where "Done" leads.
    pub back: String,
}

/// A delete form: one box (`confirm=yes`) to tick, saying what goes.
pub fn delete_form(action: String, submit: &'static str, what: String) -> FormView {
    FormView::new(
        action,
        submit,
        vec![
            Field::new("confirm", "Confirm", "checkboxes").choices(vec![Choice {
                value: "yes".into(),
                label: what,
                checked: false,
            }]),
        ],
    )
}
