//! earshot vs Silero VAD on the shared speech clips, with numbers.
//!
//! ```text
//! ORT_DYLIB_PATH=$PWD/.runtime/lib/libonnxruntime.so \
//! CALLSENSE_ASSETS=/path/to/shared/assets \
//!     cargo run --release --example vad_compare [-- --detail]
//! ```
//!
//! For each detector it runs the engine's endpointer (default `AudioConfig`,
//! no interim snapshots) over:
//! - the ground-truth calls in `tests/fixtures` (`stereo_call.json`,
//!   `stereo_diarization.json` built from the shared clips; `demo_call.wav`),
//!   each through a μ-law round trip and resampled to 16 kHz, clean and with
//!   white noise at 20 dB and 10 dB SNR (relative to each channel's speech RMS);
//! - the non-speech signals of `tests/fixtures/non_speech.json`;
//!
//! and times each detector's `probability()` per second of 16 kHz audio.
//! Calls and non-speech signals are rendered by `callsense::testkit` (as the
//! integration tests do); this tool adds the telephone line (noise, μ-law,
//! 16 kHz), the scoring and the timing. Prints markdown tables; `--detail`
//! adds one row per ground-truth region.
//! Silero is skipped (with a message) when ONNX Runtime or the model is missing.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use callsense::audio::resample_offline;
use callsense::audio::AudioClip;
use callsense::audio::TARGET_RATE;
use callsense::audio::{linear_to_ulaw, ulaw_to_linear};
use callsense::audio::{EarshotVad, SileroModel, VadError, VoiceDetector};
use callsense::audio::{EndpointParams, Endpointer};
use callsense::config::AudioConfig;
use callsense::testkit::{self, Fixture, Region};

/// Telephony rate the fixtures are built at.
const LINE_RATE: u32 = 8000;
/// Streaming chunk fed to the endpointer: 20 ms at 16 kHz.
const CHUNK_16K: usize = 320;
/// Boundary tolerance reported as "within".
const TOLERANCE_MS: f64 = 300.0;
/// Noise conditions: `None` = clean, `Some(snr_db)`.
const CONDITIONS: [Option<f32>; 3] = [None, Some(20.0), Some(10.0)];

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn main() -> Result<()> {
    let detail = std::env::args().any(|a| a == "--detail");
    let detectors = detectors();
    let calls = load_calls()?;
    let (rate, signals) =
        testkit::non_speech_signals(&repo().join("tests/fixtures/non_speech.json"))?;
    if rate != LINE_RATE {
        bail!("non_speech.json: expected {LINE_RATE} Hz signals, got {rate}");
    }

    let params = EndpointParams::from_config(&AudioConfig::default(), false);
    println!("# VAD comparison: earshot vs Silero\n");
    println!(
        "Endpointer: default AudioConfig (threshold {:.2}, continue {:.2}, energy floor {} dBFS, min speech {} ms, \
         end silence {} ms); audio fed in 20 ms chunks. Calls: 8 kHz → μ-law round trip → 16 kHz (rubato).\n",
        params.threshold,
        params.continue_threshold,
        params.energy_floor_dbfs,
        params.min_speech / 16,
        params.end_silence / 16
    );

    // (a) + robustness: every call under every noise condition.
    let mut results: Vec<(Option<f32>, &str, &Detector, Score)> = Vec::new();
    let mut gated_cost: Vec<(&str, Duration, u64)> = Vec::new();
    for &snr in &CONDITIONS {
        for call in &calls {
            let audio = call.telephone(snr)?;
            for d in &detectors {
                let mut score = Score::default();
                let mut busy = Duration::ZERO;
                for (ch, samples) in audio.iter().enumerate() {
                    let run = run_endpointer(d, &params, samples)?;
                    busy += run.meter.busy;
                    let regions: Vec<(f64, f64)> = call
                        .regions
                        .iter()
                        .filter(|r| r.channel == ch)
                        .map(|r| (f64::from(r.start_ms), f64::from(r.end_ms)))
                        .collect();
                    score.add(&regions, &run.utterances, ch, detail);
                }
                if snr.is_none() {
                    let samples: u64 = audio.iter().map(|c| c.len() as u64).sum();
                    gated_cost.push((d.name, busy, samples));
                }
                results.push((snr, call.name, d, score));
            }
        }
    }

    println!("## (a) Ground-truth calls, clean\n");
    print_score_header(true);
    for call in calls.iter().map(|c| c.name).chain(["ALL"]) {
        for d in &detectors {
            let s = total(&results, None, call, d.name);
            print_score_row(call, d.name, &s, true);
        }
    }
    println!(
        "\nmatched = regions overlapped by ≥1 detection; false = detections overlapping no region; split = regions \
         covered by >1 detection; merged = detections covering >1 region. Errors use the union of a region's \
         detections (Δ = detected − truth, signed mean in brackets).\n"
    );

    println!("## Robustness: white noise at 20 dB and 10 dB SNR (all calls)\n");
    print_score_header(false);
    for &snr in &CONDITIONS {
        let label = snr.map_or("clean".to_string(), |s| format!("{s:.0} dB SNR"));
        for d in &detectors {
            let s = total(&results, snr, "ALL", d.name);
            print_score_row(&label, d.name, &s, false);
        }
    }

    if detail {
        println!("\n## Per-region detail (clean)\n");
        println!("| call | VAD | ch | truth ms | detected ms | Δstart | Δend |");
        println!("|---|---|---:|---|---|---:|---:|");
        for (snr, call, d, s) in &results {
            if snr.is_none() {
                for row in &s.rows {
                    println!("| {call} | {} | {row} |", d.name);
                }
            }
        }
    }

    // (b) Non-speech.
    println!("\n## (b) Non-speech signals (8 kHz → μ-law → 16 kHz, one channel)\n");
    print!("| signal | seconds |");
    for d in &detectors {
        print!(
            " {} utterances | {} frames p≥0.5 (gated / raw) |",
            d.name, d.name
        );
    }
    println!();
    println!("|---|---:|{}", "---:|---:|".repeat(detectors.len()));
    let mut false_total = vec![0usize; detectors.len()];
    for s in &signals {
        let audio = telephone_channel(&s.samples, None)?;
        print!(
            "| {} | {:.1} |",
            s.name,
            audio.len() as f64 / TARGET_RATE as f64
        );
        for (k, d) in detectors.iter().enumerate() {
            let run = run_endpointer(d, &params, &audio)?;
            let raw = raw_pass(d, &audio)?;
            false_total[k] += run.utterances.len();
            print!(
                " {} | {:.1} % / {:.1} % |",
                run.utterances.len(),
                100.0 * run.meter.speech_frames as f64 / run.frames.max(1) as f64,
                100.0 * raw.speech_frames as f64 / raw.calls.max(1) as f64
            );
        }
        println!();
    }
    print!("| **total false utterances** | |");
    for n in &false_total {
        print!(" **{n}** | |");
    }
    println!(
        "\n\ngated = what the endpointer sees (frames under the energy floor count as p = 0); raw = probability() on \
         every frame.\n"
    );

    // (c) Cost.
    println!("## (c) Cost of probability()\n");
    println!(
        "| VAD | frame | raw µs/frame | raw ns per 16 kHz second | raw % of a core per channel | in endpointer (gated) \
         ns per 16 kHz second |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    let clean: Vec<Vec<Vec<f32>>> = calls
        .iter()
        .map(|c| c.telephone(None))
        .collect::<Result<_>>()?;
    for d in &detectors {
        let mut m = Meter::default();
        let mut samples = 0u64;
        for ch in clean.iter().flatten() {
            let r = raw_pass(d, ch)?;
            m.busy += r.busy;
            m.calls += r.calls;
            samples += ch.len() as u64;
        }
        let secs = samples as f64 / TARGET_RATE as f64;
        let ns_per_s = m.busy.as_nanos() as f64 / secs;
        let (_, gated, gated_samples) = gated_cost
            .iter()
            .filter(|g| g.0 == d.name)
            .fold((d.name, Duration::ZERO, 0u64), |acc, g| {
                (acc.0, acc.1 + g.1, acc.2 + g.2)
            });
        let gated_ns = gated.as_nanos() as f64 / (gated_samples as f64 / TARGET_RATE as f64);
        println!(
            "| {} | {} ms | {:.1} | {:.0} | {:.3} % | {:.0} |",
            d.name,
            d.frame_len() * 1000 / TARGET_RATE as usize,
            m.busy.as_secs_f64() * 1e6 / m.calls.max(1) as f64,
            ns_per_s,
            ns_per_s / 1e9 * 100.0,
            gated_ns
        );
    }
    println!(
        "\nraw: every frame of the clean calls' channels ({:.1} s of 16 kHz audio), one thread.",
        { clean.iter().flatten().map(|c| c.len()).sum::<usize>() as f64 / TARGET_RATE as f64 }
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// Detectors

struct Detector {
    name: &'static str,
    silero: Option<Arc<SileroModel>>,
}

impl Detector {
    fn make(&self) -> Box<dyn VoiceDetector> {
        match &self.silero {
            Some(m) => Box::new(m.detector()),
            None => Box::new(EarshotVad::new()),
        }
    }

    fn frame_len(&self) -> usize {
        self.make().frame_len()
    }
}

/// earshot always; Silero when ONNX Runtime and the model load.
fn detectors() -> Vec<Detector> {
    let mut v = vec![Detector {
        name: "earshot",
        silero: None,
    }];
    let lib = repo().join(callsense::classify::runtime::DEFAULT_ORT_LIBRARY);
    let configured = (std::env::var_os("ORT_DYLIB_PATH").is_none() && lib.is_file()).then_some(lib);
    let model_path = std::env::var_os("SILERO_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(AudioConfig::default().silero_model));
    match callsense::classify::runtime::init(configured.as_deref()) {
        Err(e) => eprintln!("SKIP silero: {e}"),
        Ok(env) => match SileroModel::load(&env, &model_path) {
            Ok(m) => v.push(Detector {
                name: "silero",
                silero: Some(m),
            }),
            Err(e) => eprintln!("SKIP silero: {e}"),
        },
    }
    v
}

/// What a detector did: calls, frames at p ≥ 0.5 and time inside `probability()`.
#[derive(Debug, Default, Clone)]
struct Meter {
    calls: u64,
    speech_frames: u64,
    busy: Duration,
}

/// Wraps a detector to meter it; the meter is shared with the caller.
struct Metered {
    inner: Box<dyn VoiceDetector>,
    meter: Arc<Mutex<Meter>>,
}

impl VoiceDetector for Metered {
    fn frame_len(&self) -> usize {
        self.inner.frame_len()
    }

    fn probability(&mut self, frame: &[f32]) -> Result<f32, VadError> {
        let t = Instant::now();
        let p = self.inner.probability(frame)?;
        let busy = t.elapsed();
        let mut m = self.meter.lock().expect("meter lock");
        m.calls += 1;
        m.busy += busy;
        m.speech_frames += u64::from(p >= 0.5);
        Ok(p)
    }

    fn reset(&mut self) {
        self.inner.reset();
    }
}

struct Run {
    /// Final utterances as (start_ms, end_ms).
    utterances: Vec<(f64, f64)>,
    meter: Meter,
    /// Frames the endpointer stepped through (gated or not).
    frames: u64,
}

/// Streams one 16 kHz channel through a fresh endpointer in 20 ms chunks.
fn run_endpointer(d: &Detector, params: &EndpointParams, audio: &[f32]) -> Result<Run> {
    let meter = Arc::new(Mutex::new(Meter::default()));
    let vad = Metered {
        inner: d.make(),
        meter: Arc::clone(&meter),
    };
    let frame = vad.frame_len() as u64;
    let mut ep = Endpointer::new(params.clone(), Box::new(vad));
    let mut segs = Vec::new();
    for chunk in audio.chunks(CHUNK_16K) {
        ep.push(chunk, &mut segs)?;
    }
    ep.finish(&mut segs)?;
    let utterances = segs
        .iter()
        .filter(|s| s.is_final)
        .map(|s| {
            (
                s.start as f64 * 1000.0 / TARGET_RATE as f64,
                s.end as f64 * 1000.0 / TARGET_RATE as f64,
            )
        })
        .collect();
    let meter = meter.lock().expect("meter lock").clone();
    Ok(Run {
        utterances,
        meter,
        frames: (audio.len() as u64).div_ceil(frame),
    })
}

/// `probability()` on every whole frame, no energy gate.
fn raw_pass(d: &Detector, audio: &[f32]) -> Result<Meter> {
    let mut vad = d.make();
    let mut m = Meter::default();
    for frame in audio.chunks_exact(vad.frame_len()) {
        let t = Instant::now();
        let p = vad.probability(frame)?;
        m.busy += t.elapsed();
        m.calls += 1;
        m.speech_frames += u64::from(p >= 0.5);
    }
    Ok(m)
}

// ---------------------------------------------------------------------------
// Scoring

#[derive(Debug, Default, Clone)]
struct Score {
    regions: usize,
    detections: usize,
    matched: usize,
    missed: usize,
    false_detections: usize,
    split: usize,
    merged: usize,
    /// Signed errors (detected − truth), ms, one per matched region.
    start_err: Vec<f64>,
    end_err: Vec<f64>,
    /// `--detail` rows.
    rows: Vec<String>,
}

impl Score {
    fn add(&mut self, regions: &[(f64, f64)], dets: &[(f64, f64)], ch: usize, detail: bool) {
        let overlaps = |a: &(f64, f64), b: &(f64, f64)| a.0 < b.1 && b.0 < a.1;
        self.regions += regions.len();
        self.detections += dets.len();
        for r in regions {
            let hits: Vec<&(f64, f64)> = dets.iter().filter(|d| overlaps(r, d)).collect();
            if hits.is_empty() {
                self.missed += 1;
                if detail {
                    self.rows
                        .push(format!("{ch} | {:.0}–{:.0} | missed | | ", r.0, r.1));
                }
                continue;
            }
            self.matched += 1;
            self.split += usize::from(hits.len() > 1);
            let start = hits.iter().map(|d| d.0).fold(f64::INFINITY, f64::min);
            let end = hits.iter().map(|d| d.1).fold(f64::NEG_INFINITY, f64::max);
            self.start_err.push(start - r.0);
            self.end_err.push(end - r.1);
            if detail {
                self.rows.push(format!(
                    "{ch} | {:.0}–{:.0} | {:.0}–{:.0} ({}) | {:+.0} | {:+.0}",
                    r.0,
                    r.1,
                    start,
                    end,
                    hits.len(),
                    start - r.0,
                    end - r.1
                ));
            }
        }
        for d in dets {
            match regions.iter().filter(|r| overlaps(r, d)).count() {
                0 => self.false_detections += 1,
                1 => {}
                _ => self.merged += 1,
            }
        }
    }

    fn merge(&mut self, o: &Score) {
        self.regions += o.regions;
        self.detections += o.detections;
        self.matched += o.matched;
        self.missed += o.missed;
        self.false_detections += o.false_detections;
        self.split += o.split;
        self.merged += o.merged;
        self.start_err.extend_from_slice(&o.start_err);
        self.end_err.extend_from_slice(&o.end_err);
    }

    fn within(&self) -> f64 {
        let all = self.start_err.iter().chain(&self.end_err);
        let n = self.start_err.len() + self.end_err.len();
        if n == 0 {
            return f64::NAN;
        }
        all.filter(|e| e.abs() <= TOLERANCE_MS).count() as f64 / n as f64
    }
}

fn mean_abs(x: &[f64]) -> f64 {
    x.iter().map(|v| v.abs()).sum::<f64>() / x.len() as f64
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

fn max_abs(x: &[f64]) -> f64 {
    x.iter().map(|v| v.abs()).fold(f64::NAN, f64::max)
}

fn total(
    results: &[(Option<f32>, &str, &Detector, Score)],
    snr: Option<f32>,
    call: &str,
    vad: &str,
) -> Score {
    let mut s = Score::default();
    for (c, name, d, sc) in results {
        if *c == snr && d.name == vad && (call == "ALL" || call == *name) {
            s.merge(sc);
        }
    }
    s
}

fn print_score_header(full: bool) {
    let first = if full { "call" } else { "condition" };
    if full {
        println!(
            "| {first} | VAD | regions | detected | matched | missed | false | split | merged | mean \\|Δstart\\| ms \
             | max \\|Δstart\\| ms | mean \\|Δend\\| ms | max \\|Δend\\| ms | boundaries within ±300 ms |"
        );
        println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    } else {
        println!(
            "| {first} | VAD | regions | detected | matched | missed | false | split | merged | mean \\|Δstart\\| ms \
             | mean \\|Δend\\| ms | boundaries within ±300 ms |"
        );
        println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    }
}

fn print_score_row(label: &str, vad: &str, s: &Score, full: bool) {
    let head = format!(
        "| {label} | {vad} | {} | {} | {} | {} | {} | {} | {} |",
        s.regions, s.detections, s.matched, s.missed, s.false_detections, s.split, s.merged
    );
    let within = format!("{:.0} %", 100.0 * s.within());
    if full {
        println!(
            "{head} {:.0} ({:+.0}) | {:.0} | {:.0} ({:+.0}) | {:.0} | {within} |",
            mean_abs(&s.start_err),
            mean(&s.start_err),
            max_abs(&s.start_err),
            mean_abs(&s.end_err),
            mean(&s.end_err),
            max_abs(&s.end_err)
        );
    } else {
        println!(
            "{head} {:.0} ({:+.0}) | {:.0} ({:+.0}) | {within} |",
            mean_abs(&s.start_err),
            mean(&s.start_err),
            mean_abs(&s.end_err),
            mean(&s.end_err)
        );
    }
}

// ---------------------------------------------------------------------------
// Calls and the telephone line

/// A call at the line rate (8 kHz float, before μ-law) with its ground truth.
struct Call {
    name: &'static str,
    channels: Vec<Vec<f32>>,
    regions: Vec<Region>,
}

impl Call {
    /// Per channel: white noise at `snr_db` under that channel's speech RMS
    /// (if given), μ-law round trip, resampled to 16 kHz.
    fn telephone(&self, snr_db: Option<f32>) -> Result<Vec<Vec<f32>>> {
        self.channels
            .iter()
            .enumerate()
            .map(|(ch, x)| {
                let noise = snr_db.map(|snr| {
                    let speech = speech_rms(x, self.regions.iter().filter(|r| r.channel == ch));
                    (speech * 10f32.powf(-snr / 20.0), 1000 + ch as u64)
                });
                telephone_channel(x, noise)
            })
            .collect()
    }
}

/// The ground-truth calls: the two built from shared clips (skipped with a
/// message when the clips are missing) and the committed demo call.
fn load_calls() -> Result<Vec<Call>> {
    let fixtures = repo().join("tests/fixtures");
    let assets = testkit::assets_dir();
    let mut calls = Vec::new();
    for name in ["stereo_call", "stereo_diarization"] {
        let f = Fixture::load(&fixtures.join(format!("{name}.json")))?;
        match f.render(&assets) {
            Ok(clip) => calls.push(Call {
                name,
                channels: line_rate(clip)?,
                regions: f.regions,
            }),
            Err(e) => eprintln!("SKIP {name}: {e}"),
        }
    }
    let demo = Fixture::load(&fixtures.join("demo_call.json"))?;
    let clip = AudioClip::read(&fixtures.join("demo_call.wav"))?;
    calls.push(Call {
        name: "demo_call",
        channels: line_rate(clip)?,
        regions: demo.regions,
    });
    Ok(calls)
}

fn line_rate(clip: AudioClip) -> Result<Vec<Vec<f32>>> {
    Ok(clip.resampled(LINE_RATE)?.channels)
}

/// RMS of `x` (8 kHz) inside the given regions.
fn speech_rms<'a>(x: &[f32], regions: impl Iterator<Item = &'a Region>) -> f32 {
    let at = |ms: u32| (u64::from(ms) * u64::from(LINE_RATE) / 1000) as usize;
    let (mut sum, mut n) = (0.0f64, 0usize);
    for r in regions {
        let b = at(r.end_ms).min(x.len());
        for v in &x[at(r.start_ms).min(b)..b] {
            sum += f64::from(*v) * f64::from(*v);
            n += 1;
        }
    }
    if n == 0 {
        0.0
    } else {
        (sum / n as f64).sqrt() as f32
    }
}

/// The telephone line for one 8 kHz channel: optional gaussian noise
/// `(rms, seed)`, μ-law encode/decode, then the engine's 16 kHz.
fn telephone_channel(x: &[f32], noise: Option<(f32, u64)>) -> Result<Vec<f32>> {
    let mut line = x.to_vec();
    if let Some((rms, seed)) = noise {
        for (v, n) in line.iter_mut().zip(testkit::gaussian(x.len(), seed)) {
            *v += rms * n;
        }
    }
    for v in &mut line {
        let s = (v.clamp(-1.0, 1.0) * 32767.0).round() as i16;
        *v = f32::from(ulaw_to_linear(linear_to_ulaw(s))) / 32768.0;
    }
    Ok(resample_offline(&line, LINE_RATE, TARGET_RATE)?)
}
