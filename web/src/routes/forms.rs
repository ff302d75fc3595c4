//! Typed page forms: each form's body parsed at the edge into a struct of its own, and a
//! refused submission shown again with the input kept and each error under its field.
//!
//! A form struct holds its fields as sent (text, and a `Vec` for a checkbox group); its
//! `TryFrom` turns them into the service's input. Types are checked there rather than by
//! serde, so that a non-number in a number field is an error under that field, with every
//! other value kept, instead of a `400` that throws away what was typed.

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use futures_util::future::LocalBoxFuture;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use service::FieldError;

use crate::error::PageError;
use crate::pages::{FormView, PageContext};
use crate::routes::views::FormPage;

/// Declares a page form struct (serde, every field defaulted so a missing one is an error
/// under it rather than a `400`) together with an associated constant per field holding the
/// name its input sends: `EntityForm::entity_id` is `"entity_id"`. Pages build their
/// [`crate::pages::Field`]s and handlers their errors from those constants, so the template,
/// the handler and the struct cannot disagree by spelling.
macro_rules! page_form {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$fmeta:meta])* $fvis:vis $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Default, serde::Deserialize)]
        #[serde(default)]
        $vis struct $name {
            $( $(#[$fmeta])* $fvis $field: $ty ),*
        }

        #[allow(non_upper_case_globals, dead_code)]
        impl $name {
            $(
                #[doc = concat!("The name the `", stringify!($field), "` input sends.")]
                pub const $field: &'static str = stringify!($field);
            )*
        }
    };
}
pub(crate) use page_form;

/// A page form's body, parsed into the form struct `T`.
pub struct PageForm<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for PageForm<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // actix's own form extractor reads the body, so the size limit, the content-type
        // check and the `400` for a body that is not URL-encoded stay those `FormConfig`
        // sets for every form. `serde_html_form` then maps the pairs onto `T`, keeping
        // every value of a repeated key (a checkbox group).
        let pairs = web::Form::<Vec<(String, String)>>::from_request(req, payload);
        Box::pin(async move {
            let pairs = pairs.await?.into_inner();
            let encoded = serde_html_form::to_string(&pairs).map_err(malformed)?;
            serde_html_form::from_str(&encoded)
                .map(Self)
                .map_err(malformed)
        })
    }
}

/// A body that does not fit its form struct is a `400`, as any unparsable form is.
fn malformed(e: impl std::fmt::Display) -> actix_web::Error {
    PageError::new(StatusCode::BAD_REQUEST, e.to_string()).into()
}

/// Field errors gathered while a form struct is converted, keyed by the struct's fields
/// (which are also the names the page's inputs send).
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    /// No error yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `message` under `field`.
    pub fn add(&mut self, field: &'static str, message: &str) {
        self.0.push(FieldError::new(field, message));
    }

    /// An optional whole number; empty text is none, anything else that is not a whole
    /// number is an error under `field`.
    pub fn whole_number(&mut self, field: &'static str, text: &str) -> Option<i64> {
        match text.trim() {
            "" => None,
            text => text.parse().map_or_else(
                |_| {
                    self.add(field, "must be a whole number");
                    None
                },
                Some,
            ),
        }
    }

    /// `value` when no error was recorded, else every error as one validation failure.
    pub fn or_value<V>(self, value: V) -> Result<V, service::Error> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(service::Error::Validation(self.0))
        }
    }
}

/// True when a checkbox was ticked (browsers send `on` unless it has a value; the console's
/// own boxes send `true` or `yes`).
pub fn ticked(value: &str) -> bool {
    matches!(value, "true" | "yes" | "on")
}

/// The values of a checkbox group in the order sent, each once.
pub fn distinct(values: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for v in values {
        if !out.contains(v) {
            out.push(v.clone());
        }
    }
    out
}

/// The body of a destructive or disruptive action: without `confirm=yes` it only asks
/// (see [`crate::pages::Confirmation`]); with it, the action runs.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ConfirmForm {
    /// `yes` once the question was answered.
    pub confirm: String,
}

impl ConfirmForm {
    /// True when the submission carries the confirmation.
    pub fn is_given(&self) -> bool {
        self.confirm == "yes"
    }
}

/// A submission the service refused, sorted for the page that shows it again.
#[derive(Debug)]
pub struct Refused {
    /// What was refused; its field errors go under their fields.
    pub error: service::Error,
    /// `422` for input to correct, the refusal's own status (`403`, `409`, …) otherwise.
    pub status: StatusCode,
}

impl Refused {
    /// `err` as a form shows it; what a form cannot show (not found, internal) becomes the
    /// error page instead.
    pub fn sort(err: service::Error) -> Result<Self, PageError> {
        let shown = matches!(
            err,
            service::Error::Validation(_)
                | service::Error::Conflict { .. }
                | service::Error::Forbidden(_)
                | service::Error::NotHeld { .. }
        );
        if !shown {
            return Err(err.into());
        }
        let status = match &err {
            service::Error::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            service::Error::Conflict { details, .. } if !details.is_empty() => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            other => crate::error::classify(other).0,
        };
        Ok(Self { error: err, status })
    }
}

impl PageContext {
    /// The form page titled `title` again after `err`: `form` is built from the input sent
    /// (so it is kept) and gets each error under its field, with the refusal's status.
    pub fn form_again(
        &self,
        err: service::Error,
        title: impl Into<String>,
        form: FormView,
    ) -> Result<HttpResponse, PageError> {
        let refused = Refused::sort(err)?;
        self.render_status(
            refused.status,
            &FormPage {
                layout: self.layout(title),
                form: form.with_error(&refused.error),
                intro: None,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::{FieldErrors, distinct, ticked};

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct Sample {
        lifetime: String,
        scopes: Vec<String>,
    }

    #[test]
    fn a_checkbox_group_keeps_every_value_and_a_number_field_stays_text() {
        let form: Sample =
            serde_html_form::from_str("lifetime=soon&scopes=a&scopes=b&csrf_token=x").unwrap();
        assert_eq!(form.lifetime, "soon");
        assert_eq!(form.scopes, ["a", "b"]);
        let empty: Sample = serde_html_form::from_str("").unwrap();
        assert!(empty.lifetime.is_empty() && empty.scopes.is_empty());
    }

    #[test]
    fn a_non_number_is_an_error_under_its_field_and_empty_is_none() {
        let mut errors = FieldErrors::new();
        assert_eq!(errors.whole_number("a", " 42 "), Some(42));
        assert_eq!(errors.whole_number("b", ""), None);
        assert_eq!(errors.whole_number("c", "soon"), None);
        match errors.or_value(()) {
            Err(service::Error::Validation(details)) => {
                assert_eq!(details.len(), 1);
                assert_eq!(details[0].field, "c");
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn checkboxes_read_as_browsers_send_them() {
        assert!(ticked("true") && ticked("yes") && ticked("on"));
        assert!(!ticked("") && !ticked("false"));
        let sent = ["b".to_string(), "a".into(), "b".into()];
        assert_eq!(distinct(&sent), ["b", "a"]);
    }
}
