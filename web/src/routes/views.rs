//! Page views shared by the admin areas: the generic list and form pages, a secret shown
//! once.

use askama::Template;

use crate::pages::{FormView, Layout, Table};

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
    /// A warning shown above the secret (a name or address already in use).
    pub warning: Option<String>,
}

/// The warning after creating something whose name (or address) others already carry:
/// allowed, since two may rightly share one, but worth a look before they are confused.
/// `what` is the kind of thing ("client"), `shared` what they share ("name").
pub fn duplicate_warning(what: &str, shared: &str, others: &[String]) -> Option<String> {
    match others {
        [] => None,
        [one] => Some(format!("The {what} {one} already has this {shared}.")),
        many => Some(format!(
            "{} other {what}s already have this {shared}: {}.",
            many.len(),
            many.join(", ")
        )),
    }
}
