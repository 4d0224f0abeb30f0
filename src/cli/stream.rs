//! `callsense stream`: send an audio file (or the microphone) to a server
//! as a live call and show what comes back.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use futures::StreamExt;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::audio::AudioClip;
use crate::proto::call_sense_client::CallSenseClient;
use crate::proto::stream_call_request::StreamingRequest;
use crate::proto::stream_call_response::StreamingResponse;
use crate::proto::{
    AudioEncoding, CallConfig, CallMetrics, CallSummary, SentimentLabel, SpeakerRole,
    StreamCallRequest, StreamCallResponse, UtteranceResult,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Encoding {
    Linear16,
    Mulaw,
    Alaw,
}

impl From<Encoding> for AudioEncoding {
    fn from(e: Encoding) -> Self {
        match e {
            Encoding::Linear16 => AudioEncoding::Linear16,
            Encoding::Mulaw => AudioEncoding::Mulaw,
            Encoding::Alaw => AudioEncoding::Alaw,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RoleArg {
    Agent,
    Customer,
    Unknown,
}

impl From<RoleArg> for SpeakerRole {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Agent => SpeakerRole::Agent,
            RoleArg::Customer => SpeakerRole::Customer,
            RoleArg::Unknown => SpeakerRole::RoleUnknown,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct StreamArgs {
    /// WAV, FLAC or MP3 file (mono or stereo). Not needed with --mic.
    pub file: Option<PathBuf>,
    /// Server address.
    #[arg(
        long,
        default_value = "http://127.0.0.1:50051",
        env = "CALLSENSE_SERVER"
    )]
    pub server: String,
    /// API key sent as `authorization: Bearer …` (servers with `[auth]` keys).
    #[arg(long, env = "CALLSENSE_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Encoding to send, as a telephony platform would.
    #[arg(long = "as", value_enum, default_value = "linear16")]
    pub encoding: Encoding,
    /// Sample rate to send (the file is resampled); default: the file's rate.
    #[arg(long)]
    pub rate: Option<u32>,
    /// Pace the audio like a live call instead of sending it as fast as possible.
    #[arg(long)]
    pub realtime: bool,
    /// Milliseconds of audio per request.
    #[arg(long, default_value_t = 20)]
    pub chunk_ms: u32,
    /// RoleArg per channel, in channel order (default: agent,customer for stereo; unknown for mono).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub roles: Vec<RoleArg>,
    /// Call id (default: a new UUID).
    #[arg(long)]
    pub call_id: Option<String>,
    /// Tenant the call belongs to (its rules, sinks and supervisors).
    #[arg(long, default_value = "cli")]
    pub tenant: String,
    /// Language hint ("en", "zh", "auto").
    #[arg(long, default_value = "auto")]
    pub language: String,
    /// Ask for interim results.
    #[arg(long)]
    pub interim: bool,
    /// Print each StreamCallResponse as one JSON object per line (proto field names).
    #[arg(long)]
    pub json: bool,
    /// Also print the live conversation measures (CallMetrics) as they
    /// arrive; the summary always shows the call's.
    #[arg(long)]
    pub metrics: bool,
    /// Stream the default microphone instead of a file (needs the `mic` feature).
    #[arg(long)]
    pub mic: bool,
}

/// Builds the request sequence for a clip: config, then `chunk_ms` chunks.
pub fn requests_for_clip(
    clip: &AudioClip,
    config: CallConfig,
    encoding: AudioEncoding,
    chunk_ms: u32,
) -> Vec<StreamCallRequest> {
    let bytes = clip.encode(encoding);
    let width = if encoding == AudioEncoding::Linear16 {
        2
    } else {
        1
    };
    let frame = width * clip.channels.len();
    let chunk = ((clip.sample_rate as usize * chunk_ms as usize / 1000).max(1)) * frame;
    let mut v = vec![StreamCallRequest {
        streaming_request: Some(StreamingRequest::Config(config)),
    }];
    v.extend(bytes.chunks(chunk).map(|c| StreamCallRequest {
        streaming_request: Some(StreamingRequest::AudioContent(
            bytes::Bytes::copy_from_slice(c),
        )),
    }));
    v
}

pub async fn run(args: StreamArgs) -> anyhow::Result<()> {
    if args.mic {
        #[cfg(feature = "mic")]
        return super::mic::run(args).await;
        #[cfg(not(feature = "mic"))]
        bail!("--mic needs a build with the `mic` feature: cargo build --release --features mic (needs libasound2-dev)");
    }
    let Some(path) = &args.file else {
        bail!("give an audio FILE to stream, or --mic")
    };
    let mut clip = AudioClip::read(path)?;
    if clip.channels.len() > 2 {
        bail!(
            "{} has {} channels; callsense takes 1 or 2",
            path.display(),
            clip.channels.len()
        );
    }
    if let Some(rate) = args.rate {
        clip = clip
            .resampled(rate)
            .with_context(|| format!("resampling to {rate} Hz"))?;
    }
    let encoding = AudioEncoding::from(args.encoding);
    let config = call_config(&args, clip.sample_rate, clip.channels.len());
    let reqs = requests_for_clip(&clip, config, encoding, args.chunk_ms);
    if !args.json {
        eprintln!(
            "Streaming {} ({:.1} s, {} ch) as {} {} Hz to {}{}",
            path.display(),
            clip.seconds(),
            clip.channels.len(),
            encoding.as_str_name(),
            clip.sample_rate,
            args.server,
            if args.realtime { ", real time" } else { "" }
        );
    }
    let pace = args
        .realtime
        .then(|| Duration::from_millis(u64::from(args.chunk_ms)));
    stream_requests(
        &args.server,
        args.api_key.as_deref(),
        reqs,
        pace,
        Print::from(&args),
    )
    .await
}

pub fn call_config(args: &StreamArgs, rate: u32, channels: usize) -> CallConfig {
    let roles: Vec<i32> = if args.roles.is_empty() {
        if channels == 2 {
            vec![SpeakerRole::Agent as i32, SpeakerRole::Customer as i32]
        } else {
            vec![SpeakerRole::RoleUnknown as i32]
        }
    } else {
        args.roles
            .iter()
            .map(|r| SpeakerRole::from(*r) as i32)
            .collect()
    };
    CallConfig {
        call_id: args
            .call_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        tenant: args.tenant.clone(),
        encoding: AudioEncoding::from(args.encoding) as i32,
        sample_rate_hz: rate as i32,
        audio_channel_count: channels as i32,
        channel_roles: roles,
        language_code: args.language.clone(),
        interim_results: args.interim,
        ..Default::default()
    }
}

/// Sends `reqs` (paced if `pace` is set) and prints the responses.
///
/// # Errors
/// Connection failure or an error status from the server.
pub async fn stream_requests(
    server: &str,
    api_key: Option<&str>,
    reqs: Vec<StreamCallRequest>,
    pace: Option<Duration>,
    print: Print,
) -> anyhow::Result<()> {
    stream_channel(server, api_key, send_paced(reqs, pace), print).await
}

/// How responses are printed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Print {
    /// One JSON object per response.
    pub json: bool,
    /// Live CallMetrics too (human output).
    pub metrics: bool,
}

impl From<&StreamArgs> for Print {
    fn from(a: &StreamArgs) -> Self {
        Self {
            json: a.json,
            metrics: a.metrics,
        }
    }
}

/// Requests buffered between the sending task and the gRPC stream.
const SEND_BUFFER: usize = 64;

/// Feeds `reqs` into a channel from a background task, one every `pace`
/// (like a live call) or as fast as the stream takes them with `None`.
/// The task stops when the receiver is dropped.
pub fn send_paced(
    reqs: Vec<StreamCallRequest>,
    pace: Option<Duration>,
) -> mpsc::Receiver<StreamCallRequest> {
    let (tx, rx) = mpsc::channel(SEND_BUFFER);
    tokio::spawn(async move {
        let mut tick = pace.map(tokio::time::interval);
        for r in reqs {
            if let Some(t) = tick.as_mut() {
                t.tick().await;
            }
            if tx.send(r).await.is_err() {
                break;
            }
        }
    });
    rx
}

/// Streams whatever arrives on `rx` and prints the responses.
///
/// # Errors
/// Connection failure or an error status from the server.
pub async fn stream_channel(
    server: &str,
    api_key: Option<&str>,
    rx: mpsc::Receiver<StreamCallRequest>,
    print: Print,
) -> anyhow::Result<()> {
    let mut client = connect(server).await?;
    let mut responses = client
        .stream_call(with_key(ReceiverStream::new(rx), api_key)?)
        .await
        .map_err(|s| anyhow::anyhow!("server refused the call: {:?}: {}", s.code(), s.message()))?
        .into_inner();
    while let Some(resp) = responses.next().await {
        let resp =
            resp.map_err(|s| anyhow::anyhow!("server error {:?}: {}", s.code(), s.message()))?;
        print_response(&resp, print)?;
    }
    Ok(())
}

/// `message` as a request carrying `api_key` as `authorization: Bearer`.
///
/// # Errors
/// The key is not valid header text.
pub fn with_key<T>(message: T, api_key: Option<&str>) -> anyhow::Result<tonic::Request<T>> {
    let mut req = tonic::Request::new(message);
    if let Some(k) = api_key {
        let v = format!("Bearer {}", k.trim())
            .parse()
            .map_err(|_| anyhow::anyhow!("the API key holds characters a header cannot carry"))?;
        req.metadata_mut().insert("authorization", v);
    }
    Ok(req)
}

/// Connects a client with the engine's message limits.
///
/// # Errors
/// Bad address or connection failure.
pub async fn connect(server: &str) -> anyhow::Result<CallSenseClient<tonic::transport::Channel>> {
    let client = CallSenseClient::connect(server.to_string())
        .await
        .with_context(|| format!("cannot connect to {server} (is `callsense serve` running?)"))?;
    Ok(client.max_decoding_message_size(16 << 20))
}

fn print_response(resp: &StreamCallResponse, print: Print) -> anyhow::Result<()> {
    if print.json {
        println!(
            "{}",
            crate::proto_json::to_json("callsense.v1.StreamCallResponse", resp)?
        );
        return Ok(());
    }
    match &resp.streaming_response {
        Some(StreamingResponse::Accepted(a)) => {
            let models: Vec<String> = a
                .classifier_models
                .iter()
                .map(|m| format!("{} [{}]", m.model, m.language_codes.join(", ")))
                .collect();
            let note = if a.asr_model_synthetic {
                " (synthetic-speech demo model: espeak-ng voices only, not real speech)"
            } else {
                ""
            };
            println!(
                "▶ call {} accepted — speech model {}{note}, classifiers {}",
                a.call_id,
                a.asr_model,
                if models.is_empty() {
                    a.classifier_model.clone()
                } else {
                    models.join("; ")
                }
            );
        }
        Some(StreamingResponse::Result(r)) => println!("{}", format_result(r)),
        Some(StreamingResponse::Summary(s)) => println!("{}", format_summary(s)),
        Some(StreamingResponse::Metrics(m)) if print.metrics => {
            println!("{}", format_metrics("≈", m));
        }
        Some(StreamingResponse::Metrics(_)) => {}
        Some(StreamingResponse::RuleAlert(a)) => println!(
            "⚑ rule {} ({}) after #{}: {}{}",
            a.rule,
            a.severity,
            a.seq,
            a.message,
            if a.actions.is_empty() {
                String::new()
            } else {
                format!(" → {}", a.actions.join(", "))
            }
        ),
        None => {}
    }
    Ok(())
}

fn clock(ms: u32) -> String {
    format!(
        "{:02}:{:02}.{:01}",
        ms / 60_000,
        (ms / 1000) % 60,
        (ms % 1000) / 100
    )
}

fn role_name(r: i32) -> &'static str {
    match SpeakerRole::try_from(r) {
        Ok(SpeakerRole::Agent) => "AGENT   ",
        Ok(SpeakerRole::Customer) => "CUSTOMER",
        _ => "SPEAKER ",
    }
}

fn sentiment_name(l: i32) -> &'static str {
    match SentimentLabel::try_from(l) {
        Ok(SentimentLabel::Negative) => "negative",
        Ok(SentimentLabel::Neutral) => "neutral",
        Ok(SentimentLabel::Positive) => "positive",
        _ => "?",
    }
}

pub fn format_result(r: &UtteranceResult) -> String {
    let head = format!(
        "[{}–{}] {} #{:<3}",
        clock(r.start_ms),
        clock(r.end_ms),
        role_name(r.role),
        r.seq
    );
    if !r.is_final {
        return format!("{head} … \"{}\"", r.transcript);
    }
    let mut s = format!("{head} \"{}\"", r.transcript);
    if let Some(se) = &r.sentiment {
        s.push_str(&format!(
            "\n      sentiment {} ({:+.2})",
            sentiment_name(se.label),
            se.score
        ));
    }
    if let Some(i) = &r.intent {
        s.push_str(&format!("  intent {} ({:.2})", i.label, i.confidence));
    }
    if let Some(c) = &r.classification {
        s.push_str(&format!("  [{}", c.language_code));
        if c.mixed_language {
            s.push_str(", mixed language");
        }
        if c.language_fallback {
            s.push_str(", no model for this language");
        }
        s.push(']');
    }
    if let Some(t) = &r.timings {
        s.push_str(&format!(
            "  [asr {:.0} ms, classify {:.1} ms, end of speech → result {:.0} ms]",
            t.asr_ms, t.classify_ms, t.end_of_speech_to_emit_ms
        ));
    }
    s
}

pub fn format_summary(s: &CallSummary) -> String {
    let mut out = format!(
        "■ call {} ended: {} utterances in {:.1} s",
        s.call_id,
        s.utterances,
        s.duration_ms as f32 / 1000.0
    );
    for r in &s.roles {
        out.push_str(&format!(
            "\n  {} ch{}: {} utterances, talk {:.1} s, mean sentiment {:+.2}, last {}",
            role_name(r.role).trim(),
            r.channel,
            r.utterances,
            r.talk_time_ms as f32 / 1000.0,
            r.mean_sentiment_score,
            r.last_sentiment
                .as_ref()
                .map_or("—", |l| sentiment_name(l.label)),
        ));
    }
    if !s.intents.is_empty() {
        let list: Vec<String> = s
            .intents
            .iter()
            .map(|i| format!("{} ×{}", i.label, i.count))
            .collect();
        out.push_str(&format!("\n  intents: {}", list.join(", ")));
    }
    if s.events_not_recorded > 0 {
        out.push_str(&format!(
            "\n  WARNING: {} facts of this call were not recorded for the CRM (outbox full or failing)",
            s.events_not_recorded
        ));
    }
    if let Some(m) = &s.metrics {
        out.push_str(&format!("\n{}", format_metrics("  measures", m)));
    }
    out
}

/// One line of conversation measures, then one per channel.
pub fn format_metrics(lead: &str, m: &CallMetrics) -> String {
    let pct = |ms: u32| {
        if m.position_ms == 0 {
            0.0
        } else {
            f64::from(ms) * 100.0 / f64::from(m.position_ms)
        }
    };
    let mut out = format!(
        "{lead} at {}: non-talk {:.0}% (longest {:.1} s, {} hold-like), overtalk {}× {:.1} s, customer trend {:+.1} {}",
        clock(m.position_ms),
        pct(m.non_talk_ms),
        m.longest_silence_ms as f32 / 1000.0,
        m.hold_count,
        m.overtalk_count,
        m.overtalk_ms as f32 / 1000.0,
        m.sentiment_trend,
        crate::analytics::direction_str(m.sentiment_direction),
    );
    for r in &m.roles {
        out.push_str(&format!(
            "\n    {} talk {:.0}%, {:.0} wpm, {:.1} dBFS, {} interruptions{}",
            role_name(r.role),
            r.talk_ratio * 100.0,
            r.talk_speed_wpm,
            r.loudness_dbfs,
            r.interruptions,
            if r.baseline_ready {
                format!(
                    ", speed {:+.0}% loudness {:+.1} dB vs start",
                    r.talk_speed_change_pct, r.loudness_change_db
                )
            } else {
                String::new()
            }
        ));
    }
    out
}
