//! The dashboard's live parts: `/sync/events`, a server-sent event stream of changed tenant
//! cards, and `/sync/cards`, every card as JSON for the polling fallback.
//!
//! Both belong to the `/sync` page (they need what it needs, `sync:read`), not to the JSON
//! API: the stream never ends by itself, which an API client or fuzzer cannot consume.
//! A stream starts with every card, then sends the cards that changed (from the process's
//! [`LiveHub`](service::sync::LiveHub), which watches the database, so a change made through
//! any instance arrives), a `ping` every few seconds of quiet so the page can tell a silent
//! stream from a dead one, and ends when the server stops.

use std::convert::Infallible;
use std::time::Duration;

use actix_web::http::{Method, StatusCode, header};
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use futures_util::stream;
use serde::Serialize;
use service::access::Permission;
use service::sync::live::cards;
use service::sync::{LiveEvent, TenantCard};

use crate::auth::Access;
use crate::error::PageError;
use crate::routes::router::Router;
use crate::state::AppState;

/// Quiet time after which a stream sends a `ping` (the page gives up after about twice this).
pub const PING_EVERY: Duration = Duration::from_secs(5);

/// How long the browser waits before reconnecting by itself (the page's own logic usually
/// reconnects first).
const RETRY_MS: u32 = 2000;

/// One event of the stream.
fn frame(event: &str, data: &impl Serialize) -> Bytes {
    let json = serde_json::to_string(data).unwrap_or_else(|_| "[]".into());
    Bytes::from(format!("event: {event}\ndata: {json}\n\n"))
}

async fn events(state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    if state.sync_live.stopping() {
        return Err(PageError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "The server is stopping.",
        ));
    }
    // Subscribe before reading the cards, so that no change falls between the two.
    let subscription = state.sync_live.subscribe();
    let initial = cards(&state.db).await?;
    let db = state.db.clone();
    let first = Bytes::from(format!("retry: {RETRY_MS}\n\n"));
    let opening = stream::iter([Ok::<_, Infallible>(first), Ok(frame("cards", &initial))]);
    let changes = stream::unfold(Some((subscription, db)), |slot| async move {
        let (mut subscription, db) = slot?;
        let bytes = match subscription.next(&db, PING_EVERY).await {
            LiveEvent::Cards(cards) => frame("cards", &cards),
            LiveEvent::Ping => Bytes::from_static(b"event: ping\ndata: {}\n\n"),
            LiveEvent::End => return None,
        };
        Some((Ok::<_, Infallible>(bytes), Some((subscription, db))))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        // Proxies such as nginx must pass each event on at once.
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(futures_util::StreamExt::chain(opening, changes)))
}

/// Every card, for pages that cannot keep a stream open.
async fn all_cards(state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let all: Vec<TenantCard> = cards(&state.db).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(all))
}

/// Registers the live routes.
pub fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::SyncRead);
    r.page(Method::GET, "/sync/events", read, events).page(
        Method::GET,
        "/sync/cards",
        read,
        all_cards,
    );
}
