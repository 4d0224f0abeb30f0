//! One Twilio Media Stream as one engine call.
//!
//! Owns: the connection's life: wait for `start` (bounded by
//! `start_timeout_s`), start the call on the one call path
//! ([`crate::calls::start`]), feed it the joined tracks as they arrive (with
//! backpressure), drain its results (they leave through the sinks), and end
//! it on `stop`, on a vanished peer or at shutdown — always by ending the
//! audio, so everything accepted is transcribed, summarised and written
//! back. Bad input ends the stream with a WebSocket close code and reason.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::WebSocketStream;
use tokio_util::sync::CancellationToken;

use super::protocol::{field_message, new_call, parse, MediaJoin, Message, Start, StreamError};
use super::Twilio;
use crate::calls::{self, Inbound};
use crate::pipeline::{CallError, Engine};

/// Audio chunks queued between the socket and the call (backpressure
/// beyond this: the socket is read no faster than the call takes audio).
const INBOUND_QUEUE: usize = 16;
/// How long the socket stays open after the call's audio ended, waiting for
/// the call to finish (last utterances, summary). Past it the socket closes
/// and the call still finishes and is written back: its results are drained
/// by a task of their own, since dropping them would cancel the call.
const FINISH_TIMEOUT: Duration = Duration::from_secs(60);

type Socket = WebSocketStream<TcpStream>;

/// How the socket is closed.
struct Close(CloseCode, String);

impl Close {
    fn bad(e: &StreamError) -> Self {
        Self(CloseCode::Policy, e.to_string())
    }
}

pub(super) async fn run(
    mut ws: Socket,
    twilio: &Twilio,
    engine: Arc<Engine>,
    stop: CancellationToken,
) {
    let close = match serve(&mut ws, twilio, &engine, &stop).await {
        Ok(()) => Close(CloseCode::Normal, "call complete".into()),
        Err(c) => c,
    };
    if close.0 == CloseCode::Policy || close.0 == CloseCode::Unsupported {
        twilio.metrics.bad_streams.increment(1);
    }
    let reason = truncate(&close.1, 120);
    let _ = ws
        .close(Some(CloseFrame {
            code: close.0,
            reason: reason.into(),
        }))
        .await;
}

async fn serve(
    ws: &mut Socket,
    twilio: &Twilio,
    engine: &Arc<Engine>,
    stop: &CancellationToken,
) -> Result<(), Close> {
    let timeout = Duration::from_secs(twilio.config.start_timeout_s);
    let start = match tokio::time::timeout(timeout, wait_for_start(ws)).await {
        Ok(Ok(Some(s))) => s,
        Ok(Ok(None)) => return Ok(()), // gone, or stopped before starting: no call
        Ok(Err(c)) => return Err(c),
        Err(_) => {
            return Err(Close(
                CloseCode::Policy,
                format!("no start message within {} s", timeout.as_secs()),
            ))
        }
    };
    let (call, media) = new_call(&start, &twilio.mapping).map_err(|e| Close::bad(&e))?;
    let valid = call
        .validate(&engine.config)
        .map_err(|e| Close(CloseCode::Policy, field_message(&e)))?;
    let max_chunk = engine.config.server.max_chunk_bytes;
    let (tx, rx) = mpsc::channel::<Result<Inbound, CallError>>(INBOUND_QUEUE);
    let started = calls::start(engine, valid, ReceiverStream::new(rx))
        .await
        .map_err(|e| match e {
            CallError::ResourceExhausted(m) | CallError::Unavailable(m) => {
                Close(CloseCode::Again, m)
            }
            other => Close(CloseCode::Error, other.to_string()),
        })?;
    twilio.metrics.calls.increment(1);
    let call_id = started.accepted.call_id.clone();
    tracing::info!(%call_id, stream_sid = %start.stream_sid, tracks = ?media.tracks, "Twilio stream started");
    // Results leave through the sinks; the socket only needs the outcome.
    let mut events = started.events;
    let mut outcome = tokio::spawn(async move {
        let mut results = 0usize;
        while let Some(ev) = events.next().await {
            match ev {
                Ok(_) => results += 1,
                Err(e) => return Err(e),
            }
        }
        Ok(results)
    });
    let mut join = MediaJoin::new(&media, twilio.config.max_lead_ms);
    let frame = join.frame_bytes();
    let chunk_max = (max_chunk / frame).max(1) * frame;
    let mut buf = Vec::new();
    let mut ended: Result<(), Close> = Ok(());
    let mut call_done = None;
    loop {
        let msg = tokio::select! {
            m = ws.next() => m,
            r = &mut outcome => { call_done = Some(r); break; }
            () = stop.cancelled() => {
                ended = Err(Close(CloseCode::Away, "server is shutting down".into()));
                break;
            }
        };
        let text = match msg {
            Some(Ok(Ws::Text(t))) => t,
            Some(Ok(Ws::Binary(_))) => {
                ended = Err(Close(
                    CloseCode::Unsupported,
                    "binary frames are not part of Twilio Media Streams".into(),
                ));
                break;
            }
            Some(Ok(Ws::Ping(_) | Ws::Pong(_) | Ws::Frame(_))) => continue,
            Some(Ok(Ws::Close(_))) | None => break, // peer left: end the audio, keep the call
            Some(Err(e)) => {
                tracing::info!(%call_id, error = %e, "Twilio socket failed; ending the call's audio");
                break;
            }
        };
        match parse(&text) {
            Ok(Message::Media { media }) => {
                if let Err(e) = join.push(&media, &mut buf) {
                    ended = Err(Close::bad(&e));
                    break;
                }
                if send_chunks(&tx, &mut buf, chunk_max).await.is_err() {
                    break; // the call ended; its outcome says why
                }
            }
            Ok(Message::Stop {}) => break,
            Ok(Message::Start { .. }) => {
                ended = Err(Close::bad(&StreamError::SecondStart));
                break;
            }
            Ok(Message::Connected {} | Message::Dtmf {} | Message::Mark {}) => {}
            Err(e) => {
                ended = Err(Close::bad(&e));
                break;
            }
        }
    }
    // Whatever ended the stream, the audio accepted so far is the call's.
    join.finish(&mut buf);
    let _ = send_chunks(&tx, &mut buf, chunk_max).await;
    drop(tx);
    twilio
        .metrics
        .filled_samples
        .increment(join.interleaver().stats().filled);
    let done = match call_done {
        Some(r) => r,
        None => match tokio::time::timeout(FINISH_TIMEOUT, &mut outcome).await {
            Ok(r) => r,
            Err(_) => {
                return Err(Close(
                    CloseCode::Away,
                    format!(
                        "the call is still finishing after {} s; its results go to the CRM",
                        FINISH_TIMEOUT.as_secs()
                    ),
                ))
            }
        },
    };
    match done {
        Ok(Ok(results)) => {
            tracing::info!(%call_id, results, "Twilio stream ended");
            ended
        }
        Ok(Err(e)) => Err(match e {
            CallError::InvalidArgument(m) => Close(CloseCode::Policy, m),
            other => Close(CloseCode::Error, other.to_string()),
        }),
        Err(_) => Err(Close(CloseCode::Error, "call task failed".into())),
    }
}

/// Reads until `start`. `None`: the peer left or stopped first.
async fn wait_for_start(ws: &mut Socket) -> Result<Option<Start>, Close> {
    while let Some(msg) = ws.next().await {
        let text = match msg {
            Ok(Ws::Text(t)) => t,
            Ok(Ws::Binary(_)) => {
                return Err(Close(
                    CloseCode::Unsupported,
                    "binary frames are not part of Twilio Media Streams".into(),
                ))
            }
            Ok(Ws::Close(_)) | Err(_) => return Ok(None),
            Ok(_) => continue,
        };
        match parse(&text).map_err(|e| Close::bad(&e))? {
            Message::Start { start, .. } => return Ok(Some(start)),
            Message::Connected {} | Message::Mark {} | Message::Dtmf {} => {}
            Message::Media { .. } => return Err(Close::bad(&StreamError::BeforeStart("media"))),
            Message::Stop {} => return Ok(None),
        }
    }
    Ok(None)
}

/// Sends `buf` (whole frames) to the call in chunks of at most `max` bytes.
async fn send_chunks(
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

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}
