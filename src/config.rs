//! One typed configuration tree for the whole engine.
//!
//! Layers, later wins: built-in defaults → TOML file → environment variables
//! named `CALLSENSE__SECTION__KEY` (e.g. `CALLSENSE__ASR__WORKERS=4`). Every
//! limit the engine enforces lives here with its default; unknown keys are an
//! error so a typo cannot silently fall back to a default.
//! See `config/callsense.example.toml` for every key, documented.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::language::{Language, LanguageHint};

/// Prefix of environment overrides; sections and keys are separated by `__`.
pub const ENV_PREFIX: &str = "CALLSENSE__";
/// Most classifier model directories loaded at once (one thread each).
pub const MAX_CLASSIFIER_MODELS: usize = 8;
/// Most beams `asr.beam_size` may ask for: whisper.cpp keeps one decoder per
/// beam and allows at most `WHISPER_MAX_DECODERS` (8).
pub const MAX_BEAM_SIZE: u32 = 8;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub audio: AudioConfig,
    pub asr: AsrConfig,
    pub classifier: ClassifierConfig,
    /// Live conversation measures (`CallMetrics`).
    pub analytics: crate::analytics::AnalyticsConfig,
    /// CRM connector: outbox, privacy, sinks.
    pub connect: crate::connect::ConnectConfig,
    /// Telephony listeners (Twilio Media Streams, …); none by default.
    pub ingress: crate::ingress::IngressConfig,
    /// The supervisor board; off by default.
    pub ui: crate::board::UiConfig,
    /// Client credentials (API keys, client certificates) and the audit log.
    pub auth: crate::auth::AuthConfig,
    /// Limits of tenants without a `[tenants.<name>]` table.
    pub tenant_defaults: crate::auth::TenantDefaults,
    /// Per-tenant limits, sinks, CRM context and callback prefixes.
    pub tenants: crate::auth::TenantsConfig,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address the gRPC server listens on.
    pub listen: String,
    /// Calls streamed at once; more are refused with RESOURCE_EXHAUSTED.
    pub max_concurrent_calls: usize,
    /// Largest `audio_content` chunk accepted, in bytes.
    pub max_chunk_bytes: usize,
    /// Longest call accepted, in seconds of audio; longer → INVALID_ARGUMENT.
    pub max_call_seconds: u64,
    /// A call whose client sends nothing (no audio, no disposition, no
    /// half-close) for this long ends as if the client had half-closed: its
    /// audio so far is transcribed, summarised and written back, and its
    /// slot is freed (a stalled or half-open client cannot hold one for
    /// ever). Live audio arrives every 20–200 ms.
    pub idle_timeout_s: u64,
    /// Responses buffered per call before the engine waits for the client.
    pub response_buffer: usize,
    /// Texts per AnalyzeText request.
    pub max_texts_per_request: usize,
    /// Bytes per AnalyzeText text.
    pub max_text_bytes: usize,
    /// Largest gRPC message decoded, in bytes.
    pub max_message_bytes: usize,
    /// Seconds in-flight calls get to finish on shutdown.
    pub shutdown_grace_seconds: u64,
    /// Address of the Prometheus `/metrics` endpoint (plain HTTP); unset: off.
    pub metrics_listen: Option<String>,
    /// PEM certificate chain; with `tls_key`, serve TLS.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for `tls_cert`.
    pub tls_key: Option<PathBuf>,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("listen", &self.listen)
            .field("max_concurrent_calls", &self.max_concurrent_calls)
            .field("max_chunk_bytes", &self.max_chunk_bytes)
            .field("max_call_seconds", &self.max_call_seconds)
            .field("idle_timeout_s", &self.idle_timeout_s)
            .field("response_buffer", &self.response_buffer)
            .field("max_texts_per_request", &self.max_texts_per_request)
            .field("max_text_bytes", &self.max_text_bytes)
            .field("metrics_listen", &self.metrics_listen)
            .field("tls_cert", &self.tls_cert)
            .field("tls_key", &self.tls_key.as_ref().map(|_| "<redacted path>"))
            .finish_non_exhaustive()
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:50051".into(),
            max_concurrent_calls: 64,
            max_chunk_bytes: 64 * 1024,
            max_call_seconds: 4 * 3600,
            idle_timeout_s: 60,
            response_buffer: 64,
            max_texts_per_request: 256,
            max_text_bytes: 4096,
            max_message_bytes: 4 * 1024 * 1024,
            shutdown_grace_seconds: 30,
            metrics_listen: None,
            tls_cert: None,
            tls_key: None,
        }
    }
}

/// Which voice activity detector cuts utterances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VadKind {
    /// Silero VAD v5 through ONNX Runtime (needs `silero_model`).
    Silero,
    /// earshot: pure-Rust neural VAD, no model file.
    Earshot,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AudioConfig {
    pub vad: VadKind,
    /// Path of the Silero ONNX model (`vad = "silero"`).
    pub silero_model: PathBuf,
    /// Speech probability at or above which a frame is speech.
    pub vad_threshold: f32,
    /// Frames stay speech while the probability is above `vad_threshold - vad_hysteresis`.
    pub vad_hysteresis: f32,
    /// Frames quieter than this (dBFS RMS) are silence without running the VAD.
    pub energy_floor_dbfs: f32,
    /// The VAD's recurrent state is reset after this much audio without
    /// speech. Silero's state drifts on a long stretch of line noise until
    /// it no longer hears speech at all (measured: after 35 s of noise at
    /// −45 dBFS, a clear sentence at −12 dBFS scored 0.00–0.34 against
    /// 0.5–1.0 from a fresh state); a fresh state hears the first frame of
    /// speech. Resets every 3 s cost words on the synthetic-speech test call
    /// (agent WER 4.3 → 6.5 %); every 10 s, none. 0: never.
    pub vad_reset_ms: u32,
    /// A second detector watches for speech the first no longer hears,
    /// started afresh after every this much quiet (`audio::vad::WatchedVad`:
    /// on the real-speech calls 1 turn of 156 lost against 5 without it).
    /// Costs one more VAD inference per frame (Silero: about 0.3 % of a
    /// core per channel). 0: one detector.
    pub vad_watch_refresh_ms: u32,
    /// Speech shorter than this is dropped (clicks, coughs).
    pub min_speech_ms: u32,
    /// Silence that ends an utterance.
    pub end_silence_ms: u32,
    /// Longest utterance; longer monologues are split in the middle of the longest
    /// pause in their second half (or hard at this length).
    pub max_utterance_ms: u32,
    /// Audio kept after speech for the recogniser.
    pub pad_ms: u32,
    /// Audio kept before speech for the recogniser: the VAD misses a soft
    /// first syllable ("the horizon" heard as "horizons"), and Whisper
    /// wants a little silence before the first word. Unset: chosen for the
    /// model ([`crate::asr::WhisperModel::lead_pad_ms`]: 200 for tiny
    /// models, 400 for others; measured on the development calls).
    pub lead_pad_ms: Option<u32>,
    /// With interim results on, one interim transcript per this much speech.
    pub interim_interval_ms: u32,
    /// Early decode: after this much silence the utterance so far is handed
    /// to an idle Whisper worker while the endpointer still waits for
    /// `end_silence_ms`; if speech does not resume, the final result reuses
    /// that decode instead of starting one (turn end → final drops by up to
    /// `end_silence_ms - early_decode_ms`). Only idle workers take it, so it
    /// costs no capacity under load. 0: off; below `pad_ms` it waits for
    /// `pad_ms` (the final's trailing padding must be there).
    pub early_decode_ms: u32,
    /// Threads running decoding, resampling and VAD for all calls.
    pub frontend_threads: usize,
    /// Audio messages queued per front-end thread before callers wait.
    pub frontend_queue: usize,
}

impl Default for AudioConfig {
    fn default() -> Self {
        Self {
            vad: VadKind::Silero,
            silero_model: PathBuf::from(".runtime/models/silero_vad_16k_op15.onnx"),
            vad_threshold: 0.5,
            vad_hysteresis: 0.15,
            energy_floor_dbfs: -55.0,
            vad_reset_ms: 10_000,
            vad_watch_refresh_ms: 2000,
            min_speech_ms: 250,
            end_silence_ms: 500,
            max_utterance_ms: 15_000,
            pad_ms: 200,
            lead_pad_ms: None,
            interim_interval_ms: 1000,
            early_decode_ms: 200,
            frontend_threads: 1,
            frontend_queue: 256,
        }
    }
}

/// The project's own whisper-format model, trained on espeak-ng speech
/// through a telephone channel (models/asr-synth/MODEL_CARD.md). Committed, so
/// the engine always has a model; a test and demo model: it does not
/// transcribe real voices.
pub const SYNTH_MODEL: &str = "models/asr-synth/ggml-callsense-synth-en-q8_0.bin";

/// `asr.model`: a ggml file, or `"auto"` to pick from `asr.auto_candidates`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "String")]
pub enum WhisperChoice {
    Auto,
    File(PathBuf),
}

impl From<String> for WhisperChoice {
    fn from(s: String) -> Self {
        if s.eq_ignore_ascii_case("auto") {
            Self::Auto
        } else {
            Self::File(s.into())
        }
    }
}

impl From<&str> for WhisperChoice {
    fn from(s: &str) -> Self {
        Self::from(s.to_string())
    }
}

impl std::fmt::Display for WhisperChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Auto => f.write_str("auto"),
            Self::File(p) => write!(f, "{}", p.display()),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AsrConfig {
    /// ggml Whisper model file, or "auto": the first of `auto_candidates`
    /// that exists, real Whisper models before synthetic-speech ones.
    pub model: WhisperChoice,
    /// Models tried in order when `model = "auto"` (a synthetic-speech model
    /// is only taken when no real one is installed).
    pub auto_candidates: Vec<PathBuf>,
    /// Default language ("en", "zh", … or "auto") when the call gives no hint.
    pub language: LanguageHint,
    /// Languages "auto" may detect (ISO 639-1 codes, e.g. ["en", "zh"]):
    /// a telephone line's noise can look like a language no caller speaks.
    /// Empty (default): any language Whisper knows. Multilingual models only;
    /// detection looks at each utterance's first 4 s.
    pub languages: Vec<Language>,
    /// Whisper states, each on its own thread.
    pub workers: usize,
    /// Threads per Whisper state.
    pub threads_per_worker: usize,
    /// A final decode that starts while no other job waits also takes the
    /// threads of idle workers (at most `workers × threads_per_worker` in
    /// all; the next job waits for them rather than oversubscribe the
    /// cores). Whisper base, 2 threads instead of 1: ~0.6 of the decode
    /// time, so a quiet engine answers sooner; under load every decode has
    /// its own worker's threads as before.
    pub lend_idle_threads: bool,
    /// Utterances queued for recognition across all calls; callers wait beyond it.
    pub queue_capacity: usize,
    /// Utterances one call may have queued at once.
    pub per_call_queue: usize,
    /// Size the encoder window to the utterance (a ~10× speed-up on short audio).
    pub dynamic_audio_ctx: bool,
    /// Encoder positions (20 ms each) of trailing silence added to the sized
    /// window. Unset: 50 (1 s) for real Whisper models, which must see the
    /// speech end to stop writing, 200 (4 s) for tiny ones (with 1 s they
    /// loop on most utterances); 8 for the synthetic-speech model.
    pub audio_ctx_margin: Option<u32>,
    /// When a decode loops (says a run of words again right after itself, or
    /// runs to the token budget), the utterance is decoded once more with
    /// this many positions of trailing silence (200: 4 s); repeats still
    /// left are cut to one copy. 0: no second decode.
    pub loop_audio_ctx_margin: u32,
    /// End a decode as soon as the text so far says a run of words again
    /// (the loops above), instead of letting it run on to its token budget
    /// before it is decoded again. Same words; saves the decoder's steps
    /// after the loop (~40 ms per looping utterance with base on one
    /// thread: the encoder pass is most of a decode). On by default.
    pub stop_loops: bool,
    /// Let Whisper write timestamp tokens while decoding (they are not
    /// shown). Unset: on for real Whisper models (their text ends reliably
    /// with them), off for the synthetic-speech model (trained without).
    pub timestamp_tokens: Option<bool>,
    /// Script of Mandarin transcripts: "simplified" (default; Whisper often
    /// writes traditional forms) or "as_decoded".
    pub chinese_script: ChineseScript,
    /// Words every call is likely to contain (product, plan and brand
    /// names), given to Whisper as preceding text so it spells them right;
    /// a call adds its own (`CallConfig.vocabulary`). At most
    /// `MAX_VOCABULARY_CHARS` characters in all.
    pub vocabulary: Vec<String>,
    /// A channel's last final transcript is given to the decoder as context
    /// for its next utterance when that starts within this many
    /// milliseconds (a speaker pausing mid-sentence); 0 (default): never.
    /// Measured on the development call with real Whisper base: no gain
    /// (13.4 % WER with 3000 against 12.7 % without; README).
    pub previous_text_max_gap_ms: u32,
    /// Characters of that transcript given (its end).
    pub previous_text_max_chars: usize,
    /// An utterance that starts at most this long after the same channel's
    /// previous one ended (a speaker pausing mid-turn, which the endpointer
    /// cuts) is decoded after that utterance's audio, and only its own words
    /// are kept: Whisper hears "ask not" inside the sentence, not alone.
    /// 0: off. Unset: 2000 ms for models whose word times come from their
    /// alignment heads (the standard OpenAI models), off for others (the
    /// synthetic-speech model: its words cannot be told apart reliably).
    pub context_max_gap_ms: Option<u32>,
    /// The most of the previous utterance's audio (its end) given as context.
    pub context_max_ms: u32,
    /// Token budget per second of audio (plus `min_tokens`).
    pub tokens_per_second: f32,
    pub min_tokens: u32,
    /// Drop a result whose no-speech probability is above this.
    pub no_speech_threshold: f32,
    /// Decoder search: 1 = greedy (fastest), 2..=MAX_BEAM_SIZE = beam search
    /// with that many beams (fewer errors, decode time grows with the beams).
    pub beam_size: u32,
    /// How beam search ranks finished beams: -1 divides each beam's
    /// log-probability by its length (whisper.cpp's default); 0..=2 divides
    /// by ((5 + length) / 6)^length_penalty instead (as in Google's NMT).
    pub length_penalty: f32,
    /// Temperature fallback: 0 (default) decodes once. Above 0, a result
    /// whose mean token log-probability is below `fallback_logprob_threshold`
    /// or whose text repeats itself (token entropy below
    /// `fallback_entropy_threshold`) is decoded again by sampling at this
    /// temperature, then twice it, … up to 1.0: at most 1/step more decodes
    /// for such an utterance. whisper.cpp also reads
    /// `fallback_logprob_threshold` when it judges a segment silent (no-speech
    /// probability over `no_speech_threshold` and mean log-probability under
    /// it), fallback or not: -1 is its default.
    pub temperature_fallback: f32,
    pub fallback_logprob_threshold: f32,
    pub fallback_entropy_threshold: f32,
    /// Use the GPU if whisper.cpp was built with one.
    pub use_gpu: bool,
}

impl Default for AsrConfig {
    fn default() -> Self {
        Self {
            model: WhisperChoice::Auto,
            auto_candidates: vec![
                PathBuf::from(".runtime/models/ggml-base-bf16.bin"),
                PathBuf::from(".runtime/models/ggml-base.bin"),
                PathBuf::from(".runtime/models/ggml-base-q8_0.bin"),
                PathBuf::from(".runtime/models/ggml-base.en.bin"),
                PathBuf::from(".runtime/models/ggml-tiny.en.bin"),
                PathBuf::from(SYNTH_MODEL),
                PathBuf::from(".runtime/models/ggml-synth-spike-en.bin"),
            ],
            language: LanguageHint::Auto,
            languages: Vec::new(),
            workers: 2,
            threads_per_worker: 1,
            lend_idle_threads: true,
            queue_capacity: 256,
            per_call_queue: 16,
            dynamic_audio_ctx: true,
            audio_ctx_margin: None,
            loop_audio_ctx_margin: 200,
            stop_loops: true,
            timestamp_tokens: None,
            chinese_script: ChineseScript::Simplified,
            vocabulary: Vec::new(),
            previous_text_max_gap_ms: 0,
            previous_text_max_chars: 200,
            context_max_gap_ms: None,
            context_max_ms: 3000,
            tokens_per_second: 6.0,
            min_tokens: 16,
            no_speech_threshold: 0.6,
            beam_size: 1,
            length_penalty: -1.0,
            temperature_fallback: 0.0,
            fallback_logprob_threshold: -1.0,
            fallback_entropy_threshold: 2.4,
            use_gpu: true,
        }
    }
}

/// How Mandarin transcripts are written (`asr.chinese_script`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChineseScript {
    /// Traditional characters converted to simplified ones.
    Simplified,
    /// As Whisper wrote them.
    AsDecoded,
}

/// Longest vocabulary prompt (server-wide plus a call's), in characters:
/// Whisper reads at most 224 tokens of preceding text.
pub const MAX_VOCABULARY_CHARS: usize = 600;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClassifierConfig {
    /// Model directories (model.onnx, tokenizer.json, labels.json), one per
    /// language or domain; each text goes to the model serving its language
    /// (labels.json `languages`), the first is the fallback.
    pub model_dirs: Vec<PathBuf>,
    /// libonnxruntime.so; empty → `ORT_DYLIB_PATH`, then `.runtime/lib/libonnxruntime.so`.
    pub ort_library: Option<PathBuf>,
    /// Largest batch run at once.
    pub max_batch: usize,
    /// Longest a request waits for a batch to fill, in milliseconds.
    pub max_wait_ms: u64,
    /// Texts admitted (queued or running); AnalyzeText beyond it → RESOURCE_EXHAUSTED.
    pub queue_capacity: usize,
    /// ONNX Runtime intra-op threads.
    pub threads: usize,
}

impl Default for ClassifierConfig {
    fn default() -> Self {
        Self {
            // One multilingual (English + Mandarin) model: better than the
            // per-language models on spoken call-centre language
            // (models/callsense-e5/MODEL_CARD.md).
            model_dirs: vec![PathBuf::from("models/callsense-e5")],
            ort_library: None,
            max_batch: 32,
            max_wait_ms: 5,
            queue_capacity: 1024,
            threads: 1,
        }
    }
}

/// Why configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("environment override {var}: {reason}")]
    Env { var: String, reason: String },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Loads defaults, then `path` (if given), then `CALLSENSE__*` variables.
    ///
    /// # Errors
    /// Unreadable or malformed file, unknown keys, bad overrides, or values
    /// that fail [`Config::validate`].
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_with_env(path, std::env::vars())
    }

    /// [`Config::load`] with the environment given explicitly (for tests).
    ///
    /// # Errors
    /// As [`Config::load`].
    pub fn load_with_env(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut tree = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                    path: p.into(),
                    source,
                })?;
                text.parse::<toml::Table>()
                    .map_err(|source| ConfigError::Parse {
                        path: p.into(),
                        source,
                    })?
            }
            None => toml::Table::new(),
        };
        for (var, value) in env {
            let Some(rest) = var.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let keys: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
            set_path(&mut tree, &keys, &value).map_err(|reason| ConfigError::Env {
                var: var.clone(),
                reason,
            })?;
        }
        let cfg: Config =
            toml::Value::Table(tree)
                .try_into()
                .map_err(|source| ConfigError::Parse {
                    path: path
                        .map(Into::into)
                        .unwrap_or_else(|| PathBuf::from("<environment>")),
                    source,
                })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks ranges that serde cannot.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.server.validate().map_err(ConfigError::Invalid)?;
        self.audio.validate().map_err(ConfigError::Invalid)?;
        self.asr.validate().map_err(ConfigError::Invalid)?;
        self.classifier.validate().map_err(ConfigError::Invalid)?;
        self.analytics.validate().map_err(ConfigError::Invalid)?;
        self.connect.validate().map_err(ConfigError::Invalid)?;
        self.ingress.validate().map_err(ConfigError::Invalid)?;
        self.ui.validate().map_err(ConfigError::Invalid)?;
        self.auth.validate().map_err(ConfigError::Invalid)?;
        let sinks: Vec<String> = self.connect.sinks.iter().map(|s| s.name.clone()).collect();
        crate::auth::config::validate_tenants(&self.tenant_defaults, &self.tenants, &sinks)
            .map_err(ConfigError::Invalid)?;
        Ok(())
    }
}

/// Sets `tree[k0][k1]… = value`, parsing `value` as a TOML value where it is
/// one (numbers, booleans, arrays) and as a string otherwise.
fn set_path(tree: &mut toml::Table, keys: &[String], value: &str) -> Result<(), String> {
    let (last, parents) = keys.split_last().ok_or("empty key")?;
    let mut table = tree;
    for k in parents {
        let entry = table
            .entry(k.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        table = entry
            .as_table_mut()
            .ok_or_else(|| format!("`{k}` is not a section"))?;
    }
    let parsed = format!("v = {value}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(value.to_string()));
    table.insert(last.clone(), parsed);
    Ok(())
}

/// Checks that `value` is an absolute http:// or https:// URL with a host:
/// the one rule for every URL in config and call metadata (https in
/// production; http for loopback test doubles and private networks).
///
/// # Errors
/// What is wrong, without the value (it may carry credentials).
pub fn check_http_url(value: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(value).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("scheme {:?} is not http or https", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host".into());
    }
    Ok(())
}

impl ServerConfig {
    /// Checks this section's limits.
    ///
    /// # Errors
    /// A message naming the key.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_concurrent_calls == 0 {
            return Err("server.max_concurrent_calls must be ≥ 1".into());
        }
        if self.max_chunk_bytes < 2 || self.max_chunk_bytes > self.max_message_bytes {
            return Err(
                "server.max_chunk_bytes must be between 2 and server.max_message_bytes".into(),
            );
        }
        if self.response_buffer == 0 || self.max_texts_per_request == 0 || self.max_text_bytes == 0
        {
            return Err(
                "server.response_buffer, max_texts_per_request and max_text_bytes must be ≥ 1"
                    .into(),
            );
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err("server.tls_cert and server.tls_key must be set together".into());
        }
        if !(1..=3600).contains(&self.idle_timeout_s) {
            return Err("server.idle_timeout_s must be in [1, 3600]".into());
        }
        Ok(())
    }
}

impl AudioConfig {
    /// Checks this section's limits.
    ///
    /// # Errors
    /// A message naming the key.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.vad_threshold)
            || self.vad_hysteresis < 0.0
            || self.vad_hysteresis > self.vad_threshold
        {
            return Err("audio.vad_threshold must be in [0, 1] and audio.vad_hysteresis in [0, vad_threshold]".into());
        }
        if self.vad_watch_refresh_ms > 60_000 {
            return Err("audio.vad_watch_refresh_ms must be at most 60000 (0: no watcher)".into());
        }
        if self.end_silence_ms < 100 || self.end_silence_ms > 5000 {
            return Err("audio.end_silence_ms must be in [100, 5000]".into());
        }
        if self.max_utterance_ms < 2000 || self.max_utterance_ms > 30_000 {
            return Err(
                "audio.max_utterance_ms must be in [2000, 30000] (Whisper's window is 30 s)".into(),
            );
        }
        if self.min_speech_ms >= self.max_utterance_ms
            || self.pad_ms > 1000
            || self.lead_pad_ms.is_some_and(|l| l > 1000)
        {
            return Err(
                "audio.min_speech_ms must be below max_utterance_ms, and audio.pad_ms and lead_pad_ms ≤ 1000".into());
        }
        if self.early_decode_ms >= self.end_silence_ms {
            return Err(
                "audio.early_decode_ms must be below audio.end_silence_ms (0 turns it off)".into(),
            );
        }
        if self.frontend_threads == 0 || self.frontend_queue == 0 || self.interim_interval_ms < 200
        {
            return Err(
                "audio.frontend_threads and frontend_queue must be ≥ 1, interim_interval_ms ≥ 200"
                    .into(),
            );
        }
        Ok(())
    }
}

impl AsrConfig {
    /// Checks this section's limits.
    ///
    /// # Errors
    /// A message naming the key.
    pub fn validate(&self) -> Result<(), String> {
        if self.workers == 0
            || self.threads_per_worker == 0
            || self.queue_capacity == 0
            || self.per_call_queue == 0
        {
            return Err(
                "asr.workers, threads_per_worker, queue_capacity and per_call_queue must be ≥ 1"
                    .into(),
            );
        }
        if self.audio_ctx_margin.is_some_and(|m| m > 1500) || self.loop_audio_ctx_margin > 1500 {
            return Err("asr.audio_ctx_margin and asr.loop_audio_ctx_margin must be 0 to 1500 (Whisper's window)".into());
        }
        if self.context_max_gap_ms.is_some_and(|g| g > 10_000) || self.context_max_ms > 20_000 {
            return Err("asr.context_max_gap_ms must be at most 10000 and asr.context_max_ms at most 20000 (Whisper's window is 30 s)".into());
        }
        if self.previous_text_max_gap_ms > 60_000
            || self.previous_text_max_chars > MAX_VOCABULARY_CHARS
        {
            return Err(format!("asr.previous_text_max_gap_ms must be at most 60000 and asr.previous_text_max_chars at most {MAX_VOCABULARY_CHARS}"));
        }
        let vocabulary: usize = self.vocabulary.iter().map(|w| w.chars().count() + 2).sum();
        if vocabulary > MAX_VOCABULARY_CHARS {
            return Err(format!(
                "asr.vocabulary holds {vocabulary} characters; at most {MAX_VOCABULARY_CHARS} (Whisper reads 224 tokens of prompt)"
            ));
        }
        if self.tokens_per_second <= 0.0 || !(0.0..=1.0).contains(&self.no_speech_threshold) {
            return Err(
                "asr.tokens_per_second must be > 0 and asr.no_speech_threshold in [0, 1]".into(),
            );
        }
        if self.beam_size == 0 || self.beam_size > MAX_BEAM_SIZE {
            return Err(format!(
                "asr.beam_size must be 1 (greedy) to {MAX_BEAM_SIZE} (beam search), not {}",
                self.beam_size
            ));
        }
        if self.length_penalty != -1.0 && !(0.0..=2.0).contains(&self.length_penalty) {
            return Err(format!(
                "asr.length_penalty must be -1 (divide by the length) or 0 to 2, not {}",
                self.length_penalty
            ));
        }
        if !(0.0..=1.0).contains(&self.temperature_fallback)
            || (self.temperature_fallback > 0.0 && self.temperature_fallback < 0.1)
        {
            return Err(format!(
                "asr.temperature_fallback must be 0 (off) or a step of 0.1 to 1.0 (at most 10 more decodes), not {}",
                self.temperature_fallback
            ));
        }
        if !(-10.0..=0.0).contains(&self.fallback_logprob_threshold)
            || !(0.0..=10.0).contains(&self.fallback_entropy_threshold)
        {
            return Err("asr.fallback_logprob_threshold must be in [-10, 0] and asr.fallback_entropy_threshold in [0, 10]".into());
        }
        Ok(())
    }
}

impl ClassifierConfig {
    /// Checks this section's limits.
    ///
    /// # Errors
    /// A message naming the key.
    pub fn validate(&self) -> Result<(), String> {
        if self.model_dirs.is_empty() || self.model_dirs.len() > MAX_CLASSIFIER_MODELS {
            return Err(format!(
                "classifier.model_dirs must name 1 to {MAX_CLASSIFIER_MODELS} model directories"
            ));
        }
        if self.max_batch == 0
            || self.queue_capacity == 0
            || self.threads == 0
            || self.max_wait_ms > 1000
        {
            return Err(
                "classifier.max_batch, queue_capacity and threads must be ≥ 1, max_wait_ms ≤ 1000"
                    .into(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_urls_need_a_scheme_we_speak_and_a_host() {
        for ok in [
            "https://login.salesforce.com",
            "http://127.0.0.1:8080/hook/{call_id}",
            "https://crm.example.com/a?b=c",
        ] {
            assert_eq!(check_http_url(ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("ftp://example.com", "scheme \"ftp\""),
            ("https//example.com", "not a URL"),
            ("example.com/hook", "not a URL"),
            ("http://", "not a URL"),
            ("file:///etc/passwd", "scheme \"file\""),
        ] {
            let e = check_http_url(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn example_file_parses_and_matches_defaults_where_documented() {
        let path = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/config/callsense.example.toml"
        ));
        let cfg = Config::load_with_env(Some(path), Vec::new()).unwrap();
        assert_eq!(
            cfg.audio.end_silence_ms,
            AudioConfig::default().end_silence_ms
        );
        let asr = AsrConfig::default();
        assert_eq!(cfg.asr.auto_candidates, asr.auto_candidates);
        assert_eq!(
            (cfg.asr.loop_audio_ctx_margin, cfg.asr.stop_loops),
            (asr.loop_audio_ctx_margin, asr.stop_loops)
        );
        assert_eq!(
            cfg.server.max_chunk_bytes,
            ServerConfig::default().max_chunk_bytes
        );
        let a = crate::analytics::AnalyticsConfig::default();
        assert_eq!(
            (
                cfg.analytics.interval_ms,
                cfg.analytics.hold_min_ms,
                cfg.analytics.min_overtalk_ms
            ),
            (a.interval_ms, a.hold_min_ms, a.min_overtalk_ms)
        );
        assert_eq!(
            (cfg.analytics.baseline_ms, cfg.analytics.recent_ms),
            (a.baseline_ms, a.recent_ms)
        );
        assert_eq!(
            (cfg.analytics.trend_alpha, cfg.analytics.direction_threshold),
            (a.trend_alpha, a.direction_threshold)
        );
        let bad = Config::load_with_env(
            Some(path),
            vec![("CALLSENSE__ANALYTICS__TREND_ALPHA".into(), "0".into())],
        );
        assert!(bad
            .unwrap_err()
            .to_string()
            .contains("analytics.trend_alpha"));
    }

    #[test]
    fn connector_examples_parse_and_validate() {
        std::env::set_var(
            "CALLSENSE_WEBHOOK_SECRET",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        );
        for name in [
            "connect.salesforce.example.toml",
            "connect.webhook.example.toml",
            "connect.kafka.example.toml",
            "connect.nats.example.toml",
        ] {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
            let text = std::fs::read_to_string(dir.join("callsense.example.toml")).unwrap()
                + &std::fs::read_to_string(dir.join(name)).unwrap();
            let tmp = std::env::temp_dir().join(format!("callsense-{}-{name}", std::process::id()));
            std::fs::write(&tmp, text).unwrap();
            let cfg = Config::load_with_env(Some(&tmp), Vec::new())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let _ = std::fs::remove_file(&tmp);
            let sinks = usize::from(!name.contains("nats"));
            assert_eq!(cfg.connect.sinks.len(), sinks, "{name}");
            assert_eq!(
                cfg.connect.broker.is_some(),
                name.contains("nats"),
                "{name}"
            );
            assert!(cfg.connect.enabled());
            // The Salesforce and webhook files again with their CRM URL in a
            // scheme we do not speak.
            let url_line = match name {
                "connect.salesforce.example.toml" => {
                    Some(("login_url", "https://your-domain.my.salesforce.com"))
                }
                "connect.webhook.example.toml" => Some((
                    "url",
                    "https://platform.example.com/callsense/{tenant}/events",
                )),
                _ => None,
            };
            if let Some((key, good)) = url_line {
                let line = format!("{key} = \"{good}\"");
                let base = std::fs::read_to_string(dir.join(name)).unwrap();
                assert!(base.contains(&line), "{name} no longer has {line}");
                let text = std::fs::read_to_string(dir.join("callsense.example.toml")).unwrap()
                    + &base.replace(&line, &format!("{key} = \"ftp://{}\"", &good[8..]));
                std::fs::write(&tmp, text).unwrap();
                let e = Config::load_with_env(Some(&tmp), Vec::new()).unwrap_err();
                let _ = std::fs::remove_file(&tmp);
                assert!(
                    e.to_string()
                        .contains(&format!("{key} must be an http(s) URL: scheme \"ftp\"")),
                    "{name}: {e}"
                );
            }
        }
    }

    #[test]
    fn env_overrides_file_and_parses_types() {
        let cfg = Config::load_with_env(
            None,
            env(&[
                ("CALLSENSE__ASR__WORKERS", "5"),
                ("CALLSENSE__AUDIO__VAD", "earshot"),
                ("CALLSENSE__SERVER__LISTEN", "0.0.0.0:1234"),
                ("UNRELATED", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(cfg.asr.workers, 5);
        assert_eq!(cfg.audio.vad, VadKind::Earshot);
        assert_eq!(cfg.server.listen, "0.0.0.0:1234");
        assert_eq!(cfg.asr.model, WhisperChoice::Auto, "the default");
        let file = |v: &str| {
            Config::load_with_env(None, env(&[("CALLSENSE__ASR__MODEL", v)]))
                .unwrap()
                .asr
                .model
        };
        assert_eq!(file("AUTO"), WhisperChoice::Auto);
        assert_eq!(
            file("/m/ggml-base.bin"),
            WhisperChoice::File("/m/ggml-base.bin".into())
        );
    }

    #[test]
    fn unknown_keys_and_bad_ranges_are_errors_naming_the_key() {
        let e = Config::load_with_env(None, env(&[("CALLSENSE__ASR__WORKERZ", "2")])).unwrap_err();
        assert!(e.to_string().contains("workerz"), "{e}");
        let e = Config::load_with_env(None, env(&[("CALLSENSE__AUDIO__END_SILENCE_MS", "50")]))
            .unwrap_err();
        assert!(e.to_string().contains("end_silence_ms"), "{e}");
        for beams in ["0", "9"] {
            let e = Config::load_with_env(None, env(&[("CALLSENSE__ASR__BEAM_SIZE", beams)]))
                .unwrap_err();
            assert!(e.to_string().contains("asr.beam_size"), "{e}");
        }
        let cfg = Config::load_with_env(None, env(&[("CALLSENSE__ASR__BEAM_SIZE", "5")])).unwrap();
        assert_eq!(cfg.asr.beam_size, 5);
        for (key, value, named) in [
            ("LENGTH_PENALTY", "3", "asr.length_penalty"),
            ("LENGTH_PENALTY", "-0.5", "asr.length_penalty"),
            ("TEMPERATURE_FALLBACK", "0.01", "asr.temperature_fallback"),
            ("TEMPERATURE_FALLBACK", "1.5", "asr.temperature_fallback"),
            (
                "FALLBACK_LOGPROB_THRESHOLD",
                "1",
                "asr.fallback_logprob_threshold",
            ),
        ] {
            let e = Config::load_with_env(None, env(&[(&format!("CALLSENSE__ASR__{key}"), value)]))
                .unwrap_err();
            assert!(e.to_string().contains(named), "{key}={value}: {e}");
        }
        let cfg = Config::load_with_env(
            None,
            env(&[
                ("CALLSENSE__ASR__LENGTH_PENALTY", "1"),
                ("CALLSENSE__ASR__TEMPERATURE_FALLBACK", "0.2"),
            ]),
        )
        .unwrap();
        assert_eq!(
            (cfg.asr.length_penalty, cfg.asr.temperature_fallback),
            (1.0, 0.2)
        );
    }
}
