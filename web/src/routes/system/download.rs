//! "Download backup" on `/system`: a verified copy, answered as an attachment.
//!
//! The copy is taken and verified first (a `backups` row, like any backup); the answer then
//! streams the finished file, so nothing of the database is locked while the browser
//! downloads. With `METADECK_BACKUP_DIR` set the copy is kept there as one of the scheduled
//! files; without it, it is written next to the database and removed as soon as it is open
//! for the download.

use std::path::{Path, PathBuf};

use actix_files::NamedFile;
use actix_web::http::Method;
use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use service::access::Permission;
use service::operations::Trigger;
use service::operations::backup;

use crate::auth::{Access, Acting};
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::PageContext;
use crate::routes::router::Router;
use crate::state::AppState;

/// Where the page's copy goes, and whether it stays there after the download.
fn destination(state: &AppState, name: &str) -> (PathBuf, bool) {
    if let Some(schedule) = &state.settings.backup_schedule {
        return (schedule.dir.join(name), true);
    }
    let dir = service::db::sqlite_path(&state.settings.database_url)
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    (dir.join(format!(".download-{name}")), false)
}

async fn download(
    req: HttpRequest,
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let name = format!("metadeck-{}.db", Utc::now().format("%Y%m%dT%H%M%S%.3fZ"));
    let (path, keep) = destination(&state, &name);
    let record = match backup::take(&state.db, Trigger::Page, &acting.actor(), &path).await {
        Ok(record) => record,
        Err(service::Error::Forbidden(message)) => {
            return Ok(ctx.redirect("/system", Flash::error(message)));
        }
        Err(err) => return Err(err.into()),
    };
    if !record.succeeded() {
        let error = record.error.unwrap_or_default();
        return Ok(ctx.redirect(
            "/system",
            Flash::error(format!("The backup failed: {error}")),
        ));
    }
    let file = std::fs::File::open(&path).map_err(service::Error::internal)?;
    if !keep {
        // The open handle keeps the data readable until the download ends.
        let _ = std::fs::remove_file(&path);
    }
    let named = NamedFile::from_file(file, &name)
        .map_err(service::Error::internal)?
        .set_content_type(
            "application/vnd.sqlite3"
                .parse()
                .map_err(service::Error::internal)?,
        )
        .set_content_disposition(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(name.clone())],
        })
        .use_etag(false)
        .use_last_modified(false);
    let mut res = named.into_response(&req);
    res.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    if let Some(sha256) = &record.sha256
        && let Ok(value) = actix_web::http::header::HeaderValue::from_str(sha256)
    {
        res.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("x-backup-sha256"),
            value,
        );
    }
    Ok(res)
}

/// Registers the route.
pub fn routes(r: &mut Router) {
    r.page(
        Method::POST,
        "/system/backup",
        Access::Permission(Permission::SystemWrite),
        download,
    );
}
