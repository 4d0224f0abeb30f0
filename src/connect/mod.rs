//! The CRM connector: from final results to CRM records, durably.
//!
//! The stage after [`crate::pipeline`]: every final utterance and call
//! summary becomes an [`Event`] (PII masked by [`crate::pii`]), is written to
//! the durable [`Outbox`] (`outbox.rs`) before the engine acknowledges it to
//! the client, and is delivered by one worker (`worker.rs`) per configured
//! [`Sink`] (`sinks/`: Salesforce REST, Standard Webhooks, Kafka) with
//! retries, backoff and a dead-letter table. With several engine nodes, the
//! engine publishes events to NATS JetStream instead (`broker.rs`) and
//! `callsense connector` processes [`relay`] them into their outboxes and
//! deliver them. Field mapping (`mapping.rs`) turns an event into the record
//! each CRM expects, from templates in config; `customer.rs` looks the
//! caller up when a call starts.

pub(crate) mod broker;
pub mod clock;
mod config;
mod connector;
pub(crate) mod customer;
pub(crate) mod event;
pub(crate) mod mapping;
mod metrics;
pub(crate) mod outbox;
pub(crate) mod retry;
pub(crate) mod salesforce;
pub(crate) mod sinks;
mod worker;

pub use broker::{relay, BrokerConfig, BrokerError, Publisher};
pub use config::{ConnectConfig, OutboxConfig, PrivacyConfig, RetryConfig, Synchronous};
pub use connector::{ConnectError, Connector, Mode, RecordError, TenantSinks};
pub use customer::{
    ContextConfig, CustomerContextService, HttpContextConfig, Lookup, Profile, ProfileField,
    ProfileFields, SalesforceContextConfig, View,
};
pub use event::{now_ms, CallIdentity, Event, EventKind};
pub use mapping::{FieldRule, FieldSpec, Part, RecordMapping, SyncMode};
pub use outbox::{DeadLetter, Delivery, NewDelivery, OpenOptions, Outbox, OutboxError, SinkCounts};
pub use retry::Outcome;
pub use salesforce::SalesforceConfig;
pub use sinks::{KafkaConfig, Sink, SinkConfig, SinkError, SinkKind, WebhookConfig};
