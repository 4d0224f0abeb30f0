//! The `callsense` command line: `serve`, `stream`, `analyze-text`,
//! `models`, `loadgen`, `eval`, `outbox`, `connector`, `keys`. Tools, so `anyhow` errors are fine here.

pub mod analyze;
pub mod connector_cmd;
pub mod eval;
pub mod keys_cmd;
pub mod loadgen;
#[cfg(feature = "mic")]
pub mod mic;
pub mod models_cmd;
pub mod outbox_cmd;
pub mod serve;
pub mod stream;
