//! Genesys Cloud AudioHook front door (Monitor): a WebSocket per
//! participant session, signed upgrade, JSON control messages with strict
//! sequence numbers, binary PCMU or L16 audio.
//!
//! `signature` checks the upgrade's HTTP message signature; `protocol` is
//! the message format. This file accepts or refuses the upgrade (HTTP 401
//! with the reason), answers `open` with `opened` (or a connection probe's
//! `opened` with no call), runs the call on the shared session (`ping` →
//! `pong`, `paused`/`resumed`, audio), and ends it as the protocol asks:
//! `close` → `closed`; bad input or the end of the call → `disconnect`,
//! then `closed` when the client's `close` comes.

pub mod protocol;
pub mod signature;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use parking_lot::Mutex;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_util::sync::CancellationToken;

pub use protocol::{
    choose_media, new_call, ClientMessage, Mapping, Media, Open, Sequence, NULL_UUID,
};
pub use signature::{sign, SignatureError};

use super::config::{AudioHookClient, AudioHookConfig};
use super::listener::{Protocol, Refusal, Upgrade};
use super::metrics::IngressMetrics;
use super::session::{self, Close, MediaStream, Out, Peer, Socket};
use crate::auth::{Door, Principal};
use crate::calls::Caller;
use crate::pipeline::Engine;
use crate::proto::stream_call_response::StreamingResponse;
use crate::proto::StreamCallResponse;

/// How long the server waits for the client's `close` after `disconnect`.
const CLOSE_WAIT: Duration = Duration::from_secs(5);
/// How long `close` may wait for the call's last results before `closed`
/// (Genesys gives up on `closed` after 10 s; the call still finishes).
const CLOSE_FINISH: Duration = Duration::from_secs(7);

/// One integration's credentials, resolved.
pub struct Credentials {
    api_key: String,
    key: Vec<u8>,
    organization_id: Option<String>,
    tenant: String,
}

impl Credentials {
    /// # Errors
    /// An unset `env:` secret, an empty key, or a secret that is not base64.
    pub fn resolve(c: &AudioHookClient) -> Result<Self, String> {
        let api_key = c.api_key.resolve().map_err(|e| format!("api_key: {e}"))?;
        let secret = c
            .client_secret
            .resolve()
            .map_err(|e| format!("client_secret: {e}"))?;
        if api_key.is_empty() || secret.is_empty() {
            return Err("api_key and client_secret must not be empty".into());
        }
        let key = base64::engine::general_purpose::STANDARD
            .decode(secret.trim())
            .map_err(|_| {
                "client_secret is not base64 (paste it as Genesys shows it)".to_string()
            })?;
        if let Some(o) = &c.organization_id {
            if !protocol::is_uuid(o) {
                return Err(format!("organization_id {o:?} is not a UUID"));
            }
        }
        Ok(Self {
            api_key,
            key,
            organization_id: c.organization_id.as_ref().map(|o| o.to_ascii_lowercase()),
            tenant: c.tenant.clone(),
        })
    }
}

/// An AudioHook listener's settings, secrets resolved.
pub struct AudioHook {
    config: AudioHookConfig,
    clients: Vec<Credentials>,
    nonces: Mutex<signature::Nonces>,
    metrics: IngressMetrics,
}

impl AudioHook {
    /// # Errors
    /// A client's credentials cannot be resolved.
    pub fn new(config: &AudioHookConfig, metrics: IngressMetrics) -> Result<Self, String> {
        let clients = config
            .clients
            .iter()
            .enumerate()
            .map(|(i, c)| {
                Credentials::resolve(c).map_err(|e| format!("ingress.audiohook.clients[{i}]: {e}"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            config: config.clone(),
            clients,
            nonces: Mutex::new(signature::Nonces::default()),
            metrics,
        })
    }
}

/// What an accepted upgrade tells the session.
pub struct Hello {
    session_id: String,
    organization_id: String,
    tenant: String,
}

fn unauthorized(reason: impl Into<String>) -> Refusal {
    Refusal {
        status: StatusCode::UNAUTHORIZED,
        reason: reason.into(),
    }
}

impl Protocol for AudioHook {
    type Accepted = Hello;

    fn name(&self) -> &'static str {
        "audiohook"
    }

    fn door(&self) -> Door {
        Door::AudioHook
    }

    /// The integration's tenant (or its organization).
    fn principal(&self, hello: &Hello) -> Option<Principal> {
        Some(Principal::of_tenant(
            hello.tenant.clone(),
            format!("audiohook:{}", hello.organization_id),
        ))
    }

    fn accept(&self, up: &Upgrade<'_>) -> Result<Hello, Refusal> {
        let header = |h: &str| up.header(h).map(str::trim).filter(|v| !v.is_empty());
        let api_key = header("x-api-key").ok_or_else(|| unauthorized("X-API-KEY is required"))?;
        let client = self
            .clients
            .iter()
            .find(|c| crate::secret::constant_time_eq(c.api_key.as_bytes(), api_key.as_bytes()))
            .ok_or_else(|| unauthorized("unknown API key"))?;
        let uuid_header = |h: &'static str| {
            header(h)
                .filter(|v| protocol::is_uuid(v))
                .map(str::to_ascii_lowercase)
                .ok_or_else(|| unauthorized(format!("{h} must be a UUID")))
        };
        let organization_id = uuid_header("audiohook-organization-id")?;
        let session_id = uuid_header("audiohook-session-id")?;
        uuid_header("audiohook-correlation-id")?;
        if client
            .organization_id
            .as_ref()
            .is_some_and(|o| *o != organization_id)
        {
            return Err(unauthorized("this API key belongs to another organization"));
        }
        let (Some(input), Some(sig)) = (header("signature-input"), header("signature")) else {
            return Err(unauthorized(SignatureError::Missing.to_string()));
        };
        let value = |c: &str| -> Option<String> {
            match c {
                "@request-target" => Some(up.request.uri().to_string()),
                "@authority" => header("host").map(str::to_ascii_lowercase),
                "@method" => Some(up.request.method().to_string()),
                "@path" => Some(up.request.uri().path().to_string()),
                "@query" => Some(format!("?{}", up.request.uri().query().unwrap_or(""))),
                derived if derived.starts_with('@') => None,
                name => {
                    let all: Vec<&str> = up
                        .request
                        .headers()
                        .get_all(name)
                        .iter()
                        .filter_map(|v| v.to_str().ok())
                        .map(str::trim)
                        .collect();
                    (!all.is_empty()).then(|| all.join(", "))
                }
            }
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let window = signature::Window {
            skew_s: self.config.max_clock_skew_s as i64,
            max_age_s: self.config.max_signature_age_s as i64,
        };
        signature::verify(
            input,
            sig,
            api_key,
            &client.key,
            value,
            now,
            window,
            &self.nonces,
        )
        .map_err(|e| unauthorized(format!("Signature verification failed: {e}")))?;
        Ok(Hello {
            tenant: if client.tenant.is_empty() {
                organization_id.clone()
            } else {
                client.tenant.clone()
            },
            session_id,
            organization_id,
        })
    }

    async fn session(
        self: Arc<Self>,
        mut ws: Socket,
        hello: Hello,
        caller: Caller,
        engine: Arc<Engine>,
        stop: CancellationToken,
    ) {
        let mut seq = Sequence::new(&hello.session_id);
        let end = serve(&mut ws, &self, &hello, &caller, &mut seq, &engine, &stop).await;
        let close = match end {
            Ending::Closed => Ok(()),
            Ending::Gone => Ok(()),
            Ending::Disconnect { reason, info } => {
                let _ = ws
                    .send_text(seq.reply("disconnect", json!({"reason": reason, "info": info})))
                    .await;
                wait_for_close(&mut ws, &mut seq).await;
                if reason == "completed" {
                    Ok(())
                } else {
                    Err(Close::policy(info))
                }
            }
        };
        session::close(&mut ws, close, &self.metrics).await;
    }
}

/// How a session ends.
enum Ending {
    /// The client closed and got `closed`.
    Closed,
    /// The peer left.
    Gone,
    /// The server ends it: `disconnect` with `reason` and `info`.
    Disconnect { reason: &'static str, info: String },
}

fn error(info: impl Into<String>) -> Ending {
    Ending::Disconnect {
        reason: "error",
        info: info.into(),
    }
}

async fn serve(
    ws: &mut Socket,
    hook: &AudioHook,
    hello: &Hello,
    caller: &Caller,
    seq: &mut Sequence,
    engine: &Arc<Engine>,
    stop: &CancellationToken,
) -> Ending {
    let timeout = Duration::from_secs(hook.config.start_timeout_s);
    let open = match tokio::time::timeout(timeout, wait_for_open(ws, seq)).await {
        Ok(Ok(o)) => o,
        Ok(Err(end)) => return end,
        Err(_) => return error(format!("no open message within {} s", timeout.as_secs())),
    };
    if open.organization_id.to_ascii_lowercase() != hello.organization_id {
        return Ending::Disconnect {
            reason: "unauthorized",
            info: "open.organizationId does not match Audiohook-Organization-Id".into(),
        };
    }
    let media = choose_media(&open.media);
    let mut opened = json!({"media": media.iter().collect::<Vec<_>>(), "startPaused": false});
    if open.supported_languages == Some(true) {
        opened["supportedLanguages"] = json!([]);
    }
    if open.is_probe() {
        // A connection probe: answer as for a call, start none.
        let _ = ws.send_text(seq.reply("opened", opened)).await;
        return probe(ws, seq).await;
    }
    let Some(media) = media else {
        return error(
            "none of the offered media is supported (PCMU or L16, 1 or 2 channels, 8–192 kHz)",
        );
    };
    let map = Mapping {
        external: hook.config.external,
        internal: hook.config.internal,
        tenant: hello.tenant.clone(),
        language: hook.config.language.to_string(),
        interim_results: hook.config.interim_results,
    };
    let call = new_call(&open, &media, &map);
    tracing::info!(call_id = %call.call_id, session = %hello.session_id, channels = ?media.channels, "AudioHook session opening");
    if ws.send_text(seq.reply("opened", opened)).await.is_err() {
        return Ending::Gone;
    }
    let width = if media.format == "L16" { 2 } else { 1 };
    let mut hook_stream = Hook {
        seq: std::mem::replace(seq, Sequence::new(&hello.session_id)),
        frame_bytes: width * media.channels.len(),
        paused: false,
        closing: false,
        events: hook.config.events,
        call_id: call.call_id.clone(),
    };
    let end = session::run(
        ws,
        engine,
        caller,
        call,
        protocol::field_message,
        &mut hook_stream,
        &hook.metrics,
        stop,
    )
    .await;
    *seq = hook_stream.seq;
    match end {
        _ if hook_stream.closing => {
            let _ = ws.send_text(seq.reply("closed", json!({}))).await;
            Ending::Closed
        }
        Ok(()) => Ending::Disconnect {
            reason: "completed",
            info: "the call ended".into(),
        },
        Err(Close(CloseCode::Away, info)) => Ending::Disconnect {
            reason: "completed",
            info,
        },
        Err(Close(_, info)) => error(info),
    }
}

/// Reads until `open`, answering what may come before it.
async fn wait_for_open(ws: &mut Socket, seq: &mut Sequence) -> Result<Open, Ending> {
    while let Some(msg) = ws.recv().await {
        match msg {
            Ws::Text(t) => match seq.receive(&t).map_err(error)? {
                ClientMessage::Open(o) => return Ok(*o),
                ClientMessage::Close { .. } => {
                    let _ = ws.send_text(seq.reply("closed", json!({}))).await;
                    return Err(Ending::Closed);
                }
                ClientMessage::Ping => {
                    let _ = ws.send_text(seq.reply("pong", json!({}))).await;
                }
                _ => {}
            },
            Ws::Binary(_) => return Err(error("Client Error: Received audio before open")),
            _ => {}
        }
    }
    Err(Ending::Gone)
}

/// A probe after `opened`: pings answered, anything else ignored, until `close`.
async fn probe(ws: &mut Socket, seq: &mut Sequence) -> Ending {
    while let Some(msg) = ws.recv().await {
        if let Ws::Text(t) = msg {
            match seq.receive(&t) {
                Ok(ClientMessage::Close { .. }) => {
                    let _ = ws.send_text(seq.reply("closed", json!({}))).await;
                    return Ending::Closed;
                }
                Ok(ClientMessage::Ping) => {
                    let _ = ws.send_text(seq.reply("pong", json!({}))).await;
                }
                Ok(_) => {}
                Err(info) => return error(info),
            }
        }
    }
    Ending::Gone
}

/// After `disconnect`: waits (bounded) for the client's `close`, answers `closed`.
async fn wait_for_close(ws: &mut Socket, seq: &mut Sequence) {
    let wait = async {
        while let Some(msg) = ws.recv().await {
            if let Ws::Text(t) = msg {
                if seq.is_close(&t) {
                    let _ = ws.send_text(seq.reply("closed", json!({}))).await;
                    return;
                }
            }
        }
    };
    let _ = tokio::time::timeout(CLOSE_WAIT, wait).await;
}

/// The session once `opened` went out.
struct Hook {
    seq: Sequence,
    frame_bytes: usize,
    paused: bool,
    /// The client sent `close`.
    closing: bool,
    events: bool,
    call_id: String,
}

impl MediaStream<Ws> for Hook {
    fn on_message(&mut self, msg: Ws, out: &mut Out) -> Result<bool, Close> {
        match msg {
            Ws::Text(t) => match self.seq.receive(&t).map_err(Close::policy)? {
                ClientMessage::Ping => out.replies.push(self.seq.reply("pong", json!({}))),
                ClientMessage::Paused => self.paused = true,
                ClientMessage::Resumed => self.paused = false,
                ClientMessage::Close { reason } => {
                    tracing::info!(call_id = %self.call_id, %reason, "AudioHook client closed");
                    self.closing = true;
                    return Ok(false);
                }
                ClientMessage::Error { code, message } => {
                    tracing::warn!(call_id = %self.call_id, code, %message, "AudioHook client reported an error");
                }
                ClientMessage::Open(_) | ClientMessage::Update | ClientMessage::Discarded => {}
            },
            Ws::Binary(b) => {
                if self.paused {
                    return Err(Close::policy(
                        "Client Error: Received audio in state PAUSED",
                    ));
                }
                if !b.len().is_multiple_of(self.frame_bytes) {
                    return Err(Close::policy(format!(
                        "Client Error: Binary data not a valid audio frame ({} bytes, not a multiple of {})",
                        b.len(),
                        self.frame_bytes
                    )));
                }
                out.audio.extend_from_slice(&b);
            }
            _ => {}
        }
        Ok(true)
    }

    fn frame_bytes(&self) -> usize {
        self.frame_bytes
    }

    fn finish_timeout(&self) -> Duration {
        if self.closing {
            CLOSE_FINISH
        } else {
            session::FINISH_TIMEOUT
        }
    }

    fn render(&mut self, r: &StreamCallResponse) -> Option<String> {
        if !self.events {
            return None;
        }
        let full = crate::proto_json::to_json("callsense.v1.StreamCallResponse", r).ok()?;
        let mut entities = Vec::new();
        if let Some(StreamingResponse::Result(u)) = &r.streaming_response {
            entities.push(transcript_entity(u));
        }
        entities
            .push(json!({"type": "callsense", "data": serde_json::from_str::<Value>(&full).ok()?}));
        Some(self.seq.reply("event", json!({ "entities": entities })))
    }
}

/// An utterance as AudioHook's `transcript` entity. Its id is stable across
/// an utterance's interim and final results; callsense scores no transcript
/// confidence, so `confidence` is 1.
fn transcript_entity(u: &crate::proto::UtteranceResult) -> Value {
    use sha1::Digest as _;
    let digest = sha1::Sha1::digest(format!("{}:{}:{}", u.call_id, u.channel, u.seq).as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    let id = uuid::Builder::from_sha1_bytes(bytes).into_uuid();
    let mut alternative = json!({
        "confidence": 1.0,
        "interpretations": [{"type": "display", "transcript": u.transcript}],
    });
    if !u.language_code.is_empty() {
        alternative["languages"] = json!([u.language_code]);
    }
    json!({"type": "transcript", "data": {
        "id": id.to_string(),
        "channelId": u.channel,
        "isFinal": u.is_final,
        "offset": protocol::duration(u64::from(u.start_ms)),
        "duration": protocol::duration(u64::from(u.end_ms.saturating_sub(u.start_ms))),
        "alternatives": [alternative],
    }})
}
