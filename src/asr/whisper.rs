//! whisper-rs wrapped for utterance-sized work.
//!
//! Owns: loading a ggml model, and running one utterance through one Whisper
//! state with the parameters that matter for live calls: the encoder window
//! sized to the utterance plus the trailing silence the model needs to end
//! its text, timestamp tokens for real Whisper, a token budget from the
//! utterance's duration, loop repair (re-decoding with a wider window, then
//! cutting repeats), the call's vocabulary as a prompt, the Chinese script,
//! and no-speech and empty-text guards. Synchronous; runs only on ASR worker
//! threads.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use whisper_rs::{
    DtwMode, DtwModelPreset, DtwParameters, FullParams, SamplingStrategy, WhisperContext,
    WhisperContextParameters, WhisperState,
};

use super::repetition::{collapse_loops, find_loop, said_again_so_far};
use super::script::to_simplified;
use super::AsrError;
use crate::config::{AsrConfig, ChineseScript};
use crate::language::Language;

pub use crate::config::SYNTH_MODEL;

/// Whether the ggml file at `path` is a synthetic-speech model (this
/// project's, or the earlier spike), which real callers must be told about.
/// Told by its dimensions, not its name: a model whose shape is none of
/// OpenAI's Whisper sizes (tiny … large-v3, turbo) was not trained on real
/// speech by OpenAI. `false` when the file cannot be read.
pub fn is_synthetic_speech_model(path: &Path) -> bool {
    read_hparams(path).is_ok_and(|h| h.dtw_preset().is_none())
}

/// Whether the ggml file at `path` stores its weight matrices as bfloat16
/// (`callsense models fetch whisper-base-bf16`). `false` when unreadable.
pub fn is_bf16_model(path: &Path) -> bool {
    use crate::models::ct2::ggml::FTYPE_BF16;
    read_hparams(path).is_ok_and(|h| usize::try_from(h.ftype % 1000) == Ok(FTYPE_BF16))
}

/// Whether this CPU multiplies bfloat16 in hardware (AVX512-BF16), where
/// whisper.cpp's matrix products on bfloat16 weights beat float16 ones
/// (README, "bfloat16 weights"). Elsewhere ggml widens every bfloat16 to a
/// float32 first, and float16 is the better choice.
pub fn cpu_has_native_bf16() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512bf16")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whisper consumes audio at 16 kHz; one encoder position covers 20 ms.
const SAMPLES_PER_AUDIO_CTX: usize = 320;
/// Shortest input handed to whisper.cpp (it is padded with silence).
const MIN_SAMPLES: usize = 16_000;

/// Encoder positions of trailing context for a real Whisper model: 1 s of
/// silence after the utterance. With only a few positions Whisper does not
/// see the speech end and says it again and again (on the development clips:
/// 8 positions loop 9 of 16 utterances without timestamp tokens, 3 with
/// them; 25 and 50 positions with timestamp tokens loop none, within 4 errors
/// in 147 words of the full 30 s window; README, "Real speech").
pub const REAL_AUDIO_CTX_MARGIN: u32 = 50;
/// The synthetic-speech model was trained on windows sized to the clip.
pub const SYNTH_AUDIO_CTX_MARGIN: u32 = 8;
/// Tiny models need 4 s: with 1 s, tiny.en looped on 9–13 of the ~19
/// utterances of each development call (each then decoded twice); with 4 s
/// on none, at lower WER (seeds 1–3: 6.7 / 5.2 / 4.5 % → 6.0 / 4.5 / 3.7 %).
/// Its encoder is cheap enough that the wider window costs less than the
/// second decodes did.
pub const TINY_AUDIO_CTX_MARGIN: u32 = 200;

/// Leading padding for tiny models (see [`WhisperModel::lead_pad_ms`]).
pub const TINY_LEAD_PAD_MS: u32 = 200;

/// What a model's decoding defaults follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    /// OpenAI Whisper base and larger (and any other real model).
    Real,
    /// OpenAI Whisper tiny / tiny.en dimensions.
    Tiny,
    /// callsense's synthetic-speech model.
    Synthetic,
}

/// A loaded ggml Whisper model, shared by every worker's state.
pub struct WhisperModel {
    ctx: WhisperContext,
    path: PathBuf,
    multilingual: bool,
    synthetic: bool,
    n_audio_ctx: usize,
    /// Word times from the decoder's alignment heads (dynamic time warping,
    /// as OpenAI's word timestamps): on for the standard OpenAI models.
    dtw: bool,
    /// OpenAI's tiny dimensions (4 text layers of 384).
    tiny: bool,
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
        // Flash attention stays off (whisper-rs's default): with the window
        // sized to each utterance it carried text over from the previous,
        // longer decode of the same state (README, "Real speech"), and it
        // rules out the alignment heads' word times.
        let hparams = read_hparams(path).ok();
        let tiny = hparams.is_some_and(Hparams::is_tiny);
        // A synthetic model has no OpenAI shape, so no alignment-head preset.
        let preset = hparams.and_then(|h| h.dtw_preset());
        let synthetic = hparams.is_some() && preset.is_none();
        let dtw = preset.is_some();
        if let Some(model_preset) = preset {
            params.dtw_parameters(DtwParameters {
                mode: DtwMode::ModelPreset { model_preset },
                ..DtwParameters::default()
            });
        }
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
            synthetic,
            n_audio_ctx,
            dtw,
            tiny,
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

    /// Whether word times come from the model's alignment heads (DTW):
    /// reliable enough to tell an utterance's words from its context's.
    pub fn has_word_times(&self) -> bool {
        self.dtw
    }

    /// Audio kept before an utterance's speech that suits this model, in ms
    /// (`audio.lead_pad_ms` when unset). Development calls (three seeds,
    /// WER, 200 / 300 / 400 ms): base 9.7 / 7.5 / 8.0 %, tiny.en
    /// 5.5 / 7.9 / 8.2 %: the tiny models write noise before the first
    /// word as words, the larger ones need the soft first syllable.
    pub fn lead_pad_ms(&self) -> u32 {
        match self.kind() {
            ModelKind::Tiny => TINY_LEAD_PAD_MS,
            ModelKind::Real | ModelKind::Synthetic => crate::audio::DEFAULT_LEAD_PAD_MS,
        }
    }

    /// Whether this is the project's synthetic-speech model (which decodes
    /// with its own defaults: see [`DecodeOptions::for_model`]).
    pub fn is_synthetic(&self) -> bool {
        self.synthetic
    }

    /// Which decoding defaults this model gets.
    pub fn kind(&self) -> ModelKind {
        match (self.synthetic, self.tiny) {
            (true, _) => ModelKind::Synthetic,
            (false, true) => ModelKind::Tiny,
            (false, false) => ModelKind::Real,
        }
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

/// The dimensions at the start of a ggml Whisper file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Hparams {
    n_vocab: i32,
    n_text_state: i32,
    n_text_layer: i32,
    n_mels: i32,
    /// How the weight matrices are stored (ggml's `ftype`, plus 1000 × the
    /// quantization version for quantized files).
    ftype: i32,
}

/// Reads the dimensions of ggml Whisper file `path`.
fn read_hparams(path: &Path) -> std::io::Result<Hparams> {
    use std::io::Read;
    let mut b = [0u8; 4 * 12];
    std::fs::File::open(path)?.read_exact(&mut b)?;
    let at = |i: usize| i32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]]);
    if at(0) as u32 != 0x6767_6d6c {
        return Err(std::io::Error::other("not a ggml file"));
    }
    // magic, n_vocab, n_audio_ctx, n_audio_state, n_audio_head,
    // n_audio_layer, n_text_ctx, n_text_state, n_text_head, n_text_layer, n_mels, ftype
    Ok(Hparams {
        n_vocab: at(1),
        n_text_state: at(7),
        n_text_layer: at(9),
        n_mels: at(10),
        ftype: at(11),
    })
}

impl Hparams {
    /// OpenAI's tiny dimensions (tiny and tiny.en).
    fn is_tiny(self) -> bool {
        (self.n_text_layer, self.n_text_state) == (4, 384)
    }
    /// OpenAI's alignment heads for the standard model of these
    /// dimensions (whisper.cpp's presets); `None` for any other model.
    fn dtw_preset(self) -> Option<DtwModelPreset> {
        let multilingual = self.n_vocab >= 51_865;
        Some(match (self.n_text_layer, self.n_text_state, multilingual) {
            (4, 384, false) => DtwModelPreset::TinyEn,
            (4, 384, true) => DtwModelPreset::Tiny,
            (6, 512, false) => DtwModelPreset::BaseEn,
            (6, 512, true) => DtwModelPreset::Base,
            (12, 768, false) => DtwModelPreset::SmallEn,
            (12, 768, true) => DtwModelPreset::Small,
            (24, 1024, false) => DtwModelPreset::MediumEn,
            (24, 1024, true) => DtwModelPreset::Medium,
            (4, 1280, true) => DtwModelPreset::LargeV3Turbo,
            (32, 1280, true) if self.n_mels == 128 => DtwModelPreset::LargeV3,
            (32, 1280, true) => DtwModelPreset::LargeV2,
            _ => return None,
        })
    }
}

/// Encoder positions the language detector sees: the utterance's first 4 s
/// (shorter ones with silence after them).
pub const LANGUAGE_DETECT_CTX: usize = 200;

/// The length whisper_full accepts but does not decode (its `delta_min`,
/// 10 mel frames): enough to store a window in a state.
const WINDOW_ONLY_MS: i32 = 100;

/// Detects an utterance's language in a window of [`LANGUAGE_DETECT_CTX`].
///
/// whisper.cpp detects the language of an "auto" decode before it applies
/// that decode's `audio_ctx`, with the window the state's previous decode
/// left behind (the full 30 s on a fresh state: 5 s of encoder work on one
/// core for a 4 s utterance with base). This detector keeps a state of its
/// own whose window is set once, so detection costs one small encoder pass,
/// and the decode then runs with the detected language.
pub struct LanguageDetector {
    state: WhisperState,
    /// Languages an utterance may be given (empty: any Whisper knows).
    allowed: Vec<i32>,
}

impl LanguageDetector {
    /// A detector for `model` (multilingual models only), choosing among
    /// `allowed` ISO 639-1 codes (empty: any).
    ///
    /// # Errors
    /// Not multilingual, an unknown code, or whisper.cpp failed.
    pub fn new(model: &WhisperModel, allowed: &[Language]) -> Result<Self, AsrError> {
        if !model.multilingual {
            return Err(AsrError::Inference(
                "language detection needs a multilingual model".into(),
            ));
        }
        let allowed: Vec<i32> = allowed.iter().map(|l| l.id()).collect();
        let mut state = model.new_state()?;
        // whisper_full stores its audio_ctx in the state before it decodes
        // anything, and language detection encodes with the state's window.
        // A run limited to exactly the 100 ms whisper.cpp skips (`duration`)
        // sets the window without encoding or decoding: a decode here would
        // run whisper.cpp's DTW word timing on the one-token result of
        // silence, which reads past the end of its segments and crashed the
        // process now and then (integration tests, SIGSEGV in
        // whisper_exp_compute_token_level_timestamps_dtw).
        let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        params.set_language(Some("en"));
        params.set_audio_ctx(LANGUAGE_DETECT_CTX.min(model.n_audio_ctx) as i32);
        params.set_duration_ms(WINDOW_ONLY_MS);
        params.set_max_tokens(1);
        params.set_single_segment(true);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        state
            .full(params, &vec![0.0; MIN_SAMPLES])
            .map_err(|e| AsrError::Inference(e.to_string()))?;
        if state.full_n_segments() != 0 {
            return Err(AsrError::Inference(
                "language detector set-up decoded text; whisper.cpp changed how it handles a 100 ms run".into(),
            ));
        }
        Ok(Self { state, allowed })
    }

    /// The most probable (allowed) language of `audio` (16 kHz).
    ///
    /// # Errors
    /// whisper.cpp failed.
    pub fn detect(&mut self, audio: &[f32], threads: usize) -> Result<Language, AsrError> {
        let err = |e: whisper_rs::WhisperError| AsrError::Inference(e.to_string());
        self.state.pcm_to_mel(audio, threads).map_err(err)?;
        let (best, probs) = self.state.lang_detect(0, threads).map_err(err)?;
        let id = if self.allowed.is_empty() {
            best
        } else {
            *self
                .allowed
                .iter()
                .max_by(|a, b| {
                    let p = |i: i32| probs.get(i as usize).copied().unwrap_or(0.0);
                    p(**a).total_cmp(&p(**b))
                })
                .unwrap_or(&best)
        };
        Ok(Language::from_id(id).unwrap_or(Language::english()))
    }
}

/// Candidates a greedy decoder samples when the temperature fallback re-decodes
/// an utterance (whisper.cpp's and OpenAI's default).
pub const FALLBACK_BEST_OF: i32 = 5;

/// Per-utterance decoding limits, from [`AsrConfig`] and the model.
#[derive(Debug, Clone)]
pub struct DecodeOptions {
    pub threads: usize,
    pub dynamic_audio_ctx: bool,
    /// Encoder positions after the utterance's own.
    pub audio_ctx_margin: usize,
    /// Margin of the second decode when the first loops (0: none).
    pub loop_audio_ctx_margin: usize,
    /// End a decode as soon as it says its words again ([`LoopStop`]).
    pub stop_loops: bool,
    /// Let Whisper write timestamp tokens (real models end their text
    /// reliably with them; the synthetic model was trained without).
    pub timestamp_tokens: bool,
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
    /// Write Mandarin in simplified characters.
    pub simplified_chinese: bool,
    /// Languages detection may choose (empty: any).
    pub languages: Vec<Language>,
}

impl DecodeOptions {
    /// The options for `config` with the model's defaults filled in: real
    /// Whisper gets [`REAL_AUDIO_CTX_MARGIN`] ([`TINY_AUDIO_CTX_MARGIN`] for
    /// tiny) and timestamp tokens, the synthetic-speech model
    /// [`SYNTH_AUDIO_CTX_MARGIN`] and none, unless the configuration sets them.
    pub fn for_model(c: &AsrConfig, model: &WhisperModel) -> Self {
        Self::for_kind(c, model.kind())
    }

    /// [`DecodeOptions::for_model`] for a kind of model.
    pub fn for_kind(c: &AsrConfig, kind: ModelKind) -> Self {
        let synthetic = kind == ModelKind::Synthetic;
        let margin = c.audio_ctx_margin.unwrap_or(match kind {
            ModelKind::Synthetic => SYNTH_AUDIO_CTX_MARGIN,
            ModelKind::Tiny => TINY_AUDIO_CTX_MARGIN,
            ModelKind::Real => REAL_AUDIO_CTX_MARGIN,
        });
        Self {
            threads: c.threads_per_worker,
            dynamic_audio_ctx: c.dynamic_audio_ctx,
            audio_ctx_margin: margin as usize,
            loop_audio_ctx_margin: c.loop_audio_ctx_margin as usize,
            stop_loops: c.stop_loops,
            timestamp_tokens: c.timestamp_tokens.unwrap_or(!synthetic),
            tokens_per_second: c.tokens_per_second,
            min_tokens: c.min_tokens,
            no_speech_threshold: c.no_speech_threshold,
            beam_size: c.beam_size,
            length_penalty: c.length_penalty,
            temperature_fallback: c.temperature_fallback,
            fallback_logprob_threshold: c.fallback_logprob_threshold,
            fallback_entropy_threshold: c.fallback_entropy_threshold,
            simplified_chinese: c.chinese_script == ChineseScript::Simplified,
            languages: c.languages.clone(),
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
    /// The first decode looped and the utterance was decoded again with a
    /// wider window.
    pub redecoded: bool,
    /// Repeats were still there and were cut to one copy.
    pub loop_collapsed: bool,
    /// The first decode was ended where it started to loop ([`LoopStop`])
    /// instead of running on to its token budget.
    pub loop_stopped: bool,
    /// Decoded after the same speaker's previous audio (see [`AsrInput`]).
    pub with_context: bool,
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
        self.audio_ctx_with(samples, model_ctx, self.audio_ctx_margin)
    }

    fn audio_ctx_with(&self, samples: usize, model_ctx: usize, margin: usize) -> usize {
        if !self.dynamic_audio_ctx {
            return model_ctx;
        }
        (samples.div_ceil(SAMPLES_PER_AUDIO_CTX) + margin).min(model_ctx)
    }

    /// Token budget for `samples` of audio.
    pub fn max_tokens(&self, samples: usize) -> u32 {
        let seconds = samples as f32 / 16_000.0;
        self.min_tokens + (seconds * self.tokens_per_second).ceil() as u32
    }
}

/// One utterance to transcribe.
#[derive(Debug, Clone, Copy, Default)]
pub struct AsrInput<'a> {
    /// The utterance, 16 kHz mono.
    pub audio: &'a [f32],
    /// The same speaker's audio just before, when the utterance continues a
    /// turn the endpointer cut at a pause: decoded in front of `audio` so
    /// Whisper hears the sentence, and only the words after it are kept.
    pub context: Option<Context<'a>>,
    /// `None` detects it (multilingual models; English-only ones hear English).
    pub language: Option<Language>,
    /// Words the call expects, as preceding text.
    pub prompt: Option<&'a str>,
    /// Set while the decode runs when its result is no longer wanted (an
    /// early decode whose speaker went on): whisper.cpp stops at its next
    /// graph step and the result is [`AsrError::Cancelled`].
    pub cancel: Option<&'a AtomicBool>,
}

/// Audio decoded in front of an utterance (see [`AsrInput::context`]).
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub audio: &'a [f32],
    /// The silence between the context's last speech and the utterance's
    /// first, as sample positions in context ‖ utterance: the words are
    /// told apart in its middle.
    pub silence: (usize, usize),
}

/// One decode's outcome.
struct Decoded {
    text: String,
    /// With a split point: the text of the tokens that start after it
    /// (`None`: no split asked for).
    after: Option<String>,
    no_speech: f32,
    /// The decoder stopped at the token budget rather than at its own end.
    hit_budget: bool,
    /// The decode was ended where it started saying its words again
    /// ([`LoopStop`]).
    stopped_at_loop: bool,
}

/// Transcribes one utterance. Without a language (or "auto"), `detector`
/// picks it (whisper.cpp's own detection without one). `Ok(None)`: Whisper
/// judged it non-speech (or produced no text) — the utterance must not
/// become a result.
///
/// With `input.context`, the context and the utterance are decoded as one
/// and only the words timed after the context are kept; where none are, or
/// that decode loops, the utterance is decoded alone.
///
/// A decode that loops (a run of words said again right after itself, or
/// text up to the token budget) is decoded once more with
/// `loop_audio_ctx_margin` positions of trailing context; repeats still
/// left are cut to one copy.
///
/// # Errors
/// Empty audio, or whisper.cpp failed.
pub fn transcribe(
    model: &WhisperModel,
    state: &mut WhisperState,
    mut detector: Option<&mut LanguageDetector>,
    input: AsrInput<'_>,
    opts: &DecodeOptions,
) -> Result<Option<Transcript>, AsrError> {
    if input.audio.is_empty() {
        return Err(AsrError::EmptyAudio);
    }
    if let Some(context) = input.context.filter(|c| !c.audio.is_empty()) {
        let joined = [context.audio, input.audio].concat();
        let (a, b) = context.silence;
        let split = Split {
            at: ((a + b) / 2 / SAMPLES_PER_CS) as i64,
            window: (b.saturating_sub(a) / 2 / SAMPLES_PER_CS).max(MIN_SPLIT_WINDOW_CS) as i64,
        };
        let d = transcribe_once(
            model,
            state,
            detector.as_deref_mut(),
            &joined,
            Some(split),
            input,
            opts,
        )?;
        if let Some(t) = d.filter(|t| !t.text.is_empty()) {
            return Ok(Some(Transcript {
                with_context: true,
                ..t
            }));
        }
    }
    transcribe_once(model, state, detector, input.audio, None, input, opts)
}

/// One transcription of `audio` (with `split`: only the words after it).
fn transcribe_once(
    model: &WhisperModel,
    state: &mut WhisperState,
    detector: Option<&mut LanguageDetector>,
    audio: &[f32],
    split: Option<Split>,
    input: AsrInput<'_>,
    opts: &DecodeOptions,
) -> Result<Option<Transcript>, AsrError> {
    let padded;
    let samples = if audio.len() < MIN_SAMPLES {
        padded = [audio, &vec![0.0; MIN_SAMPLES - audio.len()]].concat();
        &padded[..]
    } else {
        audio
    };
    let lang = match (input.language, detector) {
        _ if !model.multilingual => "en",
        (None, Some(d)) => d.detect(samples, opts.threads)?.code(),
        (None, None) => "auto",
        (Some(l), _) => l.code(),
    };
    let budget = opts.max_tokens(audio.len());
    let decode = |state: &mut WhisperState, margin: usize| {
        let at = Decode {
            lang,
            prompt: input.prompt,
            cancel: input.cancel,
            margin,
            budget,
            split,
        };
        decode_once(model, state, samples, &at, opts)
    };
    let first = std::time::Instant::now();
    let mut d = decode(state, opts.audio_ctx_margin)?;
    let loop_stopped = d.stopped_at_loop;
    let looped = d.hit_budget || loop_stopped || find_loop(&d.text).is_some();
    if looped && split.is_some() {
        // Whisper often says the context again after the utterance: rather
        // than a wider (slower) decode of both, the utterance alone.
        return Ok(None);
    }
    let wider = opts.audio_ctx_with(samples.len(), model.n_audio_ctx, opts.loop_audio_ctx_margin);
    let redecoded = looped && wider > opts.audio_ctx(samples.len(), model.n_audio_ctx);
    if redecoded {
        let (first_ms, budget_hit) = (first.elapsed().as_millis(), d.hit_budget);
        let again = std::time::Instant::now();
        d = decode(state, opts.loop_audio_ctx_margin)?;
        tracing::debug!(
            first_ms,
            budget_hit,
            stopped = loop_stopped,
            again_ms = again.elapsed().as_millis(),
            audio_ms = audio.len() / (SAMPLES_PER_CS / 10),
            text = %d.text,
            "Loop: decoded again with more trailing audio"
        );
    }
    let language = if model.multilingual {
        whisper_rs::get_lang_str(state.full_lang_id_from_state())
            .unwrap_or("auto")
            .to_string()
    } else {
        "en".to_string()
    };
    let raw = match d.after.take() {
        Some(after) => after,
        None => std::mem::take(&mut d.text),
    };
    // Repeats are looked for again only where the first decode looped.
    let (mut text, loop_collapsed) = if looped {
        let cut = collapse_loops(&raw);
        let changed = cut != raw;
        (cut, changed)
    } else {
        (raw, false)
    };
    if opts.simplified_chinese && language == "zh" {
        text = to_simplified(&text);
    }
    if text.is_empty() || d.no_speech > opts.no_speech_threshold {
        tracing::debug!(
            no_speech = d.no_speech, words = text.split_whitespace().count(), text = %text,
            "No speech: empty text or no-speech probability over asr.no_speech_threshold"
        );
        return Ok(None);
    }
    Ok(Some(Transcript {
        text,
        language,
        no_speech_probability: d.no_speech,
        redecoded,
        loop_collapsed,
        loop_stopped,
        with_context: false,
    }))
}

/// What one decode is asked for.
struct Decode<'a> {
    lang: &'a str,
    prompt: Option<&'a str>,
    cancel: Option<&'a AtomicBool>,
    /// Encoder positions after the audio.
    margin: usize,
    /// Token budget.
    budget: u32,
    /// Keep apart the text of the tokens after this point.
    split: Option<Split>,
}

/// whisper.cpp's abort callback: `data` is the decode's cancel flag.
unsafe extern "C" fn abort_if_set(data: *mut std::ffi::c_void) -> bool {
    // SAFETY: `data` is the `&AtomicBool` `decode_once` set, alive during
    // the decode that calls this.
    unsafe { (*data.cast::<AtomicBool>()).load(Ordering::Relaxed) }
}

/// Where context and utterance meet in a decode, in 10 ms steps.
#[derive(Debug, Clone, Copy)]
struct Split {
    /// The middle of the silence between them.
    at: i64,
    /// How far either side of `at` a timestamp token may fall and still
    /// mark the boundary (half the silence).
    window: i64,
}

/// Samples per 10 ms step (whisper.cpp's token times).
const SAMPLES_PER_CS: usize = 160;
/// The least window for a boundary timestamp token (Whisper's timestamps
/// are 20 ms steps and often a step or two early or late).
const MIN_SPLIT_WINDOW_CS: usize = 10;

fn decode_once(
    model: &WhisperModel,
    state: &mut WhisperState,
    input: &[f32],
    at: &Decode<'_>,
    opts: &DecodeOptions,
) -> Result<Decoded, AsrError> {
    let (lang, prompt, margin, budget) = (at.lang, at.prompt, at.margin, at.budget);
    let mut params = FullParams::new(opts.strategy());
    params.set_n_threads(opts.threads as i32);
    params.set_language(Some(lang));
    params.set_translate(false);
    params.set_no_context(true);
    params.set_no_timestamps(!opts.timestamp_tokens);
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
    params.set_audio_ctx(opts.audio_ctx_with(input.len(), model.n_audio_ctx, margin) as i32);
    params.set_max_tokens(budget as i32);
    if let Some(p) = prompt.filter(|p| !p.trim().is_empty()) {
        params.set_initial_prompt(p);
    }
    params.set_token_timestamps(at.split.is_some());
    if let Some(flag) = at.cancel {
        // SAFETY: whisper.cpp calls this only inside `state.full` below,
        // while `flag` (borrowed for this function) is alive; it only reads
        // the atomic.
        unsafe {
            params.set_abort_callback(Some(abort_if_set));
            params.set_abort_callback_user_data(std::ptr::from_ref(flag).cast_mut().cast());
        }
    }
    let stop = LoopStop::new(model);
    if opts.stop_loops {
        // SAFETY: whisper.cpp calls this only inside `state.full` below,
        // while `stop` is alive; the callback only reads the context's
        // vocabulary, writes the logits it is handed, and sets an atomic flag.
        unsafe {
            params.set_filter_logits_callback(Some(stop_at_loop));
            params
                .set_filter_logits_callback_user_data(std::ptr::from_ref(&stop).cast_mut().cast());
        }
    }
    let cancelled = || at.cancel.is_some_and(|c| c.load(Ordering::Relaxed));
    if cancelled() {
        return Err(AsrError::Cancelled);
    }
    state.full(params, input).map_err(|e| {
        if cancelled() {
            AsrError::Cancelled
        } else {
            AsrError::Inference(e.to_string())
        }
    })?;

    let mut text = String::new();
    let mut no_speech: f32 = 0.0;
    let mut tokens = 0usize;
    // Token times are in 10 ms steps.
    let split_cs = at.split;
    let mut timed: Vec<TimedToken> = Vec::new();
    for segment in state.as_iter() {
        no_speech = no_speech.max(segment.no_speech_probability());
        let n = segment.n_tokens().max(0);
        tokens += n as usize;
        if let Ok(t) = segment.to_str_lossy() {
            text.push_str(&t);
        }
        if split_cs.is_some() {
            for tok in (0..n).filter_map(|i| segment.get_token(i)) {
                let d = tok.token_data();
                timed.push(TimedToken {
                    id: d.id,
                    // DTW gives where a word starts; whisper.cpp's own
                    // token times stretch across pauses (their middle is
                    // the better guess).
                    t: if model.dtw {
                        d.t_dtw
                    } else {
                        (d.t0 + d.t1) / 2
                    },
                    bytes: tok.to_bytes().unwrap_or_default().to_vec(),
                });
            }
        }
    }
    let after = split_cs.map(|split| {
        let (eot, beg) = (model.ctx.token_eot(), model.ctx.token_beg());
        let from = utterance_start(&timed, split, eot, beg);
        let bytes: Vec<u8> = timed[from..]
            .iter()
            .filter(|t| t.id < eot)
            .flat_map(|t| t.bytes.iter().copied())
            .collect();
        without_leading_punctuation(&clean_text(&String::from_utf8_lossy(&bytes)))
    });
    Ok(Decoded {
        text: clean_text(&text),
        after,
        no_speech,
        // Each segment also holds its timestamp and special tokens.
        hit_budget: tokens >= budget as usize,
        stopped_at_loop: stop.stopped.load(Ordering::Relaxed),
    })
}

/// Ends a decode where it starts saying its words again: once the text
/// decoded so far holds a loop ([`said_again_so_far`]: the repeats
/// [`find_loop`] looks for, without the unfinished last word), end of text
/// is the only token the decoder may write next. Such a decode used to run
/// on to its token budget (two and more copies of the sentence) before
/// being found to loop and decoded again; the text up to the loop is the
/// same, so what follows decides the same, sooner.
struct LoopStop {
    eot: i32,
    stopped: AtomicBool,
}

impl LoopStop {
    fn new(model: &WhisperModel) -> Self {
        Self {
            eot: model.ctx.token_eot(),
            stopped: AtomicBool::new(false),
        }
    }
}

/// whisper.cpp's logits filter: `data` is the decode's [`LoopStop`],
/// `tokens` what this decoder (one of several in beam search, possibly on
/// another thread) has written so far, `logits` its next token's.
unsafe extern "C" fn stop_at_loop(
    ctx: *mut whisper_rs::whisper_rs_sys::whisper_context,
    _state: *mut whisper_rs::whisper_rs_sys::whisper_state,
    tokens: *const whisper_rs::whisper_rs_sys::whisper_token_data,
    n_tokens: std::os::raw::c_int,
    logits: *mut f32,
    data: *mut std::ffi::c_void,
) {
    use whisper_rs::whisper_rs_sys as sys;
    // Three tokens say nothing twice.
    if ctx.is_null() || tokens.is_null() || logits.is_null() || data.is_null() || n_tokens < 4 {
        return;
    }
    // SAFETY: whisper.cpp hands the decoder's `n_tokens` tokens and a logits
    // row of `whisper_n_vocab` entries, valid for this call; `data` is the
    // `LoopStop` `decode_once` set, alive during the decode.
    let (stop, tokens) = unsafe {
        (
            &*data.cast::<LoopStop>(),
            std::slice::from_raw_parts(tokens, n_tokens as usize),
        )
    };
    let mut bytes = Vec::with_capacity(8 * tokens.len());
    for t in tokens.iter().filter(|t| (0..stop.eot).contains(&t.id)) {
        // SAFETY: a text token of this context: whisper.cpp returns its
        // vocabulary entry (NUL-terminated, owned by the context).
        let piece = unsafe { sys::whisper_token_to_str(ctx, t.id) };
        if !piece.is_null() {
            // SAFETY: as above.
            bytes.extend_from_slice(unsafe { std::ffi::CStr::from_ptr(piece) }.to_bytes());
        }
    }
    if !said_again_so_far(&clean_text(&String::from_utf8_lossy(&bytes))) {
        return;
    }
    // SAFETY: as above (the vocabulary's size is the logits row's).
    let logits = unsafe {
        let n = sys::whisper_n_vocab(ctx).max(0) as usize;
        std::slice::from_raw_parts_mut(logits, n)
    };
    for (id, l) in logits.iter_mut().enumerate() {
        *l = if id == stop.eot as usize {
            0.0
        } else {
            f32::NEG_INFINITY
        };
    }
    stop.stopped.store(true, Ordering::Relaxed);
}

/// A decoded token and when it was said (10 ms steps).
#[derive(Debug, Clone)]
struct TimedToken {
    id: i32,
    t: i64,
    bytes: Vec<u8>,
}

/// Where the utterance's words begin among `tokens`, decoded over its
/// context followed by it: right after a timestamp token Whisper wrote in
/// the silence between the two (a segment boundary, exact to 20 ms), else at
/// the first text token said after the silence's middle. Tokens before it
/// are the context's words.
fn utterance_start(tokens: &[TimedToken], split: Split, eot: i32, beg: i32) -> usize {
    let near = (split.at - split.window)..=(split.at + split.window);
    let split = split.at;
    let boundary = tokens
        .iter()
        .rposition(|t| t.id >= beg && near.contains(&(2 * i64::from(t.id - beg))));
    if let Some(i) = boundary {
        return i + 1;
    }
    tokens
        .iter()
        .position(|t| t.id < eot && t.t >= split)
        .unwrap_or(tokens.len())
}

/// Removes Whisper's non-speech annotations ("[BLANK_AUDIO]", "(music)"),
/// music notes, and the replacement characters of a multi-byte character cut
/// by the token budget, and collapses whitespace.
pub fn clean_text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut depth = 0usize;
    for c in raw.chars() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' if depth > 0 => depth -= 1,
            '\u{fffd}' | '♪' | '♫' | '♬' => {}
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The utterance's words once its context is cut off: the punctuation
/// that closed or continued the context's sentence (", ask what you can
/// do") belongs to neither.
fn without_leading_punctuation(text: &str) -> String {
    text.trim_start_matches(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                ',' | '.' | ';' | ':' | '!' | '?' | '，' | '。' | '、' | '；' | '：' | '！' | '？'
            )
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_utterance_cut_from_its_context_does_not_start_with_its_punctuation() {
        assert_eq!(
            without_leading_punctuation(", ask what you can do"),
            "ask what you can do"
        );
        assert_eq!(without_leading_punctuation("。好的，谢谢"), "好的，谢谢");
        assert_eq!(without_leading_punctuation("... and then"), "and then");
        assert_eq!(
            without_leading_punctuation("'cause it broke"),
            "'cause it broke"
        );
        assert_eq!(without_leading_punctuation("-5 degrees"), "-5 degrees");
    }

    #[test]
    fn synthetic_speech_models_are_recognised_by_shape_not_name() {
        assert!(is_synthetic_speech_model(Path::new(SYNTH_MODEL)));
        let dir = tempfile::tempdir().unwrap();
        // magic, n_vocab, n_audio_ctx, n_audio_state, n_audio_head,
        // n_audio_layer, n_text_ctx, n_text_state, n_text_head, n_text_layer, n_mels
        // …, n_mels, ftype (float16)
        let header = |dims: [i32; 10]| {
            let mut b = 0x6767_6d6c_u32.to_le_bytes().to_vec();
            for d in dims.into_iter().chain([1]) {
                b.extend_from_slice(&d.to_le_bytes());
            }
            b
        };
        let base_en = dir.path().join("ggml-synth-named-but-base.en.bin");
        std::fs::write(
            &base_en,
            header([51_864, 1500, 512, 8, 6, 448, 512, 8, 6, 80]),
        )
        .unwrap();
        assert!(!is_synthetic_speech_model(&base_en), "an OpenAI shape");
        let custom = dir.path().join("ggml-base.bin");
        std::fs::write(
            &custom,
            header([51_864, 1500, 256, 4, 4, 448, 256, 4, 2, 80]),
        )
        .unwrap();
        assert!(
            is_synthetic_speech_model(&custom),
            "a shape OpenAI never shipped"
        );
        assert!(!is_synthetic_speech_model(&dir.path().join("missing.bin")));
        // the storage of the weight matrices is the twelfth field
        assert!(!is_bf16_model(&base_en));
        let mut bf16 = std::fs::read(&base_en).unwrap();
        bf16[44..48].copy_from_slice(&24i32.to_le_bytes());
        std::fs::write(&base_en, &bf16).unwrap();
        assert!(is_bf16_model(&base_en));
        assert!(!is_bf16_model(&dir.path().join("missing.bin")));
    }

    #[test]
    fn audio_ctx_is_sized_to_the_utterance() {
        let o = DecodeOptions::for_kind(&AsrConfig::default(), ModelKind::Synthetic);
        assert_eq!(o.audio_ctx(16_000 * 3, 1500), 150 + 8);
        assert_eq!(o.audio_ctx(16_000 * 40, 1500), 1500);
        let full = DecodeOptions {
            dynamic_audio_ctx: false,
            ..o.clone()
        };
        assert_eq!(full.audio_ctx(16_000, 1500), 1500);
    }

    #[test]
    fn real_and_synthetic_models_get_their_own_defaults_unless_configured() {
        let mut c = AsrConfig::default();
        let real = DecodeOptions::for_kind(&c, ModelKind::Real);
        assert_eq!(real.audio_ctx_margin, REAL_AUDIO_CTX_MARGIN as usize);
        assert!(real.timestamp_tokens);
        let tiny = DecodeOptions::for_kind(&c, ModelKind::Tiny);
        assert_eq!(tiny.audio_ctx_margin, TINY_AUDIO_CTX_MARGIN as usize);
        assert!(tiny.timestamp_tokens);
        let synth = DecodeOptions::for_kind(&c, ModelKind::Synthetic);
        assert_eq!(synth.audio_ctx_margin, SYNTH_AUDIO_CTX_MARGIN as usize);
        assert!(!synth.timestamp_tokens);
        c.audio_ctx_margin = Some(100);
        c.timestamp_tokens = Some(false);
        let set = DecodeOptions::for_kind(&c, ModelKind::Tiny);
        assert_eq!((set.audio_ctx_margin, set.timestamp_tokens), (100, false));
        assert_eq!(set.audio_ctx(16_000 * 3, 1500), 150 + 100);
    }

    /// Text tokens (id, start) and timestamp tokens (`beg` + step).
    fn tokens(spec: &[(i32, i64)]) -> Vec<TimedToken> {
        spec.iter()
            .map(|&(id, t)| TimedToken {
                id,
                t,
                bytes: Vec::new(),
            })
            .collect()
    }

    const EOT: i32 = 50_257;
    const BEG: i32 = 50_364;

    #[test]
    fn the_utterance_starts_after_a_timestamp_in_the_silence() {
        // "Pad." ends a segment at 2.40 s, the next begins at 3.00 s; the
        // silence runs 2.3–3.9 s (split at 3.1 s, window 0.8 s).
        let t = tokens(&[
            (BEG, -1),
            (10, 52),
            (11, 212),
            (BEG + 120, -1),
            (BEG + 150, -1),
            (12, 430),
            (13, 450),
            (EOT, -1),
        ]);
        let split = Split {
            at: 310,
            window: 80,
        };
        assert_eq!(utterance_start(&t, split, EOT, BEG), 5);
        // Word times place a word past the split when no timestamp does.
        let t = tokens(&[
            (BEG, -1),
            (10, 60),
            (11, 224),
            (12, 380),
            (13, 432),
            (EOT, -1),
        ]);
        let split = Split {
            at: 283,
            window: 54,
        };
        assert_eq!(utterance_start(&t, split, EOT, BEG), 3);
        // Nothing after the split: no words of its own.
        let t = tokens(&[(BEG, -1), (10, 60), (11, 224), (BEG + 100, -1), (EOT, -1)]);
        assert_eq!(utterance_start(&t, split, EOT, BEG), t.len());
    }

    #[test]
    fn standard_models_get_alignment_heads_and_others_none() {
        let h = |n_vocab, n_text_state, n_text_layer, n_mels| Hparams {
            n_vocab,
            n_text_state,
            n_text_layer,
            n_mels,
            ftype: 1,
        };
        assert!(matches!(
            h(51_865, 512, 6, 80).dtw_preset(),
            Some(DtwModelPreset::Base)
        ));
        assert!(matches!(
            h(51_864, 384, 4, 80).dtw_preset(),
            Some(DtwModelPreset::TinyEn)
        ));
        assert!(matches!(
            h(51_866, 1280, 32, 128).dtw_preset(),
            Some(DtwModelPreset::LargeV3)
        ));
        assert!(h(51_865, 256, 2, 80).dtw_preset().is_none());
    }

    #[test]
    fn beam_size_picks_the_search() {
        let o = DecodeOptions::for_kind(&AsrConfig::default(), ModelKind::Synthetic);
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
        let o = DecodeOptions::for_kind(&AsrConfig::default(), ModelKind::Synthetic);
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
        assert_eq!(clean_text("甚至出现交易几\u{fffd}"), "甚至出现交易几");
        assert_eq!(clean_text(" ♪ ♪ "), "");
    }
}
