//! The preferences form of `/account` and its `POST /account/preferences`.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use service::registry::preferences::{self, Theme, UiPreferences};

use crate::auth::{Access, Acting};
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::{Choice, Field, FormView, PageContext};
use crate::routes::form_input::acting_user;
use crate::routes::forms::{FieldErrors, PageForm, page_form};
use crate::routes::router::Router;
use crate::state::AppState;

/// The form, showing `theme`, `page_size` and `default_tenant` as given.
fn form_with(theme: &str, page_size: &str, default_tenant: &str) -> FormView {
    let themes = [
        ("auto", "Follow the system"),
        ("light", "Light"),
        ("dark", "Dark"),
    ];
    FormView::new(
        "/account/preferences",
        "Save preferences",
        vec![
            Field::new(PreferencesForm::theme, "Theme", "select").choices(
                themes
                    .iter()
                    .map(|(value, label)| Choice {
                        value: value.to_string(),
                        label: label.to_string(),
                        checked: *value == theme,
                    })
                    .collect(),
            ),
            Field::new(PreferencesForm::page_size, "Rows per page", "number")
                .value(page_size)
                .help("1 to 500; the console's lists show this many rows."),
            Field::new(
                PreferencesForm::default_tenant,
                "Default sync tenant",
                "text",
            )
            .value(default_tenant)
            .help("The sync dashboard opens on this tenant; empty for all."),
        ],
    )
}

/// The preferences form filled with the saved values (shown on `/account`).
pub fn form(ui: &UiPreferences) -> FormView {
    form_with(
        ui.theme.as_str(),
        &ui.page_size.to_string(),
        ui.default_tenant.as_deref().unwrap_or_default(),
    )
}

page_form! {
    /// The preferences form, as sent.
    struct PreferencesForm {
        theme: String,
        page_size: String,
        default_tenant: String,
    }
}

/// The most rows a list page shows (the service's own limit).
const MAX_PAGE_SIZE: u64 = 500;

impl TryFrom<&PreferencesForm> for UiPreferences {
    type Error = service::Error;

    fn try_from(form: &PreferencesForm) -> Result<Self, service::Error> {
        let mut errors = FieldErrors::new();
        let theme = Theme::parse(&form.theme).unwrap_or_else(|| {
            errors.add(
                PreferencesForm::theme,
                "Choose one of the themes offered: light, dark or follow the system.",
            );
            Theme::Auto
        });
        let page_size = match form.page_size.trim().parse::<u64>() {
            Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
            _ => {
                errors.add(
                    PreferencesForm::page_size,
                    "Enter a whole number of rows from 1 to 500.",
                );
                0
            }
        };
        let tenant = form.default_tenant.trim();
        if tenant.chars().count() > 255 || tenant.contains('\0') {
            errors.add(
                PreferencesForm::default_tenant,
                "Enter a tenant name of at most 255 ordinary characters, or leave it empty.",
            );
        }
        errors.or_value(UiPreferences {
            theme,
            page_size,
            default_tenant: (!tenant.is_empty()).then(|| tenant.to_string()),
        })
    }
}

/// A refusal of the service, whose field names are those of the JSON API (`ui.page_size`),
/// moved under the fields of this form.
fn on_the_page(err: service::Error) -> service::Error {
    match err {
        service::Error::Validation(details) => service::Error::Validation(
            details
                .into_iter()
                .map(|mut d| {
                    if let Some(field) = d.field.strip_prefix("ui.") {
                        d.field = field.to_string();
                    }
                    d
                })
                .collect(),
        ),
        other => other,
    }
}

async fn save(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    PageForm(form): PageForm<PreferencesForm>,
) -> Result<HttpResponse, PageError> {
    let user = acting_user(&acting)?;
    // The form edits the console settings only; teams and notifications stay as stored.
    let saved = match UiPreferences::try_from(&form) {
        Ok(ui) => preferences::put_ui(&state.db, user, ui).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => Ok(ctx.redirect("/account", Flash::success("Your preferences were saved."))),
        Err(e) => {
            let kept = form_with(&form.theme, &form.page_size, &form.default_tenant);
            ctx.form_again(on_the_page(e), "Your preferences", kept)
        }
    }
}

/// Registers the preferences form's target.
pub fn routes(r: &mut Router) {
    r.page(Method::POST, "/account/preferences", Access::Signed, save);
}
