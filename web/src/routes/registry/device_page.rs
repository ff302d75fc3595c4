//! One device (`/registry/devices/{device_id}`): its facts and entities, edit, delete.

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use service::access::Permission;
use service::registry::{DeviceDetail, devices};

use super::devices_pages::{device_fields, raw_device};
use super::entities_pages::entity_row;
use crate::auth::{Access, Caller};
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::{FormView, Layout, PageContext, Table};
use crate::routes::form_input::{FormInput, audit_ip, form_status, shown_on_form, when, when_or};
use crate::routes::router::Router;
use crate::routes::views;
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

fn current_input(d: &DeviceDetail) -> FormInput {
    let v = &d.device;
    let opt = |s: &Option<String>| s.clone().unwrap_or_default();
    FormInput::new(vec![
        ("name".into(), v.name.clone()),
        ("manufacturer".into(), opt(&v.manufacturer)),
        ("model".into(), opt(&v.model)),
        ("area_id".into(), opt(&v.area_id)),
        ("integration".into(), opt(&v.integration)),
        (
            "last_seen".into(),
            v.last_seen
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_default(),
        ),
    ])
}

fn edit_form(id: &str, input: &FormInput) -> FormView {
    FormView::new(
        format!("/registry/devices/{id}"),
        "Save changes",
        device_fields(input, false),
    )
}

fn delete_form(d: &DeviceDetail) -> FormView {
    views::delete_form(
        format!("/registry/devices/{}/delete", d.device.device_id),
        "Delete device",
        format!(
            "Yes, delete {} and its {} entities",
            d.device.name,
            d.entities.len()
        ),
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
                    .map(|e| entity_row(e, false, None))
                    .collect(),
                filters: vec![],
                action: String::new(),
                next_url: None,
                sort_links: Vec::new(),
                empty: "This device has no entities.",
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
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let input = FormInput::from(form);
    let d = devices::get(&state.db, &id).await?;
    let saved = match raw_device(&input, id.to_string()).parse() {
        Ok(device) => {
            devices::put(&state.db, &caller.actor(), audit_ip(&req, &state), device).await
        }
        Err(e) => Err(e),
    };
    match saved {
        Ok((device, _)) => Ok(ctx.redirect(
            &format!("/registry/devices/{}", device.device_id),
            Flash::success(format!("The changes to {} were saved.", device.name)),
        )),
        Err(e) if shown_on_form(&e) => {
            let edit = edit_form(&id, &input).with_error(&e);
            render(&ctx, form_status(&e), &d, edit, delete_form(&d))
        }
        Err(e) => Err(e.into()),
    }
}

async fn delete(
    ctx: PageContext,
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let input = FormInput::from(form);
    let d = devices::get(&state.db, &id).await?;
    let outcome = match views::confirmed(&input) {
        Ok(()) => devices::delete(&state.db, &caller.actor(), audit_ip(&req, &state), &id).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => Ok(ctx.redirect(
            "/registry/devices",
            Flash::success(format!("The device {} was deleted.", d.device.name)),
        )),
        Err(e) if shown_on_form(&e) => {
            let edit = edit_form(&id, &current_input(&d));
            let delete = delete_form(&d).with_error(&e);
            render(&ctx, form_status(&e), &d, edit, delete)
        }
        Err(e) => Err(e.into()),
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
