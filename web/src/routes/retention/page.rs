//! `/system/retention`: each retention policy, where its value comes from and the sweeper's
//! last run (`system:read`); the form changing the policies and `POST /system/purge`, a purge
//! now (`system:write`).

use std::collections::BTreeMap;

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use askama::Template;
use service::operations::purge::purge;
use service::operations::retention::{self, KeepDays, Policy, PolicyView};
use service::operations::sweeper::WORKER_NAME;
use service::operations::workers::{WorkerStatus, last_run};

use crate::auth::{Access, Acting};
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::{Field, FormView, Layout, PageContext};
use crate::routes::forms::{FieldErrors, PageForm, Refused, page_form};
use crate::routes::router::Router;
use crate::state::AppState;
use service::access::Permission;

/// The page's title.
const TITLE: &str = "Retention";

page_form! {
    /// The policies form, as sent: days per policy.
    struct RetentionForm {
        sync_history: String,
        webhook_deliveries: String,
        webhook_payloads: String,
        events: String,
        oauth_audit_logs: String,
        audit: String,
    }
}

impl RetentionForm {
    /// The text sent for `policy`.
    fn sent(&self, policy: Policy) -> &str {
        match policy {
            Policy::SyncHistory => &self.sync_history,
            Policy::WebhookDeliveries => &self.webhook_deliveries,
            Policy::WebhookPayloads => &self.webhook_payloads,
            Policy::Events => &self.events,
            Policy::OauthAuditLogs => &self.oauth_audit_logs,
            Policy::Audit => &self.audit,
        }
    }
}

impl TryFrom<&RetentionForm> for BTreeMap<Policy, KeepDays> {
    type Error = service::Error;

    fn try_from(form: &RetentionForm) -> Result<Self, service::Error> {
        let mut errors = FieldErrors::new();
        let mut changes = BTreeMap::new();
        for policy in Policy::ALL {
            match KeepDays::parse(form.sent(policy)) {
                Some(days) => {
                    changes.insert(policy, days);
                }
                None => errors.add(policy.as_str(), KeepDays::RULE),
            }
        }
        errors.or_value(changes)
    }
}

/// The form, each field showing `value(policy)`.
fn form_with(value: impl Fn(Policy) -> String) -> FormView {
    FormView::new(
        "/system/retention",
        "Save policies",
        Policy::ALL
            .into_iter()
            .map(|policy| {
                Field::new(policy.as_str(), policy.label(), "number")
                    .value(value(policy))
                    .help("Days kept; 0 keeps forever.")
            })
            .collect(),
    )
}

/// A policy as the page lists it.
pub struct PolicyRow {
    pub name: &'static str,
    pub label: &'static str,
    pub days: String,
    pub source: &'static str,
    pub changed: String,
}

impl From<&PolicyView> for PolicyRow {
    fn from(view: &PolicyView) -> Self {
        Self {
            name: view.policy.as_str(),
            label: view.policy.label(),
            days: match view.keep_days.days() {
                0 => "forever".into(),
                1 => "1 day".into(),
                n => format!("{n} days"),
            },
            source: view.source.label(),
            changed: match (&view.updated_at, &view.updated_by) {
                (Some(at), Some(by)) => format!("{} by {by}", at.format("%Y-%m-%d %H:%M UTC")),
                (Some(at), None) => at.format("%Y-%m-%d %H:%M UTC").to_string(),
                _ => String::new(),
            },
        }
    }
}

/// The sweeper's last run as the page shows it.
pub struct RunView {
    pub started: String,
    pub result: String,
    pub removed: String,
    pub error: Option<String>,
}

impl From<&WorkerStatus> for RunView {
    fn from(run: &WorkerStatus) -> Self {
        let removed = run
            .last_details
            .as_ref()
            .and_then(|d| {
                serde_json::from_value::<service::operations::purge::Removed>(d.clone()).ok()
            })
            .map(|r| r.summary())
            .unwrap_or_default();
        Self {
            started: run
                .last_started_at
                .format("%Y-%m-%d %H:%M:%S UTC")
                .to_string(),
            result: run.last_result.clone(),
            removed,
            error: run.last_error.clone(),
        }
    }
}

/// The retention page.
#[derive(Template)]
#[template(path = "retention.html")]
pub struct RetentionPage {
    pub layout: Layout,
    pub policies: Vec<PolicyRow>,
    /// `None` for a caller who may not change the policies.
    pub form: Option<FormView>,
    pub last_run: Option<RunView>,
}

async fn page(
    ctx: &PageContext,
    state: &AppState,
    form: Option<FormView>,
    status: actix_web::http::StatusCode,
) -> Result<HttpResponse, PageError> {
    let policies = retention::effective(&state.db, &state.settings.retention).await?;
    let form = match form {
        Some(form) => Some(form),
        None => ctx.may(Permission::SystemWrite).then(|| {
            form_with(|p| {
                policies
                    .iter()
                    .find(|v| v.policy == p)
                    .map(|v| v.keep_days.days().to_string())
                    .unwrap_or_default()
            })
        }),
    };
    let last_run = last_run(&state.db, WORKER_NAME).await?;
    ctx.render_status(
        status,
        &RetentionPage {
            layout: ctx.layout(TITLE),
            policies: policies.iter().map(PolicyRow::from).collect(),
            form,
            last_run: last_run.as_ref().map(RunView::from),
        },
    )
}

async fn show(ctx: PageContext, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    page(&ctx, &state, None, actix_web::http::StatusCode::OK).await
}

async fn save(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    PageForm(form): PageForm<RetentionForm>,
) -> Result<HttpResponse, PageError> {
    let saved = match BTreeMap::try_from(&form) {
        Ok(changes) => {
            retention::update(
                &state.db,
                &state.settings.retention,
                &acting.actor(),
                acting.ip(),
                &changes,
            )
            .await
        }
        Err(err) => Err(err),
    };
    match saved {
        Ok(_) => Ok(ctx.redirect(
            "/system/retention",
            Flash::success("The retention policies were saved."),
        )),
        Err(err) => {
            let refused = Refused::sort(err)?;
            let kept = form_with(|p| form.sent(p).to_string()).with_error(&refused.error);
            page(&ctx, &state, Some(kept), refused.status).await
        }
    }
}

/// Runs a purge now and goes back to `/system` with what it removed.
async fn purge_now(
    ctx: PageContext,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let report = purge(&state.db, &state.settings.retention).await?;
    Ok(ctx.redirect(
        "/system",
        Flash::success(format!("Purge done: removed {}.", report.removed.summary())),
    ))
}

/// Registers the page, its form and the purge button's target.
pub fn routes(r: &mut Router) {
    r.page(
        Method::GET,
        "/system/retention",
        Access::Permission(Permission::SystemRead),
        show,
    )
    .page(
        Method::POST,
        "/system/retention",
        Access::Permission(Permission::SystemWrite),
        save,
    )
    .page(
        Method::POST,
        "/system/purge",
        Access::Permission(Permission::SystemWrite),
        purge_now,
    );
}
