//! The CRM connector: from final results to CRM records, durably.
//!
//! The stage after [`crate::pipeline`]: every final utterance and call
//! summary becomes an [`event::Event`] (PII masked by [`crate::pii`]), is written to
//! the durable [`outbox`] before the engine acknowledges it to the client,
//! and is delivered by one worker per configured [`sinks`] entry (Salesforce
//! REST, Standard Webhooks) with retries, backoff and a dead-letter table.
//! With several engine nodes, the engine publishes events to NATS JetStream
//! instead ([`broker`]) and `callsense connector` processes relay them into
//! their outboxes and deliver them. Field [`mapping`] turns an event into the record each
//! CRM expects, from templates in config.

pub mod broker;
pub mod config;
pub mod connector;
pub mod customer;
pub mod event;
pub mod mapping;
pub mod metrics;
pub mod outbox;
pub mod retry;
pub mod salesforce;
pub mod sinks;
pub mod worker;

pub use config::ConnectConfig;
pub use connector::{ConnectError, Connector, Mode, RecordError};
pub use event::{CallIdentity, Event, EventKind};
