//! `/system` (`system:read`): the database, its upkeep and the buttons that act on it
//! (`system:write`; hidden otherwise, and refused by the server anyway).

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use askama::Template;
use service::access::Permission;
use service::operations::check_and_record;
use service::operations::status::{EXACT_COUNT_LIMIT, system_status};

use super::view::{BackupLine, Fact, LastCheck, MigrationLine, TableLine, WorkerLine, facts, when};
use crate::auth::Access;
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::{Layout, PageContext, thousands};
use crate::routes::router::Router;
use crate::state::AppState;

/// The page.
#[derive(Template)]
#[template(path = "system.html")]
struct SystemPage {
    layout: Layout,
    /// The caller may press the buttons.
    write: bool,
    /// SQLite: backups are copies this instance takes; PostgreSQL: `pg_dump`'s job.
    sqlite: bool,
    facts: Vec<Fact>,
    last_check: Option<LastCheck>,
    last_verified: String,
    /// How scheduled backups are set up, in a sentence.
    schedule: String,
    backups: Vec<BackupLine>,
    workers: Vec<WorkerLine>,
    tables: Vec<TableLine>,
    /// How the row counts were taken.
    counts_note: String,
    migrations: Vec<MigrationLine>,
}

async fn show(ctx: PageContext, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let status = system_status(&state.db, &state.settings.database_url).await?;
    let sqlite = status.backend == "sqlite";
    let schedule = match &state.settings.backup_schedule {
        Some(s) => format!(
            "Scheduled backups go to {} every {} s; the newest {} files are kept.",
            s.dir.display(),
            thousands(s.every.as_secs()),
            s.keep
        ),
        None if sqlite => {
            "Scheduled backups are off: set METADECK_BACKUP_DIR (and METADECK_BACKUP_EVERY, METADECK_BACKUP_KEEP) to turn them on.".into()
        }
        None => "On PostgreSQL, back up with pg_dump (e.g. pg_dump -Fc -f metadeck.dump \"$DATABASE_URL\").".into(),
    };
    let counts_note = if sqlite {
        format!(
            "Counted exactly up to {} rows per table; a bigger table shows ≈ the span of its row ids instead, so this page never reads a big table through.",
            thousands(EXACT_COUNT_LIMIT as u64)
        )
    } else {
        "PostgreSQL's estimates (pg_class.reltuples, refreshed by ANALYZE and autovacuum), so this page never scans a table.".into()
    };
    let page = SystemPage {
        layout: ctx.layout("System"),
        write: ctx.may(Permission::SystemWrite),
        sqlite,
        facts: facts(&status),
        last_check: LastCheck::of(&status.workers),
        last_verified: when(status.last_verified_restorable_at),
        schedule,
        backups: status.backups.iter().map(BackupLine::from).collect(),
        workers: status.workers.iter().map(WorkerLine::from).collect(),
        tables: status.tables.iter().map(TableLine::from).collect(),
        counts_note,
        migrations: status.migrations.iter().map(MigrationLine::from).collect(),
    };
    ctx.render(&page)
}

/// "Check now": runs the check, records it, and shows the findings on `/system`.
async fn check(ctx: PageContext, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let report = check_and_record(&state.db)
        .await
        .map_err(service::Error::from)?;
    let flash = if report.ok() {
        Flash::success(format!(
            "The check found no problem ({}).",
            report.checks.join(", ")
        ))
    } else {
        Flash::error(format!(
            "The check found {} problem(s); they are listed under Last check.",
            report.problems.len()
        ))
    };
    Ok(ctx.redirect("/system", flash))
}

/// Registers the page routes.
pub fn routes(r: &mut Router) {
    r.page(
        Method::GET,
        "/system",
        Access::Permission(Permission::SystemRead),
        show,
    )
    .page(
        Method::POST,
        "/system/check",
        Access::Permission(Permission::SystemWrite),
        check,
    );
}
