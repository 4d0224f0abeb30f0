//! Shared helpers: a server per test, clients, and call builders.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use callsense::audio::AudioClip;
use callsense::config::Config;
use callsense::pipeline::Engine;
use callsense::proto::call_sense_client::CallSenseClient;
use callsense::proto::stream_call_response::StreamingResponse;
use callsense::proto::{
    AnalyzeTextRequest, AnalyzeTextResponse, AudioEncoding, CallConfig, CallSummary, SpeakerRole,
    StreamCallRequest, StreamCallResponse, TextInput, UtteranceResult,
};
use futures::StreamExt;
use tokio::sync::oneshot;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;

/// The Whisper model the tests use: the project's own synthetic-speech model,
/// committed in the repository (models/asr-synth/), so the tests need no
/// download and hear real words from the synthesized calls.
pub const TEST_WHISPER: &str = callsense::asr::SYNTH_MODEL;

pub fn test_config() -> Config {
    let mut c = Config::default();
    assert!(
        Path::new(TEST_WHISPER).is_file(),
        "{TEST_WHISPER} missing: it is committed in the repository"
    );
    assert!(
        Path::new(&c.audio.silero_model).is_file(),
        "runtime models missing: run scripts/setup.sh (or `callsense models fetch onnxruntime silero-vad`)"
    );
    c.asr.model = TEST_WHISPER.into();
    c.asr.workers = 2;
    c
}

pub struct TestServer {
    pub addr: SocketAddr,
    /// The Twilio Media Streams listener, when `[ingress.twilio]` is set.
    pub twilio: Option<SocketAddr>,
    /// The audio-fork listener, when `[ingress.fork]` is set.
    pub fork: Option<SocketAddr>,
    /// The AudioSocket listener, when `[ingress.audiosocket]` is set.
    pub audiosocket: Option<SocketAddr>,
    /// The Genesys AudioHook listener, when `[ingress.audiohook]` is set.
    pub audiohook: Option<SocketAddr>,
    /// The supervisor board, when `[ui] listen` is set.
    pub board: Option<SocketAddr>,
    pub engine: Arc<Engine>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), callsense::server::ServerError>>,
}

impl TestServer {
    pub async fn start(config: Config) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // Telephony listeners on port 0 too.
        let mut ingress = callsense::ingress::IngressListeners::default();
        if config.ingress.twilio.is_some() {
            ingress.twilio = Some(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap());
        }
        if config.ingress.fork.is_some() {
            ingress.fork = Some(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap());
        }
        if config.ingress.audiosocket.is_some() {
            ingress.audiosocket = Some(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap());
        }
        if config.ingress.audiohook.is_some() {
            ingress.audiohook = Some(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap());
        }
        if config.ui.listen.is_some() {
            ingress.board = Some(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap());
        }
        let board = ingress.board.as_ref().map(|l| l.local_addr().unwrap());
        let audiohook = ingress.audiohook.as_ref().map(|l| l.local_addr().unwrap());
        let twilio = ingress.twilio.as_ref().map(|l| l.local_addr().unwrap());
        let fork = ingress.fork.as_ref().map(|l| l.local_addr().unwrap());
        let audiosocket = ingress
            .audiosocket
            .as_ref()
            .map(|l| l.local_addr().unwrap());
        let (stop, stop_rx) = oneshot::channel::<()>();
        let (ready_tx, ready_rx) = oneshot::channel();
        let task = tokio::spawn(callsense::server::serve_with(
            config,
            listener,
            ingress,
            async move {
                let _ = stop_rx.await;
            },
            move |engine| {
                let _ = ready_tx.send(engine);
            },
        ));
        let engine = tokio::time::timeout(Duration::from_secs(60), ready_rx)
            .await
            .expect("models load within 60 s")
            .expect("engine loaded");
        Self {
            addr,
            twilio,
            fork,
            audiosocket,
            audiohook,
            board,
            engine,
            stop: Some(stop),
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn client(&self) -> CallSenseClient<Channel> {
        CallSenseClient::connect(self.url()).await.unwrap()
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(40), &mut self.task).await;
    }
}

/// A call config for `channels` channels of μ-law 8 kHz.
/// AnalyzeText on `(text, language_code)` pairs; panics on an error status.
pub async fn analyze_texts(server: &TestServer, texts: &[(&str, &str)]) -> AnalyzeTextResponse {
    let req = AnalyzeTextRequest {
        texts: texts
            .iter()
            .map(|(t, l)| TextInput {
                text: t.to_string(),
                language_code: l.to_string(),
            })
            .collect(),
    };
    server
        .client()
        .await
        .analyze_text(req)
        .await
        .unwrap()
        .into_inner()
}

pub fn mulaw_config(call_id: &str, channels: usize) -> CallConfig {
    CallConfig {
        call_id: call_id.into(),
        tenant: "test".into(),
        encoding: AudioEncoding::Mulaw as i32,
        sample_rate_hz: 8000,
        audio_channel_count: channels as i32,
        channel_roles: if channels == 2 {
            vec![SpeakerRole::Agent as i32, SpeakerRole::Customer as i32]
        } else {
            vec![SpeakerRole::Customer as i32]
        },
        language_code: "en".into(),
        ..Default::default()
    }
}

/// Config, then 20 ms μ-law chunks of `clip` (must be 8 kHz).
pub fn mulaw_requests(clip: &AudioClip, call_id: &str) -> Vec<StreamCallRequest> {
    assert_eq!(clip.sample_rate, 8000);
    callsense::cli::stream::requests_for_clip(
        clip,
        mulaw_config(call_id, clip.channels.len()),
        AudioEncoding::Mulaw,
        20,
    )
}

/// Sends every request, half-closes, and collects the responses.
pub async fn call(
    client: &mut CallSenseClient<Channel>,
    reqs: Vec<StreamCallRequest>,
) -> Result<Vec<StreamCallResponse>, tonic::Status> {
    call_paced(client, reqs, None).await
}

/// Like [`call`], one request every `pace` (a live call is paced at the chunk length).
pub async fn call_paced(
    client: &mut CallSenseClient<Channel>,
    reqs: Vec<StreamCallRequest>,
    pace: Option<Duration>,
) -> Result<Vec<StreamCallResponse>, tonic::Status> {
    let rx = callsense::cli::stream::send_paced(reqs, pace);
    let mut stream = client
        .stream_call(ReceiverStream::new(rx))
        .await?
        .into_inner();
    let mut out = Vec::new();
    while let Some(r) = stream.next().await {
        out.push(r?);
    }
    Ok(out)
}

pub fn results(responses: &[StreamCallResponse]) -> Vec<UtteranceResult> {
    responses
        .iter()
        .filter_map(|r| match &r.streaming_response {
            Some(StreamingResponse::Result(u)) => Some(u.clone()),
            _ => None,
        })
        .collect()
}

/// Final results only.
pub fn finals(responses: &[StreamCallResponse]) -> Vec<UtteranceResult> {
    results(responses)
        .into_iter()
        .filter(|r| r.is_final)
        .collect()
}

pub fn summary(responses: &[StreamCallResponse]) -> CallSummary {
    match responses.last().and_then(|r| r.streaming_response.clone()) {
        Some(StreamingResponse::Summary(s)) => s,
        other => panic!("last response is not a summary: {other:?}"),
    }
}

/// The synthesized stereo demo call (8 kHz, agent + customer).
pub fn demo_call() -> AudioClip {
    AudioClip::read(Path::new("tests/fixtures/demo_call.wav")).unwrap()
}

pub fn fixture(name: &str) -> callsense::testkit::Fixture {
    callsense::testkit::Fixture::load(&Path::new("tests/fixtures").join(name)).unwrap()
}

/// A plain HTTP/1.1 GET; the whole response as text.
pub async fn http_get(addr: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

/// The value of one series (`name` with its labels, as rendered) in
/// `telemetry`'s Prometheus text; 0 when absent.
pub fn metric(telemetry: &callsense::telemetry::Telemetry, series: &str) -> u64 {
    let text = telemetry.render();
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| {
            v.trim()
                .parse::<f64>()
                .unwrap_or_else(|_| panic!("{series}: {v}")) as u64
        })
        .unwrap_or_else(|| panic!("no series {series} in:\n{text}"))
}

/// The `CallAccepted` that opens a call's responses.
pub fn accepted(responses: &[StreamCallResponse]) -> callsense::proto::CallAccepted {
    match responses
        .first()
        .and_then(|r| r.streaming_response.as_ref())
    {
        Some(callsense::proto::stream_call_response::StreamingResponse::Accepted(a)) => a.clone(),
        other => panic!("the first response is not CallAccepted: {other:?}"),
    }
}

/// A WebSocket client of the telephony listeners.
pub type Client =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The close frame a telephony listener ends a session with (code, reason).
pub async fn close_of<S>(
    ws: &mut tokio_tungstenite::WebSocketStream<S>,
) -> (
    tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode,
    String,
)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
    use tokio_tungstenite::tungstenite::Message as Ws;
    loop {
        match tokio::time::timeout(Duration::from_secs(30), ws.next())
            .await
            .unwrap()
        {
            Some(Ok(Ws::Close(Some(f)))) => return (f.code, f.reason.to_string()),
            Some(Ok(Ws::Close(None))) | None => return (CloseCode::Status, String::new()),
            Some(Ok(_)) => {}
            Some(Err(e)) => panic!("socket error before the close: {e}"),
        }
    }
}
