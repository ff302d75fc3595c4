//! One device (`/registry/devices/{device_id}`): its facts and entities, edit, delete.

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, web};
use askama::Template;
use service::access::Permission;
use service::affected::{self, Affected};
use service::registry::{DeviceDetail, devices};

use super::devices_pages::DeviceForm;
use super::entities_pages::EntityRows;
use crate::auth::{Access, Acting};
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::{Confirmation, FormView, Layout, ListRow, PageContext, Table, count_of};
use crate::routes::form_input::{as_local, when, when_or};
use crate::routes::forms::ConfirmForm;
use crate::routes::forms::{PageForm, Refused};
use crate::routes::router::Router;
use crate::state::AppState;

/// What the page shows about the device.
struct DeviceFacts {
    device_id: String,
    name: String,
    manufacturer: String,
    model: String,
    area_id: String,
    integration: String,
    last_seen: String,
    created: String,
    updated: String,
}

#[derive(Template)]
#[template(path = "registry_device.html")]
struct DevicePage {
    layout: Layout,
    device: DeviceFacts,
    table: Table,
    edit: Option<FormView>,
    delete: Option<FormView>,
}

fn current_input(d: &DeviceDetail) -> DeviceForm {
    let v = &d.device;
    let opt = |s: &Option<String>| s.clone().unwrap_or_default();
    DeviceForm {
        device_id: v.device_id.clone(),
        name: v.name.clone(),
        manufacturer: opt(&v.manufacturer),
        model: opt(&v.model),
        area_id: opt(&v.area_id),
        integration: opt(&v.integration),
        last_seen: v.last_seen.map(as_local).unwrap_or_default(),
    }
}

fn edit_form(id: &str, form: &DeviceForm) -> FormView {
    FormView::new(
        format!("/registry/devices/{id}"),
        "Save changes",
        form.fields(false),
    )
}

fn delete_form(d: &DeviceDetail) -> FormView {
    FormView::danger_button(
        format!("/registry/devices/{}/delete", d.device.device_id),
        "Delete device…",
    )
}

fn render(
    ctx: &PageContext,
    status: StatusCode,
    d: &DeviceDetail,
    edit: FormView,
    delete: FormView,
) -> Result<HttpResponse, PageError> {
    let write = ctx.may(Permission::RegistryWrite);
    let v = &d.device;
    let opt = |s: &Option<String>| s.clone().unwrap_or_default();
    ctx.render_status(
        status,
        &DevicePage {
            layout: ctx.layout(format!("Device {}", v.name)),
            device: DeviceFacts {
                device_id: v.device_id.clone(),
                name: v.name.clone(),
                manufacturer: opt(&v.manufacturer),
                model: opt(&v.model),
                area_id: opt(&v.area_id),
                integration: opt(&v.integration),
                last_seen: when_or(v.last_seen, "never"),
                created: when(v.created_at),
                updated: when(v.updated_at),
            },
            table: Table {
                columns: vec!["Entity id", "Domain", "Platform", "Status"],
                rows: d
                    .entities
                    .iter()
                    .map(|e| {
                        e.row(&EntityRows {
                            show_device: false,
                            toggle: None,
                        })
                    })
                    .collect(),
                filters: vec![],
                empty: "This device has no entities.",
                ..Table::default()
            },
            edit: write.then_some(edit),
            delete: write.then_some(delete),
        },
    )
}

async fn show(
    ctx: PageContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let d = devices::get(&state.db, &id).await?;
    let edit = edit_form(&id, &current_input(&d));
    let delete = delete_form(&d);
    render(&ctx, StatusCode::OK, &d, edit, delete)
}

async fn update(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    id: web::Path<String>,
    PageForm(form): PageForm<DeviceForm>,
) -> Result<HttpResponse, PageError> {
    let d = devices::get(&state.db, &id).await?;
    let saved = match form.raw(id.to_string()).parse() {
        Ok(device) => devices::put(&state.db, &acting.actor(), acting.ip(), device).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok((device, _)) => Ok(ctx.redirect(
            &format!("/registry/devices/{}", device.device_id),
            Flash::success(format!("The changes to {} were saved.", device.name)),
        )),
        Err(e) => {
            let refused = Refused::sort(e)?;
            let edit = edit_form(&id, &form).with_error(&refused.error);
            render(&ctx, refused.status, &d, edit, delete_form(&d))
        }
    }
}

/// Deletes the device once confirmed; before that, asks, naming the entities that go with it.
async fn delete(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    id: web::Path<String>,
    PageForm(form): PageForm<ConfirmForm>,
) -> Result<HttpResponse, PageError> {
    let d = devices::get(&state.db, &id).await?;
    if !form.is_given() {
        let entities = Affected {
            total: d.entities.len() as u64,
            names: d
                .entities
                .iter()
                .take(affected::SHOWN as usize)
                .map(|e| e.entity_id.clone())
                .collect(),
        };
        let page = format!("/registry/devices/{}", d.device.device_id);
        return ctx.confirm(
            Confirmation::new(
                format!("Delete the device {}?", d.device.name),
                format!("{page}/delete"),
                "Delete device",
                page,
            )
            .what(format!(
                "{} leaves the registry; a later import or sync may bring it back.",
                d.device.name
            ))
            .reaches(&entities, |n| {
                format!("{} go with it:", count_of(n, "entity", "entities"))
            }),
        );
    }
    match devices::delete(&state.db, &acting.actor(), acting.ip(), &id).await {
        Ok(()) => Ok(ctx.redirect(
            "/registry/devices",
            Flash::success(format!("The device {} was deleted.", d.device.name)),
        )),
        Err(e) => {
            let refused = Refused::sort(e)?;
            let edit = edit_form(&id, &current_input(&d));
            let delete = delete_form(&d).with_error(&refused.error);
            render(&ctx, refused.status, &d, edit, delete)
        }
    }
}

/// Registers the device page and its forms.
pub fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::RegistryRead);
    let write = Access::Permission(Permission::RegistryWrite);
    r.page(Method::GET, "/registry/devices/{device_id}", read, show)
        .page(Method::POST, "/registry/devices/{device_id}", write, update)
        .page(
            Method::POST,
            "/registry/devices/{device_id}/delete",
            write,
            delete,
        );
}
