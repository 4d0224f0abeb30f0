//! Kafka sink (rskafka, pure Rust): events for platforms that buffer CRM
//! sync through Kafka, as large deployments do.
//!
//! Owns: producing each delivery's mapped record to one topic, keyed by the
//! delivery's idempotency key (also in the `callsense-key` header), with
//! every event of a call on the same partition so a consumer sees a call's
//! events in order. The value is the same envelope the webhook sink sends
//! (`{"type", "timestamp", "data"}`). A produce that fails is retried by the
//! worker like any transient failure; a consumer de-duplicates redeliveries
//! by key (or the topic is compacted). The topic is created on first use
//! when `create_topic` is set.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::time::Duration;

use rskafka::client::partition::{Compression, PartitionClient, UnknownTopicHandling};
use rskafka::client::{Client, ClientBuilder};
use rskafka::record::Record;
use serde::Deserialize;
use tokio::sync::Mutex;

use super::SinkConfig;
use crate::connect::event::EventKind;
use crate::connect::mapping::{envelope, RecordMapping};
use crate::connect::outbox::Delivery;
use crate::connect::retry::Outcome;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConfig {
    /// Bootstrap brokers, `host:port`.
    pub brokers: Vec<String>,
    /// Topic the events go to.
    pub topic: String,
    /// Create the topic if it does not exist.
    #[serde(default = "yes")]
    pub create_topic: bool,
    /// Partitions of a created topic.
    #[serde(default = "default_partitions")]
    pub partitions: i32,
    /// Replication factor of a created topic.
    #[serde(default = "default_replication")]
    pub replication_factor: i16,
}

fn yes() -> bool {
    true
}
fn default_partitions() -> i32 {
    3
}
fn default_replication() -> i16 {
    1
}

impl KafkaConfig {
    /// # Errors
    /// A message naming the key at fault.
    pub fn validate(&self) -> Result<(), String> {
        if self.brokers.is_empty() {
            return Err("kafka.brokers: at least one host:port".into());
        }
        if self.topic.is_empty()
            || self.topic.len() > 249
            || !self
                .topic
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            return Err("kafka.topic must be 1–249 characters of [A-Za-z0-9._-]".into());
        }
        if !(1..=1000).contains(&self.partitions) || self.replication_factor < 1 {
            return Err("kafka.partitions must be in [1, 1000] and replication_factor ≥ 1".into());
        }
        Ok(())
    }
}

struct Connected {
    _client: Client,
    partitions: Vec<PartitionClient>,
}

pub struct KafkaSink {
    config: KafkaConfig,
    records: BTreeMap<EventKind, RecordMapping>,
    timeout: Duration,
    conn: Mutex<Option<Connected>>,
}

impl KafkaSink {
    pub(super) fn new(sink: &SinkConfig, c: &KafkaConfig) -> Result<Self, String> {
        c.validate()?;
        Ok(Self {
            config: c.clone(),
            records: sink.records.clone(),
            timeout: Duration::from_millis(sink.timeout_ms),
            conn: Mutex::new(None),
        })
    }

    async fn connect(&self) -> Result<Connected, String> {
        let backoff = rskafka::BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            base: 2.0,
            deadline: Some(self.timeout),
        };
        let client = ClientBuilder::new(self.config.brokers.clone())
            .client_id("callsense")
            .backoff_config(backoff)
            .build()
            .await
            .map_err(|e| format!("connecting to {:?}: {e}", self.config.brokers))?;
        let topic = &self.config.topic;
        let mut found = client
            .list_topics()
            .await
            .map_err(|e| format!("listing topics: {e}"))?;
        if !found.iter().any(|t| &t.name == topic) && self.config.create_topic {
            let controller = client.controller_client().map_err(|e| e.to_string())?;
            if let Err(e) = controller
                .create_topic(
                    topic.clone(),
                    self.config.partitions,
                    self.config.replication_factor,
                    5000,
                )
                .await
            {
                tracing::info!(topic = %topic, error = %e, "Topic not created (it may exist already)");
            }
            found = client
                .list_topics()
                .await
                .map_err(|e| format!("listing topics: {e}"))?;
        }
        let Some(t) = found.into_iter().find(|t| &t.name == topic) else {
            return Err(format!(
                "topic {topic} does not exist (kafka.create_topic = false?)"
            ));
        };
        let mut partitions = Vec::new();
        for p in t.partitions {
            partitions.push(
                client
                    .partition_client(topic.clone(), p, UnknownTopicHandling::Retry)
                    .await
                    .map_err(|e| format!("partition {p}: {e}"))?,
            );
        }
        if partitions.is_empty() {
            return Err(format!("topic {topic} has no partitions"));
        }
        Ok(Connected {
            _client: client,
            partitions,
        })
    }

    pub(super) async fn deliver(&self, batch: &[Delivery]) -> Vec<Outcome> {
        let mut outcomes: Vec<Option<Outcome>> = vec![None; batch.len()];
        let mut guard = self.conn.lock().await;
        if guard.is_none() {
            match self.connect().await {
                Ok(c) => *guard = Some(c),
                Err(e) => return vec![Outcome::retry(e); batch.len()],
            }
        }
        let Some(conn) = guard.as_ref() else {
            return vec![Outcome::retry("not connected"); batch.len()];
        };
        let n = conn.partitions.len();
        let mut per_partition: Vec<Vec<(usize, Record)>> = (0..n).map(|_| Vec::new()).collect();
        for (i, d) in batch.iter().enumerate() {
            let Some(m) = self.records.get(&d.event.kind) else {
                outcomes[i] = Some(Outcome::Reject {
                    reason: format!("no records.{} mapping at this sink", d.event.kind.as_str()),
                });
                continue;
            };
            let Some(record) = m.apply(&d.event, d.part) else {
                outcomes[i] = Some(Outcome::Delivered);
                continue;
            };
            let value = envelope(&d.event, record);
            let key = d.delivery_id();
            let mut headers = BTreeMap::new();
            headers.insert("callsense-key".to_string(), key.clone().into_bytes());
            headers.insert(
                "type".to_string(),
                d.event.kind.webhook_type().as_bytes().to_vec(),
            );
            let mut h = std::collections::hash_map::DefaultHasher::new();
            d.event.call.call_id.hash(&mut h);
            per_partition[(h.finish() % n as u64) as usize].push((
                i,
                Record {
                    key: Some(key.into_bytes()),
                    value: Some(value.into_bytes()),
                    headers,
                    timestamp: chrono::Utc::now(),
                },
            ));
        }
        let mut failed = false;
        for (p, items) in per_partition.into_iter().enumerate() {
            if items.is_empty() {
                continue;
            }
            let (idx, records): (Vec<usize>, Vec<Record>) = items.into_iter().unzip();
            let result = tokio::time::timeout(
                self.timeout,
                conn.partitions[p].produce(records, Compression::NoCompression),
            )
            .await;
            let o = match result {
                Ok(Ok(_)) => Outcome::Delivered,
                Ok(Err(e)) => {
                    failed = true;
                    Outcome::retry(format!(
                        "produce to {} partition {p}: {e}",
                        self.config.topic
                    ))
                }
                Err(_) => {
                    failed = true;
                    Outcome::retry(format!(
                        "produce to {} partition {p}: no answer within {:?}",
                        self.config.topic, self.timeout
                    ))
                }
            };
            for i in idx {
                outcomes[i] = Some(o.clone());
            }
        }
        if failed {
            *guard = None; // reconnect (and re-read the partitions) next time
        }
        outcomes
            .into_iter()
            .map(|o| o.unwrap_or_else(|| Outcome::retry("internal: no outcome")))
            .collect()
    }
}
