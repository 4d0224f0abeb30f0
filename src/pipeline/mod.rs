//! One call end to end: the loaded [`Engine`], the call loop (`call`), the
//! decoder's context per channel (`prompt` for text, `turns` for audio),
//! rules inside a call (`call_rules`) and the end-of-call summary
//! (`summary`). The modules are private; what other stages use is
//! re-exported here.

mod call;
mod call_rules;
mod engine;
mod metrics;
mod prompt;
mod summary;
mod turns;

pub use call::{
    classification_proto, prediction_to_proto, run_call, CallOutput, CallSpec, Inbound,
};
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
    /// A tenant's quota or rate was reached; retry after this many seconds.
    #[error("{message}")]
    Throttled { message: String, retry_after_s: u64 },
    /// The client's credential does not allow this (another tenant's call,
    /// a callback URL outside its tenant's prefixes).
    #[error("{0}")]
    PermissionDenied(String),
    /// The engine cannot serve (loading, shutting down).
    #[error("{0}")]
    Unavailable(String),
    /// Something inside the engine failed (a model, the VAD, the
    /// resampler); not the client's doing.
    #[error("{0}")]
    Internal(String),
    /// The client went away; nothing to send.
    #[error("client cancelled the call")]
    Cancelled,
}

impl From<crate::auth::Throttled> for CallError {
    fn from(t: crate::auth::Throttled) -> Self {
        Self::Throttled {
            message: t.message,
            retry_after_s: t.retry_after_s,
        }
    }
}

impl From<crate::audio::FrontendError> for CallError {
    /// Audio that cannot be decoded is the client's; a resampler or VAD
    /// failure is ours.
    fn from(e: crate::audio::FrontendError) -> Self {
        match e {
            crate::audio::FrontendError::Codec(_) => Self::InvalidArgument(e.to_string()),
            _ => Self::Internal(format!("audio front end: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CallError;
    use crate::audio::FrontendError;
    use crate::audio::VadError;

    #[test]
    fn undecodable_audio_is_the_clients_and_a_vad_failure_is_ours() {
        let codec = FrontendError::Codec(crate::audio::CodecError::PartialSample(1));
        assert!(matches!(
            CallError::from(codec),
            CallError::InvalidArgument(m) if m.contains("stray byte")
        ));
        let vad = FrontendError::Vad(VadError::Shape(3));
        assert!(matches!(
            CallError::from(vad),
            CallError::Internal(m) if m.starts_with("audio front end: Silero VAD")
        ));
    }
}
