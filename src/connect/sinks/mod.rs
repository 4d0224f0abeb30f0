//! Sinks: where deliveries go. One small type per destination behind one
//! enum, so the worker treats them alike.
//!
//! Owns: building a sink from its config (secrets resolved, URLs checked)
//! and dispatching a batch to it. Each sink returns one [`Outcome`] per
//! delivery, in order; the retry decision is the sink's, the backoff the
//! worker's.

pub mod kafka;
pub mod salesforce;
pub mod salesforce_auth;
pub mod webhook;

use std::time::Duration;

use super::config::{SinkConfig, SinkKind};
use super::outbox::Delivery;
use super::retry::Outcome;

pub use salesforce::SalesforceSink;
pub use webhook::WebhookSink;

/// Why a sink could not be built.
#[derive(Debug, thiserror::Error)]
#[error("connect.sinks \"{sink}\": {reason}")]
pub struct SinkError {
    pub sink: String,
    pub reason: String,
}

/// A configured destination.
pub enum Sink {
    Webhook(WebhookSink),
    Salesforce(SalesforceSink),
    Kafka(kafka::KafkaSink),
}

impl Sink {
    /// Builds the sink (resolving `env:` secrets) with its own HTTP client.
    ///
    /// # Errors
    /// A secret is missing or malformed, or the HTTP client cannot start.
    pub fn build(config: &SinkConfig) -> Result<Self, SinkError> {
        let err = |reason: String| SinkError {
            sink: config.name.clone(),
            reason,
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.timeout_ms))
            .connect_timeout(Duration::from_millis(config.timeout_ms.min(5000)))
            .pool_max_idle_per_host(config.workers * 2)
            .user_agent(concat!("callsense/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| err(format!("HTTP client: {e}")))?;
        Ok(match &config.kind {
            SinkKind::Webhook(w) => Self::Webhook(WebhookSink::new(config, w, http).map_err(err)?),
            SinkKind::Salesforce(s) => {
                Self::Salesforce(SalesforceSink::new(config, s, http).map_err(err)?)
            }
            SinkKind::Kafka(k) => Self::Kafka(kafka::KafkaSink::new(config, k).map_err(err)?),
        })
    }

    /// Delivers a batch; one outcome per delivery, in order.
    pub async fn deliver(&self, batch: &[Delivery]) -> Vec<Outcome> {
        match self {
            Self::Webhook(s) => s.deliver(batch).await,
            Self::Salesforce(s) => s.deliver(batch).await,
            Self::Kafka(s) => s.deliver(batch).await,
        }
    }
}
