//! One resource (`/ops/resources/{type}/{name}`): its current state with its hash and last
//! run, its versions and a diff between any two; for callers holding `ops:write`, a button
//! per version that asks first and then restores that state as the API's restore does
//! (honouring the hash the page showed, audited).

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use serde_json::Value;
use service::access::Permission;
use service::affected::{self, Affected};
use service::orchestration::diff::diff;
use service::orchestration::resources::{self, ResourceKey, ResourceView};
use service::orchestration::versions::{self, VersionView};
use service::pagination::PageRequest;

use super::pages::{bad, pretty, segment, time};
use crate::auth::{Access, Acting};
use crate::error::{PageError, classify};
use crate::flash::Flash;
use crate::pages::{Confirmation, Layout, PageContext, count_of};
use crate::routes::forms::{PageForm, Refused, page_form};
use crate::routes::router::Router;
use crate::state::AppState;

/// A version row of the resource page.
struct VersionRow {
    serial: i64,
    hash: String,
    run: String,
    actor: String,
    at: String,
    /// Where its restore button posts, when it has one (not for the current state, not for
    /// a deletion, not for callers who may not write).
    restore: Option<String>,
}

/// One line of a diff.
struct DiffLine {
    path: String,
    kind: &'static str,
    old: String,
    new: String,
}

#[derive(Template)]
#[template(path = "ops_resource.html")]
struct ResourcePage {
    layout: Layout,
    resource_type: String,
    /// Absent once deleted (the history stays).
    current: Option<(String, String, String, String)>,
    /// The hash a restore from this page expects to replace (empty once deleted).
    if_match: String,
    versions: Vec<VersionRow>,
    older: Option<String>,
    /// The serials compared, and the differences.
    compared: Option<(i64, i64)>,
    diff: Vec<DiffLine>,
    base: String,
    /// Why a restore was refused.
    refused: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ResourceQuery {
    from: Option<i64>,
    to: Option<i64>,
    cursor: Option<String>,
}

/// The resource page's address.
fn address(key: &ResourceKey) -> String {
    format!(
        "/ops/resources/{}/{}",
        segment(key.resource_type.as_str()),
        segment(key.resource_name.as_str())
    )
}

/// The resource's current state, or none once it was deleted.
async fn current(state: &AppState, key: &ResourceKey) -> Result<Option<ResourceView>, PageError> {
    match resources::get(&state.db, key).await {
        Ok(r) => Ok(Some(r)),
        Err(service::Error::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The differences between two states (null for a deletion or an absent resource).
fn changes(old: Option<&Value>, new: Option<&Value>) -> Vec<DiffLine> {
    let null = Value::Null;
    diff(old.unwrap_or(&null), new.unwrap_or(&null))
        .into_iter()
        .map(|c| DiffLine {
            path: c.path,
            kind: c.kind.as_str(),
            old: c.old.unwrap_or_default(),
            new: c.new.unwrap_or_default(),
        })
        .collect()
}

async fn resource_page(
    ctx: PageContext,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    query: web::Query<ResourceQuery>,
) -> Result<HttpResponse, PageError> {
    let key = ResourceKey::parse(&path.0, &path.1).map_err(bad)?;
    render(&ctx, &state, StatusCode::OK, &key, &query, None).await
}

/// The page of `key` with `status`; `refused` says why a restore was refused.
async fn render(
    ctx: &PageContext,
    state: &AppState,
    status: StatusCode,
    key: &ResourceKey,
    query: &ResourceQuery,
    refused: Option<String>,
) -> Result<HttpResponse, PageError> {
    let page = PageRequest::parse(Some(50), query.cursor.as_deref()).map_err(bad)?;
    let history = versions::list(&state.db, key, &page).await?;
    let now = current(state, key).await?;
    let base = address(key);
    let newest = history.items.first().map_or(0, |v| v.serial);
    let (from, to) = (query.from.unwrap_or(newest - 1), query.to.unwrap_or(newest));
    let mut lines = Vec::new();
    let mut compared = None;
    if from >= 1 && to >= 1 && from != to {
        let a = versions::get(&state.db, key, from).await?;
        let b = versions::get(&state.db, key, to).await?;
        lines = changes(a.state.as_ref(), b.state.as_ref());
        compared = Some((from, to));
    }
    let write = ctx.may(Permission::OpsWrite);
    let current_serial = now.as_ref().map(|r| r.serial);
    let row = |v: &VersionView| VersionRow {
        serial: v.serial,
        hash: v.hash.clone().unwrap_or_else(|| "deleted".into()),
        run: v.run_id.clone().unwrap_or_else(|| "—".into()),
        actor: v.actor.clone().unwrap_or_default(),
        at: time(Some(v.created_at)),
        restore: (write && v.state.is_some() && Some(v.serial) != current_serial)
            .then(|| format!("{base}/versions/{}/restore", v.serial)),
    };
    ctx.render_status(
        status,
        &ResourcePage {
            layout: ctx.layout(format!("{} {}", key.resource_type, key.resource_name)),
            resource_type: key.resource_type.as_str().to_string(),
            if_match: now.as_ref().map(|r| r.hash.clone()).unwrap_or_default(),
            current: now.map(|r| {
                (
                    pretty(&r.state),
                    r.hash,
                    r.last_run_id.unwrap_or_else(|| "—".into()),
                    time(r.last_applied),
                )
            }),
            versions: history.items.iter().map(row).collect(),
            older: history.next_cursor.map(|c| format!("{base}?cursor={c}")),
            compared,
            diff: lines,
            base,
            refused,
        },
    )
}

page_form! {
    /// The body of a restore: the hash the page showed (so that a state written since is
    /// not overwritten unseen) and the confirmation once the question was answered.
    struct RestoreForm {
        confirm: String,
        if_match: String,
    }
}

/// The question before restoring `version` over `now`: what changes, path by path.
fn question(base: &str, version: &VersionView, now: Option<&ResourceView>) -> Confirmation {
    let lines = changes(now.map(|r| &r.state), version.state.as_ref());
    let reached = Affected {
        total: lines.len() as u64,
        names: lines
            .iter()
            .take(affected::SHOWN as usize)
            .map(|l| match l.kind {
                "added" => format!("{}: added {}", l.path, l.new),
                "removed" => format!("{}: removed ({})", l.path, l.old),
                _ => format!("{}: {} → {}", l.path, l.old, l.new),
            })
            .collect(),
    };
    let next = now.map_or_else(
        || "a new version".to_string(),
        |r| format!("version {}", r.serial + 1),
    );
    Confirmation::new(
        format!(
            "Restore version {} of {}/{}?",
            version.serial, version.resource_type, version.resource_name
        ),
        format!("{base}/versions/{}/restore", version.serial),
        "Restore version",
        base,
    )
    .what(format!(
        "The state of version {} becomes the current state, written as {next}; every version \
         stays in the history.",
        version.serial
    ))
    .reaches(&reached, |n| {
        format!(
            "{} of the current state change:",
            count_of(n, "path", "paths")
        )
    })
    .consequence(
        "An engine that read the current hash is refused (409) on its next write with \
         If-Match, and must read the resource again.",
    )
}

/// Restores a version once confirmed; before that, asks, naming what changes.
async fn restore(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    path: web::Path<(String, String, i64)>,
    PageForm(form): PageForm<RestoreForm>,
) -> Result<HttpResponse, PageError> {
    let (t, n, serial) = path.into_inner();
    let key = ResourceKey::parse(&t, &n).map_err(bad)?;
    let version = versions::get(&state.db, &key, serial).await?;
    let base = address(&key);
    // A deletion has no state to ask about: the service refuses it below.
    if form.confirm != "yes" && version.state.is_some() {
        let now = current(&state, &key).await?;
        return ctx.confirm(
            question(&base, &version, now.as_ref()).hidden(RestoreForm::if_match, &form.if_match),
        );
    }
    let expected = Some(form.if_match).filter(|h| !h.is_empty());
    let done = versions::restore(
        &state.db,
        &acting.actor(),
        acting.ip(),
        &key,
        serial,
        expected,
    )
    .await;
    match done {
        Ok(w) if w.resource.changed == Some(false) => Ok(ctx.redirect(
            &base,
            Flash::success(format!(
                "Version {serial} is the current state already; nothing changed."
            )),
        )),
        Ok(w) => Ok(ctx.redirect(
            &base,
            Flash::success(format!(
                "Version {serial} was restored as version {}.",
                w.resource.serial
            )),
        )),
        Err(e) => {
            let refused = Refused::sort(e)?;
            // A stale hash is the API's 409 here too, not a field to correct.
            let (status, _, message) = classify(&refused.error);
            let query = ResourceQuery::default();
            render(&ctx, &state, status, &key, &query, Some(message)).await
        }
    }
}

/// Registers the resource page and its action.
pub(super) fn routes(r: &mut Router) {
    r.page(
        Method::GET,
        "/ops/resources/{type}/{name}",
        Access::Permission(Permission::OpsRead),
        resource_page,
    )
    .page(
        Method::POST,
        "/ops/resources/{type}/{name}/versions/{serial}/restore",
        Access::Permission(Permission::OpsWrite),
        restore,
    );
}
