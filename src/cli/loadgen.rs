//! `callsense loadgen`: N concurrent real-time calls against a server, then
//! latency percentiles (end of speech → result, queue, ASR, classifier).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use futures::StreamExt;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::stream::{connect, requests_for_clip, send_paced, Encoding};
use crate::audio::AudioClip;
use crate::proto::stream_call_response::StreamingResponse;
use crate::proto::{AudioEncoding, CallConfig, SpeakerRole};

#[derive(Debug, clap::Args)]
pub struct LoadgenArgs {
    /// Audio file each call streams (mono or stereo).
    pub file: PathBuf,
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    pub server: String,
    /// API key sent as `authorization: Bearer …`.
    #[arg(long, env = "CALLSENSE_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Concurrent calls.
    #[arg(long, default_value_t = 4)]
    pub calls: usize,
    #[arg(long = "as", value_enum, default_value = "mulaw")]
    pub encoding: Encoding,
    #[arg(long, default_value_t = 8000)]
    pub rate: u32,
    /// Milliseconds per request.
    #[arg(long, default_value_t = 20)]
    pub chunk_ms: u32,
    /// Start calls this many ms apart.
    #[arg(long, default_value_t = 250)]
    pub stagger_ms: u64,
}

#[derive(Default)]
struct Samples {
    eos: Vec<f32>,
    queued: Vec<f32>,
    asr: Vec<f32>,
    classify: Vec<f32>,
    utterances: usize,
    failures: usize,
}

fn pct(v: &mut [f32], p: f32) -> f32 {
    if v.is_empty() {
        return f32::NAN;
    }
    v.sort_by(f32::total_cmp);
    let i = ((p / 100.0) * (v.len() - 1) as f32).round() as usize;
    v[i.min(v.len() - 1)]
}

pub async fn run(args: LoadgenArgs) -> anyhow::Result<()> {
    let clip = AudioClip::read(&args.file)?.resampled(args.rate)?;
    if clip.channels.len() > 2 {
        bail!("{} has more than 2 channels", args.file.display());
    }
    let encoding = AudioEncoding::from(args.encoding);
    let (tx, mut rx) = mpsc::channel(1024);
    let started = std::time::Instant::now();
    for n in 0..args.calls {
        let cfg = CallConfig {
            call_id: format!("loadgen-{n}"),
            tenant: "loadgen".into(),
            encoding: encoding as i32,
            sample_rate_hz: args.rate as i32,
            audio_channel_count: clip.channels.len() as i32,
            channel_roles: if clip.channels.len() == 2 {
                vec![SpeakerRole::Agent as i32, SpeakerRole::Customer as i32]
            } else {
                vec![SpeakerRole::Customer as i32]
            },
            language_code: "en".into(),
            ..Default::default()
        };
        let reqs = requests_for_clip(&clip, cfg, encoding, args.chunk_ms);
        let (server, key, tx, chunk, delay) = (
            args.server.clone(),
            args.api_key.clone(),
            tx.clone(),
            args.chunk_ms,
            Duration::from_millis(args.stagger_ms * n as u64),
        );
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let r = one_call(
                &server,
                key.as_deref(),
                reqs,
                Duration::from_millis(u64::from(chunk)),
                tx.clone(),
            )
            .await;
            if let Err(e) = r {
                eprintln!("call {n}: {e:#}");
                let _ = tx.send(None).await;
            }
        });
    }
    drop(tx);
    let mut s = Samples::default();
    while let Some(item) = rx.recv().await {
        match item {
            Some((eos, q, a, c)) => {
                s.utterances += 1;
                s.eos.push(eos);
                s.queued.push(q);
                s.asr.push(a);
                s.classify.push(c);
            }
            None => s.failures += 1,
        }
    }
    println!(
        "{} concurrent real-time calls of {:.1} s ({} ch, {} {} Hz): {} utterances, {} failed calls, wall {:.1} s",
        args.calls,
        clip.seconds(),
        clip.channels.len(),
        encoding.as_str_name(),
        args.rate,
        s.utterances,
        s.failures,
        started.elapsed().as_secs_f32()
    );
    println!(
        "{:<30} {:>9} {:>9} {:>9} {:>9}",
        "milliseconds", "p50", "p95", "p99", "max"
    );
    for (name, v) in [
        ("end of speech → result", &mut s.eos),
        ("  queued for ASR", &mut s.queued),
        ("  ASR", &mut s.asr),
        ("  classify (incl. batching)", &mut s.classify),
    ] {
        println!(
            "{name:<30} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
            pct(v, 50.0),
            pct(v, 95.0),
            pct(v, 99.0),
            pct(v, 100.0)
        );
    }
    if s.failures > 0 {
        bail!("{} call(s) failed", s.failures);
    }
    Ok(())
}

type Sample = Option<(f32, f32, f32, f32)>;

async fn one_call(
    server: &str,
    api_key: Option<&str>,
    reqs: Vec<crate::proto::StreamCallRequest>,
    pace: Duration,
    out: mpsc::Sender<Sample>,
) -> anyhow::Result<()> {
    let rx = send_paced(reqs, Some(pace));
    let mut client = connect(server).await?;
    let mut responses = client
        .stream_call(super::stream::with_key(ReceiverStream::new(rx), api_key)?)
        .await?
        .into_inner();
    while let Some(resp) = responses.next().await {
        if let Some(StreamingResponse::Result(r)) = resp?.streaming_response {
            if let (true, Some(t)) = (r.is_final, r.timings) {
                let _ = out
                    .send(Some((
                        t.end_of_speech_to_emit_ms,
                        t.queued_ms,
                        t.asr_ms,
                        t.classify_ms,
                    )))
                    .await;
            }
        }
    }
    Ok(())
}
