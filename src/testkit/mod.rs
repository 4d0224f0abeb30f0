//! Test and benchmark tooling: calls built from fixture files, and the
//! non-speech signals of `tests/fixtures/non_speech.json`.
//!
//! Owns: reading fixtures and rendering them to audio, deterministically,
//! and the CRM test doubles in [`salesforce`] (a server enforcing the
//! Salesforce REST contract) and [`webhook`] (a Standard Webhooks receiver).
//! Not on the engine's data path; used by tests, benches and examples so
//! that each builds calls the same way.

pub mod proc;
pub mod salesforce;
pub mod sse;
pub mod webhook;

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::audio::{AudioClip, FileError};
use crate::models::ASSETS_ENV;

/// `x` (mono, `rate` Hz) as the engine hears it over a telephone line: down
/// to 8 kHz, through a G.711 μ-law round trip, back up to 16 kHz.
///
/// # Errors
/// A rate the resampler does not take.
pub fn telephone_line(x: &[f32], rate: u32) -> Result<Vec<f32>, crate::audio::ResampleError> {
    use crate::audio::{linear_to_ulaw, resample_offline, ulaw_to_linear};
    let narrow = resample_offline(x, rate, 8000)?;
    let line: Vec<f32> = narrow
        .iter()
        .map(|&s| {
            let q = linear_to_ulaw((s.clamp(-1.0, 1.0) * 32767.0) as i16);
            f32::from(ulaw_to_linear(q)) / 32768.0
        })
        .collect();
    resample_offline(&line, 8000, 16_000)
}

/// `CALLSENSE_ASSETS`, else `../shared/assets` beside the repository.
pub fn assets_dir() -> PathBuf {
    crate::models::assets_dir()
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/assets"))
}

/// A ground-truth call (`tests/fixtures/*.json`).
#[derive(Debug, Clone, Deserialize)]
pub struct Fixture {
    pub sample_rate_hz: u32,
    pub channels: Vec<FixtureChannel>,
    pub duration_ms: u64,
    #[serde(default)]
    pub clips: Vec<FixtureClip>,
    pub regions: Vec<Region>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FixtureChannel {
    pub index: usize,
    pub role: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FixtureClip {
    /// Relative to the assets directory.
    pub path: String,
    pub channel: usize,
    pub offset_ms: u64,
    #[serde(default)]
    pub gain_db: f32,
    /// Take this channel of the file instead of a mono mix.
    pub source_channel: Option<usize>,
}

/// Ground-truth speech on one channel.
#[derive(Debug, Clone, Deserialize)]
pub struct Region {
    pub channel: usize,
    pub start_ms: u32,
    pub end_ms: u32,
    #[serde(default)]
    pub text: String,
}

/// Why a fixture could not be built.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("fixture {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("{0} (set {ASSETS_ENV} to the shared assets directory)")]
    Clip(#[from] FileError),
    #[error(transparent)]
    Resample(#[from] crate::audio::ResampleError),
}

impl Fixture {
    /// # Errors
    /// Unreadable or malformed JSON.
    pub fn load(path: &Path) -> Result<Self, FixtureError> {
        let err = |reason: String| FixtureError::Read {
            path: path.into(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        serde_json::from_str(&text).map_err(|e| err(e.to_string()))
    }

    /// Renders the call: silence of `duration_ms` per channel, each clip
    /// (mono mix or its `source_channel`) resampled to the fixture's rate,
    /// gain applied, added at its offset.
    ///
    /// # Errors
    /// A clip is missing or unreadable.
    pub fn render(&self, assets: &Path) -> Result<AudioClip, FixtureError> {
        let rate = self.sample_rate_hz;
        let n = (self.duration_ms * u64::from(rate) / 1000) as usize;
        let mut channels = vec![vec![0.0f32; n]; self.channels.len()];
        for c in &self.clips {
            let clip = AudioClip::read(&assets.join(&c.path))?;
            let mono = match c.source_channel {
                Some(k) => AudioClip {
                    sample_rate: clip.sample_rate,
                    channels: vec![clip.channels[k].clone()],
                },
                None => clip.mono(),
            }
            .resampled(rate)?;
            let gain = 10f32.powf(c.gain_db / 20.0);
            let start = (c.offset_ms * u64::from(rate) / 1000) as usize;
            let dst = &mut channels[c.channel];
            for (i, s) in mono.channels[0].iter().enumerate() {
                if let Some(d) = dst.get_mut(start + i) {
                    *d += s * gain;
                }
            }
        }
        Ok(AudioClip {
            sample_rate: rate,
            channels,
        })
    }
}

/// A named non-speech signal (8 kHz, mono).
#[derive(Debug, Clone)]
pub struct Signal {
    pub name: String,
    pub samples: Vec<f32>,
}

#[derive(Debug, Deserialize)]
struct SignalSpec {
    name: String,
    duration_ms: u64,
    rms_dbfs: Option<f32>,
    seed: Option<u64>,
    freq_hz: Option<f32>,
    harmonics: Option<Vec<f32>>,
    harmonic_gains_db: Option<Vec<f32>>,
    freqs_hz: Option<Vec<f32>>,
    on_ms: Option<u64>,
    off_ms: Option<u64>,
    rms_dbfs_each: Option<f32>,
    digits: Option<String>,
    tone_ms: Option<u64>,
    pause_ms: Option<u64>,
    lead_in_ms: Option<u64>,
    rms_dbfs_low: Option<f32>,
    rms_dbfs_high: Option<f32>,
    segment_ms: Option<Vec<u64>>,
}

#[derive(Debug, Deserialize)]
struct SignalFile {
    sample_rate_hz: u32,
    signals: Vec<SignalSpec>,
}

/// Renders every signal of a `non_speech.json`.
///
/// # Errors
/// Unreadable file or an unknown signal name.
pub fn non_speech_signals(path: &Path) -> Result<(u32, Vec<Signal>), FixtureError> {
    let err = |reason: String| FixtureError::Read {
        path: path.into(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let file: SignalFile = serde_json::from_str(&text).map_err(|e| err(e.to_string()))?;
    let rate = file.sample_rate_hz as f32;
    let mut out = Vec::new();
    for (k, s) in file.signals.iter().enumerate() {
        let n = (s.duration_ms as f32 * rate / 1000.0) as usize;
        let ms = |i: usize| (i as f32 * 1000.0 / rate) as u64;
        let samples: Vec<f32> = match s.name.as_str() {
            "digital_silence" => vec![0.0; n],
            "white_noise" => scale_to(
                gaussian(n, s.seed.unwrap_or(k as u64 + 1)),
                s.rms_dbfs.unwrap_or(-40.0),
            ),
            "comfort_noise_pink" => scale_to(
                pink(gaussian(n, s.seed.unwrap_or(k as u64 + 1))),
                s.rms_dbfs.unwrap_or(-50.0),
            ),
            "line_hum" => {
                let f0 = s.freq_hz.unwrap_or(50.0);
                let h = s.harmonics.clone().unwrap_or_else(|| vec![1.0]);
                let g = s
                    .harmonic_gains_db
                    .clone()
                    .unwrap_or_else(|| vec![0.0; h.len()]);
                let x = (0..n)
                    .map(|i| {
                        h.iter()
                            .zip(&g)
                            .map(|(m, gd)| 10f32.powf(gd / 20.0) * tone(f0 * m, i, rate))
                            .sum::<f32>()
                    })
                    .collect();
                scale_to(x, s.rms_dbfs.unwrap_or(-30.0))
            }
            "dial_tone" | "busy_tone" | "ringback_tone" => {
                let amp = sine_amp(s.rms_dbfs_each.unwrap_or(-20.0));
                let freqs = s.freqs_hz.clone().unwrap_or_default();
                let (on, off) = (s.on_ms.unwrap_or(u64::MAX / 2), s.off_ms.unwrap_or(0));
                (0..n)
                    .map(|i| {
                        let active = ms(i) % (on + off) < on;
                        if active {
                            freqs.iter().map(|f| amp * tone(*f, i, rate)).sum()
                        } else {
                            0.0
                        }
                    })
                    .collect()
            }
            "dtmf" => {
                let digits: Vec<char> = s.digits.clone().unwrap_or_default().chars().collect();
                let (tone_ms, pause_ms, lead) = (
                    s.tone_ms.unwrap_or(100),
                    s.pause_ms.unwrap_or(100),
                    s.lead_in_ms.unwrap_or(0),
                );
                let (lo_a, hi_a) = (
                    sine_amp(s.rms_dbfs_low.unwrap_or(-15.0)),
                    sine_amp(s.rms_dbfs_high.unwrap_or(-13.0)),
                );
                (0..n)
                    .map(|i| {
                        let t = ms(i);
                        if t < lead {
                            return 0.0;
                        }
                        let slot = ((t - lead) / (tone_ms + pause_ms)) as usize;
                        match digits.get(slot) {
                            Some(&d) if (t - lead) % (tone_ms + pause_ms) < tone_ms => {
                                let (lo, hi) = dtmf_freqs(d);
                                lo_a * tone(lo, i, rate) + hi_a * tone(hi, i, rate)
                            }
                            _ => 0.0,
                        }
                    })
                    .collect()
            }
            "sit_tone" => {
                let freqs = s.freqs_hz.clone().unwrap_or_default();
                let segs = s
                    .segment_ms
                    .clone()
                    .unwrap_or_else(|| vec![274; freqs.len()]);
                let amp = sine_amp(s.rms_dbfs.unwrap_or(-30.0));
                // The three-tone sequence once, then silence (the announcement would follow).
                (0..n)
                    .map(|i| {
                        let mut t = ms(i);
                        for (f, d) in freqs.iter().zip(&segs) {
                            if t < *d {
                                return amp * tone(*f, i, rate);
                            }
                            t -= d;
                        }
                        0.0
                    })
                    .collect()
            }
            "hold_music" => {
                // An arpeggio of plucked notes (three harmonics, decaying)
                // over a sustained bass note, as a hold loop sounds.
                let notes = s.freqs_hz.clone().unwrap_or_default();
                let note_ms = s
                    .segment_ms
                    .as_ref()
                    .and_then(|v| v.first())
                    .copied()
                    .unwrap_or(250);
                let x: Vec<f32> = (0..n)
                    .map(|i| {
                        let t = ms(i);
                        let Some(&f) = notes.get((t / note_ms) as usize % notes.len().max(1))
                        else {
                            return 0.0;
                        };
                        let since = (t % note_ms) as f32 / 1000.0;
                        let pluck: f32 = (1..=3)
                            .map(|h| tone(f * h as f32, i, rate) / h as f32)
                            .sum::<f32>()
                            * (-since * 6.0).exp();
                        pluck + 0.5 * tone(notes.first().copied().unwrap_or(f) / 2.0, i, rate)
                    })
                    .collect();
                scale_to(x, s.rms_dbfs.unwrap_or(-24.0))
            }
            other => return Err(err(format!("unknown signal `{other}`"))),
        };
        out.push(Signal {
            name: label(s, k),
            samples,
        });
    }
    Ok((file.sample_rate_hz, out))
}

fn label(s: &SignalSpec, k: usize) -> String {
    match (s.rms_dbfs, s.freq_hz) {
        (_, Some(f)) => format!("{}_{}hz", s.name, f),
        (Some(db), None) => format!("{}_{}dbfs", s.name, db),
        _ => format!("{}_{k}", s.name),
    }
}

fn tone(freq: f32, i: usize, rate: f32) -> f32 {
    (2.0 * std::f32::consts::PI * freq * i as f32 / rate).sin()
}

/// Peak amplitude of a sine with this RMS level (dBFS, full-scale sine = −3.01).
fn sine_amp(rms_dbfs: f32) -> f32 {
    10f32.powf(rms_dbfs / 20.0) * std::f32::consts::SQRT_2
}

fn scale_to(mut x: Vec<f32>, rms_dbfs: f32) -> Vec<f32> {
    let rms = (x.iter().map(|v| v * v).sum::<f32>() / x.len().max(1) as f32).sqrt();
    if rms > 0.0 {
        let k = 10f32.powf(rms_dbfs / 20.0) / rms;
        x.iter_mut().for_each(|v| *v *= k);
    }
    x
}

/// Deterministic Gaussian noise (xorshift + Box–Muller).
pub fn gaussian(n: usize, seed: u64) -> Vec<f32> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    (0..n)
        .map(|_| {
            let (u1, u2) = (uniform(), uniform());
            ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
        })
        .collect()
}

/// Paul Kellet's pinking filter.
fn pink(white: Vec<f32>) -> Vec<f32> {
    let (mut b0, mut b1, mut b2) = (0.0f32, 0.0f32, 0.0f32);
    white
        .into_iter()
        .map(|w| {
            b0 = 0.99765 * b0 + w * 0.0990460;
            b1 = 0.96300 * b1 + w * 0.2965164;
            b2 = 0.57000 * b2 + w * 1.0526913;
            b0 + b1 + b2 + w * 0.1848
        })
        .collect()
}

fn dtmf_freqs(d: char) -> (f32, f32) {
    const ROWS: [f32; 4] = [697.0, 770.0, 852.0, 941.0];
    const COLS: [f32; 3] = [1209.0, 1336.0, 1477.0];
    let idx = "123456789*0#".find(d).unwrap_or(0);
    (ROWS[idx / 3], COLS[idx % 3])
}

/// A final customer utterance, negative, intent `cancel_service`, for
/// connector tests and benchmarks that need results without audio.
pub fn sample_utterance(call_id: &str, seq: u32, text: &str) -> crate::proto::UtteranceResult {
    use crate::proto::{Intent, Sentiment, SentimentLabel, SpeakerRole, UtteranceResult};
    UtteranceResult {
        call_id: call_id.into(),
        seq,
        channel: 1,
        role: SpeakerRole::Customer as i32,
        start_ms: seq * 1000,
        end_ms: seq * 1000 + 800,
        transcript: text.into(),
        is_final: true,
        language_code: "en".into(),
        sentiment: Some(Sentiment {
            label: SentimentLabel::Negative as i32,
            score: -0.7,
            probabilities: None,
        }),
        intent: Some(Intent {
            label: "cancel_service".into(),
            confidence: 0.9,
            top: vec![],
            low_confidence: false,
        }),
        timings: None,
        classification: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_speech_signals_have_their_levels() {
        let path = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/non_speech.json"
        ));
        let (rate, sigs) = non_speech_signals(path).unwrap();
        assert_eq!(rate, 8000);
        assert!(sigs.len() >= 8);
        let noise = sigs
            .iter()
            .find(|s| s.name == "white_noise_-30dbfs")
            .unwrap();
        let db = crate::audio::rms_dbfs(&noise.samples) - 3.0103;
        assert!((db + 30.0).abs() < 0.1, "{db}");
        assert!(sigs
            .iter()
            .all(|s| s.samples.iter().all(|v| v.abs() <= 1.0)));
    }
}

/// Words of `text` as ASR scoring compares them: lower case, letters, digits
/// and apostrophes only, and each Chinese character a word of its own (Chinese
/// has no spaces between words, so its "WER" is the character error rate, as
/// models/asr-synth/wer.py scores it).
pub fn score_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    for c in text.to_lowercase().chars() {
        let cjk = ('\u{4e00}'..='\u{9fff}').contains(&c);
        if !cjk && (c.is_alphanumeric() || c == '\'') {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        if cjk {
            words.push(c.to_string());
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Word-level edit distance (substitutions + deletions + insertions) between a
/// reference and a hypothesis, and the reference's word count: WER = errors / words.
pub fn word_errors(reference: &str, hypothesis: &str) -> (usize, usize) {
    let r = score_words(reference);
    let h = score_words(hypothesis);
    let mut row: Vec<usize> = (0..=h.len()).collect();
    for (i, rw) in r.iter().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, hw) in h.iter().enumerate() {
            let next = (row[j + 1] + 1)
                .min(row[j] + 1)
                .min(diag + usize::from(rw != hw));
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    (row[h.len()], r.len())
}

#[cfg(test)]
mod wer_tests {
    use super::*;

    #[test]
    fn chinese_characters_are_scored_one_by_one() {
        assert_eq!(
            score_words("我想把账户注销掉, ok? It's 3"),
            ["我", "想", "把", "账", "户", "注", "销", "掉", "ok", "it's", "3"]
        );
        assert_eq!(score_words("登录abc不了"), ["登", "录", "abc", "不", "了"]);
        assert_eq!(word_errors("我登录不了", "我登陆不了了"), (2, 5));
    }

    #[test]
    fn word_errors_count_substitutions_deletions_and_insertions() {
        assert_eq!(word_errors("I want to cancel.", "i want to cancel"), (0, 4));
        assert_eq!(word_errors("I want to cancel", "I want a cancel"), (1, 4));
        assert_eq!(word_errors("I want to cancel", "I want cancel"), (1, 4));
        assert_eq!(
            word_errors("I want to cancel", "I do want to cancel it"),
            (2, 4)
        );
        assert_eq!(word_errors("I can't log in", ""), (4, 4));
        assert_eq!(word_errors("", "noise"), (1, 0));
    }
}
