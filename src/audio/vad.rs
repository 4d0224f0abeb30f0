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
