//! One admin user (`/admin/users/{id}`): change email, active flag and roles, reset the
//! password, delete.

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, web};
use askama::Template;
use secrecy::{ExposeSecret, SecretString};
use service::access::users::{self, UserSummary, UserUpdate};
use service::access::{Password, Permission};
use service::affected::Affected;

use super::admin_users::role_choices;
use crate::auth::{Access, Acting};
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::ShownOnce;
use crate::pages::{Confirmation, Field, FormView, Layout, PageContext, count_of};
use crate::routes::form_input::{acting_user, path_id, when, when_or};
use crate::routes::forms::ConfirmForm;
use crate::routes::forms::{PageForm, Refused, distinct, page_form, ticked};
use crate::routes::router::Router;
use crate::state::AppState;

/// What the page shows about the user.
struct UserView {
    username: String,
    email: String,
    active: bool,
    roles: String,
    last_login: String,
    created: String,
}

#[derive(Template)]
#[template(path = "user_edit.html")]
struct UserPage {
    layout: Layout,
    user: UserView,
    edit: Option<FormView>,
    reset: Option<FormView>,
    delete: Option<FormView>,
    /// Resets the user's second factor, when they have one.
    reset_second_factor: Option<FormView>,
    /// A refusal no shown form carries (deleting oneself).
    problem: Option<String>,
}

/// The three forms of the page, with the input and error of the one just sent.
struct Forms {
    edit: FormView,
    reset: FormView,
    delete: FormView,
    second_factor: Option<FormView>,
}

impl Forms {
    async fn new(state: &AppState, user: &UserSummary) -> Result<Self, PageError> {
        let email = user.email.clone().unwrap_or_default();
        Ok(Self {
            edit: edit_form(state, user.id, &email, user.is_active, &user.roles).await?,
            reset: reset_form(user.id),
            delete: delete_form(user),
            second_factor: super::admin_user_second_factor::reset_button(state, user.id).await?,
        })
    }
}

async fn edit_form(
    state: &AppState,
    id: i64,
    email: &str,
    active: bool,
    roles: &[String],
) -> Result<FormView, PageError> {
    Ok(FormView::new(
        format!("/admin/users/{id}"),
        "Save changes",
        vec![
            Field::new(EditForm::email, "Email", "email").value(email),
            Field::new(EditForm::is_active, "Active (may sign in)", "checkbox").value(if active {
                "true"
            } else {
                ""
            }),
            Field::new(EditForm::roles, "Roles", "checkboxes")
                .choices(role_choices(state, roles).await?),
        ],
    ))
}

/// On one's own page the active box is not offered (nobody deactivates themselves): the
/// form carries the user's current state instead.
fn without_deactivation(mut form: FormView) -> FormView {
    for f in form
        .fields
        .iter_mut()
        .filter(|f| f.name == EditForm::is_active)
    {
        f.kind = "hidden";
        f.value = "true".into();
    }
    form
}

fn reset_form(id: i64) -> FormView {
    FormView::new(
        format!("/admin/users/{id}/reset-password"),
        "Reset password",
        vec![
            Field::new(ResetForm::password, "New password", "password")
                .autocomplete("new-password")
                .help("Leave empty to generate one; it is shown once. The user's sessions end."),
        ],
    )
}

fn delete_form(user: &UserSummary) -> FormView {
    FormView::danger_button(format!("/admin/users/{}/delete", user.id), "Delete user…")
}

/// Renders the user's page. The forms show only to a caller who may use them: one holding
/// `users:write` and, on a page shown fresh (`may_act`), every permission the user holds.
/// On one's own page there is no delete and no active box.
fn render(
    ctx: &PageContext,
    status: StatusCode,
    user: &UserSummary,
    forms: Forms,
    may_act: bool,
) -> Result<HttpResponse, PageError> {
    let write = ctx.may(Permission::UsersWrite) && may_act;
    let myself = ctx.user_id() == Some(user.id);
    let edit = if myself {
        without_deactivation(forms.edit)
    } else {
        forms.edit
    };
    ctx.render_status(
        status,
        &UserPage {
            layout: ctx.layout(format!("User {}", user.username)),
            user: UserView {
                username: user.username.clone(),
                email: user.email.clone().unwrap_or_default(),
                active: user.is_active,
                roles: user.roles.join(", "),
                last_login: when_or(user.last_login_at, "never"),
                created: when(user.created_at),
            },
            edit: write.then_some(edit),
            reset: write.then_some(forms.reset),
            problem: if myself {
                forms.delete.error.clone()
            } else {
                None
            },
            delete: (write && !myself).then_some(forms.delete),
            reset_second_factor: forms.second_factor.filter(|_| write),
        },
    )
}

async fn show(
    ctx: PageContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let user = users::get(&state.db, path_id(&id, "user")?).await?;
    let forms = Forms::new(&state, &user).await?;
    let may_act = match &ctx.caller {
        Some(c) => c
            .grantor()
            .ensure_may_act_on(&state.db, user.id, "changing")
            .await
            .is_ok(),
        None => false,
    };
    render(&ctx, StatusCode::OK, &user, forms, may_act)
}

page_form! {
    /// The user's settings form, as sent.
    struct EditForm {
        email: String,
        is_active: String,
        roles: Vec<String>,
        /// `yes` once deactivating was confirmed.
        confirm: String,
    }
}

impl TryFrom<&EditForm> for UserUpdate {
    type Error = service::Error;

    fn try_from(form: &EditForm) -> Result<Self, service::Error> {
        Ok(UserUpdate {
            email: users::parse_email(Some(&form.email))?,
            is_active: ticked(&form.is_active),
            roles: distinct(&form.roles),
        })
    }
}

page_form! {
    /// The password-reset form, as sent.
    struct ResetForm {
        /// Empty: a password is generated and shown once. A secret, so `Debug` hides it.
        password: SecretString,
    }
}

async fn update(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    id: web::Path<String>,
    PageForm(form): PageForm<EditForm>,
) -> Result<HttpResponse, PageError> {
    let id = path_id(&id, "user")?;
    let user = users::get(&state.db, id).await?;
    let deactivating = user.is_active && !ticked(&form.is_active);
    let confirmed = ConfirmForm {
        confirm: form.confirm.clone(),
    };
    // Deactivating another user ends their sessions: it asks first (oneself is refused below).
    if deactivating && !confirmed.is_given() && acting.user_id() != Some(id) {
        acting
            .grantor()
            .ensure_may_act_on(&state.db, id, "changing")
            .await?;
        return ctx.confirm(deactivation_question(&user, &form));
    }
    let saved = match UserUpdate::try_from(&form) {
        Ok(c) => {
            let by = acting.grantor();
            users::update(&state.db, &by, acting_user(&acting)?, acting.ip(), id, c).await
        }
        Err(e) => Err(e),
    };
    match saved {
        Ok(user) => Ok(ctx.redirect(
            &format!("/admin/users/{id}"),
            Flash::success(format!("The changes to {} were saved.", user.username)),
        )),
        Err(e) => {
            let refused = Refused::sort(e)?;
            let mut forms = Forms::new(&state, &user).await?;
            let active = ticked(&form.is_active);
            forms.edit = edit_form(&state, id, &form.email, active, &form.roles)
                .await?
                .with_error(&refused.error);
            render(&ctx, refused.status, &user, forms, true)
        }
    }
}

/// The question before the settings `form` deactivate `user`; the settings ride along.
fn deactivation_question(user: &UserSummary, form: &EditForm) -> Confirmation {
    let page = format!("/admin/users/{}", user.id);
    let mut q = Confirmation::new(
        format!("Deactivate the user {}?", user.username),
        page.clone(),
        "Deactivate user",
        page,
    )
    .what(format!(
        "{} can no longer sign in until activated again: their sessions end at once. The \
         other changes of the form are saved with it.",
        user.username
    ))
    .hidden("email", &form.email)
    .hidden("is_active", "");
    for role in distinct(&form.roles) {
        q = q.hidden("roles", role);
    }
    q
}

async fn reset_password(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    id: web::Path<String>,
    PageForm(form): PageForm<ResetForm>,
) -> Result<HttpResponse, PageError> {
    let id = path_id(&id, "user")?;
    let user = users::get(&state.db, id).await?;
    // Resetting one's own password here keeps the session it is done from.
    let keep = (acting.user_id() == Some(id))
        .then(|| acting.session_id())
        .flatten();
    let outcome = match form.password.expose_secret() {
        "" => Ok(None),
        p => Password::parse(p, &user.username, ResetForm::password).map(Some),
    };
    let outcome = match outcome {
        Ok(pw) => {
            users::set_password(&state.db, &acting.grantor(), acting.ip(), id, pw, keep).await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(Some(generated)) => Ok(ctx.redirect_to_secret(ShownOnce::new(
            &ctx,
            "Password reset",
            format!(
                "The new password of {}. Hand it over now: it is not shown again.",
                user.username
            ),
            generated.expose().to_string(),
            format!("/admin/users/{id}"),
        ))),
        Ok(None) => Ok(ctx.redirect(
            &format!("/admin/users/{id}"),
            Flash::success(format!("The password of {} was changed.", user.username)),
        )),
        Err(e) => {
            let refused = Refused::sort(e)?;
            let mut forms = Forms::new(&state, &user).await?;
            forms.reset = reset_form(id).with_error(&refused.error);
            render(&ctx, refused.status, &user, forms, true)
        }
    }
}

/// Deletes another user once confirmed; before that, asks, naming the roles they lose.
async fn delete(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    id: web::Path<String>,
    PageForm(form): PageForm<ConfirmForm>,
) -> Result<HttpResponse, PageError> {
    let id = path_id(&id, "user")?;
    let user = users::get(&state.db, id).await?;
    let myself = acting_user(&acting)? == id;
    // Deleting oneself is refused by the service whether asked or not: no question first;
    // nor is the question shown to a caller the deletion would refuse.
    if !form.is_given() && !myself {
        acting
            .grantor()
            .ensure_may_act_on(&state.db, id, "deleting")
            .await?;
        let roles = Affected {
            total: user.roles.len() as u64,
            names: user.roles.clone(),
        };
        return ctx.confirm(
            Confirmation::new(
                format!("Delete the user {}?", user.username),
                format!("/admin/users/{id}/delete"),
                "Delete user",
                format!("/admin/users/{id}"),
            )
            .what(format!(
                "{} can no longer sign in: their sessions end at once and their tokens stop \
                 working. The audit trail keeps what they did.",
                user.username
            ))
            .reaches(&roles, |n| {
                format!("They lose {}:", count_of(n, "role", "roles"))
            }),
        );
    }
    let by = acting.grantor();
    match users::delete(&state.db, &by, acting_user(&acting)?, acting.ip(), id).await {
        Ok(()) => Ok(ctx.redirect(
            "/admin/users",
            Flash::success(format!("The user {} was deleted.", user.username)),
        )),
        Err(e) => {
            let refused = Refused::sort(e)?;
            let mut forms = Forms::new(&state, &user).await?;
            forms.delete = delete_form(&user).with_error(&refused.error);
            render(&ctx, refused.status, &user, forms, true)
        }
    }
}

/// Registers the pages of one user (after `/admin/users/new`, which `{id}` would shadow).
pub fn routes(r: &mut Router) {
    let write = Access::Permission(Permission::UsersWrite);
    r.page(
        Method::GET,
        "/admin/users/{id}",
        Access::Permission(Permission::UsersRead),
        show,
    )
    .page(Method::POST, "/admin/users/{id}", write, update)
    .page(
        Method::POST,
        "/admin/users/{id}/reset-password",
        write,
        reset_password,
    )
    .page(Method::POST, "/admin/users/{id}/delete", write, delete);
}
