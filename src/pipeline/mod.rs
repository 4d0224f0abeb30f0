//! One call end to end: the loaded [`Engine`], the call loop in [`call`],
//! the decoder's context per channel in [`prompt`] (text) and [`turns`]
//! (audio), and the end-of-call [`summary`].

pub mod call;
pub mod call_rules;
pub mod engine;
pub mod metrics;
pub mod prompt;
pub mod summary;
pub mod turns;

pub use call::{classification_proto, prediction_to_proto, run_call, CallOutput, CallSpec};
pub use engine::{load_classifiers, resolve_whisper_model, Engine, EngineError, EngineStats};
pub use metrics::Metrics;

/// Why a call ended early. The server maps each kind to a gRPC status.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum CallError {
    /// The client sent something wrong; the message names it.
    #[error("{0}")]
    InvalidArgument(String),
    /// A configured limit was reached; retry later.
    #[error("{0}")]
    ResourceExhausted(String),
    /// The engine cannot serve (loading, shutting down).
    #[error("{0}")]
    Unavailable(String),
    /// The client went away; nothing to send.
    #[error("client cancelled the call")]
    Cancelled,
}
