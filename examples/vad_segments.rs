//! The engine's front end (μ-law decode, resampling, VAD, endpointing) over
//! WAV files as they would stream: μ-law at the file's rate in 20 ms chunks.
//! Prints each final utterance as one JSON line (`file`, `ch`, `start_ms`,
//! `end_ms`), for counting the turns the VAD loses (`scripts/vad_turns.py`).
//!
//! ```text
//! ORT_DYLIB_PATH=$PWD/.runtime/lib/libonnxruntime.so \
//!     cargo run --release --example vad_segments -- CALL.wav [...]
//! ```
//! `CALLSENSE__AUDIO__*` settings apply (e.g. `CALLSENSE__AUDIO__VAD_WATCH_REFRESH_MS=0`).

use std::path::Path;

use anyhow::{Context, Result};

use callsense::audio::linear_to_ulaw;
use callsense::audio::AudioClip;
use callsense::audio::EndpointParams;
use callsense::audio::{CallFrontend, FrontendSetup};
use callsense::config::Config;
use callsense::proto::AudioEncoding;

fn main() -> Result<()> {
    let config = Config::load(None).context("configuration")?;
    let a = &config.audio;
    let env = callsense::classify::runtime::init(config.classifier.ort_library.as_deref())?;
    // the engine's own detectors (Silero, watched as configured)
    let make = callsense::audio::vad_factory(&env, a)?;
    for path in std::env::args().skip(1) {
        let clip = AudioClip::read(Path::new(&path))?;
        let n = clip.channels.len();
        let setup = FrontendSetup {
            encoding: AudioEncoding::Mulaw,
            sample_rate_hz: clip.sample_rate,
            channels: n,
            endpoint: EndpointParams::from_config(a, false),
        };
        let mut frontend = CallFrontend::new(&setup, || make())?;
        let mut bytes = Vec::with_capacity(clip.frames() * n);
        for i in 0..clip.frames() {
            for ch in &clip.channels {
                bytes.push(linear_to_ulaw((ch[i] * 32767.0) as i16));
            }
        }
        let chunk = (clip.sample_rate as usize / 50).max(1) * n;
        let mut out = Vec::new();
        for c in bytes.chunks(chunk) {
            frontend.push(c, &mut out)?;
        }
        frontend.finish(&mut out)?;
        for u in out.iter().filter(|u| u.segment.is_final) {
            println!(
                "{}",
                serde_json::json!({"file": path, "ch": u.channel, "start_ms": u.segment.start_ms(), "end_ms": u.segment.end_ms()})
            );
        }
    }
    Ok(())
}
