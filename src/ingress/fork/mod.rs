//! Audio-fork front door: FreeSWITCH `mod_audio_fork` / `mod_audio_stream`
//! and Jambonz `listen` (subprotocols `audio.drachtio.org`,
//! `audio.jambonz.org`): one JSON text frame of metadata, then binary
//! frames of 16-bit little-endian linear PCM, mono, mixed or stereo.
//!
//! `protocol` is the wire format; this file authenticates the upgrade
//! (HTTP basic credentials) and runs a connection as one engine call on the
//! shared session, results going back as `transcription` text frames.

mod protocol;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use futures::StreamExt;
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_util::sync::CancellationToken;

pub use protocol::{back_frame, field_message, new_call, ForkDefaults, Mix};

use super::config::ForkConfig;
use super::listener::{Protocol, Refusal, Upgrade};
use super::metrics::IngressMetrics;
use super::session::{self, Close, MediaStream, Out, Socket};
use crate::auth::{Door, Principal};
use crate::calls::Caller;
use crate::pipeline::Engine;
use crate::proto::StreamCallResponse;

/// The subprotocols the forks ask for.
pub const SUBPROTOCOLS: &[&str] = &["audio.drachtio.org", "audio.jambonz.org"];

/// A fork listener's settings, secrets resolved.
pub struct Fork {
    config: ForkConfig,
    /// Accepted `Authorization: Basic …` values.
    credentials: Vec<String>,
    defaults: ForkDefaults,
    metrics: IngressMetrics,
}

impl Fork {
    /// # Errors
    /// An `env:` password whose variable is not set.
    pub fn new(config: &ForkConfig, metrics: IngressMetrics) -> Result<Self, String> {
        let credentials = config
            .basic_auth
            .iter()
            .map(|a| {
                let pw = a
                    .password
                    .resolve()
                    .map_err(|e| format!("ingress.fork.basic_auth {:?}: {e}", a.username))?;
                Ok(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD
                        .encode(format!("{}:{pw}", a.username))
                ))
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Self {
            defaults: ForkDefaults {
                sample_rate: config.sample_rate,
                mix: config.mix,
                caller: config.caller,
                callee: config.callee,
                tenant: config.tenant.clone(),
                language: config.language.to_string(),
                interim_results: config.interim_results,
            },
            config: config.clone(),
            credentials,
            metrics,
        })
    }
}

impl Protocol for Fork {
    /// Which `basic_auth` entry the client used (`None`: an API key, a
    /// client certificate, or `allow_unauthenticated`).
    type Accepted = Option<usize>;

    fn name(&self) -> &'static str {
        "fork"
    }

    fn door(&self) -> Door {
        Door::Fork
    }

    fn principal(&self, accepted: &Option<usize>) -> Option<Principal> {
        let a = &self.config.basic_auth[(*accepted)?];
        let tenant = if a.tenant.is_empty() {
            &self.config.tenant
        } else {
            &a.tenant
        };
        (!tenant.is_empty()).then(|| Principal::of_tenant(tenant, format!("basic:{}", a.username)))
    }

    fn subprotocols(&self) -> &'static [&'static str] {
        SUBPROTOCOLS
    }

    fn accept(&self, up: &Upgrade<'_>) -> Result<Option<usize>, Refusal> {
        if up.principal.is_some() || self.credentials.is_empty() {
            return Ok(None); // an API key or certificate, or allow_unauthenticated
        }
        let given = up.header("authorization").unwrap_or_default().trim();
        let found = self
            .credentials
            .iter()
            .map(|c| crate::secret::constant_time_eq(c.as_bytes(), given.as_bytes()))
            .fold((None, 0), |(hit, i), eq| (hit.or(eq.then_some(i)), i + 1))
            .0;
        if let Some(i) = found {
            Ok(Some(i))
        } else {
            Err(Refusal {
                status: StatusCode::UNAUTHORIZED,
                reason: if given.is_empty() {
                    "credentials required (HTTP basic)".into()
                } else {
                    "credentials not accepted".into()
                },
            })
        }
    }

    async fn session(
        self: Arc<Self>,
        mut ws: crate::ingress::session::Socket,
        _: Option<usize>,
        caller: Caller,
        engine: Arc<Engine>,
        stop: CancellationToken,
    ) {
        let end = serve(&mut ws, &self, &caller, &engine, &stop).await;
        session::close(&mut ws, end, &self.metrics).await;
    }
}

async fn serve(
    ws: &mut Socket,
    fork: &Fork,
    caller: &Caller,
    engine: &Arc<Engine>,
    stop: &CancellationToken,
) -> Result<(), Close> {
    let timeout = Duration::from_secs(fork.config.start_timeout_s);
    let metadata = match tokio::time::timeout(timeout, wait_for_metadata(ws)).await {
        Ok(Ok(Some(m))) => m,
        Ok(Ok(None)) => return Ok(()),
        Ok(Err(c)) => return Err(c),
        Err(_) => {
            return Err(Close::policy(format!(
                "no metadata frame within {} s",
                timeout.as_secs()
            )))
        }
    };
    let call = new_call(&metadata, &fork.defaults).map_err(Close::policy)?;
    tracing::info!(call_id = %call.call_id, channels = call.channels, rate = call.sample_rate_hz, "Audio fork starting");
    let mut stream = Pcm {
        frame_bytes: 2 * call.channels,
        tail: Vec::new(),
        results_back: fork.config.results_back,
    };
    session::run(
        ws,
        engine,
        caller,
        call,
        field_message,
        &mut stream,
        &fork.metrics,
        stop,
    )
    .await
}

/// Reads the metadata frame. `None`: the peer left first.
async fn wait_for_metadata(ws: &mut Socket) -> Result<Option<String>, Close> {
    while let Some(msg) = ws.next().await {
        match msg {
            Ok(Ws::Text(t)) => return Ok(Some(t.to_string())),
            Ok(Ws::Binary(_)) => {
                return Err(Close::policy(
                    "audio before the metadata frame: send the call's JSON metadata first",
                ))
            }
            Ok(Ws::Close(_)) | Err(_) => return Ok(None),
            Ok(_) => {}
        }
    }
    Ok(None)
}

/// The call's PCM after the metadata.
struct Pcm {
    frame_bytes: usize,
    /// Bytes of a frame split across WebSocket messages.
    tail: Vec<u8>,
    results_back: bool,
}

impl MediaStream<Ws> for Pcm {
    fn on_message(&mut self, msg: Ws, out: &mut Out) -> Result<bool, Close> {
        match msg {
            Ws::Binary(b) => {
                self.tail.extend_from_slice(&b);
                let whole = self.tail.len() - self.tail.len() % self.frame_bytes;
                out.audio.extend(self.tail.drain(..whole));
                Ok(true)
            }
            // Later text frames (a fork's own events) carry no audio.
            _ => Ok(true),
        }
    }

    fn frame_bytes(&self) -> usize {
        self.frame_bytes
    }

    fn render(&mut self, r: &StreamCallResponse) -> Option<String> {
        if !self.results_back {
            return None;
        }
        let json = crate::proto_json::to_json("callsense.v1.StreamCallResponse", r).ok()?;
        back_frame(&json)
    }
}
