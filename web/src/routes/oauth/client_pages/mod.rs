//! The OAuth client pages: the list, registration (secret shown once) and one client (edit,
//! enable / disable, rotate, delete, live tokens). The settings form is in `form`, the
//! client's own page in `detail` and what its buttons do in `actions`.

mod actions;
mod bulk;
mod detail;
mod form;

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::ExposeSecret;
use serde::Deserialize;
use service::access::Permission;
use service::oauth::clients::{self, ClientSpec};
use service::pagination::{Page, PageRequest, Sort};

use self::bulk::ClientBulk;
use self::form::ClientForm;
use crate::auth::{Access, Acting};
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::ShownOnce;
use crate::pages::{Cell, PageContext, PagerQuery, Table};
use crate::routes::bulk::{self as bulk_route, BulkList};
use crate::routes::form_input::when_or;
use crate::routes::forms::PageForm;
use crate::routes::router::Router;
use crate::routes::views::{FormPage, ListPage, duplicate_warning};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
struct PageQuery {
    sort: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
}

async fn list(
    ctx: PageContext,
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
    at: web::Query<PagerQuery>,
) -> Result<HttpResponse, PageError> {
    let parsed = Sort::parse(query.sort.as_deref(), clients::BY_NAME).and_then(|sort| {
        let page =
            PageRequest::parse_both(query.limit, query.cursor.as_deref(), at.before.as_deref())?;
        Ok((sort, page))
    });
    let (found, request, refused) = match parsed {
        Ok((sort, request)) => (
            clients::list(&state.db, sort, &request).await?,
            Some(request),
            None,
        ),
        Err(e @ service::Error::Validation(_)) => (Page::empty(), None, Some(e)),
        Err(e) => return Err(e.into()),
    };
    let sort = Sort::parse(query.sort.as_deref(), clients::BY_NAME).unwrap_or(clients::BY_NAME);
    let kept = [("limit", query.limit.map(|l| l.to_string()))];
    let mut paged = kept.to_vec();
    paged.push(("sort", Some(sort.param())));
    let mut table = Table {
        columns: vec![
            "Name",
            "Client id",
            "Type",
            "Grant types",
            "Status",
            "Active tokens",
            "Last used",
        ],
        rows: found
            .items
            .iter()
            .map(|c| {
                vec![
                    Cell::link(&c.name, format!("/oauth/clients/{}", c.client_id)),
                    Cell::short(&c.client_id, 24),
                    Cell::text(if c.is_confidential {
                        "confidential"
                    } else {
                        "public"
                    }),
                    Cell::text(c.grant_types.join(", ")),
                    if c.is_enabled {
                        Cell::badge("enabled", "badge ok")
                    } else {
                        Cell::badge("disabled", "badge bad")
                    },
                    Cell::text(c.active_tokens.to_string()),
                    Cell::time(when_or(c.last_used_at, "never")),
                ]
            })
            .collect(),
        action: "/oauth/clients".into(),
        empty: "No OAuth client is registered yet.",
        ..Table::default()
    }
    .sortable("/oauth/clients", &kept, &[(0, "name")], &sort.param());
    if let Some(request) = &request {
        table = table.paginate("/oauth/clients", &paged, &at, request, &found);
    }
    if let Some(err) = &refused {
        table = table.refused(err);
    }
    let mut actions = vec![
        ("Device codes", "/oauth/device-codes".to_string()),
        ("OAuth log", "/oauth/audit".to_string()),
    ];
    if ctx.may(Permission::OauthWrite) {
        actions.insert(0, ("New client", "/oauth/clients/new".to_string()));
        let here = bulk_route::here(&req, ClientBulk::LIST);
        let ids = found.items.iter().map(|c| c.client_id.clone()).collect();
        table = table.add_first("New client", "/oauth/clients/new").bulk(
            ClientBulk::ROUTE,
            ClientBulk::ACTIONS,
            ids,
            here,
        );
    }
    ctx.render_status(
        table.status(),
        &ListPage {
            layout: ctx.layout("OAuth clients"),
            table,
            actions,
            note: Some("Services call Metadeck's API with tokens these clients obtain; a client's scopes are permissions of the catalog.".into()),
        },
    )
}

async fn new_page(ctx: PageContext) -> Result<HttpResponse, PageError> {
    ctx.render(&FormPage {
        layout: ctx.layout("New OAuth client"),
        form: ClientForm::defaults().new_form(),
        intro: Some(
            "A confidential client's secret is shown once, right after registration.".into(),
        ),
    })
}

async fn create(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    PageForm(form): PageForm<ClientForm>,
) -> Result<HttpResponse, PageError> {
    let outcome = match form.parse(true).and_then(ClientSpec::new_from) {
        Ok(spec) => clients::create(&state.db, &acting.grantor(), acting.ip(), spec).await,
        Err(e) => Err(e),
    };
    let created = match outcome {
        Ok(created) => created,
        Err(e) => return ctx.form_again(e, "New OAuth client", form.new_form()),
    };
    let (name, client_id) = (&created.client.name, &created.client.client_id);
    let twins: Vec<String> = clients::named(&state.db, name)
        .await?
        .into_iter()
        .filter(|id| id != client_id)
        .collect();
    let warning = duplicate_warning("client", "name", &twins);
    match created.secret {
        Some(secret) => Ok(ctx.redirect_to_secret(
            ShownOnce::new(
                &ctx,
                "Client registered",
                format!(
                    "The secret of {name} (client id {client_id}). \
             Copy it now: it is never shown again."
                ),
                secret.expose_secret().to_owned(),
                format!("/oauth/clients/{client_id}"),
            )
            .map(|s| s.warn(warning)),
        )),
        None => Ok(ctx.redirect(
            &format!("/oauth/clients/{client_id}"),
            Flash::success(format!(
                "The public client {name} was registered.{}",
                warning.map(|w| format!(" Note: {w}")).unwrap_or_default()
            )),
        )),
    }
}

/// One token row on the client page./// Declares the pages (`…/new` before `…/{client_id}`, which would match it too).
pub fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::OauthRead);
    let write = Access::Permission(Permission::OauthWrite);
    r.page(Method::GET, "/oauth/clients", read, list)
        .page(Method::GET, "/oauth/clients/new", write, new_page)
        .page(Method::POST, "/oauth/clients/new", write, create)
        .page(
            Method::POST,
            ClientBulk::ROUTE,
            write,
            bulk_route::handle::<ClientBulk>,
        );
    detail::routes(r);
    actions::routes(r);
}
