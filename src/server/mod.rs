//! The gRPC server: `callsense.v1.CallSense`, `grpc.health.v1` and server
//! reflection, with optional TLS.
//!
//! Owns: binding, serving while models load (health NOT_SERVING until they
//! are), graceful shutdown with a grace period. `serve` takes the shutdown
//! signal as a future so tests can drive it.

mod auth;
mod service;
mod validate;

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::{Identity, Server, ServerTlsConfig};
use tonic_health::ServingStatus;

use crate::config::Config;
use crate::ingress::{Ingress, IngressListeners};
use crate::pipeline::{Engine, EngineError};
use crate::proto::call_sense_server::CallSenseServer;
use crate::telemetry::{Telemetry, TelemetryError};
pub use service::{CallSenseService, EngineSlot};
/// The checks of what a gRPC client sends (public for the fuzz targets).
pub use validate::{inbound as validate_inbound, validate_config};

/// Time the CRM connector's workers get to finish their current batch on
/// shutdown (undelivered events stay in the outbox).
const CONNECTOR_GRACE: Duration = Duration::from_secs(5);

/// Time call tasks get to end once their streams have closed.
const CALL_EXIT: Duration = Duration::from_secs(1);

/// Health service name of the engine.
pub const SERVICE_NAME: &str = "callsense.v1.CallSense";

/// Why the server stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("models failed to load: {0}")]
    Engine(#[from] EngineError),
    #[error("cannot read TLS file {path}: {source}")]
    Tls {
        path: String,
        source: std::io::Error,
    },
    #[error("gRPC transport: {0}")]
    Transport(#[from] tonic::transport::Error),
    #[error(transparent)]
    Metrics(#[from] TelemetryError),
    #[error("server reflection: {0}")]
    Reflection(String),
    #[error("{0}")]
    Ingress(String),
    #[error("{0}")]
    Auth(String),
}

/// Serves gRPC on `listener`, and the telephony listeners `config.ingress`
/// enables on the addresses it names, until `shutdown` resolves. Models load
/// in the background; health reports SERVING (overall and for
/// `callsense.v1.CallSense`) once they have. `on_ready` receives the engine
/// when it is loaded.
///
/// # Errors
/// Model loading failed, TLS files unreadable, a listener could not be
/// bound, or the transport failed.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    on_ready: impl FnOnce(Arc<Engine>) + Send + 'static,
) -> Result<(), ServerError> {
    let mut ingress = IngressListeners::bind(&config.ingress)
        .await
        .map_err(ServerError::Ingress)?;
    if let Some(addr) = &config.ui.listen {
        ingress.board = Some(
            TcpListener::bind(addr)
                .await
                .map_err(|e| ServerError::Ingress(format!("ui.listen {addr}: {e}")))?,
        );
    }
    serve_with(config, listener, ingress, shutdown, on_ready).await
}

/// [`serve`] with the telephony listeners' sockets already bound.
///
/// # Errors
/// As [`serve`].
pub async fn serve_with(
    config: Config,
    listener: TcpListener,
    ingress: IngressListeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
    on_ready: impl FnOnce(Arc<Engine>) + Send + 'static,
) -> Result<(), ServerError> {
    let config = Arc::new(config);
    let (health, health_svc) = tonic_health::server::health_reporter();
    health
        .set_service_status("", ServingStatus::NotServing)
        .await;
    health
        .set_service_status(SERVICE_NAME, ServingStatus::NotServing)
        .await;

    let (telemetry, metrics_task) = match &config.server.metrics_listen {
        Some(addr) => {
            let (telemetry, exporter) = Telemetry::serve(addr)?;
            tracing::info!(addr = %addr, "Metrics at /metrics");
            let task = tokio::spawn(async move {
                if let Err(e) = exporter.await {
                    tracing::error!(error = ?e, "Metrics listener stopped");
                }
            });
            (telemetry, Some(task))
        }
        None => (Telemetry::default(), None),
    };
    let auth = crate::auth::Auth::new(&config, &telemetry).map_err(ServerError::Auth)?;
    let _stop_key_watch = AbortHandleOnDrop(auth.watch_keys());
    if !auth.required() {
        tracing::warn!("auth.mode = \"optional\": clients without credentials are let in and name their own tenant; set auth.mode = \"required\" in production");
    }
    let interceptor = auth::Authenticate {
        auth: Arc::clone(&auth),
    };

    let slot: EngineSlot = Arc::new(OnceLock::new());
    let svc = CallSenseServer::new(CallSenseService::new(
        Arc::clone(&slot),
        Arc::clone(&config),
    ))
    .max_decoding_message_size(config.server.max_message_bytes)
    .max_encoding_message_size(config.server.max_message_bytes);
    let svc = tonic::service::interceptor::InterceptedService::new(svc, interceptor.clone());

    let mut builder = Server::builder().http2_keepalive_interval(Some(Duration::from_secs(30)));
    if let (Some(cert), Some(key)) = (&config.server.tls_cert, &config.server.tls_key) {
        let read = |p: &std::path::PathBuf| {
            std::fs::read(p).map_err(|source| ServerError::Tls {
                path: p.display().to_string(),
                source,
            })
        };
        let mut tls = ServerTlsConfig::new().identity(Identity::from_pem(read(cert)?, read(key)?));
        if let Some(m) = auth.mtls() {
            let ca = crate::auth::cert::read_ca(m).map_err(ServerError::Auth)?;
            tls = tls
                .client_ca_root(tonic::transport::Certificate::from_pem(ca))
                .client_auth_optional(!m.required);
        }
        builder = builder.tls_config(tls)?;
    }

    let board_tls = match (&config.ui.tls_cert, &config.ui.tls_key) {
        (Some(cert), Some(key)) => Some(
            crate::ingress::tls::acceptor("ui", cert, key, None).map_err(ServerError::Ingress)?,
        ),
        _ => None,
    };

    let _abort_metrics = AbortOnDrop(metrics_task);
    let mut ingress = ingress;
    let board_listener = ingress.board.take();
    let board_stop = tokio_util::sync::CancellationToken::new();
    let _stop_board = board_stop.clone().drop_guard();
    let ingress = Ingress::start(&config.ingress, ingress, &slot, &telemetry, &auth)
        .map_err(ServerError::Ingress)?;

    // Load models off the runtime; a failure ends the server with the error.
    let (load_err_tx, load_err_rx) = tokio::sync::oneshot::channel::<ServerError>();
    let (loader_cfg, loader_slot, loader_health, loader_auth) = (
        (*config).clone(),
        Arc::clone(&slot),
        health.clone(),
        Arc::clone(&auth),
    );
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        match Engine::load(loader_cfg, telemetry, loader_auth).await {
            Ok(engine) => {
                let _ = loader_slot.set(Arc::clone(&engine));
                loader_health
                    .set_service_status("", ServingStatus::Serving)
                    .await;
                loader_health
                    .set_service_status(SERVICE_NAME, ServingStatus::Serving)
                    .await;
                tracing::info!(
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "Models loaded; serving"
                );
                if let (Some(board), Some(listener)) = (engine.board.clone(), board_listener) {
                    let auth = Arc::clone(&engine.auth);
                    if let Ok(addr) = listener.local_addr() {
                        let scheme = if board_tls.is_some() { "https" } else { "http" };
                        tracing::info!(%addr, "Supervisor board at {scheme}://{addr}/");
                    }
                    tokio::spawn(async move {
                        if let Err(e) =
                            crate::board::serve(board, auth, listener, board_tls, board_stop).await
                        {
                            tracing::error!(error = %e, "Supervisor board stopped");
                        }
                    });
                }
                on_ready(engine);
            }
            Err(e) => {
                let _ = load_err_tx.send(ServerError::Engine(e));
            }
        }
    });

    let reflection = match auth.reflection() {
        crate::auth::Exposure::Off => None,
        _ => Some(
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(crate::proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
                .build_v1()
                .map_err(|e| ServerError::Reflection(e.to_string()))?,
        ),
    };
    let (open_reflection, reflection) = match auth.reflection() {
        crate::auth::Exposure::Open => (reflection, None),
        _ => (
            None,
            reflection
                .map(|r| tonic::service::interceptor::InterceptedService::new(r, interceptor)),
        ),
    };
    let grace = Duration::from_secs(config.server.shutdown_grace_seconds);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let health_on_stop = health.clone();
    let server = builder
        .add_service(health_svc)
        .add_optional_service(open_reflection)
        .add_optional_service(reflection)
        .add_service(svc)
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), async move {
            let _ = stop_rx.await;
        });
    let mut server = Box::pin(server);
    tokio::pin!(shutdown);
    tokio::pin!(load_err_rx);
    tokio::select! {
        r = &mut server => return r.map_err(Into::into),
        () = &mut shutdown => {}
        Ok(e) = &mut load_err_rx => return Err(e),
    }
    shut_down(
        server,
        stop_tx,
        &health_on_stop,
        &ingress,
        slot.get().cloned(),
        grace,
    )
    .await
}

/// Shutdown, in this order: stop accepting (health NOT_SERVING, no new
/// gRPC or telephony connections, new calls on open connections
/// UNAVAILABLE); drain calls (open streams finish within `grace`; past it
/// gRPC connections close and telephony sessions end their calls' audio);
/// flush the CRM connector (undelivered events stay in the outbox); then the
/// worker pools stop as the engine is dropped.
async fn shut_down(
    server: impl Future<Output = Result<(), tonic::transport::Error>>,
    stop_accepting: tokio::sync::oneshot::Sender<()>,
    health: &tonic_health::server::HealthReporter,
    ingress: &Ingress,
    engine: Option<Arc<Engine>>,
    grace: Duration,
) -> Result<(), ServerError> {
    tracing::info!(
        grace_s = grace.as_secs(),
        "Shutting down: refusing new calls, letting calls finish"
    );
    let deadline = tokio::time::Instant::now() + grace;
    health
        .set_service_status("", ServingStatus::NotServing)
        .await;
    health
        .set_service_status(SERVICE_NAME, ServingStatus::NotServing)
        .await;
    if let Some(e) = &engine {
        e.stop_admitting();
    }
    ingress.stop_accepting();
    let _ = stop_accepting.send(());
    let result = match tokio::time::timeout_at(deadline, server).await {
        Ok(r) => r.map_err(Into::into),
        Err(_) => {
            tracing::warn!("Grace period over; closing remaining calls");
            Ok(())
        }
    };
    ingress
        .drain(deadline.saturating_duration_since(tokio::time::Instant::now()))
        .await;
    ingress.close(CALL_EXIT).await;
    let Some(engine) = engine else {
        return result;
    };
    // Call tasks whose stream closed end at their next step.
    let left = engine
        .drain_calls(
            deadline
                .saturating_duration_since(tokio::time::Instant::now())
                .max(CALL_EXIT),
        )
        .await;
    if left > 0 {
        tracing::warn!(calls = left, "Calls still running after the grace period");
    }
    if let Some(c) = &engine.connector {
        c.shutdown(CONNECTOR_GRACE).await;
    }
    result
}

/// Aborts a task when dropped.
struct AbortHandleOnDrop(tokio::task::AbortHandle);

impl Drop for AbortHandleOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Stops a background task when the server returns.
struct AbortOnDrop(Option<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(t) = &self.0 {
            t.abort();
        }
    }
}
