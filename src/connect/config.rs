//! The `[connect]` configuration tree: outbox, privacy, retry and sinks.
//!
//! Owns: the connector's settings with their defaults and their validation
//! (errors name the sink and the key). Secrets are redacted from `Debug`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::event::EventKind;
use super::mapping::RecordMapping;
use super::pii::PiiConfig;
use crate::secret::Secret;

/// Most sinks configured at once (one worker group each).
pub const MAX_SINKS: usize = 16;
/// Largest batch a sink may ask for (Salesforce sObject Collections: 200).
pub const MAX_SINK_BATCH: usize = 200;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConnectConfig {
    /// Where events wait until every sink has them.
    pub outbox: OutboxConfig,
    /// PII masking applied to every text before it is persisted or sent.
    pub privacy: PrivacyConfig,
    /// Retry and backoff for failed deliveries (all sinks).
    pub retry: RetryConfig,
    /// CRMs and webhooks that receive events.
    pub sinks: Vec<SinkConfig>,
    /// NATS JetStream between engine nodes and `callsense connector`
    /// processes. Set: the engine publishes events there and runs no sinks.
    pub broker: Option<super::broker::BrokerConfig>,
    /// Rules that turn facts into CRM actions and agent alerts.
    pub rules: super::rules::RulesConfig,
    /// The customer's CRM profile on call start.
    pub context: super::context::ContextConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxConfig {
    /// SQLite database file (WAL). Created if missing.
    pub path: PathBuf,
    /// `full`: each append is fsynced before the engine acknowledges the
    /// event (survives power loss); `normal`: survives a process crash only.
    pub synchronous: Synchronous,
    /// Appends waiting for the outbox thread before callers wait.
    pub queue_capacity: usize,
    /// Most appends committed in one transaction (group commit).
    pub max_group_commit: usize,
    /// Pending deliveries beyond which new events are refused (disk guard).
    pub max_pending: u64,
    /// How long a claimed delivery stays invisible to other workers.
    pub lease_ms: u64,
    /// Idle workers look for due deliveries this often (scheduled batches, retries).
    pub poll_interval_ms: u64,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::from(".runtime/outbox.sqlite"),
            synchronous: Synchronous::Full,
            queue_capacity: 4096,
            max_group_commit: 256,
            max_pending: 5_000_000,
            lease_ms: 60_000,
            poll_interval_ms: 250,
        }
    }
}

/// SQLite `synchronous` pragma for the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Synchronous {
    Full,
    Normal,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrivacyConfig {
    /// Detectors and mask style (`[connect.privacy.masking]`).
    pub masking: PiiConfig,
    /// Keep the unmasked transcript in outbox events. Off: only masked text
    /// is ever persisted or sent.
    pub persist_unmasked: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryConfig {
    /// First backoff after a failure.
    pub initial_backoff_ms: u64,
    /// Backoff cap (full jitter below it).
    pub max_backoff_ms: u64,
    /// A delivery still failing after this long goes to the dead-letter
    /// table (0: retry forever).
    pub max_age_s: u64,
    /// Longest `Retry-After` honoured; longer values are capped to this.
    pub max_retry_after_s: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            initial_backoff_ms: 200,
            max_backoff_ms: 60_000,
            max_age_s: 3 * 24 * 3600,
            max_retry_after_s: 900,
        }
    }
}

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
    kafka: Option<super::sinks::kafka::KafkaConfig>,
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
    Kafka(super::sinks::kafka::KafkaConfig),
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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Endpoint. `{tenant}` and `{call_id}` are filled from the event; a
    /// call's `callsense.callback_url` metadata (if allowed below) replaces it.
    pub url: String,
    /// Signing secrets, `whsec_<base64>` (Standard Webhooks). Every secret
    /// signs each message, so a receiver can rotate keys without a gap.
    pub secrets: Vec<Secret>,
    /// URL prefixes a per-call callback URL may start with. Empty: per-call
    /// URLs are ignored.
    #[serde(default)]
    pub allowed_callback_prefixes: Vec<String>,
    /// Extra request headers (e.g. an API key).
    #[serde(default)]
    pub headers: BTreeMap<String, Secret>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SalesforceConfig {
    /// OAuth token host, e.g. `https://login.salesforce.com` or your My Domain.
    pub login_url: String,
    /// REST API version, e.g. `v61.0`.
    #[serde(default = "default_api_version")]
    pub api_version: String,
    /// Connected app consumer key (client credentials flow).
    pub client_id: Secret,
    /// Connected app consumer secret.
    pub client_secret: Secret,
}

fn default_api_version() -> String {
    "v61.0".into()
}

impl ConnectConfig {
    /// Whether the engine records events at all (a sink or a broker is configured).
    pub fn enabled(&self) -> bool {
        !self.sinks.is_empty() || self.broker.is_some()
    }

    /// Checks limits and cross-references.
    ///
    /// # Errors
    /// A message naming the key (and sink) at fault.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(b) = &self.broker {
            b.validate()?;
        }
        self.context.validate()?;
        let o = &self.outbox;
        if o.queue_capacity == 0 || o.max_group_commit == 0 || o.max_pending == 0 {
            return Err(
                "connect.outbox.queue_capacity, max_group_commit and max_pending must be ≥ 1"
                    .into(),
            );
        }
        if o.lease_ms < 1000 || o.poll_interval_ms == 0 || o.poll_interval_ms > 60_000 {
            return Err(
                "connect.outbox.lease_ms must be ≥ 1000 and poll_interval_ms in [1, 60000]".into(),
            );
        }
        let r = &self.retry;
        if r.initial_backoff_ms == 0 || r.max_backoff_ms < r.initial_backoff_ms {
            return Err("connect.retry.initial_backoff_ms must be ≥ 1 and ≤ max_backoff_ms".into());
        }
        if self.sinks.len() > MAX_SINKS {
            return Err(format!("connect.sinks: at most {MAX_SINKS} sinks"));
        }
        let mut names = std::collections::HashSet::new();
        for s in &self.sinks {
            let bad = |m: String| Err(format!("connect.sinks \"{}\": {m}", s.name));
            if s.name.is_empty()
                || s.name.len() > 64
                || !s
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(format!(
                    "connect.sinks: name {:?} must be 1–64 characters of [A-Za-z0-9_-]",
                    s.name
                ));
            }
            if !names.insert(s.name.as_str()) {
                return bad("the name is used twice".into());
            }
            if s.workers == 0 || s.workers > 64 {
                return bad("workers must be in [1, 64]".into());
            }
            if s.max_batch == 0 || s.max_batch > MAX_SINK_BATCH {
                return bad(format!("max_batch must be in [1, {MAX_SINK_BATCH}]"));
            }
            if s.timeout_ms < 100 || s.batch_interval_s == 0 {
                return bad("timeout_ms must be ≥ 100 and batch_interval_s ≥ 1".into());
            }
            if s.records.is_empty() {
                return bad("no [records.<event kind>] table: nothing would be sent".into());
            }
            for (kind, m) in &s.records {
                m.validate(matches!(s.kind, SinkKind::Salesforce(_)))
                    .or_else(|e| bad(format!("records.{}: {e}", kind.as_str())))?;
            }
            match &s.kind {
                SinkKind::Webhook(w) => {
                    // `{tenant}` and `{call_id}` are filled in later; braces
                    // are valid in a URL's path.
                    crate::config::check_http_url(&w.url)
                        .or_else(|e| bad(format!("url must be an http(s) URL: {e}")))?;
                    if w.secrets.is_empty() {
                        return bad(
                            "secrets: at least one whsec_ signing secret is required".into()
                        );
                    }
                }
                SinkKind::Kafka(k) => k.validate().or_else(&bad)?,
                SinkKind::Salesforce(sf) => {
                    if !sf.api_version.starts_with('v')
                        || sf.api_version[1..].parse::<f32>().is_err()
                    {
                        return bad(format!(
                            "api_version {:?} must look like v61.0",
                            sf.api_version
                        ));
                    }
                    crate::config::check_http_url(&sf.login_url)
                        .or_else(|e| bad(format!("login_url must be an http(s) URL: {e}")))?;
                }
            }
        }
        Ok(())
    }
}
