//! Frame-level voice activity detectors behind one small synchronous trait.
//!
//! Owns: turning one fixed-size 16 kHz frame into a speech probability.
//! Must not decide where utterances start or end (that is `endpoint`), and
//! runs only on front-end threads, never on the async runtime.
//!
//! Two detectors, compared on the shared speech clips by
//! `cargo run --release --example vad_compare` (numbers in the README):
//! Silero VAD v5 through ONNX Runtime, and earshot (pure Rust).

use std::path::Path;
use std::sync::Arc;

use crate::config::{AudioConfig, VadKind};

use ort::session::Session;
use ort::value::Tensor;
use parking_lot::Mutex;

/// Why a detector failed.
#[derive(Debug, thiserror::Error)]
pub enum VadError {
    #[error("cannot load Silero VAD model {path}: {source}")]
    Load { path: String, source: ort::Error },
    #[error("Silero VAD returned a state of {0} values, expected 256 (not a Silero v5 model?)")]
    Shape(usize),
    #[error("Silero VAD inference failed: {0}")]
    Inference(#[from] ort::Error),
}

/// A streaming frame classifier. One instance per audio channel: it keeps
/// that channel's recurrent state between frames.
pub trait VoiceDetector: Send {
    /// Samples at 16 kHz per frame (`probability` takes exactly this many).
    fn frame_len(&self) -> usize;
    /// Probability in [0, 1] that `frame` contains speech.
    ///
    /// # Errors
    /// The detector's model failed to run.
    fn probability(&mut self, frame: &[f32]) -> Result<f32, VadError>;
    /// Clears recurrent state; used where a frame was skipped as silence by
    /// the energy gate, so stale context does not leak across pauses.
    fn reset(&mut self);
}

/// earshot: 256-sample (16 ms) frames, no model file, ~µs per frame.
pub struct EarshotVad {
    detector: Box<earshot::Detector>,
}

impl EarshotVad {
    pub fn new() -> Self {
        Self {
            detector: earshot::Detector::default_boxed(),
        }
    }
}

impl Default for EarshotVad {
    fn default() -> Self {
        Self::new()
    }
}

impl VoiceDetector for EarshotVad {
    fn frame_len(&self) -> usize {
        256
    }

    fn probability(&mut self, frame: &[f32]) -> Result<f32, VadError> {
        Ok(self.detector.predict_f32(frame))
    }

    fn reset(&mut self) {
        self.detector.reset();
    }
}

/// Makes one detector per channel, as configured: `audio.vad`, watched
/// ([`WatchedVad`]) unless `audio.vad_watch_refresh_ms` is 0.
pub type VadFactory = Arc<dyn Fn() -> Box<dyn VoiceDetector> + Send + Sync>;

/// The detector factory for `a` (loads the Silero model once, shared).
///
/// # Errors
/// The Silero model cannot be loaded.
pub fn factory(
    env: &ort::environment::Environment,
    a: &AudioConfig,
) -> Result<VadFactory, VadError> {
    let one: VadFactory = match a.vad {
        VadKind::Silero => {
            let model = SileroModel::load(env, &a.silero_model)?;
            Arc::new(move || Box::new(model.detector()) as Box<dyn VoiceDetector>)
        }
        VadKind::Earshot => Arc::new(|| Box::new(EarshotVad::new()) as Box<dyn VoiceDetector>),
    };
    let (refresh, quiet_below) = (a.vad_watch_refresh_ms, a.vad_threshold - a.vad_hysteresis);
    if refresh == 0 {
        return Ok(one);
    }
    Ok(Arc::new(move || {
        Box::new(WatchedVad::new(one(), one(), refresh, quiet_below)) as Box<dyn VoiceDetector>
    }))
}

/// A channel's detector plus a watcher of the same kind that is started
/// afresh every `refresh_frames` quiet frames; a frame's probability is the
/// higher of the two.
///
/// Silero's state drifts during the quiet between turns (line noise, the
/// tail of the previous turn) until a turn's first words score under the
/// threshold, and a whole short turn is lost: 5 of 156 turns in the real
/// speech calls of `scripts/eval_asr.py` (dev, real_en, zh, zh_more). Resetting
/// the main state more often finds them but costs words elsewhere (the
/// synthetic-speech call's agent WER 4.3 → 6.5 % with resets every 3 s); the
/// watcher only adds speech the main state no longer hears (1 turn missed,
/// same WER on the synthetic call), at one more inference per frame.
pub struct WatchedVad {
    main: Box<dyn VoiceDetector>,
    watch: Box<dyn VoiceDetector>,
    /// Quiet frames after which the watcher starts afresh.
    refresh_frames: u32,
    /// Below this probability a frame is quiet (the endpointer's continue threshold).
    quiet_below: f32,
    quiet_frames: u32,
}

impl WatchedVad {
    /// `refresh_ms` of quiet (frames below `quiet_below`) between the
    /// watcher's fresh starts; both detectors must take the same frames.
    pub fn new(
        main: Box<dyn VoiceDetector>,
        watch: Box<dyn VoiceDetector>,
        refresh_ms: u32,
        quiet_below: f32,
    ) -> Self {
        debug_assert_eq!(main.frame_len(), watch.frame_len());
        let per_ms = (super::TARGET_RATE / 1000) as usize;
        let frame_ms = (main.frame_len() / per_ms).max(1) as u32;
        Self {
            main,
            watch,
            refresh_frames: refresh_ms.div_ceil(frame_ms).max(1),
            quiet_below,
            quiet_frames: 0,
        }
    }
}

impl VoiceDetector for WatchedVad {
    fn frame_len(&self) -> usize {
        self.main.frame_len()
    }

    fn probability(&mut self, frame: &[f32]) -> Result<f32, VadError> {
        let p = self
            .main
            .probability(frame)?
            .max(self.watch.probability(frame)?);
        if p < self.quiet_below {
            self.quiet_frames += 1;
            if self.quiet_frames >= self.refresh_frames {
                self.watch.reset();
                self.quiet_frames = 0;
            }
        } else {
            self.quiet_frames = 0;
        }
        Ok(p)
    }

    fn reset(&mut self) {
        self.main.reset();
        self.watch.reset();
        self.quiet_frames = 0;
    }
}

/// Silero VAD v5 model shared by every channel; each channel carries its own
/// state tensor, so one session serves all calls.
pub struct SileroModel {
    session: Mutex<Session>,
}

const SILERO_FRAME: usize = 512;
const SILERO_CONTEXT: usize = 64;
const SILERO_STATE: usize = 2 * 128;

impl SileroModel {
    /// Loads the 16 kHz Silero v5 ONNX model (inputs `input`, `state`, `sr`).
    ///
    /// # Errors
    /// The file is missing or not a Silero v5 model, or ONNX Runtime is not
    /// initialised (see `classify::runtime::init`).
    pub fn load(env: &ort::environment::Environment, path: &Path) -> Result<Arc<Self>, VadError> {
        let load = |p: &Path| -> ort::Result<Session> {
            Session::builder(env)?
                .with_intra_threads(1)?
                .with_inter_threads(1)?
                .commit_from_file(p)
        };
        let session = load(path).map_err(|source| VadError::Load {
            path: path.display().to_string(),
            source,
        })?;
        Ok(Arc::new(Self {
            session: Mutex::new(session),
        }))
    }

    /// A detector for one channel.
    pub fn detector(self: &Arc<Self>) -> SileroVad {
        SileroVad {
            model: Arc::clone(self),
            state: vec![0.0; SILERO_STATE],
            input: vec![0.0; SILERO_CONTEXT + SILERO_FRAME],
        }
    }
}

/// One channel's Silero state: recurrent state plus the last 64 samples of context.
pub struct SileroVad {
    model: Arc<SileroModel>,
    state: Vec<f32>,
    /// Context (64 samples) followed by the current frame (512 samples).
    input: Vec<f32>,
}

impl VoiceDetector for SileroVad {
    fn frame_len(&self) -> usize {
        SILERO_FRAME
    }

    fn probability(&mut self, frame: &[f32]) -> Result<f32, VadError> {
        debug_assert_eq!(frame.len(), SILERO_FRAME);
        self.input[SILERO_CONTEXT..].copy_from_slice(frame);
        let input =
            Tensor::from_array(([1usize, SILERO_CONTEXT + SILERO_FRAME], self.input.clone()))?;
        // The state is copied in and only replaced on success, so a failed
        // frame leaves the channel usable.
        let state = Tensor::from_array(([2usize, 1, 128], self.state.clone()))?;
        let sr = Tensor::from_array(((), vec![16_000i64]))?;
        let mut session = self.model.session.lock();
        let outputs = session.run(ort::inputs!["input" => input, "state" => state, "sr" => sr])?;
        let (_, prob) = outputs["output"].try_extract_tensor::<f32>()?;
        let (_, next) = outputs["stateN"].try_extract_tensor::<f32>()?;
        let p = prob.first().copied().unwrap_or(0.0);
        if next.len() != SILERO_STATE {
            return Err(VadError::Shape(next.len()));
        }
        self.state.copy_from_slice(next);
        drop(outputs);
        drop(session);
        self.input.copy_within(SILERO_FRAME.., 0);
        Ok(p)
    }

    fn reset(&mut self) {
        self.state.clear();
        self.state.resize(SILERO_STATE, 0.0);
        self.input.fill(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hears speech (a frame of 1.0s) only while it has seen fewer than
    /// `deaf_after` frames since its last reset, as Silero's drifting state.
    struct Drifting {
        seen: u32,
        deaf_after: u32,
    }

    impl VoiceDetector for Drifting {
        fn frame_len(&self) -> usize {
            512
        }
        fn probability(&mut self, frame: &[f32]) -> Result<f32, VadError> {
            self.seen += 1;
            Ok(if frame[0] > 0.5 && self.seen <= self.deaf_after {
                0.9
            } else {
                0.05
            })
        }
        fn reset(&mut self) {
            self.seen = 0;
        }
    }

    fn drifting() -> Box<dyn VoiceDetector> {
        Box::new(Drifting {
            seen: 0,
            deaf_after: 100,
        })
    }

    #[test]
    fn the_watcher_hears_speech_the_drifted_state_misses() {
        let (quiet, speech) = (vec![0.0f32; 512], vec![1.0f32; 512]);
        let mut alone = drifting();
        // 2 s refresh = 63 frames of 32 ms: the watcher never drifts 100 frames.
        let mut watched = WatchedVad::new(drifting(), drifting(), 2000, 0.35);
        for _ in 0..300 {
            alone.probability(&quiet).unwrap();
            assert!(watched.probability(&quiet).unwrap() < 0.35);
        }
        assert!(
            alone.probability(&speech).unwrap() < 0.5,
            "the lone detector has drifted"
        );
        for _ in 0..20 {
            assert!(watched.probability(&speech).unwrap() >= 0.5);
        }
        // A reset from the endpointer resets both.
        watched.reset();
        assert!(watched.probability(&speech).unwrap() >= 0.5);
    }
}
