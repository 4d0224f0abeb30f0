//! The board's HTTP side: the page (embedded, no CDN), the JSON feed and
//! its Server-Sent Events, behind per-tenant supervisor credentials.
//!
//! Routes (all but `/health` need HTTP Basic credentials of a supervisor in
//! `[[ui.supervisors]]`, or an API key with the `board` scope as
//! `Authorization: Bearer`; either sees only its tenant's calls):
//! - `GET /` — the board; `GET /board.js`, `GET /board.css` — its assets.
//! - `GET /api/calls` — `{"tenant", "calls": [...]}`: every call the
//!   supervisor may see, by need (open alerts, worst trend first; finished
//!   calls last), without transcripts.
//! - `GET /api/calls/{call_id}` — one call with its transcript and alerts.
//! - `GET /api/events` — Server-Sent Events: `snapshot` (as `/api/calls`)
//!   first and whenever the viewer fell behind, then `call` (a call's row
//!   changed), `turn` (a final turn, masked) and `alert`.
//! - `GET /health` — 200.
//!
//! Must not: hold a call up — viewers read the hub's broadcast at their own
//! pace, and at most `ui.max_viewers` event streams are open at once.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use futures::{Stream, StreamExt};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::sync::{broadcast, Semaphore};
use tokio_util::sync::CancellationToken;

use super::hub::{Board, Published};

const PAGE: &str = include_str!("page/index.html");
const SCRIPT: &str = include_str!("page/board.js");
const STYLE: &str = include_str!("page/board.css");

#[derive(Clone)]
struct App {
    board: Arc<Board>,
    auth: Arc<crate::auth::Auth>,
    viewers: Arc<Semaphore>,
    stop: CancellationToken,
}

/// Serves the board on `listener` until `stop` is cancelled (open event
/// streams end then too).
///
/// # Errors
/// The listener failed.
pub async fn serve(
    board: Arc<Board>,
    auth: Arc<crate::auth::Auth>,
    listener: tokio::net::TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    stop: CancellationToken,
) -> std::io::Result<()> {
    let app = App {
        viewers: Arc::new(Semaphore::new(board.config().max_viewers)),
        board,
        auth,
        stop: stop.clone(),
    };
    let router = router(app);
    match tls {
        Some(acceptor) => {
            axum::serve(super::TlsListener::new(listener, acceptor)?, router)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await
        }
        None => {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await
        }
    }
}

fn router(app: App) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/board.js", get(script))
        .route("/board.css", get(style))
        .route("/api/calls", get(calls))
        .route("/api/calls/{call_id}", get(one_call))
        .route("/api/events", get(events))
        .route("/health", get(|| async { "ok" }))
        .with_state(app)
}

/// A refused request: its status and why.
struct Refused(StatusCode, String);

/// Why a request was refused.
fn unauthorized(why: Refused) -> Response {
    let Refused(status, why) = why;
    if status == StatusCode::UNAUTHORIZED {
        (
            status,
            [(
                header::WWW_AUTHENTICATE,
                "Basic realm=\"callsense board\", charset=\"UTF-8\"",
            )],
            format!("{why}\n"),
        )
            .into_response()
    } else {
        (status, format!("{why}\n")).into_response()
    }
}

/// The tenant the request's supervisor or key may see ("*": all), or why
/// there is none. Refusals are counted and audited.
fn tenant(app: &App, headers: &HeaderMap) -> Result<String, Refused> {
    use crate::auth::{AuthError, Door, Presented, Scope, TenantScope};
    let refuse = |e: AuthError| {
        app.auth.denied(Door::Board, &e, "", "board.view");
        Refused(
            StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::UNAUTHORIZED),
            e.message,
        )
    };
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(refuse(AuthError::unauthenticated(
            "supervisor credentials required",
            "no_credential",
        )));
    };
    let Ok(value) = value.to_str() else {
        return Err(refuse(AuthError::unauthenticated(
            "Authorization is not text",
            "bad_authorization",
        )));
    };
    if value.len() > 7 && value[..7].eq_ignore_ascii_case("bearer ") {
        let presented = Presented {
            authorization: Some(value),
            cert_tenant: None,
        };
        return match app.auth.authenticate(Door::Board, presented, Scope::Board) {
            Ok(Some(p)) => Ok(match p.tenant {
                TenantScope::One(t) => t,
                TenantScope::Any => "*".into(),
            }),
            Ok(None) => Err(refuse(app.auth.missing(Door::Board))),
            Err(e) => Err(refuse(e)),
        };
    }
    tenant_of_supervisor(app, value)
        .map_err(|why| refuse(AuthError::unauthenticated(why, "bad_supervisor")))
}

/// The tenant of the supervisor named by HTTP Basic `value`.
fn tenant_of_supervisor(app: &App, value: &str) -> Result<String, &'static str> {
    let decoded = value
        .strip_prefix("Basic ")
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or("Authorization must be HTTP Basic")?;
    let (name, password) = decoded
        .split_once(':')
        .ok_or("Authorization must be HTTP Basic")?;
    let digest = hex::encode(Sha256::digest(password.as_bytes()));
    let found = app.board.config().supervisors.iter().find(|s| {
        s.name == name
            && same(
                s.password_sha256.to_ascii_lowercase().as_bytes(),
                digest.as_bytes(),
            )
    });
    match found {
        Some(s) => Ok(s.tenant.clone()),
        None => Err("unknown supervisor or wrong password"),
    }
}

/// Compares in time independent of where the inputs differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn page(State(app): State<App>, headers: HeaderMap) -> Response {
    match tenant(&app, &headers) {
        Ok(_) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            PAGE,
        )
            .into_response(),
        Err(why) => unauthorized(why),
    }
}

async fn script(State(app): State<App>, headers: HeaderMap) -> Response {
    match tenant(&app, &headers) {
        Ok(_) => (
            [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
            SCRIPT,
        )
            .into_response(),
        Err(why) => unauthorized(why),
    }
}

async fn style(State(app): State<App>, headers: HeaderMap) -> Response {
    match tenant(&app, &headers) {
        Ok(_) => ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE).into_response(),
        Err(why) => unauthorized(why),
    }
}

fn snapshot_json(board: &Board, tenant: &str) -> serde_json::Value {
    json!({"tenant": tenant, "calls": board.snapshot(tenant)})
}

async fn calls(State(app): State<App>, headers: HeaderMap) -> Response {
    match tenant(&app, &headers) {
        Ok(t) => Json(snapshot_json(&app.board, &t)).into_response(),
        Err(why) => unauthorized(why),
    }
}

async fn one_call(
    State(app): State<App>,
    headers: HeaderMap,
    Path(call_id): Path<String>,
) -> Response {
    match tenant(&app, &headers) {
        Ok(t) => match app.board.call(&t, &call_id) {
            Some(v) => Json(v).into_response(),
            None => (
                StatusCode::NOT_FOUND,
                format!("no call {call_id:?} on your board\n"),
            )
                .into_response(),
        },
        Err(why) => unauthorized(why),
    }
}

fn snapshot_event(board: &Board, tenant: &str) -> Event {
    Event::default()
        .event("snapshot")
        .data(snapshot_json(board, tenant).to_string())
}

/// One viewer's feed: what it may see from the hub's broadcast.
struct Viewer {
    rx: broadcast::Receiver<Arc<Published>>,
    board: Arc<Board>,
    tenant: String,
    stop: CancellationToken,
    _slot: tokio::sync::OwnedSemaphorePermit,
}

impl Viewer {
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        loop {
            let got = tokio::select! {
                () = self.stop.cancelled() => return None,
                got = self.rx.recv() => got,
            };
            match got {
                Ok(p) if self.tenant == "*" || p.tenant == self.tenant => {
                    let ev = Event::default().event(p.kind).data(p.data.as_str());
                    return Some((Ok(ev), self));
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let ev = snapshot_event(&self.board, &self.tenant);
                    return Some((Ok(ev), self));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    fn stream(self) -> impl Stream<Item = Result<Event, Infallible>> {
        let first = snapshot_event(&self.board, &self.tenant);
        futures::stream::once(async move { Ok(first) })
            .chain(futures::stream::unfold(self, Viewer::next))
    }
}

async fn events(State(app): State<App>, headers: HeaderMap) -> Response {
    let tenant = match tenant(&app, &headers) {
        Ok(t) => t,
        Err(why) => return unauthorized(why),
    };
    let Ok(slot) = Arc::clone(&app.viewers).try_acquire_owned() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "5")],
            format!(
                "the board has {} live viewers, its limit (ui.max_viewers)\n",
                app.board.config().max_viewers
            ),
        )
            .into_response();
    };
    // Subscribed before the snapshot is taken, so nothing falls between.
    let viewer = Viewer {
        rx: app.board.subscribe(),
        board: Arc::clone(&app.board),
        tenant,
        stop: app.stop.clone(),
        _slot: slot,
    };
    Sse::new(viewer.stream())
        .keep_alive(KeepAlive::default())
        .into_response()
}
