//! The preferences form of `/account` and its `POST /account/preferences`.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use service::registry::preferences::{self, Theme, UiPreferences};

use crate::auth::{Access, Caller};
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::{Choice, Field, FormView, PageContext};
use crate::routes::form_input::{FormInput, acting_user, form_status, shown_on_form};
use crate::routes::router::Router;
use crate::routes::views::FormPage;
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
            Field::new("theme", "Theme", "select").choices(
                themes
                    .iter()
                    .map(|(value, label)| Choice {
                        value: value.to_string(),
                        label: label.to_string(),
                        checked: *value == theme,
                    })
                    .collect(),
            ),
            Field::new("page_size", "Rows per page", "text")
                .value(page_size)
                .help("1 to 500; the console's lists show this many rows."),
            Field::new("default_tenant", "Default sync tenant", "text")
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

fn parse(input: &FormInput) -> Result<UiPreferences, service::Error> {
    let mut errors = Vec::new();
    let theme = Theme::parse(input.text("theme")).unwrap_or_else(|| {
        errors.push(service::FieldError::new("theme", "is light, dark or auto"));
        Theme::Auto
    });
    let page_size = input
        .text("page_size")
        .trim()
        .parse::<u64>()
        .unwrap_or_else(|_| {
            errors.push(service::FieldError::new(
                "page_size",
                "must be a whole number from 1 to 500",
            ));
            0
        });
    if !errors.is_empty() {
        return Err(service::Error::Validation(errors));
    }
    let tenant = input.text("default_tenant").trim();
    Ok(UiPreferences {
        theme,
        page_size,
        default_tenant: (!tenant.is_empty()).then(|| tenant.to_string()),
    })
}

async fn save(
    ctx: PageContext,
    caller: Caller,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let input = FormInput::from(form);
    let user = acting_user(&caller)?;
    let saved = match parse(&input) {
        Ok(ui) => {
            // The form edits the console settings only; teams and notifications stay.
            match preferences::get(&state.db, user).await {
                Ok(mut prefs) => {
                    prefs.ui = ui;
                    preferences::put(&state.db, user, prefs).await
                }
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => Ok(ctx.redirect("/account", Flash::success("Your preferences were saved."))),
        Err(e) if shown_on_form(&e) => {
            let form = form_with(
                input.text("theme"),
                input.text("page_size"),
                input.text("default_tenant"),
            )
            .with_error(&e);
            ctx.render_status(
                form_status(&e),
                &FormPage {
                    layout: ctx.layout("Your preferences"),
                    form,
                    intro: None,
                },
            )
        }
        Err(e) => Err(e.into()),
    }
}

/// Registers the preferences form's target.
pub fn routes(r: &mut Router) {
    r.page(Method::POST, "/account/preferences", Access::Signed, save);
}
