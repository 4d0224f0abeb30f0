//! Telephony front doors: the protocols platforms already fork call audio
//! with, each a thin translator onto the one call path ([`crate::calls`]).
//!
//! - `listener`: the WebSocket listener they share (connection limit,
//!   upgrade limits, refusal while loading, tracked connection tasks).
//! - `interleave`: joining legs that arrive separately into one stereo stream.
//! - `twilio`: Twilio Media Streams (and Telnyx / Exotel's variant).
//! - `fork`: FreeSWITCH `mod_audio_fork` / `mod_audio_stream`, Jambonz `listen`.
//! - `audiohook`: Genesys Cloud AudioHook (signed upgrade, sequenced messages).
//! - `audiosocket`: Asterisk AudioSocket (TCP; legs joined by UUID).
//! - `tls`: TLS on the WebSocket listeners; `plain_http`: their `/health`
//!   and `/metrics`.
//! - `session`: what every session does once its protocol named the call
//!   (start it, feed it, drain its results, end it without losing audio).
//! - `config`: the `[ingress.*]` tables; `metrics`: their series.
//!
//! A new protocol is a folder here with its wire format and a session that
//! turns its start message into a [`crate::calls::NewCall`] and its media
//! into [`crate::calls::Inbound`], plus a table in [`IngressConfig`] and a
//! line in [`Ingress::start`].

pub mod audiohook;
pub mod audiosocket;
mod config;
pub mod fork;
mod interleave;
mod listener;
mod metrics;
pub mod plain_http;
mod session;
pub(crate) mod tls;
pub mod twilio;

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use config::{
    AudioHookClient, AudioHookConfig, AudioSocketConfig, BasicAuth, ForkConfig, IngressConfig,
    Side, TwilioConfig, TwilioToken,
};
pub use interleave::{InterleaveError, InterleaveStats, Interleaver, MAX_GAP_SAMPLES};
pub use listener::{Limits, Protocol, Refusal, Upgrade};
pub use metrics::IngressMetrics;

use crate::server::EngineSlot;
use crate::telemetry::Telemetry;

/// The telephony listeners' sockets, bound before serving (so a port in use
/// fails start-up, and tests can bind port 0).
#[derive(Default)]
pub struct IngressListeners {
    pub twilio: Option<TcpListener>,
    pub fork: Option<TcpListener>,
    pub audiosocket: Option<TcpListener>,
    pub audiohook: Option<TcpListener>,
    /// The supervisor board's listener (`[ui] listen`), bound with them by
    /// [`crate::server::serve`]; served by [`crate::board`], not here.
    pub board: Option<TcpListener>,
}

impl IngressListeners {
    /// Binds every listener `config` enables.
    ///
    /// # Errors
    /// An address cannot be bound; the message names the listener.
    pub async fn bind(config: &IngressConfig) -> Result<Self, String> {
        let mut l = Self::default();
        let bind = |key: &'static str, addr: String| async move {
            TcpListener::bind(&addr)
                .await
                .map_err(|e| format!("ingress.{key}.listen {addr}: {e}"))
        };
        if let Some(t) = &config.twilio {
            l.twilio = Some(bind("twilio", t.listen.clone()).await?);
        }
        if let Some(f) = &config.fork {
            l.fork = Some(bind("fork", f.listen.clone()).await?);
        }
        if let Some(a) = &config.audiosocket {
            l.audiosocket = Some(bind("audiosocket", a.listen.clone()).await?);
        }
        if let Some(a) = &config.audiohook {
            l.audiohook = Some(bind("audiohook", a.listen.clone()).await?);
        }
        Ok(l)
    }
}

/// The running telephony listeners.
pub struct Ingress {
    stop_accepting: CancellationToken,
    end_sessions: CancellationToken,
    tasks: TaskTracker,
}

impl Ingress {
    /// Starts a listener for each socket in `listeners` (its settings from
    /// `config`); upgrades are refused with 503 until `slot` holds the engine.
    ///
    /// # Errors
    /// A listener's settings cannot be used (an unset `env:` secret), or a
    /// socket has no settings.
    pub fn start(
        config: &IngressConfig,
        listeners: IngressListeners,
        slot: &EngineSlot,
        telemetry: &Telemetry,
        auth: &Arc<crate::auth::Auth>,
    ) -> Result<Self, String> {
        config.validate_auth(auth.required())?;
        let mtls = auth.mtls();
        let me = Self {
            stop_accepting: CancellationToken::new(),
            end_sessions: CancellationToken::new(),
            tasks: TaskTracker::new(),
        };
        if let Some(socket) = listeners.twilio {
            let cfg = config
                .twilio
                .as_ref()
                .ok_or("a Twilio socket was bound but [ingress.twilio] is not configured")?;
            let metrics = IngressMetrics::new(telemetry, "twilio");
            let protocol = Arc::new(twilio::Twilio::new(cfg, metrics.clone())?);
            if cfg.auth_tokens.is_empty() {
                tracing::warn!("ingress.twilio accepts unsigned streams (allow_unsigned = true)");
            }
            if let Ok(a) = socket.local_addr() {
                tracing::info!(addr = %a, "Twilio Media Streams listener");
            }
            let limits = Limits {
                max_connections: cfg.max_connections,
                max_message_bytes: cfg.max_message_bytes,
                tls: tls_for(
                    "ingress.twilio",
                    cfg.tls_cert.as_ref(),
                    cfg.tls_key.as_ref(),
                    mtls,
                )?,
                auth: Arc::clone(auth),
            };
            me.spawn(socket, protocol, limits, slot, metrics);
        }
        if let Some(socket) = listeners.fork {
            let cfg = config
                .fork
                .as_ref()
                .ok_or("a fork socket was bound but [ingress.fork] is not configured")?;
            let metrics = IngressMetrics::new(telemetry, "fork");
            let protocol = Arc::new(fork::Fork::new(cfg, metrics.clone())?);
            if cfg.basic_auth.is_empty() {
                tracing::warn!("ingress.fork accepts connections without credentials (allow_unauthenticated = true)");
            }
            if let Ok(a) = socket.local_addr() {
                tracing::info!(addr = %a, "Audio fork listener (FreeSWITCH, Jambonz)");
            }
            let limits = Limits {
                max_connections: cfg.max_connections,
                max_message_bytes: cfg.max_message_bytes,
                tls: tls_for(
                    "ingress.fork",
                    cfg.tls_cert.as_ref(),
                    cfg.tls_key.as_ref(),
                    mtls,
                )?,
                auth: Arc::clone(auth),
            };
            me.spawn(socket, protocol, limits, slot, metrics);
        }
        if let Some(socket) = listeners.audiohook {
            let cfg = config
                .audiohook
                .as_ref()
                .ok_or("an AudioHook socket was bound but [ingress.audiohook] is not configured")?;
            let metrics = IngressMetrics::new(telemetry, "audiohook");
            let protocol = Arc::new(audiohook::AudioHook::new(cfg, metrics.clone())?);
            if let Ok(a) = socket.local_addr() {
                tracing::info!(addr = %a, "Genesys AudioHook listener");
            }
            let limits = Limits {
                max_connections: cfg.max_connections,
                max_message_bytes: cfg.max_message_bytes,
                tls: tls_for(
                    "ingress.audiohook",
                    cfg.tls_cert.as_ref(),
                    cfg.tls_key.as_ref(),
                    mtls,
                )?,
                auth: Arc::clone(auth),
            };
            me.spawn(socket, protocol, limits, slot, metrics);
        }
        if let Some(socket) = listeners.audiosocket {
            let cfg = config.audiosocket.as_ref().ok_or(
                "an AudioSocket socket was bound but [ingress.audiosocket] is not configured",
            )?;
            let metrics = IngressMetrics::new(telemetry, "audiosocket");
            let server = Arc::new(audiosocket::AudioSocket::new(cfg, metrics)?);
            if cfg.allow_any {
                tracing::warn!(
                    "ingress.audiosocket accepts connections from any address (allow_any = true)"
                );
            }
            if let Ok(a) = socket.local_addr() {
                tracing::info!(addr = %a, "Asterisk AudioSocket listener");
            }
            me.tasks.spawn(audiosocket::serve(
                socket,
                server,
                Arc::clone(slot),
                Arc::clone(auth),
                me.lifecycle(),
            ));
        }
        Ok(me)
    }

    fn spawn<P: Protocol>(
        &self,
        socket: TcpListener,
        protocol: Arc<P>,
        limits: Limits,
        slot: &EngineSlot,
        metrics: IngressMetrics,
    ) {
        self.tasks.spawn(listener::serve(
            socket,
            protocol,
            limits,
            Arc::clone(slot),
            metrics,
            self.lifecycle(),
        ));
    }

    fn lifecycle(&self) -> listener::Lifecycle {
        listener::Lifecycle {
            stop: self.stop_accepting.clone(),
            sessions: self.end_sessions.clone(),
            tracker: self.tasks.clone(),
        }
    }

    /// Stops accepting connections; open ones go on.
    pub fn stop_accepting(&self) {
        self.stop_accepting.cancel();
    }

    /// Ends the open connections (each ends its call's audio, so the call
    /// still finishes) and waits up to `grace` for them to close.
    pub async fn close(&self, grace: Duration) {
        self.stop_accepting.cancel();
        self.end_sessions.cancel();
        self.tasks.close();
        let _ = tokio::time::timeout(grace, self.tasks.wait()).await;
    }

    /// Waits up to `grace` for the open connections to end by themselves
    /// (they stop accepting first).
    pub async fn drain(&self, grace: Duration) {
        self.tasks.close();
        let _ = tokio::time::timeout(grace, self.tasks.wait()).await;
    }
}

/// The listener's TLS acceptor when it has a certificate and key.
fn tls_for(
    what: &str,
    cert: Option<&std::path::PathBuf>,
    key: Option<&std::path::PathBuf>,
    mtls: Option<&crate::auth::MtlsConfig>,
) -> Result<Option<tokio_rustls::TlsAcceptor>, String> {
    match (cert, key) {
        (Some(c), Some(k)) => tls::acceptor(what, c, k, mtls).map(Some),
        _ => Ok(None),
    }
}

/// However the server returns (an error included), its listeners stop
/// accepting and open sessions end their calls' audio.
impl Drop for Ingress {
    fn drop(&mut self) {
        self.stop_accepting.cancel();
        self.end_sessions.cancel();
    }
}
