//! The `callsense` binary.

use clap::{Parser, Subcommand};

use callsense::cli;

/// Real-time speech sentiment and intent engine for call centres.
#[derive(Debug, Parser)]
#[command(name = "callsense", version, about)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
    /// Log filter (RUST_LOG syntax).
    #[arg(
        long,
        global = true,
        env = "CALLSENSE_LOG",
        default_value = "info,ort=warn,whisper_rs=warn"
    )]
    log: String,
    /// Log as JSON lines.
    #[arg(long, global = true)]
    log_json: bool,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run the gRPC server.
    Serve(cli::serve::ServeArgs),
    /// Stream an audio file (or the microphone) to a server as a live call.
    Stream(cli::stream::StreamArgs),
    /// Classify JSONL texts offline: sentiment and intent per line.
    AnalyzeText(cli::analyze::AnalyzeArgs),
    /// Fetch and verify model files.
    Models(cli::models_cmd::ModelsArgs),
    /// Load generator: N concurrent real-time calls, latency percentiles.
    Loadgen(cli::loadgen::LoadgenArgs),
    /// Relay events from NATS JetStream to the CRM sinks (scale out by running more).
    Connector(cli::connector_cmd::ConnectorArgs),
    /// The CRM outbox: pending and dead-lettered deliveries, re-enabling sinks.
    Outbox(cli::outbox_cmd::OutboxArgs),
    /// Accuracy, macro-F1 and confusion matrices of a model on labelled data.
    Eval(cli::eval::EvalArgs),
    /// API keys: make one for a tenant, list those in force.
    Keys(cli::keys_cmd::KeysArgs),
}

fn main() -> std::process::ExitCode {
    let args = Cli::parse();
    let filter =
        tracing_subscriber::EnvFilter::try_new(&args.log).unwrap_or_else(|_| "info".into());
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    if args.log_json {
        builder.json().init();
    } else {
        builder.init();
    }
    let result = match args.cmd {
        Cmd::AnalyzeText(a) => cli::analyze::run(a),
        Cmd::Eval(a) => cli::eval::run(a),
        Cmd::Keys(a) => cli::keys_cmd::run(a),
        cmd => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(Into::into)
            .and_then(|rt| {
                rt.block_on(async move {
                    match cmd {
                        Cmd::Serve(a) => cli::serve::run(a).await,
                        Cmd::Stream(a) => cli::stream::run(a).await,
                        Cmd::Models(a) => cli::models_cmd::run(a).await,
                        Cmd::Loadgen(a) => cli::loadgen::run(a).await,
                        Cmd::Outbox(a) => cli::outbox_cmd::run(a).await,
                        Cmd::Connector(a) => cli::connector_cmd::run(a).await,
                        Cmd::AnalyzeText(_) | Cmd::Eval(_) | Cmd::Keys(_) => {
                            unreachable!("handled above")
                        }
                    }
                })
            }),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
