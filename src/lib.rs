//! callsense: a real-time speech sentiment and intent engine for call centres.
//!
//! The data path, one folder per stage:
//! - [`audio`]: telephony bytes → 16 kHz speech segments per channel (codecs,
//!   rubato resampling, VAD, endpointing), on dedicated front-end threads.
//! - [`asr`]: Whisper (whisper-rs) states on dedicated threads behind a fair,
//!   bounded queue.
//! - [`classify`]: the ONNX sentiment + intent model (ort) behind a dynamic
//!   batcher, with the model-directory contract.
//! - [`pipeline`]: one call end to end: front end → ASR → classifier →
//!   results and the call summary; each final masked by [`pii`] and
//!   evaluated by [`rules`]; [`analytics`] keeps the call's live
//!   conversation measures (talk, silence, overtalk, talk speed, loudness,
//!   sentiment trend) and matches script phrases.
//! - [`connect`]: the CRM connector (outbox, sinks, broker, customer context).
//! - [`calls`]: the one call path every front door uses: a new call's checks,
//!   admission, the CRM customer lookup, the tracked call task.
//! - [`server`]: the gRPC service (`callsense.v1`), a thin translator onto
//!   [`calls`], with health and reflection.
//! - [`board`]: the supervisor board: every call live in a browser, and
//!   the same feed as JSON and Server-Sent Events.
//! - [`ingress`]: the telephony front doors (Twilio Media Streams), each
//!   another thin translator onto [`calls`], served beside gRPC.
//!
//! [`auth`] says who a client is and which tenant it acts for on every
//! front door (API keys, client certificates, per-tenant quotas, the audit
//! log).
//!
//! [`config`] holds the one typed configuration tree ([`secret`] its secret
//! values, [`language`] the languages it and a call may name); [`telemetry`] the metrics registry; [`models`] fetches and
//! verifies model files.

pub mod analytics;
pub mod asr;
pub mod audio;
pub mod auth;
pub mod board;
pub mod calls;
pub mod classify;
pub mod cli;
pub mod config;
pub mod connect;
pub mod ingress;
pub mod language;
pub mod models;
pub mod pii;
pub mod pipeline;
pub mod proto_json;
pub mod rules;
pub mod secret;
pub mod server;
pub mod telemetry;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;

/// Generated protobuf and gRPC code for `callsense.v1`.
#[allow(clippy::all, missing_docs)]
pub mod proto {
    tonic::include_proto!("callsense.v1");
    /// Encoded descriptors of `callsense.v1` (reflection, JSON output).
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        tonic::include_file_descriptor_set!("callsense_descriptor");
}
