//! Admin users: the list (`/admin/users`) and creating a user (`/admin/users/new`).

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use service::access::users::{self, NewUser, UserFilter, UserSummary};
use service::access::{Password, Permission, Username, roles};
use service::pagination::PageRequest;

use crate::auth::{Access, Acting};
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::ShownOnce;
use crate::pages::{
    BeforeQuery, Cell, Choice, Field, FilterField, FormView, ListRow, PageContext, Row, Table, rows,
};
use crate::routes::form_input::{merge_errors, when_or};
use crate::routes::forms::{PageForm, distinct};
use crate::routes::router::Router;
use crate::routes::views::{FormPage, ListPage};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
struct ListQuery {
    q: Option<String>,
    role: Option<String>,
    status: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
}

fn bad_request(message: impl Into<String>) -> PageError {
    PageError::new(StatusCode::BAD_REQUEST, message)
}

fn filter(q: &ListQuery) -> Result<UserFilter, PageError> {
    let active = match q.status.as_deref().unwrap_or_default() {
        "" => None,
        "active" => Some(true),
        "inactive" => Some(false),
        _ => {
            return Err(bad_request(
                "The status filter is either active or inactive.",
            ));
        }
    };
    Ok(UserFilter {
        q: q.q.clone().filter(|s| !s.trim().is_empty()),
        role: q.role.clone().filter(|s| !s.is_empty()),
        active,
    })
}

/// A user in the user list.
impl ListRow for UserSummary {
    fn row(&self, _: &()) -> Row {
        let u = self;
        vec![
            Cell::link(&u.username, format!("/admin/users/{}", u.id)),
            Cell::text(u.email.clone().unwrap_or_default()),
            Cell::text(u.roles.join(", ")),
            if u.is_active {
                Cell::badge("active", "badge ok")
            } else {
                Cell::badge("inactive", "badge bad")
            },
            Cell::text(when_or(u.last_login_at, "never")),
        ]
    }
}

fn choices(values: &[&str], selected: &str) -> Vec<Choice> {
    values
        .iter()
        .map(|v| Choice {
            value: v.to_string(),
            label: v.to_string(),
            checked: *v == selected,
        })
        .collect()
}

async fn list(
    ctx: PageContext,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
    before: web::Query<BeforeQuery>,
) -> Result<HttpResponse, PageError> {
    let filter = filter(&query)?;
    let page = PageRequest::<String>::parse_both(
        query.limit,
        query.cursor.as_deref(),
        before.before.as_deref(),
    )
    .map_err(|e| bad_request(e.to_string()))?;
    let found = users::list(&state.db, &filter, &page).await?;
    let role_names: Vec<String> = roles::list(&state.db)
        .await?
        .into_iter()
        .map(|r| r.name)
        .collect();
    let role_refs: Vec<&str> = role_names.iter().map(String::as_str).collect();
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let table = Table {
        columns: vec!["Username", "Email", "Roles", "Status", "Last login"],
        rows: rows(&found.items, &()),
        filters: vec![
            FilterField {
                name: "q",
                label: "Search",
                value: value(&query.q),
                options: vec![],
            },
            FilterField {
                name: "role",
                label: "Role",
                value: value(&query.role),
                options: choices(&role_refs, &value(&query.role)),
            },
            FilterField {
                name: "status",
                label: "Status",
                value: value(&query.status),
                options: choices(&["active", "inactive"], &value(&query.status)),
            },
        ],
        action: "/admin/users".into(),
        next_url: None,
        sort_links: Vec::new(),
        empty: "No users match these filters.",
    }
    .paginate_both(
        "/admin/users",
        &[
            ("q", query.q.clone()),
            ("role", query.role.clone()),
            ("status", query.status.clone()),
            ("limit", query.limit.map(|l| l.to_string())),
        ],
        found.prev_cursor,
        found.next_cursor,
    );
    let mut actions = Vec::new();
    if ctx.may(Permission::UsersWrite) {
        actions.push(("New user", "/admin/users/new".to_string()));
    }
    ctx.render(&ListPage {
        layout: ctx.layout("Users"),
        table,
        actions,
        note: None,
    })
}

/// The role checkboxes, ticked for `selected`.
pub async fn role_choices(state: &AppState, selected: &[String]) -> Result<Vec<Choice>, PageError> {
    Ok(roles::list(&state.db)
        .await?
        .into_iter()
        .map(|r| Choice {
            checked: selected.contains(&r.name),
            label: match &r.description {
                Some(d) => format!("{} — {d}", r.name),
                None => r.name.clone(),
            },
            value: r.name,
        })
        .collect())
}

/// The new-user form, as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NewUserForm {
    username: String,
    email: String,
    /// Empty: a password is generated and shown once.
    password: String,
    roles: Vec<String>,
}

impl TryFrom<&NewUserForm> for NewUser {
    type Error = service::Error;

    /// Checks the username, the email and the password policy, each error on its field.
    fn try_from(form: &NewUserForm) -> Result<Self, service::Error> {
        let username = Username::parse(&form.username);
        let email = users::parse_email(Some(&form.email));
        let password = match form.password.as_str() {
            "" => Ok(None),
            p => Password::parse(p, &form.username.trim().to_lowercase(), "password").map(Some),
        };
        match (username, email, password) {
            (Ok(username), Ok(email), Ok(password)) => Ok(NewUser {
                username,
                email,
                password,
                roles: distinct(&form.roles),
            }),
            (u, e, p) => Err(merge_errors(vec![u.err(), e.err(), p.err()])
                .unwrap_or_else(|| service::Error::internal("no error"))),
        }
    }
}

impl NewUserForm {
    /// The form with these values; a password is never shown again.
    async fn view(&self, state: &AppState) -> Result<FormView, PageError> {
        Ok(FormView::new(
            "/admin/users/new",
            "Create user",
            vec![
                Field::new("username", "Username", "text").value(&self.username),
                Field::new("email", "Email", "email").value(&self.email),
                Field::new("password", "Password", "password")
                    .autocomplete("new-password")
                    .help("Leave empty to generate one; it is shown once."),
                Field::new("roles", "Roles", "checkboxes")
                    .choices(role_choices(state, &self.roles).await?),
            ],
        ))
    }
}

async fn new_page(ctx: PageContext, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    ctx.render(&FormPage {
        layout: ctx.layout("New user"),
        form: NewUserForm::default().view(&state).await?,
        intro: None,
    })
}

async fn create(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    PageForm(form): PageForm<NewUserForm>,
) -> Result<HttpResponse, PageError> {
    let created = match NewUser::try_from(&form) {
        Ok(new) => users::create(&state.db, &acting.grantor(), acting.ip(), new).await,
        Err(e) => Err(e),
    };
    match created {
        Ok((user, Some(generated))) => Ok(ctx.redirect_to_secret(ShownOnce::new(
            &ctx,
            "User created",
            format!(
                "The user {} was created with this password. \
             Hand it over now: it is not shown again.",
                user.username
            ),
            generated.expose().to_string(),
            "/admin/users",
        ))),
        Ok((user, None)) => Ok(ctx.redirect(
            "/admin/users",
            Flash::success(format!("The user {} was created.", user.username)),
        )),
        Err(e) => ctx.form_again(e, "New user", form.view(&state).await?),
    }
}

/// Registers the user pages.
pub fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::UsersRead);
    let write = Access::Permission(Permission::UsersWrite);
    r.page(Method::GET, "/admin/users", read, list)
        .page(Method::GET, "/admin/users/new", write, new_page)
        .page(Method::POST, "/admin/users/new", write, create);
}
