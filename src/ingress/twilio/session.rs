//! One Twilio Media Stream as one engine call: wait for `start` (bounded by
//! `start_timeout_s`), then run the call on the shared session
//! ([`crate::ingress::session`]), reading `media` into the joined tracks.
//! Twilio takes no results back, so none are rendered.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_util::sync::CancellationToken;

use super::protocol::{field_message, new_call, parse, MediaJoin, Message, Start, StreamError};
use super::Twilio;
use crate::calls::Caller;
use crate::ingress::session::{self, Close, MediaStream, Out, Socket};
use crate::pipeline::Engine;

impl From<StreamError> for Close {
    fn from(e: StreamError) -> Self {
        Close::policy(e.to_string())
    }
}

const NO_BINARY: &str = "binary frames are not part of Twilio Media Streams";

pub(super) async fn run(
    mut ws: Socket,
    twilio: &Twilio,
    caller: &Caller,
    engine: Arc<Engine>,
    stop: CancellationToken,
) {
    let end = serve(&mut ws, twilio, caller, &engine, &stop).await;
    session::close(&mut ws, end, &twilio.metrics).await;
}

async fn serve(
    ws: &mut Socket,
    twilio: &Twilio,
    caller: &Caller,
    engine: &Arc<Engine>,
    stop: &CancellationToken,
) -> Result<(), Close> {
    let timeout = Duration::from_secs(twilio.config.start_timeout_s);
    let start = match tokio::time::timeout(timeout, wait_for_start(ws)).await {
        Ok(Ok(Some(s))) => s,
        Ok(Ok(None)) => return Ok(()), // gone, or stopped before starting: no call
        Ok(Err(c)) => return Err(c),
        Err(_) => {
            return Err(Close::policy(format!(
                "no start message within {} s",
                timeout.as_secs()
            )))
        }
    };
    let (call, media) = new_call(&start, &twilio.mapping)?;
    tracing::info!(call_id = %call.call_id, stream_sid = %start.stream_sid, tracks = ?media.tracks, "Twilio stream starting");
    let join = MediaJoin::new(&media, twilio.config.max_lead_ms);
    let metrics = &twilio.metrics;
    let mut stream = Media { join, metrics };
    session::run(
        ws,
        engine,
        caller,
        call,
        field_message,
        &mut stream,
        metrics,
        stop,
    )
    .await
}

/// Reads until `start`. `None`: the peer left or stopped first.
async fn wait_for_start(ws: &mut Socket) -> Result<Option<Start>, Close> {
    while let Some(msg) = ws.next().await {
        let text = match msg {
            Ok(Ws::Text(t)) => t,
            Ok(Ws::Binary(_)) => return Err(Close::unsupported(NO_BINARY)),
            Ok(Ws::Close(_)) | Err(_) => return Ok(None),
            Ok(_) => continue,
        };
        match parse(&text)? {
            Message::Start { start, .. } => return Ok(Some(start)),
            Message::Connected {} | Message::Mark {} | Message::Dtmf {} => {}
            Message::Media { .. } => return Err(StreamError::BeforeStart("media").into()),
            Message::Stop {} => return Ok(None),
        }
    }
    Ok(None)
}

/// The call's media after `start`.
struct Media<'a> {
    join: MediaJoin,
    metrics: &'a crate::ingress::IngressMetrics,
}

impl MediaStream<Ws> for Media<'_> {
    fn on_message(&mut self, msg: Ws, out: &mut Out) -> Result<bool, Close> {
        let text = match msg {
            Ws::Text(t) => t,
            Ws::Binary(_) => return Err(Close::unsupported(NO_BINARY)),
            _ => return Ok(true),
        };
        match parse(&text)? {
            Message::Media { media } => {
                self.join.push(&media, &mut out.audio)?;
                Ok(true)
            }
            Message::Stop {} => Ok(false),
            Message::Start { .. } => Err(StreamError::SecondStart.into()),
            Message::Connected {} | Message::Dtmf {} | Message::Mark {} => Ok(true),
        }
    }

    fn finish(&mut self, audio: &mut Vec<u8>) {
        self.join.finish(audio);
        self.metrics
            .filled_samples
            .increment(self.join.interleaver().stats().filled);
    }

    fn frame_bytes(&self) -> usize {
        self.join.frame_bytes()
    }
}
