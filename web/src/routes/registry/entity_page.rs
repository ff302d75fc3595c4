//! One entity in the console: create (`/registry/entities/new`), show and edit
//! (`/registry/entities/{entity_id}`), delete (asked first).

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, web};
use askama::Template;
use service::access::Permission;
use service::registry::{EntityView, RawEntity, entities};

use crate::auth::{Access, Acting};
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::{Confirmation, Field, FormView, Layout, PageContext};
use crate::routes::form_input::when;
use crate::routes::forms::{ConfirmForm, PageForm, Refused, page_form, ticked};
use crate::routes::router::Router;
use crate::state::AppState;

page_form! {
    /// The entity form as sent; the id only on the "new entity" form (an entity keeps its id).
    pub(super) struct EntityForm {
        entity_id: String,
        device_id: String,
        platform: String,
        disabled: String,
    }
}

/// Empty text is "not given".
fn given(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

impl EntityForm {
    /// The current values of `e` as form input.
    fn current(e: &EntityView) -> Self {
        Self {
            entity_id: e.entity_id.clone(),
            device_id: e.device_id.clone().unwrap_or_default(),
            platform: e.platform.clone().unwrap_or_default(),
            disabled: if e.disabled {
                "true".into()
            } else {
                String::new()
            },
        }
    }

    /// The raw entity `entity_id` with this input, for the service to check.
    fn raw(&self, entity_id: &str) -> RawEntity {
        RawEntity {
            entity_id: given(entity_id),
            device_id: given(&self.device_id),
            domain: None,
            platform: given(&self.platform),
            disabled: Some(ticked(&self.disabled)),
        }
    }

    /// The form's fields with this input; `with_id` on the "new entity" form.
    fn fields(&self, with_id: bool) -> Vec<Field> {
        let mut fields = Vec::new();
        if with_id {
            fields.push(
                Field::new(Self::entity_id, "Entity id", "text")
                    .value(&self.entity_id)
                    .help(
                        "The domain, a dot and a name, as Home Assistant writes it: light.kitchen",
                    ),
            );
        }
        fields.push(
            Field::new(Self::device_id, "Device id", "text")
                .value(&self.device_id)
                .help("The device it belongs to (it must exist); empty for none."),
        );
        fields.push(Field::new(Self::platform, "Platform", "text").value(&self.platform));
        fields.push(
            Field::new(Self::disabled, "Disabled", "checkbox").value(if ticked(&self.disabled) {
                "true"
            } else {
                ""
            }),
        );
        fields
    }
}

#[derive(Template)]
#[template(path = "entity_edit.html")]
struct EntityPage {
    layout: Layout,
    entity: EntityView,
    created: String,
    updated: String,
    edit: Option<FormView>,
    delete: Option<FormView>,
}

fn page_of(id: &str) -> String {
    format!("/registry/entities/{id}")
}

fn edit_form(id: &str, form: &EntityForm) -> FormView {
    FormView::new(page_of(id), "Save changes", form.fields(false))
}

fn delete_form(id: &str) -> FormView {
    FormView::danger_button(format!("{}/delete", page_of(id)), "Delete entity…")
}

fn render(
    ctx: &PageContext,
    status: StatusCode,
    e: EntityView,
    edit: FormView,
) -> Result<HttpResponse, PageError> {
    let write = ctx.may(Permission::RegistryWrite);
    ctx.render_status(
        status,
        &EntityPage {
            layout: ctx.layout(format!("Entity {}", e.entity_id)),
            created: when(e.created_at),
            updated: when(e.updated_at),
            edit: write.then_some(edit),
            delete: write.then(|| delete_form(&e.entity_id)),
            entity: e,
        },
    )
}

fn new_form(form: &EntityForm) -> FormView {
    FormView::new("/registry/entities/new", "Create entity", form.fields(true))
}

async fn new(ctx: PageContext) -> Result<HttpResponse, PageError> {
    ctx.render(&crate::routes::views::FormPage {
        layout: ctx.layout("New entity"),
        form: new_form(&EntityForm::default()),
        intro: None,
    })
}

async fn create(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    PageForm(form): PageForm<EntityForm>,
) -> Result<HttpResponse, PageError> {
    let created = match form.raw(&form.entity_id).parse() {
        Ok(input) => entities::create(&state.db, &acting.actor(), acting.ip(), input).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(e) => Ok(ctx.redirect(
            &page_of(&e.entity_id),
            Flash::success(format!("The entity {} was created.", e.entity_id)),
        )),
        Err(e) => ctx.form_again(e, "New entity", new_form(&form)),
    }
}

async fn show(
    ctx: PageContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let e = entities::get(&state.db, &id).await?;
    let edit = edit_form(&id, &EntityForm::current(&e));
    render(&ctx, StatusCode::OK, e, edit)
}

async fn update(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    id: web::Path<String>,
    PageForm(form): PageForm<EntityForm>,
) -> Result<HttpResponse, PageError> {
    let e = entities::get(&state.db, &id).await?;
    let saved = match form.raw(&id).parse() {
        Ok(input) => entities::put(&state.db, &acting.actor(), acting.ip(), input).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok((e, _)) => Ok(ctx.redirect(
            &page_of(&e.entity_id),
            Flash::success(format!("The changes to {} were saved.", e.entity_id)),
        )),
        Err(err) => {
            let refused = Refused::sort(err)?;
            let edit = edit_form(&id, &form).with_error(&refused.error);
            render(&ctx, refused.status, e, edit)
        }
    }
}

/// Deletes the entity once confirmed; before that, asks.
async fn delete(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    id: web::Path<String>,
    PageForm(form): PageForm<ConfirmForm>,
) -> Result<HttpResponse, PageError> {
    let e = entities::get(&state.db, &id).await?;
    if !form.is_given() {
        let page = page_of(&e.entity_id);
        let device = match &e.device_id {
            Some(d) => format!("; the device {d} keeps its other entities"),
            None => String::new(),
        };
        return ctx.confirm(
            Confirmation::new(
                format!("Delete the entity {}?", e.entity_id),
                format!("{page}/delete"),
                "Delete entity",
                page,
            )
            .what(format!(
                "{} leaves the registry{device}. A later import or sync may bring it back.",
                e.entity_id
            )),
        );
    }
    entities::delete(&state.db, &acting.actor(), acting.ip(), &id).await?;
    Ok(ctx.redirect(
        "/registry/entities",
        Flash::success(format!("The entity {} was deleted.", e.entity_id)),
    ))
}

/// Registers the entity pages (`…/new` before `…/{entity_id}`, which would match it).
pub fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::RegistryRead);
    let write = Access::Permission(Permission::RegistryWrite);
    r.page(Method::GET, "/registry/entities/new", write, new)
        .page(Method::POST, "/registry/entities/new", write, create)
        .page(Method::GET, "/registry/entities/{entity_id}", read, show)
        .page(
            Method::POST,
            "/registry/entities/{entity_id}",
            write,
            update,
        )
        .page(
            Method::POST,
            "/registry/entities/{entity_id}/delete",
            write,
            delete,
        );
}
