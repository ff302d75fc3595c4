//! `/ops/runs/{id}/events`: the run page's live log, a server-sent event stream of the run's
//! new events (as the sync dashboard's stream does for its cards).
//!
//! It belongs to the run page (it needs `ops:read`), not to the JSON API: it never ends while
//! the run is running. It sends the events after `after_id` as they are appended (looking at
//! the database, so events appended through any instance arrive), a `ping` after a few
//! quiet seconds, and `end` once the run has ended and its last events are sent; it also
//! ends when the server stops.

use std::convert::Infallible;
use std::time::Duration;

use actix_web::http::{Method, StatusCode, header};
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use futures_util::stream;
use serde::{Deserialize, Serialize};
use service::access::Permission;
use service::orchestration::events::{self, EventFilter, EventView, Start};
use service::orchestration::{Level, runs};

use crate::auth::Access;
use crate::error::PageError;
use crate::routes::router::Router;
use crate::routes::sync::live::PING_EVERY;
use crate::state::AppState;

/// How often the stream looks for new events.
const POLL: Duration = Duration::from_millis(400);
/// Most events one frame carries.
const FRAME_MAX: u64 = 500;

#[derive(Debug, Deserialize)]
struct LiveQuery {
    after_id: Option<i64>,
    min_level: Option<String>,
}

/// An event as the page's log shows it.
#[derive(Debug, Serialize)]
struct Line {
    id: i64,
    at: String,
    level: &'static str,
    unit: String,
    message: String,
}

impl From<EventView> for Line {
    fn from(e: EventView) -> Self {
        Self {
            id: e.id,
            at: e.timestamp.format("%H:%M:%S%.3f").to_string(),
            level: e.level.as_str(),
            unit: e.plan_unit_id.unwrap_or_default(),
            message: e.message,
        }
    }
}

fn frame(event: &str, data: &impl Serialize) -> Bytes {
    let json = serde_json::to_string(data).unwrap_or_else(|_| "[]".into());
    Bytes::from(format!("event: {event}\ndata: {json}\n\n"))
}

/// Where a stream is.
struct Follow {
    state: web::Data<AppState>,
    filter: EventFilter,
    after: i64,
    quiet: Duration,
    ended: bool,
}

impl Follow {
    /// The next frame: new events, a ping, `end`, or nothing more.
    async fn next(&mut self) -> Option<Bytes> {
        loop {
            if self.ended || self.state.sync_live.stopping() {
                return None;
            }
            // Read whether the run has ended before its events, so none appended before
            // the end is missed.
            let ended = runs::get_run(&self.state.db, self.filter.run_id.as_deref()?)
                .await
                .map(|r| r.status.is_terminal())
                .unwrap_or(true);
            let page = events::tail(
                &self.state.db,
                &self.filter,
                Start::After(self.after),
                FRAME_MAX,
            )
            .await
            .ok()?;
            if let Some(last) = page.items.last() {
                self.after = last.id;
                self.quiet = Duration::ZERO;
                let lines: Vec<Line> = page.items.into_iter().map(Line::from).collect();
                return Some(frame("events", &lines));
            }
            if ended {
                self.ended = true;
                return Some(Bytes::from_static(b"event: end\ndata: {}\n\n"));
            }
            if self.quiet >= PING_EVERY {
                self.quiet = Duration::ZERO;
                return Some(Bytes::from_static(b"event: ping\ndata: {}\n\n"));
            }
            tokio::time::sleep(POLL).await;
            self.quiet += POLL;
        }
    }
}

async fn follow(
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<LiveQuery>,
) -> Result<HttpResponse, PageError> {
    if state.sync_live.stopping() {
        return Err(PageError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "The server is stopping.",
        ));
    }
    let run = runs::get_run(&state.db, &id).await?;
    let min_level = query
        .min_level
        .as_deref()
        .filter(|l| !l.is_empty())
        .map(|l| Level::parse(l, "min_level"))
        .transpose()
        .map_err(|e| PageError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    let follow = Follow {
        state,
        filter: EventFilter {
            run_id: Some(run.id),
            min_level,
            ..EventFilter::default()
        },
        after: query.after_id.unwrap_or(0),
        quiet: Duration::ZERO,
        ended: false,
    };
    let opening = stream::iter([Ok::<_, Infallible>(Bytes::from_static(b"retry: 2000\n\n"))]);
    let frames = stream::unfold(follow, |mut f| async move {
        let bytes = f.next().await?;
        Some((Ok::<_, Infallible>(bytes), f))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(futures_util::StreamExt::chain(opening, frames)))
}

/// Registers the live log.
pub fn routes(r: &mut Router) {
    r.page(
        Method::GET,
        "/ops/runs/{id}/events",
        Access::Permission(Permission::OpsRead),
        follow,
    );
}
