//! Roles (`/admin/roles`): the list, and creating a custom role from the permission catalog.

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use service::access::Permission;
use service::access::roles::{self, RoleInput, RoleSummary};

use crate::auth::{Access, Caller};
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::{Cell, Choice, Field, FormView, PageContext, Table};
use crate::routes::form_input::{FormInput, audit_ip, form_status, shown_on_form};
use crate::routes::router::Router;
use crate::routes::views::{FormPage, ListPage};
use crate::state::AppState;

fn row(r: &RoleSummary) -> Vec<Cell> {
    vec![
        Cell::link(&r.name, format!("/admin/roles/{}", r.id)),
        Cell::text(r.description.clone().unwrap_or_default()),
        Cell {
            text: r.permissions.join(", "),
            href: None,
            class: "mono",
        },
        if r.is_system {
            Cell::badge("built-in", "badge")
        } else {
            Cell::badge("custom", "badge ok")
        },
    ]
}

async fn list(ctx: PageContext, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let table = Table {
        columns: vec!["Name", "Description", "Permissions", "Kind"],
        rows: roles::list(&state.db).await?.iter().map(row).collect(),
        action: "/admin/roles".into(),
        sort_links: Vec::new(),
        empty: "There are no roles.",
        ..Table::default()
    };
    let mut actions = Vec::new();
    if ctx.may(Permission::UsersWrite) {
        actions.push(("New role", "/admin/roles/new".to_string()));
    }
    ctx.render(&ListPage {
        layout: ctx.layout("Roles"),
        table,
        actions,
        note: Some(
            "Built-in roles cannot be changed; custom roles pick permissions from the catalog."
                .into(),
        ),
    })
}

fn permission_choices(selected: &[String]) -> Vec<Choice> {
    Permission::ALL
        .iter()
        .map(|p| Choice {
            value: p.as_str().to_string(),
            label: format!("{} — {}", p.as_str(), p.meaning()),
            checked: selected.iter().any(|s| s == p.as_str()),
        })
        .collect()
}

/// The role form; `name` only when creating (a role keeps its name).
pub fn role_form(
    action: String,
    submit: &'static str,
    input: &FormInput,
    with_name: bool,
) -> FormView {
    let mut fields = Vec::new();
    if with_name {
        fields.push(Field::new("name", "Name", "text").value(input.text("name")));
    }
    fields.push(
        Field::new("description", "Description", "textarea").value(input.text("description")),
    );
    fields.push(
        Field::new("permissions", "Permissions", "checkboxes")
            .choices(permission_choices(&input.all("permissions"))),
    );
    FormView::new(action, submit, fields)
}

/// The role the form describes; `name` is the one typed or, when editing, the role's own.
pub fn parse(input: &FormInput, name: &str) -> Result<RoleInput, service::Error> {
    let description = Some(input.text("description"));
    RoleInput::parse(name, description, &input.all("permissions"))
}

fn new_form(input: &FormInput) -> FormView {
    role_form("/admin/roles/new".into(), "Create role", input, true)
}

async fn new_page(ctx: PageContext) -> Result<HttpResponse, PageError> {
    ctx.render(&FormPage {
        layout: ctx.layout("New role"),
        form: new_form(&FormInput::default()),
        intro: None,
    })
}

async fn create(
    ctx: PageContext,
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let input = FormInput::from(form);
    let created = match parse(&input, input.text("name")) {
        Ok(role) => roles::create(&state.db, &caller.grantor(), audit_ip(&req, &state), role).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(role) => Ok(ctx.redirect(
            "/admin/roles",
            Flash::success(format!("The role {} was created.", role.name)),
        )),
        Err(e) if shown_on_form(&e) => ctx.render_status(
            form_status(&e),
            &FormPage {
                layout: ctx.layout("New role"),
                form: new_form(&input).with_error(&e),
                intro: None,
            },
        ),
        Err(e) => Err(e.into()),
    }
}

/// Registers the role list and the new-role form (`/admin/roles/new` must come before
/// `/admin/roles/{id}`, which would match it too).
pub fn routes(r: &mut Router) {
    let write = Access::Permission(Permission::UsersWrite);
    r.page(
        Method::GET,
        "/admin/roles",
        Access::Permission(Permission::UsersRead),
        list,
    )
    .page(Method::GET, "/admin/roles/new", write, new_page)
    .page(Method::POST, "/admin/roles/new", write, create);
}
