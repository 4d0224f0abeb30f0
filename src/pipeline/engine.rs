//! The loaded engine: every model and worker pool a call needs.
//!
//! Owns: loading (ONNX Runtime, VAD, Whisper, classifier) in one place with
//! errors that name the file, the call-admission limit, and counters that
//! tests and operators read to see that nothing leaks.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};
use tokio_util::task::TaskTracker;

use super::metrics::Metrics;
use super::CallError;
use crate::asr::{AsrError, AsrPool, DecodeOptions, WhisperModel};
use crate::audio::FrontendPool;
use crate::audio::{vad_factory, VadError};
use crate::classify::runtime::{self, RuntimeError};
use crate::classify::{Batcher, Classifiers, ModelError, TextModel};
use crate::config::{Config, WhisperChoice};
use crate::telemetry::Telemetry;

/// Why the engine could not start.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error(transparent)]
    Vad(#[from] VadError),
    #[error(transparent)]
    Asr(#[from] AsrError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Connect(#[from] crate::connect::ConnectError),
    #[error(transparent)]
    Rules(#[from] crate::rules::RulesError),
    #[error("{0}")]
    Context(String),
    #[error("cannot start a worker thread: {0}")]
    Threads(#[from] std::io::Error),
    #[error("the model loader panicked")]
    LoaderPanicked,
    #[error("no Whisper model configured: asr.model = \"auto\" found none of {0}. Run scripts/setup.sh or `callsense models fetch`")]
    NoWhisperModel(String),
}

/// Counters of live work, for leak checks and health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EngineStats {
    pub active_calls: usize,
    pub frontend_calls: usize,
    pub utterance_tasks: usize,
    pub asr_queued: usize,
    pub asr_busy: usize,
    pub classifier_in_flight: usize,
}

/// Everything loaded; shared by all calls.
pub struct Engine {
    pub config: Config,
    pub frontend: Arc<FrontendPool>,
    pub asr: AsrPool,
    pub classifier: Classifiers,
    pub metrics: Metrics,
    /// The CRM connector; `None` when no sink is configured.
    pub connector: Option<Arc<crate::connect::Connector>>,
    /// Customer lookup on call start (`connect.context`); `None` when not configured.
    pub customer_context: Option<Arc<crate::connect::customer::CustomerContextService>>,
    /// Masks personal data in final transcripts before rules or a CRM see
    /// them (`connect.privacy.masking`), with or without a connector.
    pub masker: crate::pii::Masker,
    /// Rules (`connect.rules.file`); `None` when no file is configured.
    pub rules: Option<Arc<crate::rules::Rules>>,
    /// The supervisor board's state (`[ui]`); `None` when it is off.
    pub board: Option<Arc<crate::board::Board>>,
    /// Credentials, per-tenant quotas and choices, the audit log.
    pub auth: Arc<crate::auth::Auth>,
    rules_watch: Option<tokio::task::AbortHandle>,
    calls: Arc<Semaphore>,
    /// Every call task, so shutdown can wait for them ([`Engine::drain_calls`]).
    call_tasks: TaskTracker,
    next_call: AtomicU64,
    pub(crate) active_calls: Arc<LiveCount>,
    pub(crate) utterance_tasks: Arc<LiveCount>,
    telemetry: Telemetry,
    pool_gauges: PoolGauges,
}

/// Resolves `asr.model`, trying `asr.auto_candidates` for "auto": the first
/// real Whisper model installed, else the first synthetic-speech one. A
/// model with bfloat16 weights is passed over unless the CPU multiplies
/// bfloat16 in hardware and decodes run on the CPU (elsewhere float16 is
/// faster).
///
/// # Errors
/// [`EngineError::NoWhisperModel`] when "auto" finds nothing.
pub fn resolve_whisper_model(config: &Config) -> Result<PathBuf, EngineError> {
    let on_gpu = cfg!(feature = "cuda") && config.asr.use_gpu;
    resolve_whisper_model_for(config, crate::asr::cpu_has_native_bf16() && !on_gpu)
}

/// [`resolve_whisper_model`], told whether bfloat16 weights suit this host.
fn resolve_whisper_model_for(config: &Config, bf16_native: bool) -> Result<PathBuf, EngineError> {
    if let WhisperChoice::File(path) = &config.asr.model {
        return Ok(path.clone());
    }
    let candidates = &config.asr.auto_candidates;
    let installed = |synthetic: bool| {
        candidates.iter().find(|p| {
            crate::asr::is_synthetic_speech_model(p) == synthetic
                && p.is_file()
                && (bf16_native || !crate::asr::is_bf16_model(p))
        })
    };
    installed(false)
        .or_else(|| installed(true))
        .cloned()
        .ok_or_else(|| {
            EngineError::NoWhisperModel(
                candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        })
}

/// Loads every classifier model directory (ONNX Runtime included) and
/// starts one batching thread per model.
///
/// # Errors
/// ONNX Runtime missing, or a directory breaks the model contract.
pub fn load_classifiers(config: &Config) -> Result<Classifiers, EngineError> {
    let env = runtime::init(config.classifier.ort_library.as_deref())?;
    let c = &config.classifier;
    let mut models = Vec::with_capacity(c.model_dirs.len());
    for dir in &c.model_dirs {
        let model = TextModel::load(&env, dir, c.threads)?;
        tracing::info!(model = model.model_id(), languages = ?model.spec().languages, dir = %dir.display(), "Classifier loaded");
        models.push(Batcher::start(
            model,
            c.max_batch,
            Duration::from_millis(c.max_wait_ms),
            c.queue_capacity,
        )?);
    }
    Ok(Classifiers::new(models))
}

/// What loading blocks on (seconds): ONNX Runtime, the VAD, the
/// classifiers and Whisper, with their worker threads started.
struct Models {
    /// With the settings left to the model filled in (`audio.lead_pad_ms`).
    config: Config,
    frontend: Arc<FrontendPool>,
    asr: AsrPool,
    classifier: Classifiers,
}

impl Models {
    fn load(mut config: Config) -> Result<Self, EngineError> {
        let env = runtime::init(config.classifier.ort_library.as_deref())?;
        let vad = vad_factory(&env, &config.audio)?;
        let classifier = load_classifiers(&config)?;
        let whisper_path = resolve_whisper_model(&config)?;
        let whisper = WhisperModel::load(&whisper_path, config.asr.use_gpu)?;
        tracing::info!(model = %whisper_path.display(), multilingual = whisper.is_multilingual(), "Whisper model loaded");
        if whisper.is_synthetic() {
            tracing::warn!(
                model = %whisper_path.display(),
                "This is callsense's synthetic-speech test and demo model: it transcribes espeak-ng voices, \
                 not real callers. For real calls install a Whisper model \
                 (`callsense models fetch whisper-base`) or set asr.model"
            );
        }
        let lead_pad_ms = *config
            .audio
            .lead_pad_ms
            .get_or_insert_with(|| whisper.lead_pad_ms());
        let decode = DecodeOptions::for_model(&config.asr, &whisper);
        tracing::info!(
            audio_ctx_margin = decode.audio_ctx_margin,
            loop_audio_ctx_margin = decode.loop_audio_ctx_margin,
            timestamp_tokens = decode.timestamp_tokens,
            lead_pad_ms,
            "Whisper decoding"
        );
        let asr = AsrPool::start(
            whisper,
            config.asr.workers,
            config.asr.queue_capacity,
            config.asr.lend_idle_threads,
            decode,
        )?;
        let frontend = FrontendPool::start(
            config.audio.frontend_threads,
            config.audio.frontend_queue,
            vad,
        )?;
        Ok(Self {
            config,
            frontend,
            asr,
            classifier,
        })
    }
}

/// `asr.context_max_gap_ms` when unset, for models with word times.
pub const DEFAULT_CONTEXT_MAX_GAP_MS: u32 = 2000;

impl Engine {
    /// How close an utterance must follow its speaker's previous one to be
    /// decoded after it: `asr.context_max_gap_ms`, or when unset
    /// [`DEFAULT_CONTEXT_MAX_GAP_MS`] with a model that has word times and
    /// 0 (off) without.
    pub fn context_max_gap_ms(&self) -> u32 {
        self.config
            .asr
            .context_max_gap_ms
            .unwrap_or(if self.asr.has_word_times() {
                DEFAULT_CONTEXT_MAX_GAP_MS
            } else {
                0
            })
    }

    /// Loads every model and starts the worker threads (off the runtime),
    /// then the CRM connector, the rules and their watcher, and the
    /// customer-context lookup, in that order.
    ///
    /// # Errors
    /// Any model or library missing or invalid, or a connector, rules or
    /// context configuration that cannot start.
    pub async fn load(
        config: Config,
        telemetry: Telemetry,
        auth: Arc<crate::auth::Auth>,
    ) -> Result<Arc<Self>, EngineError> {
        let models = tokio::task::spawn_blocking(move || Models::load(config))
            .await
            .map_err(|_| EngineError::LoaderPanicked)??;
        let Models {
            config,
            frontend,
            asr,
            classifier,
        } = models;
        let asr_workers = asr.workers();
        let connector = crate::connect::Connector::start_for_tenants(
            &config.connect,
            crate::connect::Mode::Engine,
            &telemetry,
            crate::connect::TenantSinks::from_config(&config.tenants),
        )
        .await?;
        let (rules, rules_watch) = match &config.connect.rules.file {
            Some(_) => {
                let rules = crate::rules::Rules::load(&config.connect.rules, &telemetry)?;
                tracing::info!(rules = rules.current().len(), "Rules loaded");
                let interval = Duration::from_millis(config.connect.rules.reload_interval_ms);
                let watch = tokio::spawn(Arc::clone(&rules).watch(interval)).abort_handle();
                (Some(rules), Some(watch))
            }
            None => (None, None),
        };
        let customer_context =
            crate::connect::customer::CustomerContextService::new(&config.connect.context)
                .map_err(EngineError::Context)?;
        let board = config
            .ui
            .listen
            .is_some()
            .then(|| Arc::new(crate::board::Board::new(config.ui.clone())));
        let engine = Arc::new(Self {
            board,
            auth,
            masker: crate::pii::Masker::new(&config.connect.privacy.masking),
            connector,
            customer_context,
            rules,
            rules_watch,
            calls: Arc::new(Semaphore::new(config.server.max_concurrent_calls)),
            call_tasks: TaskTracker::new(),
            config,
            frontend,
            asr,
            classifier,
            metrics: Metrics::new(&telemetry),
            next_call: AtomicU64::new(1),
            active_calls: LiveCount::new(telemetry.gauge(
                "callsense_calls_active",
                "Calls in progress.",
                &[],
            )),
            utterance_tasks: LiveCount::new(telemetry.gauge(
                "callsense_utterance_tasks",
                "Utterances being recognised or classified.",
                &[],
            )),
            pool_gauges: PoolGauges::new(&telemetry, asr_workers),
            telemetry,
        });
        tokio::spawn(refresh_metrics_while_alive(Arc::downgrade(&engine)));
        Ok(engine)
    }

    /// Admits a call if under `server.max_concurrent_calls` and not
    /// shutting down; counts a refusal.
    ///
    /// # Errors
    /// [`CallError::ResourceExhausted`] at the limit,
    /// [`CallError::Unavailable`] once [`Engine::drain_calls`] has begun.
    pub fn admit(&self) -> Result<(u64, OwnedSemaphorePermit), CallError> {
        match Arc::clone(&self.calls).try_acquire_owned() {
            Ok(permit) => Ok((self.next_call.fetch_add(1, Ordering::Relaxed), permit)),
            Err(e) => {
                self.metrics.calls_rejected.increment(1);
                Err(match e {
                    TryAcquireError::NoPermits => CallError::ResourceExhausted(format!(
                        "server is at its limit of {} concurrent calls (server.max_concurrent_calls)",
                        self.config.server.max_concurrent_calls
                    )),
                    TryAcquireError::Closed => CallError::Unavailable(
                        "the engine is shutting down and takes no new calls".into(),
                    ),
                })
            }
        }
    }

    /// Runs a call's task on the engine's call tracker.
    pub(crate) fn track_call(&self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        self.call_tasks.spawn(task);
    }

    /// Refuses new calls from now on (UNAVAILABLE); running calls go on.
    pub fn stop_admitting(&self) {
        self.calls.close();
    }

    /// Stops taking calls and waits up to `grace` for the running ones to
    /// end; returns how many were still running at the deadline.
    pub async fn drain_calls(&self, grace: Duration) -> usize {
        self.stop_admitting();
        self.call_tasks.close();
        let _ = tokio::time::timeout(grace, self.call_tasks.wait()).await;
        self.call_tasks.len()
    }

    /// Brings the sampled gauges up to date (pools, outbox backlog).
    pub fn refresh_metrics(&self) {
        let s = self.stats();
        let g = &self.pool_gauges;
        g.frontend_calls.set(s.frontend_calls as f64);
        g.asr_queued.set(s.asr_queued as f64);
        g.asr_busy.set(s.asr_busy as f64);
        g.classifier_in_flight.set(s.classifier_in_flight as f64);
        if let Some(c) = &self.connector {
            c.refresh_metrics();
        }
    }

    /// Prometheus text of every series, gauges refreshed.
    pub fn render_metrics(&self) -> String {
        self.refresh_metrics();
        self.telemetry.render()
    }

    /// The registry this engine records into.
    pub fn telemetry(&self) -> &Telemetry {
        &self.telemetry
    }

    pub fn stats(&self) -> EngineStats {
        EngineStats {
            active_calls: self.active_calls.get(),
            frontend_calls: self.frontend.active_calls(),
            utterance_tasks: self.utterance_tasks.get(),
            asr_queued: self.asr.queued(),
            asr_busy: self.asr.busy(),
            classifier_in_flight: self.classifier.in_flight(),
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Some(w) = &self.rules_watch {
            w.abort();
        }
    }
}

/// A count of live work (calls, utterance tasks), mirrored into a gauge.
pub(crate) struct LiveCount {
    n: AtomicUsize,
    gauge: metrics::Gauge,
}

impl LiveCount {
    fn new(gauge: metrics::Gauge) -> Arc<Self> {
        gauge.set(0.0);
        Arc::new(Self {
            n: AtomicUsize::new(0),
            gauge,
        })
    }

    pub(crate) fn get(&self) -> usize {
        self.n.load(Ordering::Relaxed)
    }
}

/// Counts one piece of live work until dropped (tasks that are aborted
/// count too).
pub(crate) struct Gauge(Arc<LiveCount>);

impl Gauge {
    pub(crate) fn new(c: &Arc<LiveCount>) -> Self {
        c.n.fetch_add(1, Ordering::Relaxed);
        c.gauge.increment(1.0);
        Self(Arc::clone(c))
    }
}

impl Drop for Gauge {
    fn drop(&mut self) {
        self.0.n.fetch_sub(1, Ordering::Relaxed);
        self.0.gauge.decrement(1.0);
    }
}

/// Gauges sampled from the pools ([`Engine::refresh_metrics`]).
struct PoolGauges {
    frontend_calls: metrics::Gauge,
    asr_queued: metrics::Gauge,
    asr_busy: metrics::Gauge,
    classifier_in_flight: metrics::Gauge,
}

impl PoolGauges {
    fn new(t: &Telemetry, asr_workers: usize) -> Self {
        t.gauge("callsense_asr_workers", "Recognisers.", &[])
            .set(asr_workers as f64);
        Self {
            frontend_calls: t.gauge(
                "callsense_frontend_calls",
                "Calls held by front-end threads.",
                &[],
            ),
            asr_queued: t.gauge(
                "callsense_asr_queued",
                "Utterances waiting for a recogniser.",
                &[],
            ),
            asr_busy: t.gauge("callsense_asr_busy", "Recognisers busy.", &[]),
            classifier_in_flight: t.gauge(
                "callsense_classifier_in_flight",
                "Texts admitted to the classifier.",
                &[],
            ),
        }
    }
}

/// How often the sampled gauges are refreshed for the `/metrics` listener.
const METRICS_REFRESH: Duration = Duration::from_secs(1);

/// Refreshes `engine`'s gauges until it is dropped.
async fn refresh_metrics_while_alive(engine: std::sync::Weak<Engine>) {
    let mut tick = tokio::time::interval(METRICS_REFRESH);
    loop {
        tick.tick().await;
        let Some(e) = engine.upgrade() else { return };
        e.refresh_metrics();
        e.telemetry.run_upkeep();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_never_picks_a_synthetic_model_when_a_real_one_is_installed() {
        let dir = tempfile::tempdir().unwrap();
        // Told apart by their headers (dimensions), whatever their names.
        let synth = dir.path().join("a.bin");
        let real = dir.path().join("b.bin");
        let missing = dir.path().join("ggml-tiny.en.bin");
        let head = |p: &str| {
            let mut b = vec![0u8; 48];
            std::io::Read::read_exact(&mut std::fs::File::open(p).unwrap(), &mut b).unwrap();
            b
        };
        std::fs::write(&synth, head(crate::asr::SYNTH_MODEL)).unwrap();
        let mut base = head(crate::asr::SYNTH_MODEL);
        // n_audio_state, n_audio_head, n_audio_layer; n_text_state, n_text_head, n_text_layer
        for (i, v) in [(3, 512), (4, 8), (5, 6), (7, 512), (8, 8), (9, 6)] {
            base[4 * i..4 * i + 4].copy_from_slice(&i32::to_le_bytes(v));
        }
        let mut c = Config::default();
        c.asr.auto_candidates = vec![synth.clone(), missing.clone(), real.clone()];
        assert_eq!(
            resolve_whisper_model(&c).unwrap(),
            synth,
            "only the synthetic one"
        );
        std::fs::write(&real, &base).unwrap();
        assert_eq!(
            resolve_whisper_model(&c).unwrap(),
            real,
            "listed later, still preferred"
        );
        // The same model with bfloat16 matrices, listed first: taken only
        // where the CPU multiplies bfloat16 in hardware.
        let bf16 = dir.path().join("c.bin");
        base[44..48].copy_from_slice(&24i32.to_le_bytes());
        std::fs::write(&bf16, &base).unwrap();
        c.asr.auto_candidates.insert(0, bf16.clone());
        assert_eq!(resolve_whisper_model_for(&c, false).unwrap(), real);
        assert_eq!(resolve_whisper_model_for(&c, true).unwrap(), bf16);
        c.asr.auto_candidates = vec![missing];
        assert!(matches!(
            resolve_whisper_model(&c),
            Err(EngineError::NoWhisperModel(_))
        ));
        c.asr.model = "/x/ggml-small.bin".into();
        assert_eq!(
            resolve_whisper_model(&c).unwrap(),
            PathBuf::from("/x/ggml-small.bin")
        );
    }
}
