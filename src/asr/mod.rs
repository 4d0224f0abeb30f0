//! Speech recognition: Whisper (whisper-rs) on dedicated threads.
//!
//! `whisper` wraps the model and one utterance's decode; `pool` owns N
//! Whisper states on N OS threads behind a bounded queue that is fair across
//! calls; `repetition` catches Whisper's loops; `script` writes Mandarin in
//! simplified characters. Nothing here runs on the async runtime.

mod pool;
pub(crate) mod repetition;
mod script;
pub(crate) mod whisper;

pub use pool::{AsrJob, AsrOutput, AsrPool, TurnAudio};
pub use repetition::find_loop;
pub use script::to_simplified;
pub use whisper::{
    cpu_has_native_bf16, is_bf16_model, is_synthetic_speech_model, transcribe, AsrInput, Context,
    DecodeOptions, LanguageDetector, Transcript, WhisperModel, SYNTH_MODEL,
};

use std::path::PathBuf;

/// Why recognition failed.
#[derive(Debug, thiserror::Error)]
pub enum AsrError {
    #[error("cannot load Whisper model {path}: {reason}")]
    Load { path: PathBuf, reason: String },
    #[error("empty audio cannot be transcribed")]
    EmptyAudio,
    #[error("speech recognition failed: {0}")]
    Inference(String),
    #[error("speech recogniser is shut down")]
    ShutDown,
    #[error("speech recogniser queue is full")]
    Busy,
    #[error("recognition cancelled: its result is no longer wanted")]
    Cancelled,
}
