//! whisper-rs wrapped for utterance-sized work.
//!
//! Owns: loading a ggml model, and running one utterance through one Whisper
//! state with the parameters that matter for live calls (encoder window sized
//! to the utterance, token budget from its duration, no-speech and
//! empty-text guards). Synchronous; runs only on ASR worker threads.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use whisper_rs::{
    FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState,
};

use super::AsrError;
use crate::config::AsrConfig;

/// The project's own whisper-format model, trained on espeak-ng speech
/// through a telephone channel (models/asr-synth/MODEL_CARD.md). Committed, so
/// the engine always has a model; a test and demo model: it does not
/// transcribe real voices.
pub const SYNTH_MODEL: &str = "models/asr-synth/ggml-callsense-synth-en-q8_0.bin";

/// Whether `path` names a synthetic-speech model (this project's, or the
/// earlier spike), which real callers must be told about.
pub fn is_synthetic_speech_model(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.contains("synth"))
}

/// Whisper consumes audio at 16 kHz; one encoder position covers 20 ms.
const SAMPLES_PER_AUDIO_CTX: usize = 320;
/// Shortest input handed to whisper.cpp (it is padded with silence).
const MIN_SAMPLES: usize = 16_000;

/// A loaded ggml Whisper model, shared by every worker's state.
pub struct WhisperModel {
    ctx: WhisperContext,
    path: PathBuf,
    multilingual: bool,
    n_audio_ctx: usize,
}

impl std::fmt::Debug for WhisperModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhisperModel")
            .field("path", &self.path)
            .field("multilingual", &self.multilingual)
            .finish()
    }
}

impl WhisperModel {
    /// Loads a ggml model file.
    ///
    /// # Errors
    /// [`AsrError::Load`] if the file is missing or not a ggml Whisper model.
    pub fn load(path: &Path, use_gpu: bool) -> Result<Arc<Self>, AsrError> {
        whisper_rs::install_logging_hooks();
        if !path.is_file() {
            return Err(AsrError::Load {
                path: path.into(),
                reason: "file not found (run `callsense models fetch`)".into(),
            });
        }
        let mut params = WhisperContextParameters::default();
        params.use_gpu(use_gpu);
        let p = path.to_str().ok_or_else(|| AsrError::Load {
            path: path.into(),
            reason: "path is not UTF-8".into(),
        })?;
        let ctx = WhisperContext::new_with_params(p, params).map_err(|e| AsrError::Load {
            path: path.into(),
            reason: e.to_string(),
        })?;
        let multilingual = ctx.is_multilingual();
        let n_audio_ctx = ctx.n_audio_ctx().max(1) as usize;
        Ok(Arc::new(Self {
            ctx,
            path: path.into(),
            multilingual,
            n_audio_ctx,
        }))
    }

    /// File name of the model, for logs and `CallAccepted`.
    pub fn name(&self) -> String {
        self.path.file_name().map_or_else(
            || self.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }

    pub fn is_multilingual(&self) -> bool {
        self.multilingual
    }

    /// A fresh decoding state (one per worker thread).
    ///
    /// # Errors
    /// whisper.cpp could not allocate the state.
    pub fn new_state(&self) -> Result<WhisperState, AsrError> {
        self.ctx
            .create_state()
            .map_err(|e| AsrError::Inference(format!("cannot create Whisper state: {e}")))
    }
}

/// Candidates a greedy decoder samples when the temperature fallback re-decodes
/// an utterance (whisper.cpp's and OpenAI's default).
pub const FALLBACK_BEST_OF: i32 = 5;

/// Per-utterance decoding limits, from [`AsrConfig`].
#[derive(Debug, Clone)]
pub struct DecodeOptions {
    pub threads: usize,
    pub dynamic_audio_ctx: bool,
    pub audio_ctx_margin: usize,
    pub tokens_per_second: f32,
    pub min_tokens: u32,
    pub no_speech_threshold: f32,
    /// 1: greedy; more: beam search with this many beams.
    pub beam_size: u32,
    /// See [`AsrConfig`]: beam ranking and the temperature fallback.
    pub length_penalty: f32,
    pub temperature_fallback: f32,
    pub fallback_logprob_threshold: f32,
    pub fallback_entropy_threshold: f32,
}

impl From<&AsrConfig> for DecodeOptions {
    fn from(c: &AsrConfig) -> Self {
        Self {
            threads: c.threads_per_worker,
            dynamic_audio_ctx: c.dynamic_audio_ctx,
            audio_ctx_margin: c.audio_ctx_margin as usize,
            tokens_per_second: c.tokens_per_second,
            min_tokens: c.min_tokens,
            no_speech_threshold: c.no_speech_threshold,
            beam_size: c.beam_size,
            length_penalty: c.length_penalty,
            temperature_fallback: c.temperature_fallback,
            fallback_logprob_threshold: c.fallback_logprob_threshold,
            fallback_entropy_threshold: c.fallback_entropy_threshold,
        }
    }
}

/// What Whisper heard in one utterance.
#[derive(Debug, Clone, PartialEq)]
pub struct Transcript {
    pub text: String,
    /// ISO 639-1 code ("en", "zh").
    pub language: String,
    /// Highest no-speech probability over the segments.
    pub no_speech_probability: f32,
}

impl DecodeOptions {
    /// Greedy for one beam, else beam search (whisper.cpp's default patience).
    /// With the temperature fallback on, a greedy re-decode samples
    /// `FALLBACK_BEST_OF` candidates and keeps the likeliest; beam search's
    /// re-decodes sample one (whisper.cpp's default for that strategy).
    pub fn strategy(&self) -> SamplingStrategy {
        if self.beam_size > 1 {
            SamplingStrategy::BeamSearch {
                beam_size: self.beam_size as i32,
                patience: -1.0,
            }
        } else {
            SamplingStrategy::Greedy {
                best_of: if self.temperature_fallback > 0.0 {
                    FALLBACK_BEST_OF
                } else {
                    1
                },
            }
        }
    }

    /// Encoder positions for `samples` of audio (≈ 50 per second plus margin).
    pub fn audio_ctx(&self, samples: usize, model_ctx: usize) -> usize {
        if !self.dynamic_audio_ctx {
            return model_ctx;
        }
        (samples.div_ceil(SAMPLES_PER_AUDIO_CTX) + self.audio_ctx_margin).min(model_ctx)
    }

    /// Token budget for `samples` of audio.
    pub fn max_tokens(&self, samples: usize) -> u32 {
        let seconds = samples as f32 / 16_000.0;
        self.min_tokens + (seconds * self.tokens_per_second).ceil() as u32
    }
}

/// Transcribes one utterance. `Ok(None)`: Whisper judged it non-speech (or
/// produced no text) — the utterance must not become a result.
///
/// # Errors
/// Empty audio, or whisper.cpp failed.
pub fn transcribe(
    model: &WhisperModel,
    state: &mut WhisperState,
    audio: &[f32],
    language: Option<&str>,
    opts: &DecodeOptions,
) -> Result<Option<Transcript>, AsrError> {
    if audio.is_empty() {
        return Err(AsrError::EmptyAudio);
    }
    let padded;
    let input = if audio.len() < MIN_SAMPLES {
        padded = [audio, &vec![0.0; MIN_SAMPLES - audio.len()]].concat();
        &padded[..]
    } else {
        audio
    };
    let lang = match language {
        _ if !model.multilingual => "en",
        None | Some("") | Some("auto") => "auto",
        Some(l) => l,
    };
    let mut params = FullParams::new(opts.strategy());
    params.set_n_threads(opts.threads as i32);
    params.set_language(Some(lang));
    params.set_translate(false);
    params.set_no_context(true);
    params.set_no_timestamps(true);
    params.set_single_segment(true);
    params.set_print_special(false);
    params.set_print_progress(false);
    params.set_print_realtime(false);
    params.set_print_timestamps(false);
    params.set_suppress_blank(true);
    params.set_suppress_nst(true);
    params.set_temperature(0.0);
    // 0: no fallback re-decodes; otherwise at most 1/step more decodes.
    params.set_temperature_inc(opts.temperature_fallback);
    params.set_logprob_thold(opts.fallback_logprob_threshold);
    params.set_entropy_thold(opts.fallback_entropy_threshold);
    params.set_length_penalty(opts.length_penalty);
    params.set_no_speech_thold(opts.no_speech_threshold);
    params.set_audio_ctx(opts.audio_ctx(input.len(), model.n_audio_ctx) as i32);
    params.set_max_tokens(opts.max_tokens(audio.len()) as i32);

    state
        .full(params, input)
        .map_err(|e| AsrError::Inference(e.to_string()))?;

    let mut text = String::new();
    let mut no_speech: f32 = 0.0;
    for segment in state.as_iter() {
        no_speech = no_speech.max(segment.no_speech_probability());
        if let Ok(t) = segment.to_str_lossy() {
            text.push_str(&t);
        }
    }
    let text = clean_text(&text);
    let language = if model.multilingual {
        whisper_rs::get_lang_str(state.full_lang_id_from_state())
            .unwrap_or("auto")
            .to_string()
    } else {
        "en".to_string()
    };
    if text.is_empty() || no_speech > opts.no_speech_threshold {
        return Ok(None);
    }
    Ok(Some(Transcript {
        text,
        language,
        no_speech_probability: no_speech,
    }))
}

/// Removes Whisper's non-speech annotations ("[BLANK_AUDIO]", "(music)") and
/// collapses whitespace.
pub fn clean_text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut depth = 0usize;
    for c in raw.chars() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_speech_models_are_recognised_by_file_name() {
        assert!(is_synthetic_speech_model(Path::new(SYNTH_MODEL)));
        assert!(is_synthetic_speech_model(Path::new(
            ".runtime/models/ggml-synth-spike-en.bin"
        )));
        assert!(!is_synthetic_speech_model(Path::new(
            ".runtime/models/ggml-base.en.bin"
        )));
        assert!(!is_synthetic_speech_model(Path::new(
            "/models/synth/ggml-tiny.en.bin"
        )));
    }

    #[test]
    fn audio_ctx_is_sized_to_the_utterance() {
        let o = DecodeOptions::from(&AsrConfig::default());
        assert_eq!(o.audio_ctx(16_000 * 3, 1500), 150 + 8);
        assert_eq!(o.audio_ctx(16_000 * 40, 1500), 1500);
        let full = DecodeOptions {
            dynamic_audio_ctx: false,
            ..o.clone()
        };
        assert_eq!(full.audio_ctx(16_000, 1500), 1500);
    }

    #[test]
    fn beam_size_picks_the_search() {
        let o = DecodeOptions::from(&AsrConfig::default());
        assert!(matches!(
            o.strategy(),
            SamplingStrategy::Greedy { best_of: 1 }
        ));
        let beams = DecodeOptions {
            beam_size: 5,
            ..o.clone()
        };
        assert!(matches!(
            beams.strategy(),
            SamplingStrategy::BeamSearch { beam_size: 5, .. }
        ));
        let fallback = DecodeOptions {
            temperature_fallback: 0.2,
            ..o
        };
        assert!(matches!(
            fallback.strategy(),
            SamplingStrategy::Greedy {
                best_of: FALLBACK_BEST_OF
            }
        ));
    }

    #[test]
    fn token_budget_grows_with_duration() {
        let o = DecodeOptions::from(&AsrConfig::default());
        assert_eq!(o.max_tokens(16_000 * 2), 16 + 12);
        assert!(o.max_tokens(16_000 * 10) > o.max_tokens(16_000 * 2));
    }

    #[test]
    fn annotations_are_removed() {
        assert_eq!(clean_text(" [BLANK_AUDIO] "), "");
        assert_eq!(
            clean_text(" I want (laughs) to cancel  "),
            "I want to cancel"
        );
        assert_eq!(clean_text("no ) brackets"), "no ) brackets");
    }
}
