//! Audio front-end cost per stream-second.
//!
//! ```text
//! ORT_DYLIB_PATH=$PWD/.runtime/lib/libonnxruntime.so cargo bench --bench audio_frontend
//! ```
//!
//! - `call_frontend/{earshot,silero}`: a whole `CallFrontend` (μ-law decode →
//!   resample 8→16 kHz → VAD → endpointing, both channels) fed the 44.6 s
//!   demo call (tests/fixtures/demo_call.wav) in 20 ms μ-law stereo chunks,
//!   as a live call arrives. Throughput elements are milliseconds of call
//!   audio; after the group the bench prints the derived cost per
//!   stream-second and "% of one core per live stereo call".
//! - `g711/decode_1s_stereo`, `resample/8k_to_16k_1s`: the stages alone.
//!
//! Silero is skipped, with a message, if ONNX Runtime or the model is missing.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

use callsense::audio::AudioClip;
use callsense::audio::Decoder;
use callsense::audio::EndpointParams;
use callsense::audio::StreamResampler;
use callsense::audio::{CallFrontend, FrontendSetup};
use callsense::audio::{EarshotVad, SileroModel, VoiceDetector};
use callsense::config::AudioConfig;
use callsense::proto::AudioEncoding;

const RATE: u32 = 8000;
const CHANNELS: usize = 2;
/// 20 ms of 8 kHz μ-law stereo: 160 frames × 2 bytes.
const CHUNK_BYTES: usize = 160 * CHANNELS;

type VadFactory = Arc<dyn Fn() -> Box<dyn VoiceDetector> + Send + Sync>;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The demo call as the μ-law bytes a telephony platform would send.
fn demo_call_bytes() -> (Vec<u8>, f64) {
    let clip = AudioClip::read(&repo().join("tests/fixtures/demo_call.wav"))
        .expect("read tests/fixtures/demo_call.wav");
    let clip = clip.resampled(RATE).expect("resample demo call to 8 kHz");
    assert_eq!(clip.channels.len(), CHANNELS, "demo_call.wav is stereo");
    (clip.encode(AudioEncoding::Mulaw), clip.seconds())
}

/// Silero's factory, or why it is unavailable.
fn silero_factory() -> Result<VadFactory, String> {
    let lib = repo().join(callsense::classify::runtime::DEFAULT_ORT_LIBRARY);
    let configured = (std::env::var_os("ORT_DYLIB_PATH").is_none() && lib.is_file()).then_some(lib);
    let env =
        callsense::classify::runtime::init(configured.as_deref()).map_err(|e| e.to_string())?;
    let model = SileroModel::load(&env, &repo().join(AudioConfig::default().silero_model))
        .map_err(|e| e.to_string())?;
    Ok(Arc::new(move || {
        Box::new(model.detector()) as Box<dyn VoiceDetector>
    }))
}

/// Runs a whole call through a fresh front end; returns the utterance count.
fn run_call(bytes: &[u8], make_vad: &VadFactory) -> usize {
    let setup = FrontendSetup {
        encoding: AudioEncoding::Mulaw,
        sample_rate_hz: RATE,
        channels: CHANNELS,
        endpoint: EndpointParams::from_config(&AudioConfig::default(), false),
    };
    let mut fe = CallFrontend::new(&setup, || make_vad()).expect("front end");
    let mut out = Vec::new();
    for chunk in bytes.chunks(CHUNK_BYTES) {
        fe.push(chunk, &mut out).expect("push");
    }
    fe.finish(&mut out).expect("finish");
    out.len()
}

/// Per-iteration times seen by `iter_custom`, per benchmark, for the summary.
#[derive(Default)]
struct Samples(Mutex<Vec<(String, Vec<Duration>)>>);

impl Samples {
    fn record(&self, name: &str, per_iter: Duration) {
        let mut v = self.0.lock().unwrap();
        match v.iter_mut().find(|(n, _)| n == name) {
            Some((_, d)) => d.push(per_iter),
            None => v.push((name.to_string(), vec![per_iter])),
        }
    }
}

fn frontend(c: &mut Criterion) {
    let (bytes, seconds) = demo_call_bytes();
    let mut vads: Vec<(&str, VadFactory)> = vec![(
        "earshot",
        Arc::new(|| Box::new(EarshotVad::new()) as Box<dyn VoiceDetector>),
    )];
    match silero_factory() {
        Ok(f) => vads.push(("silero", f)),
        Err(e) => eprintln!("SKIP call_frontend/silero: Silero VAD unavailable: {e}"),
    }
    for (name, f) in &vads {
        let n = run_call(&bytes, f);
        eprintln!("call_frontend/{name}: {seconds:.1} s demo call → {n} utterances");
    }

    let samples = Samples::default();
    let mut g = c.benchmark_group("call_frontend");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    g.throughput(Throughput::Elements((seconds * 1000.0).round() as u64)); // ms of call audio
    for (name, make_vad) in &vads {
        g.bench_function(BenchmarkId::new(*name, "demo_call_44.6s"), |b| {
            b.iter_custom(|iters| {
                let t = Instant::now();
                for _ in 0..iters {
                    black_box(run_call(&bytes, make_vad));
                }
                let el = t.elapsed();
                samples.record(name, el / iters as u32);
                el
            });
        });
    }
    g.finish();

    println!("\n| VAD | time per call ({seconds:.1} s stereo) | per stream-second | % of one core per live stereo call | × real time |");
    println!("|---|---:|---:|---:|---:|");
    for (name, mut d) in samples.0.into_inner().unwrap() {
        d.sort();
        let median = d[d.len() / 2];
        let per_s = median.as_secs_f64() / seconds;
        println!(
            "| {name} | {:.1} ms | {:.0} µs | {:.3} % | {:.0} |",
            median.as_secs_f64() * 1e3,
            per_s * 1e6,
            per_s * 100.0,
            1.0 / per_s
        );
    }
    println!("(median of criterion's iter_custom batches, warm-up included)\n");
}

fn stages(c: &mut Criterion) {
    let (bytes, _) = demo_call_bytes();
    // One second of stereo μ-law from inside the call (speech on it).
    let second = &bytes[5 * RATE as usize * CHANNELS..6 * RATE as usize * CHANNELS];

    let mut g = c.benchmark_group("g711");
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    g.throughput(Throughput::Elements(1000)); // ms of call audio
    g.bench_function("decode_1s_stereo", |b| {
        let mut dec = Decoder::new(AudioEncoding::Mulaw, CHANNELS).expect("decoder");
        let mut out: Vec<Vec<f32>> = (0..CHANNELS)
            .map(|_| Vec::with_capacity(RATE as usize))
            .collect();
        b.iter(|| {
            out.iter_mut().for_each(Vec::clear);
            for chunk in second.chunks(CHUNK_BYTES) {
                dec.decode(black_box(chunk), &mut out);
            }
            black_box(&out);
        });
    });
    g.finish();

    let mut dec = Decoder::new(AudioEncoding::Mulaw, CHANNELS).expect("decoder");
    let mut pcm = vec![Vec::new(); CHANNELS];
    dec.decode(second, &mut pcm);
    let mono = &pcm[0];
    let mut g = c.benchmark_group("resample");
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    g.throughput(Throughput::Elements(1000)); // ms of channel audio
    g.bench_function("8k_to_16k_1s_one_channel", |b| {
        // Steady state: one stream resampler, 20 ms blocks, as on a live call.
        let mut rs = StreamResampler::new(RATE).expect("resampler");
        let mut out = Vec::with_capacity(16_000);
        b.iter(|| {
            out.clear();
            for block in mono.chunks(160) {
                rs.process(black_box(block), &mut out);
            }
            black_box(&out);
        });
    });
    g.finish();
}

criterion_group!(benches, frontend, stages);
criterion_main!(benches);
