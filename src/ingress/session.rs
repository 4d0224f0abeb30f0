//! What every telephony WebSocket session does once its protocol has said
//! who the call is: one engine call per connection.
//!
//! Owns: starting the call on the one call path ([`crate::calls::start`],
//! a refused field worded by the protocol), feeding it the protocol's audio
//! with backpressure, draining its results on a task of their own (so a
//! slow socket never holds the call up; the back channel, where a protocol
//! has one, gets them through a bounded queue and skips what it cannot take),
//! and ending it — on the protocol's stop, a vanished peer, bad input or
//! shutdown alike — by ending the audio, so everything accepted is still
//! transcribed, summarised and written back. The socket is closed with a
//! code and reason.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::ReceiverStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::WebSocketStream;
use tokio_util::sync::CancellationToken;

use super::metrics::IngressMetrics;
use super::plain_http::Replayed;
use super::tls::Io;
use crate::calls::{self, FieldError, Inbound, NewCall};
use crate::pipeline::{CallError, Engine};
use crate::proto::StreamCallResponse;

/// Audio chunks queued between the socket and the call (backpressure
/// beyond this: the socket is read no faster than the call takes audio).
const INBOUND_QUEUE: usize = 16;
/// Results queued for a protocol's back channel; past this a slow peer
/// misses some (they still reach the sinks).
const BACK_CHANNEL_QUEUE: usize = 256;
/// How long the socket stays open after the call's audio ended, waiting for
/// the call to finish (last utterances, summary). Past it the socket closes;
/// the call still finishes and is written back.
pub const FINISH_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest close reason sent (WebSocket allows 123 bytes).
const MAX_REASON_BYTES: usize = 120;

pub type Socket = WebSocketStream<Replayed<Io>>;

/// A session's peer: where its messages come from and its replies go.
pub trait Peer: Send {
    type Msg: Send;
    /// The next message; `None`: the peer left (or its connection failed).
    fn recv(&mut self) -> impl Future<Output = Option<Self::Msg>> + Send;
    /// Sends one text message to the peer.
    ///
    /// # Errors
    /// The peer is gone.
    fn send_text(&mut self, text: String) -> impl Future<Output = Result<(), ()>> + Send;
}

impl Peer for Socket {
    type Msg = Ws;

    async fn recv(&mut self) -> Option<Ws> {
        match self.next().await? {
            Ok(Ws::Close(_)) => None,
            Ok(m) => Some(m),
            Err(e) => {
                tracing::info!(error = %e, "Telephony socket failed; ending the call's audio");
                None
            }
        }
    }

    async fn send_text(&mut self, text: String) -> Result<(), ()> {
        self.send(Ws::Text(text.into())).await.map_err(|_| ())
    }
}

/// What one message from the peer gave: audio for the call, replies to send
/// back at once (a protocol's pong, its acknowledgements).
#[derive(Debug, Default)]
pub struct Out {
    /// Whole frames of the call's audio.
    pub audio: Vec<u8>,
    /// Text messages for the peer, in order.
    pub replies: Vec<String>,
}

/// How a session ends: a WebSocket close code and its reason.
#[derive(Debug)]
pub struct Close(pub CloseCode, pub String);

impl Close {
    /// Bad input (1008).
    pub fn policy(reason: impl Into<String>) -> Self {
        Self(CloseCode::Policy, reason.into())
    }

    /// A kind of frame the protocol does not have (1003).
    pub fn unsupported(reason: impl Into<String>) -> Self {
        Self(CloseCode::Unsupported, reason.into())
    }

    fn for_call_error(e: CallError) -> Self {
        match e {
            CallError::InvalidArgument(m) => Self::policy(m),
            CallError::ResourceExhausted(m) | CallError::Unavailable(m) => {
                Self(CloseCode::Again, m)
            }
            CallError::Throttled {
                message,
                retry_after_s,
            } => Self(
                CloseCode::Again,
                format!("{message}; retry after {retry_after_s} s"),
            ),
            CallError::PermissionDenied(m) => Self::policy(format!("permission denied: {m}")),
            other => Self(CloseCode::Error, other.to_string()),
        }
    }
}

/// A protocol's stream once the call has started, reading messages `M`.
pub trait MediaStream<M>: Send {
    /// One message from the peer: appends the call's audio (whole frames)
    /// and any replies to `out`. `Ok(false)`: the peer said the stream is over.
    ///
    /// # Errors
    /// Bad input; the session closes with it (the audio so far counts).
    fn on_message(&mut self, msg: M, out: &mut Out) -> Result<bool, Close>;
    /// Appends whatever audio is still held back (the stream has ended).
    fn finish(&mut self, _audio: &mut Vec<u8>) {}
    /// Bytes of one frame of the call's audio (chunks are cut at frames).
    fn frame_bytes(&self) -> usize;
    /// How long the socket waits for the call to finish once its audio
    /// ended ([`FINISH_TIMEOUT`] unless the protocol's peer waits less).
    fn finish_timeout(&self) -> Duration {
        FINISH_TIMEOUT
    }
    /// A result as a text frame for the peer; `None`: nothing goes back.
    fn render(&mut self, _result: &StreamCallResponse) -> Option<String> {
        None
    }
}

/// Closes `ws` with `end` (or 1000 "call complete"), counting bad input.
pub async fn close(ws: &mut Socket, end: Result<(), Close>, metrics: &IngressMetrics) {
    let Close(code, reason) = end
        .err()
        .unwrap_or(Close(CloseCode::Normal, "call complete".into()));
    if code == CloseCode::Policy || code == CloseCode::Unsupported {
        metrics.bad_streams.increment(1);
    }
    let mut end = reason.len().min(MAX_REASON_BYTES);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let _ = ws
        .close(Some(CloseFrame {
            code,
            reason: reason[..end].into(),
        }))
        .await;
}

/// Starts `call` and runs it on `peer` with `stream` until it ends (the
/// stream is lent, so the protocol can say its last words after).
///
/// # Errors
/// The call was refused (its field in the protocol's words from `words`,
/// or the engine's limit), bad input, or the call failed.
#[allow(clippy::too_many_arguments)] // each is one protocol's own part of the session
pub async fn run<P: Peer, S: MediaStream<P::Msg>>(
    peer: &mut P,
    engine: &Arc<Engine>,
    caller: &calls::Caller,
    call: NewCall,
    words: impl FnOnce(&FieldError) -> String,
    stream: &mut S,
    metrics: &IngressMetrics,
    stop: &CancellationToken,
) -> Result<(), Close> {
    let valid = call
        .validate(&engine.config)
        .map_err(|e| Close::policy(words(&e)))?;
    let (tx, rx) = mpsc::channel::<Result<Inbound, CallError>>(INBOUND_QUEUE);
    let started = calls::start(engine, caller, valid, ReceiverStream::new(rx))
        .await
        .map_err(Close::for_call_error)?;
    metrics.calls.increment(1);
    let call_id = started.accepted.call_id.clone();
    let (back_tx, mut back) = mpsc::channel(BACK_CHANNEL_QUEUE);
    let mut outcome = drain(started.events, back_tx);
    let frame = stream.frame_bytes().max(1);
    let chunk_max = (engine.config.server.max_chunk_bytes / frame).max(1) * frame;
    let mut out = Out::default();
    let mut ended = Ok(());
    let mut done = None;
    loop {
        let msg = tokio::select! {
            m = peer.recv() => m,
            Some(r) = back.recv() => {
                if let Some(text) = stream.render(&r) {
                    if peer.send_text(text).await.is_err() {
                        break; // peer gone: end the audio, keep the call
                    }
                }
                continue;
            }
            r = &mut outcome => { done = Some(r); break; }
            () = stop.cancelled() => {
                ended = Err(Close(CloseCode::Away, "server is shutting down".into()));
                break;
            }
        };
        let Some(msg) = msg else {
            break; // peer left: end the audio, keep the call
        };
        let more = match stream.on_message(msg, &mut out) {
            Ok(more) => more,
            Err(c) => {
                ended = Err(c);
                false
            }
        };
        for text in out.replies.drain(..) {
            if peer.send_text(text).await.is_err() {
                break;
            }
        }
        if !more || send(&tx, &mut out.audio, chunk_max).await.is_err() {
            break; // over, bad input, or the call ended (its outcome says why)
        }
    }
    // Whatever ended the stream, the audio accepted so far is the call's.
    let mut audio = std::mem::take(&mut out.audio);
    stream.finish(&mut audio);
    let _ = send(&tx, &mut audio, chunk_max).await;
    drop(tx);
    let done = match done {
        Some(r) => r,
        None => {
            // Deliver what comes back while the call finishes.
            let limit = stream.finish_timeout();
            let wait = async {
                loop {
                    tokio::select! {
                        Some(r) = back.recv() => {
                            if let Some(text) = stream.render(&r) {
                                let _ = peer.send_text(text).await;
                            }
                        }
                        r = &mut outcome => return r,
                    }
                }
            };
            match tokio::time::timeout(limit, wait).await {
                Ok(r) => r,
                Err(_) => {
                    return Err(Close(
                        CloseCode::Away,
                        format!(
                            "the call is still finishing after {} s; its results go to the CRM",
                            limit.as_secs()
                        ),
                    ))
                }
            }
        }
    };
    // The call's last results may still be queued when its outcome is known.
    while let Ok(r) = back.try_recv() {
        if let Some(text) = stream.render(&r) {
            if peer.send_text(text).await.is_err() {
                break;
            }
        }
    }
    match done {
        Ok(Ok(results)) => {
            tracing::info!(%call_id, results, "Telephony stream ended");
            ended
        }
        Ok(Err(e)) => Err(Close::for_call_error(e)),
        Err(_) => Err(Close(CloseCode::Error, "call task failed".into())),
    }
}

/// Drains the call's results on a task of its own (dropping them would
/// cancel the call): each goes to `back` if it has room. Ends with the
/// number of results, or the call's error.
fn drain(
    mut events: ReceiverStream<crate::pipeline::CallOutput>,
    back: mpsc::Sender<StreamCallResponse>,
) -> JoinHandle<Result<usize, CallError>> {
    tokio::spawn(async move {
        let mut results = 0usize;
        while let Some(ev) = events.next().await {
            let r = ev?;
            results += 1;
            let _ = back.try_send(r);
        }
        Ok(results)
    })
}

/// Sends `buf` (whole frames) to the call in chunks of at most `max` bytes.
async fn send(
    tx: &mpsc::Sender<Result<Inbound, CallError>>,
    buf: &mut Vec<u8>,
    max: usize,
) -> Result<(), ()> {
    while !buf.is_empty() {
        let n = buf.len().min(max);
        let chunk: Vec<u8> = buf.drain(..n).collect();
        tx.send(Ok(Inbound::Audio(Bytes::from(chunk))))
            .await
            .map_err(|_| ())?;
    }
    Ok(())
}
