//! Sinks: where deliveries go. One small type per destination behind one
//! enum, so the worker treats them alike.
//!
//! Owns: each sink's configuration (`[[connect.sinks]]`: the shared
//! settings here, each destination's table beside its sink), building a
//! sink from it (secrets resolved, URLs checked)
//! and dispatching a batch to it. Each sink returns one [`Outcome`] per
//! delivery, in order; the retry decision is the sink's, the backoff the
//! worker's.

pub(crate) mod kafka;
pub(crate) mod salesforce;
pub(crate) mod webhook;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use super::event::EventKind;
use super::mapping::RecordMapping;
use super::outbox::Delivery;
use super::retry::Outcome;
use crate::connect::salesforce::SalesforceConfig;

pub use kafka::KafkaConfig;
pub use salesforce::SalesforceSink;
pub use webhook::{WebhookConfig, WebhookSink};

/// One destination: shared settings plus exactly one of the
/// `[connect.sinks.webhook]` / `[connect.sinks.salesforce]` tables.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawSink")]
pub struct SinkConfig {
    pub name: String,
    pub workers: usize,
    pub max_batch: usize,
    pub timeout_ms: u64,
    pub batch_interval_s: u64,
    pub records: BTreeMap<EventKind, RecordMapping>,
    pub kind: SinkKind,
}

/// A sink as written in the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSink {
    /// Unique name: outbox rows, metrics and logs use it.
    name: String,
    /// Workers delivering batches to this sink at once.
    #[serde(default = "default_workers")]
    workers: usize,
    /// Most deliveries per request (webhooks always send one per request).
    #[serde(default = "default_batch")]
    max_batch: usize,
    /// Per-request time limit.
    #[serde(default = "default_timeout_ms")]
    timeout_ms: u64,
    /// Fields with `sync = "batch"` are sent at the next multiple of this interval.
    #[serde(default = "default_batch_interval")]
    batch_interval_s: u64,
    /// What each event kind becomes; kinds not listed are not sent here.
    #[serde(default)]
    records: BTreeMap<EventKind, RecordMapping>,
    /// A generic REST endpoint with Standard Webhooks signatures.
    webhook: Option<WebhookConfig>,
    /// Salesforce REST (upsert by external id).
    salesforce: Option<SalesforceConfig>,
    /// A Kafka topic.
    kafka: Option<kafka::KafkaConfig>,
}

impl TryFrom<RawSink> for SinkConfig {
    type Error = String;
    fn try_from(r: RawSink) -> Result<Self, String> {
        let kind = match (r.webhook, r.salesforce, r.kafka) {
            (Some(w), None, None) => SinkKind::Webhook(w),
            (None, Some(s), None) => SinkKind::Salesforce(s),
            (None, None, Some(k)) => SinkKind::Kafka(k),
            _ => {
                return Err(format!(
                    "connect.sinks \"{}\": set exactly one of the [webhook], [salesforce] or [kafka] tables",
                    r.name
                ))
            }
        };
        Ok(Self {
            name: r.name,
            workers: r.workers,
            max_batch: r.max_batch,
            timeout_ms: r.timeout_ms,
            batch_interval_s: r.batch_interval_s,
            records: r.records,
            kind,
        })
    }
}

fn default_workers() -> usize {
    2
}
fn default_batch() -> usize {
    50
}
fn default_timeout_ms() -> u64 {
    10_000
}
fn default_batch_interval() -> u64 {
    3600
}

/// The destination of a sink.
#[derive(Debug, Clone)]
pub enum SinkKind {
    Webhook(WebhookConfig),
    Salesforce(SalesforceConfig),
    Kafka(kafka::KafkaConfig),
}

impl SinkKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Webhook(_) => "webhook",
            Self::Salesforce(_) => "salesforce",
            Self::Kafka(_) => "kafka",
        }
    }
}

impl SinkKind {
    /// Checks the destination's own settings.
    ///
    /// # Errors
    /// A message naming the key.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Self::Webhook(w) => w.validate(),
            Self::Kafka(k) => k.validate(),
            Self::Salesforce(sf) => sf.validate(),
        }
    }
}

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
