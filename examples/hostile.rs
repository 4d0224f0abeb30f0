//! Hostile clients against a running server (`scripts/hostile.sh` starts
//! one and runs this): N malformed or adversarial streams — garbage
//! protobuf, truncated messages, config storms, audio before config,
//! invalid enums and oversized metadata, 1-byte chunks, 64 KiB chunks at
//! 100× real time, oversized chunks, never-ending utterances, tiny calls
//! with fresh call ids, slow readers, streams that go silent, bad UTF-8,
//! plain TCP garbage and idle TCP connections — while a well-behaved
//! real-time call runs beside them and the server's resident memory,
//! threads and open files are sampled every second.
//!
//! Passes (exit 0) when: the server never died, every refused stream got
//! a status with a message, the good calls' transcripts match a baseline
//! call made before the storm, and memory, threads and files end within
//! bounds of where they started.
//!
//! cargo run --release --example hostile -- --server http://127.0.0.1:50051 --pid PID --streams 10000

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Buf, BufMut};
use futures::StreamExt;
use prost::Message;
use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Channel;
use tonic::Status;

use callsense::proto::stream_call_request::StreamingRequest;
use callsense::proto::stream_call_response::StreamingResponse;
use callsense::proto::{
    AudioEncoding, CallConfig, SpeakerRole, StreamCallRequest, StreamCallResponse,
};

/// Messages as raw bytes: what a broken client can put on the wire.
#[derive(Clone, Default)]
struct Raw;
struct RawEnc;
struct RawDec;

impl Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawEnc;
    type Decoder = RawDec;
    fn encoder(&mut self) -> RawEnc {
        RawEnc
    }
    fn decoder(&mut self) -> RawDec {
        RawDec
    }
}

impl Encoder for RawEnc {
    type Item = Vec<u8>;
    type Error = Status;
    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawDec {
    type Item = Vec<u8>;
    type Error = Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        let mut v = vec![0; src.remaining()];
        src.copy_to_slice(&mut v);
        Ok(Some(v))
    }
}

const KINDS: &[&str] = &[
    "garbage_protobuf",
    "truncated_config",
    "config_storm",
    "audio_before_config",
    "invalid_enums",
    "oversized_metadata",
    "one_byte_chunks",
    "64k_chunks_100x",
    "oversized_chunk",
    "never_ending_utterance",
    "tiny_call",
    "slow_reader",
    "bad_utf8",
    "empty_stream",
];

fn config(call_id: &str) -> CallConfig {
    CallConfig {
        call_id: call_id.into(),
        tenant: "hostile".into(),
        encoding: AudioEncoding::Mulaw as i32,
        sample_rate_hz: 8000,
        audio_channel_count: 1,
        channel_roles: vec![SpeakerRole::Customer as i32],
        language_code: "en".into(),
        ..Default::default()
    }
}

fn req(r: StreamingRequest) -> Vec<u8> {
    StreamCallRequest {
        streaming_request: Some(r),
    }
    .encode_to_vec()
}

fn audio(bytes: Vec<u8>) -> Vec<u8> {
    req(StreamingRequest::AudioContent(bytes.into()))
}

/// Deterministic noise.
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as u8
        })
        .collect()
}

/// The messages of one hostile stream, and whether the client reads slowly.
fn messages(kind: &str, i: u64) -> (Vec<Vec<u8>>, Option<Duration>) {
    let id = format!("hostile-{i}");
    let cfg = || req(StreamingRequest::Config(config(&id)));
    match kind {
        "garbage_protobuf" => (vec![noise(64 + (i as usize % 512), i)], None),
        "truncated_config" => {
            let c = cfg();
            let cut = 1 + (i as usize % (c.len() - 1));
            (vec![c[..cut].to_vec()], None)
        }
        "config_storm" => ((0..100).map(|_| cfg()).collect(), None),
        "audio_before_config" => (vec![audio(vec![0xff; 160]), cfg()], None),
        "invalid_enums" => {
            let mut c = config(&id);
            match i % 4 {
                0 => c.encoding = 99,
                1 => c.sample_rate_hz = -5,
                2 => c.audio_channel_count = 7,
                _ => c.channel_roles = vec![42],
            }
            (vec![req(StreamingRequest::Config(c))], None)
        }
        "oversized_metadata" => {
            let mut c = config(&id);
            for k in 0..100 {
                c.metadata.insert(format!("k{k}"), "v".repeat(2000));
            }
            (vec![req(StreamingRequest::Config(c))], None)
        }
        "one_byte_chunks" => {
            let mut v = vec![cfg()];
            v.extend(noise(800, i).into_iter().map(|b| audio(vec![b])));
            (v, None)
        }
        "64k_chunks_100x" => {
            let mut v = vec![cfg()];
            v.extend((0..8).map(|k| audio(noise(64 * 1024, i + k))));
            (v, None)
        }
        "oversized_chunk" => (vec![cfg(), audio(vec![0x55; 64 * 1024 + 1])], None),
        "never_ending_utterance" => {
            // 40 s of loud noise without a pause, sent as fast as possible.
            let mut v = vec![cfg()];
            v.extend((0..40).map(|k| audio(noise(8000, i * 100 + k))));
            (v, None)
        }
        "tiny_call" => (vec![cfg()], None),
        "slow_reader" => {
            let mut v = vec![cfg()];
            v.extend((0..50).map(|k| audio(noise(1600, i + k))));
            (v, Some(Duration::from_millis(500)))
        }
        "bad_utf8" => {
            // A CallConfig whose call_id (field 1) is not UTF-8.
            let mut inner = vec![0x0a, 4, 0xff, 0xfe, 0xfd, 0xfc];
            inner.extend_from_slice(&[0x18, 2]); // encoding = MULAW
            let mut outer = vec![0x0a, inner.len() as u8];
            outer.extend(inner);
            (vec![outer], None)
        }
        _ => (Vec::new(), None),
    }
}

#[derive(Default, Debug)]
struct Tally {
    /// kind → outcome ("OK" or the status code) → count.
    outcomes: BTreeMap<String, BTreeMap<String, u64>>,
    /// Refusals whose status had no message.
    silent: u64,
    transport_errors: u64,
}

async fn hostile_stream(channel: Channel, kind: &str, i: u64) -> Result<String, String> {
    let (msgs, slow) = messages(kind, i);
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.map_err(|e| format!("transport: {e}"))?;
    let path =
        tonic::codegen::http::uri::PathAndQuery::from_static("/callsense.v1.CallSense/StreamCall");
    let outbound = futures::stream::iter(msgs);
    let resp = grpc
        .streaming(tonic::Request::new(outbound), path, Raw)
        .await;
    let mut stream = match resp {
        Ok(r) => r.into_inner(),
        Err(s) => return Ok(status_outcome(&s)),
    };
    loop {
        if let Some(d) = slow {
            tokio::time::sleep(d).await;
        }
        match tokio::time::timeout(Duration::from_secs(120), stream.next()).await {
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(s))) => return Ok(status_outcome(&s)),
            Ok(None) => return Ok("OK".into()),
            Err(_) => return Err("no answer within 120 s".into()),
        }
    }
}

fn status_outcome(s: &Status) -> String {
    if s.message().trim().is_empty() {
        format!("{:?} (no message)", s.code())
    } else {
        format!("{:?}", s.code())
    }
}

/// Plain TCP garbage at the gRPC port (not HTTP/2 at all).
async fn tcp_garbage(addr: &str, i: u64) {
    if let Ok(mut s) = tokio::net::TcpStream::connect(addr).await {
        let _ = s.write_all(&noise(512, i)).await;
        let mut buf = [0u8; 256];
        let _ = tokio::time::timeout(
            Duration::from_secs(5),
            tokio::io::AsyncReadExt::read(&mut s, &mut buf),
        )
        .await;
    }
}

/// A good call: the demo call in real time; its final transcripts.
async fn good_call(
    channel: Channel,
    clip: &callsense::audio::AudioClip,
    n: u64,
) -> Result<Vec<String>, Status> {
    let mut cfg = config(&format!("good-{n}"));
    cfg.audio_channel_count = 2;
    cfg.channel_roles = vec![SpeakerRole::Agent as i32, SpeakerRole::Customer as i32];
    cfg.tenant = "good".into();
    let reqs = callsense::cli::stream::requests_for_clip(clip, cfg, AudioEncoding::Mulaw, 20);
    let rx = callsense::cli::stream::send_paced(reqs, Some(Duration::from_millis(20)));
    let mut client = callsense::proto::call_sense_client::CallSenseClient::new(channel);
    let mut s = client
        .stream_call(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await?
        .into_inner();
    let mut finals = Vec::new();
    while let Some(r) = s.next().await {
        let r: StreamCallResponse = r?;
        if let Some(StreamingResponse::Result(u)) = r.streaming_response {
            if u.is_final {
                finals.push(format!("{}:{}", u.channel, u.transcript));
            }
        }
    }
    finals.sort();
    Ok(finals)
}

/// Resident memory (KiB), threads and open files of `pid`.
fn sample(pid: u32) -> Option<(u64, u64, u64)> {
    callsense::testkit::proc::sample(pid).map(|s| (s.rss_kib, s.threads, s.open_files))
}

fn arg(name: &str) -> Option<String> {
    let mut it = std::env::args();
    while let Some(a) = it.next() {
        if a == name {
            return it.next();
        }
    }
    None
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let server = arg("--server").unwrap_or_else(|| "http://127.0.0.1:50051".into());
    let pid: u32 = arg("--pid")
        .ok_or_else(|| anyhow::anyhow!("--pid PID of the server"))?
        .parse()?;
    let streams: u64 = arg("--streams").unwrap_or_else(|| "10000".into()).parse()?;
    let concurrency: usize = arg("--concurrency")
        .unwrap_or_else(|| "24".into())
        .parse()?;
    let idle_conns: usize = arg("--idle-connections")
        .unwrap_or_else(|| "200".into())
        .parse()?;
    let clip_path = arg("--clip").unwrap_or_else(|| "tests/fixtures/demo_call.wav".into());
    let clip =
        callsense::audio::AudioClip::read(std::path::Path::new(&clip_path))?.resampled(8000)?;
    let addr = server.trim_start_matches("http://").to_string();
    let channel = Channel::from_shared(server.clone())?.connect().await?;

    println!("baseline call (before the storm)…");
    let baseline = good_call(channel.clone(), &clip, 0).await?;
    let start = sample(pid).ok_or_else(|| anyhow::anyhow!("no process {pid}"))?;
    println!(
        "baseline: {} finals; server at start: {} KiB RSS, {} threads, {} open files",
        baseline.len(),
        start.0,
        start.1,
        start.2
    );

    let done = Arc::new(AtomicBool::new(false));
    let samples = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let sampler = {
        let (done, samples) = (Arc::clone(&done), Arc::clone(&samples));
        tokio::spawn(async move {
            let t0 = Instant::now();
            while !done.load(Ordering::Relaxed) {
                match sample(pid) {
                    Some(s) => samples.lock().push((t0.elapsed().as_secs_f64(), s)),
                    None => {
                        samples.lock().push((t0.elapsed().as_secs_f64(), (0, 0, 0)));
                        return false; // the server died
                    }
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            true
        })
    };
    // Good calls beside the storm, one after another.
    let good = {
        let (done, channel, clip, baseline) = (
            Arc::clone(&done),
            channel.clone(),
            clip.clone(),
            baseline.clone(),
        );
        tokio::spawn(async move {
            let (mut n, mut same, mut differ) = (1u64, 0u64, Vec::new());
            while !done.load(Ordering::Relaxed) {
                match good_call(channel.clone(), &clip, n).await {
                    Ok(f) if f == baseline => same += 1,
                    Ok(f) => differ.push(format!("call {n}: {} finals differ", f.len())),
                    Err(s) => differ.push(format!("call {n}: {:?} {}", s.code(), s.message())),
                }
                n += 1;
            }
            (same, differ)
        })
    };
    // Idle TCP connections held through the storm (half-open clients).
    let mut idle = Vec::new();
    for _ in 0..idle_conns {
        if let Ok(s) = tokio::net::TcpStream::connect(&addr).await {
            idle.push(s);
        }
    }
    println!(
        "holding {} idle TCP connections; {streams} hostile streams, {concurrency} at a time…",
        idle.len()
    );

    let tally = Arc::new(parking_lot::Mutex::new(Tally::default()));
    let permits = Arc::new(Semaphore::new(concurrency));
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..streams {
        let permit = Arc::clone(&permits).acquire_owned().await?;
        let (channel, tally, addr) = (channel.clone(), Arc::clone(&tally), addr.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = permit;
            // Every 50th: raw TCP garbage instead of gRPC.
            if i % 50 == 49 {
                tcp_garbage(&addr, i).await;
                let mut t = tally.lock();
                *t.outcomes
                    .entry("tcp_garbage".into())
                    .or_default()
                    .entry("closed".into())
                    .or_default() += 1;
                return;
            }
            let kind = KINDS[(i as usize) % KINDS.len()];
            let outcome = hostile_stream(channel, kind, i).await;
            let mut t = tally.lock();
            match outcome {
                Ok(o) => {
                    if o.contains("no message") {
                        t.silent += 1;
                    }
                    *t.outcomes
                        .entry(kind.into())
                        .or_default()
                        .entry(o)
                        .or_default() += 1;
                }
                Err(e) => {
                    t.transport_errors += 1;
                    *t.outcomes
                        .entry(kind.into())
                        .or_default()
                        .entry(e)
                        .or_default() += 1;
                }
            }
        }));
        if (i + 1) % 1000 == 0 {
            let s = sample(pid).unwrap_or_default();
            println!(
                "{:>6} streams, {:>5.0} s: {} KiB RSS, {} threads, {} files",
                i + 1,
                t0.elapsed().as_secs_f64(),
                s.0,
                s.1,
                s.2
            );
        }
    }
    for t in tasks {
        let _ = t.await;
    }
    let storm_s = t0.elapsed().as_secs_f64();
    drop(idle);
    // Let the server settle (idle timeouts, connection teardown), then a last good call.
    tokio::time::sleep(Duration::from_secs(10)).await;
    done.store(true, Ordering::Relaxed);
    let (same, differ) = good.await?;
    let alive = sampler.await?;
    let after = good_call(channel.clone(), &clip, 999_999).await;
    let end = sample(pid).unwrap_or_default();

    let t = tally.lock();
    println!("\n{:<24} outcomes", "kind");
    for (k, o) in &t.outcomes {
        let o: Vec<String> = o.iter().map(|(what, n)| format!("{what} ×{n}")).collect();
        println!("{k:<24} {}", o.join(", "));
    }
    let s = samples.lock();
    let max = |f: fn(&(u64, u64, u64)) -> u64| s.iter().map(|(_, x)| f(x)).max().unwrap_or(0);
    println!(
        "\n{streams} streams in {storm_s:.0} s ({:.0}/s); server RSS {} → max {} → {} KiB, threads {} → max {} → {}, files {} → max {} → {}",
        streams as f64 / storm_s,
        start.0, max(|x| x.0), end.0,
        start.1, max(|x| x.1), end.1,
        start.2, max(|x| x.2), end.2,
    );
    println!(
        "good calls during the storm: {same} identical to the baseline, {} not: {differ:?}",
        differ.len()
    );
    println!(
        "refusals without a message: {}; transport errors: {}",
        t.silent, t.transport_errors
    );
    let mut failures = Vec::new();
    if !alive {
        failures.push("the server died".to_string());
    }
    if t.silent > 0 {
        failures.push(format!("{} refusals without a message", t.silent));
    }
    if !differ.is_empty() || same == 0 {
        failures.push("good calls were affected".into());
    }
    match after {
        Ok(f) if f == baseline => {}
        other => failures.push(format!("the call after the storm differs: {other:?}")),
    }
    if end.2 > start.2 + 16 {
        failures.push(format!("open files grew {} → {}", start.2, end.2));
    }
    if end.1 > start.1 + 4 {
        failures.push(format!("threads grew {} → {}", start.1, end.1));
    }
    if end.0 > start.0 + 200 * 1024 {
        failures.push(format!("resident memory grew {} → {} KiB", start.0, end.0));
    }
    if failures.is_empty() {
        println!("PASS");
        Ok(())
    } else {
        anyhow::bail!("FAIL: {}", failures.join("; "))
    }
}
