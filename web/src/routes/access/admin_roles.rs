//! Roles (`/admin/roles`): the list, and creating a custom role from the permission catalog.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use service::access::Permission;
use service::access::roles::{self, RoleInput, RoleSummary};

use crate::auth::{Access, Acting};
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::{Cell, Choice, Field, FormView, ListRow, PageContext, Row, Table, rows};
use crate::routes::forms::{PageForm, distinct, page_form};
use crate::routes::router::Router;
use crate::routes::views::{FormPage, ListPage};
use crate::state::AppState;

/// A role in the role list.
impl ListRow for RoleSummary {
    fn row(&self, _: &()) -> Row {
        let r = self;
        vec![
            Cell::link(&r.name, format!("/admin/roles/{}", r.id)),
            Cell::text(r.description.clone().unwrap_or_default()),
            Cell::mono(r.permissions.join(", ")),
            if r.is_system {
                Cell::badge("built-in", "badge")
            } else {
                Cell::badge("custom", "badge ok")
            },
        ]
    }
}

async fn list(ctx: PageContext, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let table = Table {
        columns: vec!["Name", "Description", "Permissions", "Kind"],
        rows: rows(&roles::list(&state.db).await?, &()),
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

page_form! {
    /// The role form, as sent; `name` only when creating (a role keeps its name).
    pub struct RoleForm {
        pub name: String,
        pub description: String,
        pub permissions: Vec<String>,
    }
}

impl RoleForm {
    /// The form with these values.
    pub fn view(&self, action: String, submit: &'static str, with_name: bool) -> FormView {
        let mut fields = Vec::new();
        if with_name {
            fields.push(Field::new(Self::name, "Name", "text").value(&self.name));
        }
        fields.push(
            Field::new(Self::description, "Description", "textarea").value(&self.description),
        );
        fields.push(
            Field::new(Self::permissions, "Permissions", "checkboxes")
                .choices(permission_choices(&self.permissions)),
        );
        FormView::new(action, submit, fields)
    }

    /// The role the form describes; `name` is the one typed or, when editing, the role's own.
    pub fn parse(&self, name: &str) -> Result<RoleInput, service::Error> {
        RoleInput::parse(name, Some(&self.description), &distinct(&self.permissions))
    }

    fn new_form(&self) -> FormView {
        self.view("/admin/roles/new".into(), "Create role", true)
    }
}

async fn new_page(ctx: PageContext) -> Result<HttpResponse, PageError> {
    ctx.render(&FormPage {
        layout: ctx.layout("New role"),
        form: RoleForm::default().new_form(),
        intro: None,
    })
}

async fn create(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    PageForm(form): PageForm<RoleForm>,
) -> Result<HttpResponse, PageError> {
    let created = match form.parse(&form.name) {
        Ok(role) => roles::create(&state.db, &acting.grantor(), acting.ip(), role).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(role) => Ok(ctx.redirect(
            "/admin/roles",
            Flash::success(format!("The role {} was created.", role.name)),
        )),
        Err(e) => ctx.form_again(e, "New role", form.new_form()),
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
