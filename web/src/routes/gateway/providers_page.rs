//! Identity provider pages: the list (`/gateway/providers`), creating one (`…/new`), and
//! one provider (`…/{id}`) with its edit form, "Test" and delete.

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, web};
use askama::Template;
use service::access::Permission;
use service::gateway::provider_admin;
use service::gateway::provider_test::{self, ProviderTest};
use service::gateway::providers::{self, Provider};

use super::provider_form::ProviderForm;
use crate::auth::{Access, Acting};
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::{Cell, Confirmation, FormView, Layout, ListRow, PageContext, Row, Table, rows};
use crate::routes::forms::{ConfirmForm, PageForm, Refused};
use crate::routes::router::Router;
use crate::routes::views::{FormPage, ListPage};
use crate::state::AppState;

/// The list's address.
pub const LIST: &str = "/gateway/providers";

/// A provider in the list.
impl ListRow for Provider {
    fn row(&self, _: &()) -> Row {
        vec![
            Cell::short(&self.name, 40).linked(format!("{LIST}/{}", self.id)),
            Cell::short(&self.display_name, 40),
            Cell::short(&self.client_id, 40),
            Cell::short(&self.authorize_url, 50),
            if self.enabled {
                Cell::badge("enabled", "badge ok")
            } else {
                Cell::badge("disabled", "badge")
            },
        ]
    }
}

async fn list(ctx: PageContext, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let found = providers::list(&state.db).await?;
    let write = ctx.may(Permission::GatewayWrite);
    let mut table = Table {
        columns: vec![
            "Name",
            "Display name",
            "Client id",
            "Authorization URL",
            "Sign-in",
        ],
        rows: rows(&found, &()),
        action: LIST.into(),
        empty: "No identity provider: single sign-on is off.",
        ..Table::default()
    };
    if write {
        table = table.add_first("New identity provider", format!("{LIST}/new"));
    }
    ctx.render(&ListPage {
        layout: ctx.layout("Identity providers"),
        table,
        actions: if write {
            vec![("New identity provider", format!("{LIST}/new"))]
        } else {
            vec![]
        },
        note: Some(
            "Each enabled provider is offered on the sign-in page; the groups it sends are mapped to roles on the AD group mappings page.".into(),
        ),
    })
}

fn new_form(form: &ProviderForm) -> FormView {
    FormView::new(
        format!("{LIST}/new"),
        "Create identity provider",
        form.fields(false),
    )
}

async fn new_page(ctx: PageContext) -> Result<HttpResponse, PageError> {
    ctx.render(&FormPage {
        layout: ctx.layout("New identity provider"),
        form: new_form(&ProviderForm::blank()),
        intro: Some("Test it from its page once created.".into()),
    })
}

async fn create(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    PageForm(form): PageForm<ProviderForm>,
) -> Result<HttpResponse, PageError> {
    let created = match form.parse() {
        Ok(input) => {
            provider_admin::create(
                &state.db,
                &state.gateway,
                &acting.actor(),
                acting.ip(),
                input,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match created {
        Ok(p) => Ok(ctx.redirect(
            &format!("{LIST}/{}", p.id),
            Flash::success(format!("The identity provider {} was created.", p.name)),
        )),
        Err(e) => ctx.form_again(e, "New identity provider", new_form(&form)),
    }
}

#[derive(Template)]
#[template(path = "provider.html")]
struct ProviderPage {
    layout: Layout,
    provider: Provider,
    scopes: String,
    write: bool,
    test: Option<ProviderTest>,
    edit: Option<FormView>,
    delete: Option<FormView>,
}

fn page_of(id: &str) -> String {
    format!("{LIST}/{id}")
}

async fn render(
    ctx: &PageContext,
    status: StatusCode,
    p: Provider,
    edit: FormView,
    test: Option<ProviderTest>,
) -> Result<HttpResponse, PageError> {
    let write = ctx.may(Permission::GatewayWrite);
    let id = p.id.to_string();
    ctx.render_status(
        status,
        &ProviderPage {
            layout: ctx.layout(format!("Identity provider {}", p.name)),
            scopes: p.scopes.join(" "),
            provider: p,
            write,
            test,
            edit: write.then_some(edit),
            delete: write.then(|| {
                FormView::danger_button(
                    format!("{}/delete", page_of(&id)),
                    "Delete identity provider…",
                )
            }),
        },
    )
}

fn edit_form(p: &Provider, sent: &ProviderForm) -> FormView {
    FormView::new(
        page_of(&p.id.to_string()),
        "Save changes",
        sent.fields(p.has_client_secret),
    )
}

async fn show(
    ctx: PageContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let p = providers::get(&state.db, &id).await?;
    let edit = edit_form(&p, &ProviderForm::current(&p));
    render(&ctx, StatusCode::OK, p, edit, None).await
}

async fn update(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    id: web::Path<String>,
    PageForm(form): PageForm<ProviderForm>,
) -> Result<HttpResponse, PageError> {
    let p = providers::get(&state.db, &id).await?;
    let saved = match form.parse() {
        Ok(input) => {
            provider_admin::update(
                &state.db,
                &state.gateway,
                &acting.actor(),
                acting.ip(),
                &id,
                input,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match saved {
        Ok(after) => Ok(ctx.redirect(
            &page_of(&id),
            Flash::success(format!("The changes to {} were saved.", after.name)),
        )),
        Err(err) => {
            let refused = Refused::sort(err)?;
            let edit = edit_form(&p, &form).with_error(&refused.error);
            render(&ctx, refused.status, p, edit, None).await
        }
    }
}

/// Tests the provider and shows what was found on its page.
async fn test(
    ctx: PageContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let found = provider_test::test(&state.db, &state.gateway, &id).await?;
    let p = providers::get(&state.db, &id).await?;
    let edit = edit_form(&p, &ProviderForm::current(&p));
    render(&ctx, StatusCode::OK, p, edit, Some(found)).await
}

/// Deletes the provider once confirmed; before that, asks.
async fn delete(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    id: web::Path<String>,
    PageForm(form): PageForm<ConfirmForm>,
) -> Result<HttpResponse, PageError> {
    let p = providers::get(&state.db, &id).await?;
    if !form.is_given() {
        let page = page_of(&id);
        return ctx.confirm(
            Confirmation::new(
                format!("Delete the identity provider {}?", p.name),
                format!("{page}/delete"),
                "Delete identity provider",
                page,
            )
            .what(format!(
                "\"Sign in with {}\" leaves the sign-in page.",
                p.display_name
            ))
            .consequence("Its saved client secret is deleted with it."),
        );
    }
    provider_admin::delete(&state.db, &acting.actor(), acting.ip(), &id).await?;
    Ok(ctx.redirect(
        LIST,
        Flash::success(format!("The identity provider {} was deleted.", p.name)),
    ))
}

/// Registers the identity provider pages (`…/new` before `…/{id}`).
pub fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::GatewayRead);
    let write = Access::Permission(Permission::GatewayWrite);
    r.page(Method::GET, LIST, read, list)
        .page(Method::GET, "/gateway/providers/new", write, new_page)
        .page(Method::POST, "/gateway/providers/new", write, create)
        .page(Method::GET, "/gateway/providers/{id}", read, show)
        .page(Method::POST, "/gateway/providers/{id}", write, update)
        .page(Method::POST, "/gateway/providers/{id}/test", write, test)
        .page(
            Method::POST,
            "/gateway/providers/{id}/delete",
            write,
            delete,
        );
}
