//! The WebSocket listener every WebSocket front door shares.
//!
//! Owns: accepting TCP connections (at most `max_connections` at once), the
//! HTTP upgrade with its limits (handshake time, message and frame size),
//! handing the upgrade request to the protocol to accept or refuse (its
//! authentication), refusing upgrades with 503 while the models load, and
//! the connection tasks, tracked so shutdown can end them.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::WebSocketStream;
use tokio_util::either::Either;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::metrics::IngressMetrics;
use super::plain_http::{self, Replayed};
use super::tls::Io;
use crate::auth::Door;
use crate::auth::{cert, Auth, AuthError, Presented, Principal, Scope};
use crate::calls::Caller;
use crate::pipeline::Engine;
use crate::server::EngineSlot;

/// Time a client gets to complete the TLS handshake and the HTTP upgrade.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What a protocol is told about an upgrade request.
pub struct Upgrade<'a> {
    pub request: &'a Request,
    /// Who the client is by an API key or client certificate it presented
    /// (already checked); `None`: it presented neither, and the protocol's
    /// own credential decides.
    pub principal: Option<&'a Principal>,
}

impl Upgrade<'_> {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.request.headers().get(name)?.to_str().ok()
    }
}

/// A refusal of the upgrade: HTTP status and a short reason for the body.
pub struct Refusal {
    pub status: StatusCode,
    pub reason: String,
}

/// One WebSocket protocol served by [`serve`].
pub trait Protocol: Send + Sync + 'static {
    /// What the accepted upgrade leaves for the session (e.g. the signed URL).
    type Accepted: Send + 'static;
    /// The protocol's name in metrics and logs.
    fn name(&self) -> &'static str;
    /// The front door, for the audit log.
    fn door(&self) -> Door;
    /// The principal the protocol's own credential stands for (its tenant
    /// from the credential's settings); `None`: the credential names no
    /// tenant, or there was none.
    fn principal(&self, _accepted: &Self::Accepted) -> Option<Principal> {
        None
    }
    /// WebSocket subprotocols it speaks; the first the client offers is
    /// echoed in the upgrade (some clients, libwebsockets among them, drop a
    /// connection whose server does not).
    fn subprotocols(&self) -> &'static [&'static str] {
        &[]
    }
    /// Checks the upgrade request (authentication, path).
    ///
    /// # Errors
    /// The request is refused with the given status.
    fn accept(&self, upgrade: &Upgrade<'_>) -> Result<Self::Accepted, Refusal>;
    /// Runs one connection until its call ends, the peer leaves, or `stop`
    /// is cancelled (then it ends the call's audio and closes the socket).
    fn session(
        self: Arc<Self>,
        ws: WebSocketStream<Replayed<Io>>,
        accepted: Self::Accepted,
        caller: Caller,
        engine: Arc<Engine>,
        stop: CancellationToken,
    ) -> impl Future<Output = ()> + Send;
}

/// Limits of one listener, and its TLS.
#[derive(Clone)]
pub struct Limits {
    pub max_connections: usize,
    pub max_message_bytes: usize,
    /// Set: connections must open with a TLS handshake.
    pub tls: Option<TlsAcceptor>,
    /// Credentials (API keys, client certificates) and the audit log.
    pub auth: Arc<Auth>,
}

/// A listener's part in shutdown.
#[derive(Clone)]
pub struct Lifecycle {
    /// Cancelled: stop accepting.
    pub stop: CancellationToken,
    /// Cancelled: open sessions end their calls' audio and close.
    pub sessions: CancellationToken,
    /// Where the accept loop's connection tasks run.
    pub tracker: TaskTracker,
}

/// Serves `protocol` on `listener` until `life.stop` is cancelled.
pub async fn serve<P: Protocol>(
    listener: TcpListener,
    protocol: Arc<P>,
    limits: Limits,
    slot: EngineSlot,
    metrics: IngressMetrics,
    life: Lifecycle,
) {
    let Lifecycle {
        stop,
        sessions,
        tracker,
    } = life;
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let ws_config = WebSocketConfig::default()
        .max_message_size(Some(limits.max_message_bytes))
        .max_frame_size(Some(limits.max_message_bytes));
    loop {
        let (tcp, peer) = tokio::select! {
            () = stop.cancelled() => break,
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(protocol = protocol.name(), error = %e, "Accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        let permit = Arc::clone(&permits).try_acquire_owned().ok();
        let (protocol, slot, metrics, sessions, tls, stop_all, auth) = (
            Arc::clone(&protocol),
            Arc::clone(&slot),
            metrics.clone(),
            sessions.clone(),
            limits.tls.clone(),
            stop.clone(),
            Arc::clone(&limits.auth),
        );
        let max_connections = limits.max_connections;
        tracker.spawn(async move {
            let mut accepted = None;
            let engine = slot.get().cloned();
            let door = protocol.door();
            // The client certificate's tenant, once the TLS handshake is done.
            let cert_tenant: std::sync::OnceLock<Result<Option<String>, AuthError>> =
                std::sync::OnceLock::new();
            #[allow(clippy::result_large_err)] // the type is tungstenite's
            let callback = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
                let refusal = if permit.is_none() {
                    Refusal {
                        status: StatusCode::SERVICE_UNAVAILABLE,
                        reason: format!("listener is at its limit of {max_connections} connections"),
                    }
                } else if engine.is_none() {
                    Refusal {
                        status: StatusCode::SERVICE_UNAVAILABLE,
                        reason: "models are loading; retry shortly".into(),
                    }
                } else {
                    match authenticate(&auth, door, req, cert_tenant.get()) {
                        Err(e) => {
                            auth.denied(door, &e, peer, "connect");
                            Refusal {
                                status: StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::UNAUTHORIZED),
                                reason: e.message,
                            }
                        }
                        Ok(by_key) => match protocol.accept(&Upgrade { request: req, principal: by_key.as_ref() }) {
                            Ok(a) => {
                                let principal = by_key
                                    .or_else(|| protocol.principal(&a))
                                    .or_else(|| (!auth.required()).then(Principal::anonymous));
                                match principal {
                                    Some(p) => {
                                        accepted = Some((a, p));
                                        return Ok(with_subprotocol(req, resp, protocol.subprotocols()));
                                    }
                                    None => {
                                        let e = auth.missing(door);
                                        auth.denied(door, &e, peer, "connect");
                                        Refusal { status: StatusCode::UNAUTHORIZED, reason: e.message }
                                    }
                                }
                            }
                            Err(r) => r,
                        },
                    }
                };
                metrics.refused(refusal.status);
                tracing::info!(protocol = protocol.name(), %peer, status = refusal.status.as_u16(), reason = %refusal.reason, "Upgrade refused");
                let mut e = ErrorResponse::new(Some(refusal.reason));
                *e.status_mut() = refusal.status;
                Err(e)
            };
            let handshake = async {
                let io: Io = match tls {
                    Some(tls) => {
                        let stream = tls.accept(tcp).await.map_err(|e| format!("TLS: {e}"))?;
                        if let (Some(m), Some(certs)) = (auth.mtls(), stream.get_ref().1.peer_certificates()) {
                            if let Some(c) = certs.first() {
                                let _ = cert_tenant.set(
                                    cert::tenant_of(c, m.tenant_from)
                                        .map(Some)
                                        .map_err(|e| AuthError::unauthenticated(e, "bad_certificate")),
                                );
                            }
                        }
                        Either::Right(stream)
                    }
                    None => Either::Left(tcp),
                };
                let io = match plain_http::read_request(io).await.map_err(|e| e.to_string())? {
                    plain_http::Request::Upgrade(io) => io,
                    plain_http::Request::Get { path, mut conn, authorization } => {
                        let (status, body) = if path == "/metrics" {
                            match metrics_allowed(&auth, authorization.as_deref()) {
                                Ok(()) => (200, plain_http::metrics_of(&metrics.render(), protocol.name())),
                                Err(e) => {
                                    auth.denied(Door::Metrics, &e, peer, "metrics.read");
                                    (e.http_status(), format!("{{\"error\":{}}}\n", serde_json::Value::from(e.message)))
                                }
                            }
                        } else {
                            let state = if engine.is_none() {
                                "loading"
                            } else if sessions.is_cancelled() || stop_all.is_cancelled() {
                                "draining"
                            } else if permit.is_none() {
                                "at_capacity"
                            } else {
                                "serving"
                            };
                            let status = if state == "serving" { 200 } else { 503 };
                            (status, format!("{{\"status\":\"{state}\",\"protocol\":\"{}\"}}\n", protocol.name()))
                        };
                        let kind = if path == "/metrics" && status == 200 { "text/plain; version=0.0.4" } else { "application/json" };
                        plain_http::respond(&mut conn, status, kind, &body).await;
                        return Err("answered a plain GET".to_string());
                    }
                };
                tokio_tungstenite::accept_hdr_async_with_config(io, callback, Some(ws_config))
                    .await
                    .map_err(|e| e.to_string())
            };
            let ws = match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
                Ok(Ok(ws)) => ws,
                Ok(Err(e)) => {
                    tracing::debug!(protocol = protocol.name(), %peer, error = %e, "Handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(protocol = protocol.name(), %peer, "Handshake timed out");
                    return;
                }
            };
            let (Some((accepted, principal)), Some(engine)) = (accepted, engine) else {
                return;
            };
            let _permit = permit;
            let _open = metrics.open();
            let caller = Caller {
                principal,
                door,
                peer: peer.to_string(),
            };
            protocol.session(ws, accepted, caller, engine, sessions).await;
        });
    }
}

/// The principal of an API key or client certificate the upgrade presents
/// (`None`: neither).
fn authenticate(
    auth: &Auth,
    door: Door,
    req: &Request,
    cert_tenant: Option<&Result<Option<String>, AuthError>>,
) -> Result<Option<Principal>, AuthError> {
    let cert_tenant = match cert_tenant {
        Some(r) => r.as_ref().map_err(Clone::clone)?.as_deref(),
        None => None,
    };
    let authorization = match req.headers().get("authorization") {
        Some(v) => Some(v.to_str().map_err(|_| {
            AuthError::unauthenticated("Authorization header is not text", "bad_authorization")
        })?),
        None => None,
    };
    // A protocol's own Basic credentials travel in the same header.
    let authorization =
        authorization.filter(|a| !a.trim_start().to_ascii_lowercase().starts_with("basic "));
    auth.authenticate(
        door,
        Presented {
            authorization,
            cert_tenant,
        },
        Scope::Calls,
    )
}

/// Whether a plain `GET /metrics` may be answered.
fn metrics_allowed(auth: &Auth, authorization: Option<&str>) -> Result<(), AuthError> {
    match auth.metrics_exposure() {
        crate::auth::Exposure::Open => Ok(()),
        crate::auth::Exposure::Off => Err(AuthError::permission_denied(
            "metrics are not served here (auth.metrics = \"off\")",
            "metrics_off",
        )),
        crate::auth::Exposure::Authenticated => match auth.authenticate(
            Door::Metrics,
            Presented {
                authorization,
                cert_tenant: None,
            },
            Scope::Metrics,
        )? {
            Some(_) => Ok(()),
            None => Err(auth.missing(Door::Metrics)),
        },
    }
}

/// `resp` with the first subprotocol `req` offers that `ours` has.
fn with_subprotocol(req: &Request, mut resp: Response, ours: &[&str]) -> Response {
    let offered = req
        .headers()
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim);
    if let Some(p) = offered.into_iter().find(|p| ours.contains(p)) {
        if let Ok(v) = p.parse() {
            resp.headers_mut().insert("sec-websocket-protocol", v);
        }
    }
    resp
}
