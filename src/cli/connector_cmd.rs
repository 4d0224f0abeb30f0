//! `callsense connector`: relays events from NATS JetStream to the CRM
//! sinks. Run as many as the load needs; they share one durable consumer.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use crate::config::Config;
use crate::connect::{broker, Connector, Mode};

#[derive(Debug, clap::Args)]
pub struct ConnectorArgs {
    /// TOML config with [connect.broker] and [[connect.sinks]] (the engine's file works).
    #[arg(long, short, env = "CALLSENSE_CONFIG")]
    pub config: Option<PathBuf>,
}

pub async fn run(args: ConnectorArgs) -> anyhow::Result<()> {
    let config = Config::load(args.config.as_deref())?;
    let broker_cfg = config.connect.broker.clone().context(
        "callsense connector needs a [connect.broker] section (the NATS JetStream to read from)",
    )?;
    let connector = Connector::start_for_tenants(
        &config.connect,
        Mode::Relay,
        &crate::telemetry::Telemetry::default(),
        crate::connect::TenantSinks::from_config(&config.tenants),
    )
    .await?
    .context("no sinks configured")?;
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let mut relay = tokio::spawn({
        let connector = std::sync::Arc::clone(&connector);
        async move { broker::relay(&broker_cfg, connector, stop_rx).await }
    });
    tokio::select! {
        () = super::serve::shutdown_signal() => {}
        r = &mut relay => {
            r??;
            anyhow::bail!("relay stopped unexpectedly");
        }
    }
    tracing::info!(
        "Stopping: finishing the current batches; undelivered events stay in the outbox"
    );
    let _ = stop.send(true);
    connector.shutdown(Duration::from_secs(10)).await;
    Ok(())
}
