//! Admin users: the list (`/admin/users`) and creating a user (`/admin/users/new`).

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use service::access::users::{self, NewUser, UserFilter, UserSort, UserSummary};
use service::access::{Password, Permission, Username, roles};
use service::pagination::{Page, PageRequest, Sort};

use super::users_bulk::UserBulk;
use crate::auth::{Access, Acting};
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::ShownOnce;
use crate::pages::{
    Cell, Choice, Field, FilterField, FormView, ListRow, PageContext, PagerQuery, Row, Table, rows,
};
use crate::routes::bulk::{self, BulkList};
use crate::routes::form_input::{merge_errors, when_or};
use crate::routes::forms::{PageForm, distinct, page_form};
use crate::routes::router::Router;
use crate::routes::views::{FormPage, ListPage};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
struct ListQuery {
    q: Option<String>,
    role: Option<String>,
    status: Option<String>,
    sort: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
}

/// The sort, the filter and the page a user-list query asks for; a bad value is an error
/// under its field.
fn parse(
    q: &ListQuery,
    at: &PagerQuery,
) -> Result<(UserSort, UserFilter, PageRequest<String>), service::Error> {
    let sort = Sort::parse(q.sort.as_deref(), users::BY_USERNAME)?;
    let active = match q.status.as_deref().unwrap_or_default() {
        "" => None,
        "active" => Some(true),
        "inactive" => Some(false),
        _ => {
            return Err(service::Error::invalid(
                "status",
                "must be active or inactive",
            ));
        }
    };
    let page = PageRequest::parse_both(q.limit, q.cursor.as_deref(), at.before.as_deref())?;
    let filter = UserFilter {
        q: q.q.clone().filter(|s| !s.trim().is_empty()),
        role: q.role.clone().filter(|s| !s.is_empty()),
        active,
    };
    Ok((sort, filter, page))
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

async fn list(
    ctx: PageContext,
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
    at: web::Query<PagerQuery>,
) -> Result<HttpResponse, PageError> {
    let (found, request, refused) = match parse(&query, &at) {
        Ok((sort, filter, request)) => (
            users::list(&state.db, &filter, sort, &request).await?,
            Some(request),
            None,
        ),
        Err(e @ service::Error::Validation(_)) => (Page::empty(), None, Some(e)),
        Err(e) => return Err(e.into()),
    };
    let sort = Sort::parse(query.sort.as_deref(), users::BY_USERNAME).unwrap_or(users::BY_USERNAME);
    let role_names: Vec<String> = roles::list(&state.db)
        .await?
        .into_iter()
        .map(|r| r.name)
        .collect();
    let role_options: Vec<(&str, &str)> = role_names
        .iter()
        .map(|r| (r.as_str(), r.as_str()))
        .collect();
    let kept = [
        ("q", query.q.clone()),
        ("role", query.role.clone()),
        ("status", query.status.clone()),
        ("limit", query.limit.map(|l| l.to_string())),
    ];
    let mut paged = kept.to_vec();
    paged.push(("sort", Some(sort.param())));
    let mut table = Table {
        columns: vec!["Username", "Email", "Roles", "Status", "Last login"],
        rows: rows(&found.items, &()),
        filters: vec![
            FilterField::text("q", "Search", &query.q),
            FilterField::select("role", "Role", &query.role, &role_options),
            FilterField::select(
                "status",
                "Status",
                &query.status,
                &[("active", "active"), ("inactive", "inactive")],
            ),
        ],
        action: "/admin/users".into(),
        empty: "No users match these filters.",
        ..Table::default()
    }
    .sortable("/admin/users", &kept, &[(0, "username")], &sort.param());
    if let Some(request) = &request {
        table = table.paginate("/admin/users", &paged, &at, request, &found);
    }
    if let Some(err) = &refused {
        table = table.refused(err);
    }
    let mut actions = Vec::new();
    if ctx.may(Permission::UsersWrite) {
        actions.push(("New user", "/admin/users/new".to_string()));
        let here = bulk::here(&req, UserBulk::LIST);
        let ids = found.items.iter().map(|u| u.id.to_string()).collect();
        table = table.add_first("New user", "/admin/users/new").bulk(
            UserBulk::ROUTE,
            UserBulk::ACTIONS,
            ids,
            here,
        );
    }
    ctx.render_status(
        table.status(),
        &ListPage {
            layout: ctx.layout("Users"),
            table,
            actions,
            note: None,
        },
    )
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

page_form! {
    /// The new-user form, as sent.
    struct NewUserForm {
        username: String,
        email: String,
        /// Empty: a password is generated and shown once. A secret, so `Debug` hides it.
        password: SecretString,
        roles: Vec<String>,
    }
}

impl TryFrom<&NewUserForm> for NewUser {
    type Error = service::Error;

    /// Checks the username, the email and the password policy, each error on its field.
    fn try_from(form: &NewUserForm) -> Result<Self, service::Error> {
        let username = Username::parse(&form.username);
        let email = users::parse_email(Some(&form.email));
        let password = match form.password.expose_secret() {
            "" => Ok(None),
            p => Password::parse(
                p,
                &form.username.trim().to_lowercase(),
                NewUserForm::password,
            )
            .map(Some),
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
                Field::new(Self::username, "Username", "text").value(&self.username),
                Field::new(Self::email, "Email", "email").value(&self.email),
                Field::new(Self::password, "Password", "password")
                    .autocomplete("new-password")
                    .help("Leave empty to generate one; it is shown once."),
                Field::new(Self::roles, "Roles", "checkboxes")
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
