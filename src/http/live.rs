//! The live view's stream (`GET /api/v1/vehicles/{vin}/live`, server-sent
//! events): what is stored of a vehicle from now on, within about a second.
//! A stream wakes when this process commits an import, or at its poll for
//! imports committed elsewhere (another server, the CLI), and asks only
//! whether something new was stored of its vehicle; then the caller is named
//! again and the changes feed is read through the gate, so every batch sent
//! is a recorded read like any other. While nothing arrives, the caller is
//! checked every few polls (unrecorded): a revoked grant or a signed-out
//! session ends the stream.

use super::error::ApiError;
use super::principal::bearer;
use super::AppState;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::Router;
use futures::Stream;
use portal_core::domain::browse::PageQuery;
use portal_core::server::authz::Principal;
use portal_core::server::error::ServiceError;
use portal_core::server::sharing::GRANT_TOKEN_PREFIX;
use portal_core::server::Portal;
use std::convert::Infallible;
use std::time::{Duration, Instant};
use tower_sessions::Session;

/// How often a stream asks whether something was stored by another process.
const POLL: Duration = Duration::from_millis(750);
/// How long a stream with nothing new goes before it asks again whether
/// the caller may still follow. Counted in time, not in quiet polls: every
/// import this process commits wakes every stream, so on a busy server no
/// poll would ever be quiet.
const RECHECK: Duration = Duration::from_secs(3);
/// The most records one message carries (the rest follow at once).
const BATCH: u32 = 1000;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/vehicles/{vin}/live", get(live))
}

/// How the caller proves who they are, asked again at every batch.
#[derive(Clone)]
enum Caller {
    Session(Session),
    Token(String),
}

impl Caller {
    async fn principal(&self, portal: &Portal) -> Result<Option<Principal>, ServiceError> {
        match self {
            Caller::Session(session) => app::session::principal(portal, session).await,
            Caller::Token(token) => portal.recipient(token).await,
        }
    }
}

/// `end`, with why (`[{"kind": "end", "error": CODE}]`): the stream closes.
fn end(code: &str) -> Event {
    Event::default()
        .event("end")
        .data(serde_json::json!([{"kind": "end", "error": code}]).to_string())
}

struct Live {
    portal: Portal,
    caller: Caller,
    vin: String,
    cursor: String,
    stored: tokio::sync::watch::Receiver<u64>,
    /// When the caller was last found allowed to follow.
    checked: Instant,
}

impl Live {
    /// Whether the caller, named again, may still follow the vehicle.
    async fn may_follow(&self) -> bool {
        let Ok(who) = self.caller.principal(&self.portal).await else {
            return true; // a passing store error is not a revocation
        };
        self.portal
            .may_follow(who.as_ref(), &self.vin)
            .await
            .unwrap_or(true)
    }

    /// The next message: a batch of records (`changes`), or `end` when
    /// the caller may no longer read (then the stream closes).
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Option<Live>)> {
        loop {
            tokio::select! {
                _ = self.stored.changed() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
            match self.portal.stored_after(&self.vin, &self.cursor).await {
                Ok(false) => {
                    if self.checked.elapsed() >= RECHECK {
                        if !self.may_follow().await {
                            return Some((Ok(end("not_found")), None));
                        }
                        self.checked = Instant::now();
                    }
                    continue;
                }
                Ok(true) => {}
                Err(e) => return Some((Ok(end(e.code())), None)),
            }
            let who = self.caller.principal(&self.portal).await.ok().flatten();
            let query = PageQuery {
                cursor: Some(self.cursor.clone()),
                limit: Some(BATCH),
            };
            match self.portal.changes(who.as_ref(), &self.vin, &query).await {
                Ok(page) => {
                    self.cursor = page.next_cursor;
                    if page.items.is_empty() {
                        continue;
                    }
                    let event = Event::default()
                        .event("changes")
                        .json_data(&page.items)
                        .unwrap_or_else(|_| end("internal"));
                    return Some((Ok(event), Some(self)));
                }
                Err(e) => return Some((Ok(end(e.code())), None)),
            }
        }
    }
}

async fn live(
    State(portal): State<Portal>,
    headers: HeaderMap,
    session: Session,
    Path(vin): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let caller = match bearer(&headers).filter(|t| t.starts_with(GRANT_TOKEN_PREFIX)) {
        Some(token) => Caller::Token(token.to_string()),
        None => Caller::Session(session),
    };
    let who = match &caller {
        Caller::Token(token) => Some(
            portal
                .recipient(token)
                .await?
                .ok_or(ServiceError::UnknownToken)?,
        ),
        caller => caller.principal(&portal).await?,
    };
    // Subscribed before the cursor is read: no import falls between them.
    let stored = portal_core::server::changes::stored_signal();
    let (vin, cursor) = portal.live_cursor(who.as_ref(), &vin).await?;
    let first = Live {
        portal,
        caller,
        vin,
        cursor,
        stored,
        checked: Instant::now(),
    };
    let stream = futures::stream::unfold(Some(first), |live| async move { live?.next().await });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
