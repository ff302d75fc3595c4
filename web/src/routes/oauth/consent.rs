//! The consent view shared by the authorization endpoint and the `/device` page.

use askama::Template;
use service::oauth::Scope;

use crate::pages::Layout;

/// "Allow <client> to …?" with an approve / deny form.
#[derive(Template)]
#[template(path = "oauth_consent.html")]
pub struct ConsentPage {
    pub layout: Layout,
    pub client_name: String,
    /// Each effective scope with its meaning.
    pub scopes: Vec<(&'static str, &'static str)>,
    /// Where the decision is posted.
    pub action: &'static str,
    /// The request's parameters, posted back with the decision.
    pub hidden: Vec<(String, String)>,
    /// The device's code, on the device page.
    pub user_code: Option<String>,
}

/// The scope's names and meanings, for the page.
pub fn described(scope: Scope) -> Vec<(&'static str, &'static str)> {
    scope.0.iter().map(|p| (p.as_str(), p.meaning())).collect()
}
