//! `callsense serve`: the engine as a gRPC server.

use std::path::PathBuf;

use anyhow::Context;

use crate::config::Config;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// TOML config (see config/callsense.example.toml). Env: CALLSENSE__SECTION__KEY overrides.
    #[arg(long, short, env = "CALLSENSE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Listen address (overrides server.listen).
    #[arg(long)]
    pub listen: Option<String>,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let mut config = Config::load(args.config.as_deref())?;
    if let Some(l) = args.listen {
        config.server.listen = l;
    }
    let listener = tokio::net::TcpListener::bind(&config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    tracing::info!(addr = %listener.local_addr()?, tls = config.server.tls_cert.is_some(), "Listening; loading models");
    crate::server::serve(config, listener, shutdown_signal(), |_| {}).await?;
    tracing::info!("Stopped");
    Ok(())
}

/// Ctrl-C or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
