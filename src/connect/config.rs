//! The `[connect]` configuration tree: outbox, privacy, retry and sinks.
//!
//! Owns: the connector's settings with their defaults and their validation
//! (errors name the sink and the key). Secrets are redacted from `Debug`.

use std::path::PathBuf;

use serde::Deserialize;

use super::sinks::{SinkConfig, SinkKind};
use crate::pii::PiiConfig;

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
    pub rules: crate::rules::RulesConfig,
    /// The customer's CRM profile on call start.
    pub context: super::customer::ContextConfig,
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
    /// Largest the database file may grow, in bytes (SQLite's
    /// `max_page_count`); past it appends fail as on a full disk: the call
    /// goes on, the loss is counted and reported in `CallSummary`. 0: no cap.
    pub max_bytes: u64,
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
            max_bytes: 0,
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

impl ConnectConfig {
    /// Whether the engine records events at all (a sink or a broker is configured).
    pub fn enabled(&self) -> bool {
        !self.sinks.is_empty() || self.broker.is_some()
    }

    /// The furthest ahead the outbox ever schedules a delivery: the longest
    /// backoff, `Retry-After`, lease or batch window, plus a minute.
    pub fn schedule_horizon_ms(&self) -> u64 {
        let windows = self.sinks.iter().map(|s| s.batch_interval_s * 1000);
        [
            self.retry.max_backoff_ms,
            self.retry.max_retry_after_s * 1000,
            self.outbox.lease_ms,
        ]
        .into_iter()
        .chain(windows)
        .max()
        .unwrap_or(0)
            + 60_000
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
        if o.max_bytes != 0 && o.max_bytes < 64 * 1024 {
            return Err("connect.outbox.max_bytes must be 0 (no cap) or ≥ 65536".into());
        }
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
            s.kind.validate().or_else(&bad)?;
        }
        Ok(())
    }
}
