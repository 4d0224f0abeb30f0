//! The supervisor board: every active call of a tenant at once — customer
//! tier and risk tags from the CRM context, duration, the customer's
//! sentiment trend with a sparkline, talk / non-talk / overtalk, the last
//! intent and alerts, sorted by need — and one call's live transcript,
//! served by the engine on its own listener (`[ui] listen`), with the same
//! feed as JSON and Server-Sent Events for platforms that build their own
//! wallboard.
//!
//! `hub` keeps the calls' views from the events the gRPC stream carries
//! (published by the call loop: one fan-out, serialised once) and
//! broadcasts their changes; `http` serves the page, the JSON and the event
//! stream behind per-tenant supervisor credentials; `page/` is the page
//! itself (plain HTML, CSS and JavaScript, embedded in the binary).
//! Must not: slow a call — publishing never waits for a viewer.

mod config;
mod http;
mod hub;
mod tls;

pub use config::{SupervisorConfig, UiConfig};
pub use http::serve;
pub use hub::{Board, Published};
pub use tls::TlsListener;
