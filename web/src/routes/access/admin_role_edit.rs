//! One role (`/admin/roles/{id}`): a built-in role to read, a custom one to change or delete.

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, web};
use askama::Template;
use service::access::Permission;
use service::access::roles::{self, RoleSummary};

use super::admin_roles::RoleForm;
use crate::auth::{Access, Acting};
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::{Confirmation, FormView, Layout, PageContext, count_of};
use crate::routes::form_input::path_id;
use crate::routes::forms::ConfirmForm;
use crate::routes::forms::{PageForm, Refused};
use crate::routes::router::Router;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "role_edit.html")]
struct RolePage {
    layout: Layout,
    description: String,
    builtin: bool,
    /// Each granted permission with its meaning.
    granted: Vec<(&'static str, &'static str)>,
    note: Option<&'static str>,
    /// A refusal when no form is shown to carry it (a built-in role).
    problem: Option<String>,
    edit: Option<FormView>,
    delete: Option<FormView>,
}

/// The current values of a role as form input.
fn current(role: &RoleSummary) -> RoleForm {
    RoleForm {
        name: role.name.clone(),
        description: role.description.clone().unwrap_or_default(),
        permissions: role.permissions.iter().map(|p| p.to_string()).collect(),
    }
}

fn delete_form(role: &RoleSummary) -> FormView {
    FormView::danger_button(format!("/admin/roles/{}/delete", role.id), "Delete role…")
}

/// Renders the role page; the forms only for a custom role and a caller who may change it:
/// one holding `users:write` and everything the role grants.
fn render(
    ctx: &PageContext,
    status: StatusCode,
    role: &RoleSummary,
    edit: FormView,
    delete: FormView,
) -> Result<HttpResponse, PageError> {
    let holds_it = ctx
        .caller
        .as_ref()
        .is_some_and(|c| roles::ensure_may_change(&c.grantor(), role, "changing").is_ok());
    let changeable = !role.is_system && ctx.may(Permission::UsersWrite) && holds_it;
    ctx.render_status(
        status,
        &RolePage {
            layout: ctx.layout(format!("Role {}", role.name)),
            description: role.description.clone().unwrap_or_default(),
            builtin: role.is_system,
            granted: Permission::ALL
                .iter()
                .filter(|p| role.permissions.contains(&p.as_str()))
                .map(|p| (p.as_str(), p.meaning()))
                .collect(),
            note: role
                .is_system
                .then_some("This is a built-in role: it cannot be edited or deleted."),
            problem: if changeable {
                None
            } else {
                edit.error.clone().or_else(|| delete.error.clone())
            },
            edit: changeable.then_some(edit),
            delete: changeable.then_some(delete),
        },
    )
}

fn edit_form(role: &RoleSummary, form: &RoleForm) -> FormView {
    form.view(format!("/admin/roles/{}", role.id), "Save changes", false)
}

async fn show(
    ctx: PageContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let role = roles::get(&state.db, path_id(&id, "role")?).await?;
    let edit = edit_form(&role, &current(&role));
    render(&ctx, StatusCode::OK, &role, edit, delete_form(&role))
}

async fn update(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    id: web::Path<String>,
    PageForm(form): PageForm<RoleForm>,
) -> Result<HttpResponse, PageError> {
    let id = path_id(&id, "role")?;
    let role = roles::get(&state.db, id).await?;
    let saved = match form.parse(&role.name) {
        Ok(r) => roles::update(&state.db, &acting.grantor(), acting.ip(), id, r).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(role) => Ok(ctx.redirect(
            &format!("/admin/roles/{id}"),
            Flash::success(format!("The role {} was saved.", role.name)),
        )),
        Err(e) => {
            let refused = Refused::sort(e)?;
            let edit = edit_form(&role, &form).with_error(&refused.error);
            render(&ctx, refused.status, &role, edit, delete_form(&role))
        }
    }
}

/// Deletes a custom role once confirmed; before that, asks, naming the users who hold it.
async fn delete(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    id: web::Path<String>,
    PageForm(form): PageForm<ConfirmForm>,
) -> Result<HttpResponse, PageError> {
    let id = path_id(&id, "role")?;
    let role = roles::get(&state.db, id).await?;
    // A built-in role is not asked about: the service refuses to delete it either way.
    if !form.is_given() && !role.is_system {
        // Nor is a caller who may not delete it.
        roles::ensure_may_change(&acting.grantor(), &role, "deleting")?;
        let holders = roles::holders(&state.db, id).await?;
        return ctx.confirm(
            Confirmation::new(
                format!("Delete the role {}?", role.name),
                format!("/admin/roles/{id}/delete"),
                "Delete role",
                format!("/admin/roles/{id}"),
            )
            .what(format!(
                "The role {} is deleted for good; its holders lose what it grants.",
                role.name
            ))
            .reaches(&holders, |n| {
                format!(
                    "The role {} is held by {}:",
                    role.name,
                    count_of(n, "user", "users")
                )
            }),
        );
    }
    match roles::delete(&state.db, &acting.grantor(), acting.ip(), id).await {
        Ok(()) => Ok(ctx.redirect(
            "/admin/roles",
            Flash::success(format!("The role {} was deleted.", role.name)),
        )),
        Err(e) => {
            let refused = Refused::sort(e)?;
            let edit = edit_form(&role, &current(&role));
            let delete = delete_form(&role).with_error(&refused.error);
            render(&ctx, refused.status, &role, edit, delete)
        }
    }
}

/// Registers the pages of one role.
pub fn routes(r: &mut Router) {
    let write = Access::Permission(Permission::UsersWrite);
    r.page(
        Method::GET,
        "/admin/roles/{id}",
        Access::Permission(Permission::UsersRead),
        show,
    )
    .page(Method::POST, "/admin/roles/{id}", write, update)
    .page(Method::POST, "/admin/roles/{id}/delete", write, delete);
}
