//! The OAuth client pages: the list, registration (secret shown once), one client (edit,
//! enable / disable, rotate, delete, live tokens), device codes and the OAuth audit log.

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;
use service::access::Permission;
use service::oauth::clients::{self, ClientInput, ClientSpec, ClientView};
use service::oauth::{audit_log, device, grant_type};
use service::pagination::PageRequest;
use uuid::Uuid;

use super::clients_api::log_filter;
use crate::auth::{Access, Acting};
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::{Cell, Choice, Field, FilterField, FormView, Layout, PageContext, Table};
use crate::routes::form_input::{when, when_or};
use crate::routes::forms::{FieldErrors, PageForm, Refused, distinct, ticked};
use crate::routes::router::Router;
use crate::routes::views::{self, ConfirmForm, FormPage, ListPage, SecretPage};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
struct PageQuery {
    limit: Option<u64>,
    cursor: Option<String>,
}

fn bad_request(message: impl Into<String>) -> PageError {
    PageError::new(StatusCode::BAD_REQUEST, message)
}

async fn list(
    ctx: PageContext,
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, PageError> {
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())
        .map_err(|e| bad_request(e.to_string()))?;
    let found = clients::list(&state.db, &page).await?;
    let table = Table {
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
                    Cell {
                        class: "mono",
                        ..Cell::text(&c.client_id)
                    },
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
                    Cell::text(when_or(c.last_used_at, "never")),
                ]
            })
            .collect(),
        filters: vec![],
        action: "/oauth/clients".into(),
        next_url: None,
        sort_links: Vec::new(),
        empty: "No OAuth client is registered yet.",
    }
    .paginate("/oauth/clients", &[], found.next_cursor);
    let mut actions = vec![
        ("Device codes", "/oauth/device-codes".to_string()),
        ("OAuth log", "/oauth/audit".to_string()),
    ];
    if ctx.may(Permission::OauthWrite) {
        actions.insert(0, ("New client", "/oauth/clients/new".to_string()));
    }
    ctx.render(&ListPage {
        layout: ctx.layout("OAuth clients"),
        table,
        actions,
        note: Some("Services call Metadeck's API with tokens these clients obtain; a client's scopes are permissions of the catalog.".into()),
    })
}

fn checks(values: &[&str], selected: &[String]) -> Vec<Choice> {
    values
        .iter()
        .map(|v| Choice {
            value: v.to_string(),
            label: v.to_string(),
            checked: selected.iter().any(|s| s == v),
        })
        .collect()
}

/// The settings form of an OAuth client, as sent. On the client's page every field but
/// `client_type` is present, so every setting is given.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ClientForm {
    name: String,
    /// `confidential` or `public`; only on the registration form.
    client_type: String,
    /// One redirect URI per line.
    redirect_uris: String,
    grant_types: Vec<String>,
    allowed_scopes: Vec<String>,
    access_token_ttl_seconds: String,
    refresh_token_ttl_seconds: String,
    device_code_ttl_seconds: String,
    device_poll_interval_seconds: String,
    require_pkce: String,
    skip_consent: String,
}

impl ClientForm {
    /// A client's settings as the form shows them.
    fn current(c: &ClientView) -> Self {
        Self {
            name: c.name.clone(),
            client_type: String::new(),
            redirect_uris: c.redirect_uris.join("\n"),
            grant_types: c.grant_types.clone(),
            allowed_scopes: c.allowed_scopes.clone(),
            access_token_ttl_seconds: c.access_token_ttl_seconds.to_string(),
            refresh_token_ttl_seconds: c.refresh_token_ttl_seconds.to_string(),
            device_code_ttl_seconds: c.device_code_ttl_seconds.to_string(),
            device_poll_interval_seconds: c.device_poll_interval_seconds.to_string(),
            require_pkce: c.require_pkce.to_string(),
            skip_consent: c.skip_consent.to_string(),
        }
    }

    /// What the registration form starts with.
    fn defaults() -> Self {
        Self {
            access_token_ttl_seconds: "3600".into(),
            refresh_token_ttl_seconds: "2592000".into(),
            device_code_ttl_seconds: "600".into(),
            device_poll_interval_seconds: "5".into(),
            require_pkce: "true".into(),
            ..Self::default()
        }
    }

    /// The settings sent; a lifetime that is not a whole number is an error under its field.
    fn parse(&self, creating: bool) -> Result<ClientInput, service::Error> {
        let mut errors = FieldErrors::new();
        let grants = distinct(&self.grant_types);
        let parsed = ClientInput {
            name: Some(self.name.clone()),
            is_confidential: creating.then(|| self.client_type != "public"),
            is_enabled: None,
            redirect_uris: Some(self.redirect_uris.lines().map(str::to_owned).collect()),
            grant_types: (!grants.is_empty() || !creating).then_some(grants),
            allowed_scopes: Some(distinct(&self.allowed_scopes)),
            access_token_ttl_seconds: errors
                .whole_number("access_token_ttl_seconds", &self.access_token_ttl_seconds),
            refresh_token_ttl_seconds: errors
                .whole_number("refresh_token_ttl_seconds", &self.refresh_token_ttl_seconds),
            device_code_ttl_seconds: errors
                .whole_number("device_code_ttl_seconds", &self.device_code_ttl_seconds),
            device_poll_interval_seconds: errors.whole_number(
                "device_poll_interval_seconds",
                &self.device_poll_interval_seconds,
            ),
            require_pkce: Some(ticked(&self.require_pkce)),
            skip_consent: Some(ticked(&self.skip_consent)),
        };
        errors.or_value(parsed)
    }

    /// The form's fields, filled from these values.
    fn fields(&self, creating: bool) -> Vec<Field> {
        let scopes: Vec<Choice> = Permission::ALL
            .iter()
            .map(|p| Choice {
                value: p.as_str().into(),
                label: format!("{} — {}", p.as_str(), p.meaning()),
                checked: self.allowed_scopes.iter().any(|s| s == p.as_str()),
            })
            .collect();
        let mut fields = vec![Field::new("name", "Name", "text").value(&self.name)];
        if creating {
            let public = self.client_type == "public";
            fields.push(Field::new("client_type", "Type", "select").choices(vec![
                Choice {
                    value: "confidential".into(),
                    label: "Confidential — a service that keeps a secret".into(),
                    checked: !public,
                },
                Choice {
                    value: "public".into(),
                    label: "Public — a browser or native app (no secret, PKCE)".into(),
                    checked: public,
                },
            ]));
        }
        let checkbox = |on: &str| if ticked(on) { "true" } else { "" };
        fields.extend([
            Field::new("redirect_uris", "Redirect URIs", "textarea")
                .value(&self.redirect_uris)
                .help("One per line: https, or http on 127.0.0.1 / [::1] / localhost. Needed for the authorization-code grant."),
            Field::new("grant_types", "Grant types", "checkboxes")
                .choices(checks(grant_type::ALL, &self.grant_types))
                .help("None ticked: client_credentials for a confidential client, authorization_code and refresh_token for a public one."),
            Field::new("allowed_scopes", "Allowed scopes", "checkboxes").choices(scopes),
            Field::new("access_token_ttl_seconds", "Access token lifetime (seconds)", "number")
                .value(&self.access_token_ttl_seconds),
            Field::new("refresh_token_ttl_seconds", "Refresh token lifetime (seconds)", "number")
                .value(&self.refresh_token_ttl_seconds),
            Field::new("device_code_ttl_seconds", "Device code lifetime (seconds)", "number")
                .value(&self.device_code_ttl_seconds),
            Field::new("device_poll_interval_seconds", "Device poll interval (seconds)", "number")
                .value(&self.device_poll_interval_seconds),
            Field::new("require_pkce", "Require PKCE (always on for public clients)", "checkbox")
                .value(checkbox(&self.require_pkce)),
            Field::new("skip_consent", "Skip the consent page (first-party apps only)", "checkbox")
                .value(checkbox(&self.skip_consent)),
        ]);
        fields
    }

    /// The registration form.
    fn new_form(&self) -> FormView {
        FormView::new("/oauth/clients/new", "Register client", self.fields(true))
    }
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
    match created.secret {
        Some(secret) => ctx.render(&SecretPage {
            layout: ctx.layout("Client registered"),
            intro: format!(
                "The secret of {name} (client id {client_id}). Copy it now: it is never shown again."
            ),
            secret,
            back: format!("/oauth/clients/{client_id}"),
        }),
        None => Ok(ctx.redirect(
            &format!("/oauth/clients/{client_id}"),
            Flash::success(format!("The public client {name} was registered.")),
        )),
    }
}

/// One token row on the client page.
struct TokenRow {
    id: Uuid,
    kind: &'static str,
    user: String,
    scope: String,
    created: String,
    expires: String,
}

#[derive(Template)]
#[template(path = "oauth_client.html")]
struct ClientPage {
    layout: Layout,
    client: ClientView,
    last_used: String,
    created: String,
    tokens: Vec<TokenRow>,
    write: bool,
    revoke_all: Option<FormView>,
    /// Title, test hook and form of each action section.
    forms: Vec<(&'static str, &'static str, FormView)>,
}

/// The page's action forms; `failed` replaces the one a refused submission came from.
fn action_forms(
    c: &ClientView,
    failed: Option<(&'static str, FormView)>,
) -> Vec<(&'static str, &'static str, FormView)> {
    let id = &c.client_id;
    let mut forms = vec![
        (
            "Settings",
            "edit-client",
            FormView::new(
                format!("/oauth/clients/{id}"),
                "Save changes",
                ClientForm::current(c).fields(false),
            ),
        ),
        (
            if c.is_enabled { "Disable" } else { "Enable" },
            "toggle-client",
            FormView::new(
                format!(
                    "/oauth/clients/{id}/{}",
                    if c.is_enabled { "disable" } else { "enable" }
                ),
                if c.is_enabled {
                    "Disable client"
                } else {
                    "Enable client"
                },
                vec![],
            ),
        ),
    ];
    if c.is_confidential {
        forms.push((
            "Rotate secret",
            "rotate-secret",
            FormView::new(
                format!("/oauth/clients/{id}/rotate-secret"),
                "Rotate secret",
                vec![],
            ),
        ));
    }
    forms.push((
        "Delete client",
        "delete-client",
        views::delete_form(
            format!("/oauth/clients/{id}/delete"),
            "Delete client",
            format!("Yes, delete {} with all its codes and tokens", c.name),
        ),
    ));
    if let Some((testid, form)) = failed {
        for slot in forms.iter_mut().filter(|f| f.1 == testid) {
            slot.2 = form.clone();
        }
    }
    forms
}

async fn render_client(
    ctx: &PageContext,
    state: &AppState,
    status: StatusCode,
    client_id: &str,
    failed: Option<(&'static str, FormView)>,
) -> Result<HttpResponse, PageError> {
    let client = clients::view(&state.db, client_id).await?;
    let tokens = clients::live_tokens(&state.db, client_id)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            kind: t.kind,
            user: t.username.unwrap_or_else(|| "—".into()),
            scope: t.scope,
            created: when(t.created_at),
            expires: when(t.expires_at),
        })
        .collect();
    let write = ctx.may(Permission::OauthWrite);
    ctx.render_status(
        status,
        &ClientPage {
            layout: ctx.layout(format!("Client {}", client.name)),
            last_used: when_or(client.last_used_at, "never"),
            created: when(client.created_at),
            tokens,
            write,
            revoke_all: write.then(|| {
                FormView::new(
                    format!("/oauth/clients/{client_id}/tokens/revoke"),
                    "Revoke all",
                    vec![],
                )
            }),
            forms: if write {
                action_forms(&client, failed)
            } else {
                vec![]
            },
            client,
        },
    )
}

async fn show(
    ctx: PageContext,
    state: web::Data<AppState>,
    client_id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    render_client(&ctx, &state, StatusCode::OK, &client_id, None).await
}

async fn update(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    client_id: web::Path<String>,
    PageForm(form): PageForm<ClientForm>,
) -> Result<HttpResponse, PageError> {
    let outcome = match form.parse(false) {
        Ok(change) => {
            clients::update(
                &state.db,
                &acting.grantor(),
                acting.ip(),
                &client_id,
                change,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(view) => Ok(ctx.redirect(
            &format!("/oauth/clients/{client_id}"),
            Flash::success(format!("The settings of {} were saved.", view.name)),
        )),
        Err(e) => {
            let refused = Refused::sort(e)?;
            let form = FormView::new(
                format!("/oauth/clients/{client_id}"),
                "Save changes",
                form.fields(false),
            )
            .with_error(&refused.error);
            let failed = Some(("edit-client", form));
            render_client(&ctx, &state, refused.status, &client_id, failed).await
        }
    }
}

async fn set_enabled(
    ctx: &PageContext,
    acting: &Acting,
    state: &AppState,
    client_id: &str,
    enabled: bool,
) -> Result<HttpResponse, PageError> {
    let change = ClientInput {
        is_enabled: Some(enabled),
        ..ClientInput::default()
    };
    let view =
        clients::update(&state.db, &acting.grantor(), acting.ip(), client_id, change).await?;
    Ok(ctx.redirect(
        &format!("/oauth/clients/{client_id}"),
        Flash::success(if enabled {
            format!("{} is enabled.", view.name)
        } else {
            format!("{} is disabled; its tokens no longer work.", view.name)
        }),
    ))
}

async fn enable(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    client_id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    set_enabled(&ctx, &acting, &state, &client_id, true).await
}

async fn disable(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    client_id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    set_enabled(&ctx, &acting, &state, &client_id, false).await
}

async fn rotate(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    client_id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let secret =
        clients::rotate_secret(&state.db, &acting.grantor(), acting.ip(), &client_id).await?;
    ctx.render(&SecretPage {
        layout: ctx.layout("Secret rotated"),
        intro: format!(
            "The new secret of client {client_id}. The old one stopped working. Copy it now: it is never shown again."
        ),
        secret,
        back: format!("/oauth/clients/{client_id}"),
    })
}

async fn delete(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    client_id: web::Path<String>,
    PageForm(form): PageForm<ConfirmForm>,
) -> Result<HttpResponse, PageError> {
    let outcome = match form.confirmed() {
        Ok(()) => clients::delete(&state.db, &acting.grantor(), acting.ip(), &client_id).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => Ok(ctx.redirect(
            "/oauth/clients",
            Flash::success(format!("The client {client_id} was deleted.")),
        )),
        Err(e) => {
            let refused = Refused::sort(e)?;
            let client = clients::view(&state.db, &client_id).await?;
            let form = views::delete_form(
                format!("/oauth/clients/{client_id}/delete"),
                "Delete client",
                format!("Yes, delete {} with all its codes and tokens", client.name),
            )
            .with_error(&refused.error);
            let failed = Some(("delete-client", form));
            render_client(&ctx, &state, refused.status, &client_id, failed).await
        }
    }
}

async fn revoke_one(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let (client_id, token) = path.into_inner();
    let token: Uuid = token
        .parse()
        .map_err(|_| PageError::new(StatusCode::NOT_FOUND, "token not found"))?;
    clients::revoke_token(&state.db, &acting.actor(), acting.ip(), token).await?;
    Ok(ctx.redirect(
        &format!("/oauth/clients/{client_id}"),
        Flash::success("The token was revoked."),
    ))
}

async fn revoke_all(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    client_id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let n = clients::revoke_all(&state.db, &acting.actor(), acting.ip(), &client_id).await?;
    Ok(ctx.redirect(
        &format!("/oauth/clients/{client_id}"),
        Flash::success(format!("{n} tokens were revoked.")),
    ))
}

async fn device_codes(
    ctx: PageContext,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let codes = device::recent(&state.db, 200).await?;
    let table = Table {
        columns: vec![
            "User code",
            "Client",
            "State",
            "User",
            "Scope",
            "Created",
            "Expires",
        ],
        rows: codes
            .into_iter()
            .map(|d| {
                let class = match d.state.as_str() {
                    "approved" | "consumed" => "badge ok",
                    "denied" | "expired" => "badge bad",
                    _ => "badge",
                };
                vec![
                    Cell {
                        class: "mono",
                        ..Cell::text(d.user_code)
                    },
                    Cell::link(d.client_name, format!("/oauth/clients/{}", d.client_id)),
                    Cell::badge(d.state, class),
                    Cell::text(d.username.unwrap_or_default()),
                    Cell::text(d.scope),
                    Cell::text(when(d.created_at)),
                    Cell::text(when(d.expires_at)),
                ]
            })
            .collect(),
        filters: vec![],
        action: "/oauth/device-codes".into(),
        next_url: None,
        sort_links: Vec::new(),
        empty: "No device has asked for access yet.",
    };
    ctx.render(&ListPage {
        layout: ctx.layout("Device codes"),
        table,
        actions: vec![("OAuth clients", "/oauth/clients".to_string())],
        note: Some("The 200 most recent device authorization requests, newest first.".into()),
    })
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    event_type: Option<String>,
    client_id: Option<String>,
    user_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
}

fn date(raw: &Option<String>, name: &str) -> Result<Option<NaiveDate>, PageError> {
    match raw.as_deref().filter(|d| !d.is_empty()) {
        None => Ok(None),
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| bad_request(format!("The {name} date must be YYYY-MM-DD."))),
    }
}

async fn audit(
    ctx: PageContext,
    state: web::Data<AppState>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, PageError> {
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())
        .map_err(|e| bad_request(e.to_string()))?;
    let user_id = match query.user_id.as_deref().filter(|u| !u.is_empty()) {
        None => None,
        Some(u) => Some(
            u.parse::<Uuid>()
                .map_err(|_| bad_request("The user filter is an id."))?,
        ),
    };
    let filter = log_filter(
        &state,
        query.event_type.clone(),
        query.client_id.as_deref(),
        user_id,
        date(&query.from, "from")?,
        date(&query.to, "to")?,
    )
    .await?;
    let found = audit_log::list(&state.db, &filter, &page).await?;
    let names = clients::names_by_id(&state.db).await?;
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let events: Vec<Choice> = audit_log::EVENTS
        .iter()
        .map(|e| Choice {
            value: e.to_string(),
            label: e.to_string(),
            checked: query.event_type.as_deref() == Some(e),
        })
        .collect();
    let table = Table {
        columns: vec![
            "When", "Event", "Client", "User", "Subject", "By", "Details",
        ],
        rows: found
            .items
            .iter()
            .map(|r| {
                let client = r.client_id.and_then(|id| names.get(&id).cloned());
                vec![
                    Cell::text(when(r.created_at)),
                    Cell::text(&r.event_type),
                    match client {
                        Some((ident, name)) => Cell::link(name, format!("/oauth/clients/{ident}")),
                        None => Cell::text(r.client_id.map(|c| c.to_string()).unwrap_or_default()),
                    },
                    Cell::text(r.user_id.map(|u| u.to_string()).unwrap_or_default()),
                    Cell {
                        class: "mono",
                        ..Cell::text(r.subject.clone().unwrap_or_default())
                    },
                    Cell::text(r.created_by.clone().unwrap_or_default()),
                    Cell::text(
                        r.metadata
                            .as_ref()
                            .map(|m| m.to_string())
                            .unwrap_or_default(),
                    ),
                ]
            })
            .collect(),
        filters: vec![
            FilterField {
                name: "event_type",
                label: "Event",
                value: value(&query.event_type),
                options: events,
            },
            FilterField {
                name: "client_id",
                label: "Client id",
                value: value(&query.client_id),
                options: vec![],
            },
            FilterField {
                name: "user_id",
                label: "User id",
                value: value(&query.user_id),
                options: vec![],
            },
            FilterField {
                name: "from",
                label: "From (YYYY-MM-DD)",
                value: value(&query.from),
                options: vec![],
            },
            FilterField {
                name: "to",
                label: "To (YYYY-MM-DD)",
                value: value(&query.to),
                options: vec![],
            },
        ],
        action: "/oauth/audit".into(),
        next_url: None,
        sort_links: Vec::new(),
        empty: "No OAuth event matches these filters.",
    }
    .paginate(
        "/oauth/audit",
        &[
            ("event_type", query.event_type.clone()),
            ("client_id", query.client_id.clone()),
            ("user_id", query.user_id.clone()),
            ("from", query.from.clone()),
            ("to", query.to.clone()),
        ],
        found.next_cursor,
    );
    ctx.render(&ListPage {
        layout: ctx.layout("OAuth log"),
        table,
        actions: vec![("OAuth clients", "/oauth/clients".to_string())],
        note: None,
    })
}

/// Declares the pages (`…/new` before `…/{client_id}`, which would match it too).
pub fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::OauthRead);
    let write = Access::Permission(Permission::OauthWrite);
    r.page(Method::GET, "/oauth/clients", read, list)
        .page(Method::GET, "/oauth/clients/new", write, new_page)
        .page(Method::POST, "/oauth/clients/new", write, create)
        .page(Method::GET, "/oauth/device-codes", read, device_codes)
        .page(Method::GET, "/oauth/audit", read, audit)
        .page(Method::GET, "/oauth/clients/{client_id}", read, show)
        .page(Method::POST, "/oauth/clients/{client_id}", write, update)
        .page(
            Method::POST,
            "/oauth/clients/{client_id}/enable",
            write,
            enable,
        )
        .page(
            Method::POST,
            "/oauth/clients/{client_id}/disable",
            write,
            disable,
        )
        .page(
            Method::POST,
            "/oauth/clients/{client_id}/rotate-secret",
            write,
            rotate,
        )
        .page(
            Method::POST,
            "/oauth/clients/{client_id}/delete",
            write,
            delete,
        )
        .page(
            Method::POST,
            "/oauth/clients/{client_id}/tokens/revoke",
            write,
            revoke_all,
        )
        .page(
            Method::POST,
            "/oauth/clients/{client_id}/tokens/{token_id}/revoke",
            write,
            revoke_one,
        );
}
