//! The question asked before a destructive or disruptive action: what it does, what else it
//! reaches, a danger-styled button that does it and a way back.
//!
//! The action's own route shows it: a submission without `confirm=yes` (see
//! [`crate::routes::forms::ConfirmForm`]) renders this page and changes nothing; the page's
//! button posts the same route again with `confirm=yes` and the hidden fields it was given,
//! so a bulk action (several ids) asks the same way as a single one.

use askama::Template;
use service::affected::Affected;

use super::Layout;

/// Something else an action reaches, named on the question.
#[derive(Debug, Clone)]
pub struct Consequence {
    /// The sentence ("The role auditor is held by 3 users:").
    pub text: String,
    /// The first few of what is reached, by name.
    pub names: Vec<String>,
    /// How many more there are beyond `names`.
    pub more: u64,
}

/// A destructive or disruptive action asking first.
#[derive(Debug, Clone)]
pub struct Confirmation {
    /// The question, as the page's title ("Delete the role auditor?").
    pub title: String,
    /// Where the confirmed submission posts (the action's own route).
    pub action: String,
    /// What the action does, in a sentence.
    pub what: String,
    /// What else it reaches.
    pub affected: Vec<Consequence>,
    /// The danger button's label ("Delete role").
    pub danger_label: String,
    /// Where "Cancel" leads (the page the action was started from).
    pub cancel: String,
    /// Fields posted again with the confirmation (the ids of a bulk action, a reason, …).
    pub hidden: Vec<(String, String)>,
}

impl Confirmation {
    /// A question titled `title` whose button `danger_label` posts to `action`, and whose
    /// "Cancel" leads back to `cancel`.
    pub fn new(
        title: impl Into<String>,
        action: impl Into<String>,
        danger_label: impl Into<String>,
        cancel: impl Into<String>,
    ) -> Self {
        Self {
            title: title.into(),
            action: action.into(),
            what: String::new(),
            affected: Vec::new(),
            danger_label: danger_label.into(),
            cancel: cancel.into(),
            hidden: Vec::new(),
        }
    }

    /// With the sentence saying what the action does.
    pub fn what(mut self, what: impl Into<String>) -> Self {
        self.what = what.into();
        self
    }

    /// With a consequence that names nothing ("Its 3 active tokens stop working at once.").
    pub fn consequence(mut self, text: impl Into<String>) -> Self {
        self.affected.push(Consequence {
            text: text.into(),
            names: Vec::new(),
            more: 0,
        });
        self
    }

    /// With a consequence naming what it reaches, when it reaches anything: `text` gets the
    /// total and introduces the names ("held by 3 users:").
    pub fn reaches(mut self, reached: &Affected, text: impl FnOnce(u64) -> String) -> Self {
        if !reached.is_empty() {
            self.affected.push(Consequence {
                text: text(reached.total),
                names: reached.names.clone(),
                more: reached.more(),
            });
        }
        self
    }

    /// With a field posted again on confirmation; repeat for a list (`ids`).
    pub fn hidden(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.hidden.push((name.into(), value.into()));
        self
    }
}

/// The page asking the question.
#[derive(Template)]
#[template(path = "confirm.html")]
pub struct ConfirmationPage {
    pub layout: Layout,
    pub confirm: Confirmation,
}

/// "1 user" or "3 users": a count with its noun, for the sentences of a question.
pub fn count_of(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

impl super::PageContext {
    /// Asks `confirm`'s question (`200`); nothing has changed yet.
    pub fn confirm(
        &self,
        confirm: Confirmation,
    ) -> Result<actix_web::HttpResponse, crate::error::PageError> {
        self.render(&ConfirmationPage {
            layout: self.layout(confirm.title.clone()),
            confirm,
        })
    }
}
