//! `callsense outbox`: what is waiting for each CRM, what was refused, and
//! re-enabling a sink. Reads the outbox file the config names; safe while
//! the engine runs (SQLite WAL).

use std::path::PathBuf;

use anyhow::Context;

use crate::config::Config;
use crate::connect::mapping::rfc3339_utc;
use crate::connect::outbox::{OpenOptions, Outbox};

#[derive(Debug, clap::Args)]
pub struct OutboxArgs {
    #[command(subcommand)]
    pub cmd: OutboxCmd,
    /// TOML config naming the outbox (`connect.outbox.path`).
    #[arg(long, short, global = true, env = "CALLSENSE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
    /// Only this tenant's deliveries (counts, dead letters, and what
    /// `enable --requeue-dead` queues again).
    #[arg(long, global = true)]
    pub tenant: Option<String>,
}

#[derive(Debug, clap::Subcommand)]
pub enum OutboxCmd {
    /// Pending and dead-lettered deliveries per sink, and disabled sinks.
    Status,
    /// The newest dead letters with their reasons.
    Dead {
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Re-enable a sink disabled by its endpoint (HTTP 410); optionally
    /// queue its dead letters again.
    Enable {
        sink: String,
        #[arg(long)]
        requeue_dead: bool,
    },
}

pub async fn run(args: OutboxArgs) -> anyhow::Result<()> {
    let config = Config::load(args.config.as_deref())?;
    let path = &config.connect.outbox.path;
    anyhow::ensure!(
        path.is_file(),
        "no outbox at {} (connect.outbox.path); has the engine run with a sink configured?",
        path.display()
    );
    let outbox = Outbox::open_with(&config.connect.outbox, &[], OpenOptions::operator())
        .with_context(|| format!("opening {}", path.display()))?;
    let tenant = args.tenant.as_deref();
    let action = match &args.cmd {
        OutboxCmd::Status => "outbox.status".to_string(),
        OutboxCmd::Dead { .. } => "outbox.dead".to_string(),
        OutboxCmd::Enable { sink, requeue_dead } => {
            format!(
                "outbox.enable{}",
                if *requeue_dead { "+requeue" } else { "" }
            ) + &format!(":{sink}")
        }
    };
    let result = run_cmd(&args, &config, &outbox, tenant).await;
    if let Some(log) = &config.auth.audit_log {
        let entry =
            crate::auth::Entry::new("cli", action, if result.is_ok() { "ok" } else { "failed" })
                .actor(crate::auth::audit::operator())
                .tenant(tenant.unwrap_or("*"));
        if let Err(e) = crate::auth::audit::append_now(log, &entry) {
            eprintln!("warning: the audit log was not written: {e}");
        }
    }
    result
}

async fn run_cmd(
    args: &OutboxArgs,
    config: &Config,
    outbox: &Outbox,
    tenant: Option<&str>,
) -> anyhow::Result<()> {
    match &args.cmd {
        OutboxCmd::Status => {
            let counts = outbox.counts(tenant).await?;
            let mut names: Vec<_> = config
                .connect
                .sinks
                .iter()
                .map(|s| s.name.clone())
                .collect();
            for k in counts.keys() {
                if !names.contains(k) {
                    names.push(k.clone());
                }
            }
            if args.json {
                println!("{}", serde_json::to_string_pretty(&counts)?);
                return Ok(());
            }
            println!("{:<24} {:>10} {:>8}  state", "sink", "pending", "dead");
            for n in names {
                let c = counts.get(&n).cloned().unwrap_or_default();
                let state = match &c.disabled {
                    Some(r) => format!("DISABLED: {r}"),
                    None => "active".into(),
                };
                println!("{n:<24} {:>10} {:>8}  {state}", c.pending, c.dead);
            }
        }
        OutboxCmd::Dead { limit } => {
            let dead = outbox.dead_letters(*limit, tenant).await?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&dead)?);
                return Ok(());
            }
            if dead.is_empty() {
                println!("no dead letters");
            }
            for d in dead {
                println!(
                    "{}  {:<16} {} ({}, {} attempts)\n    {}",
                    rfc3339_utc(d.failed_ms),
                    d.sink,
                    d.event_key,
                    d.part,
                    d.attempts,
                    d.reason
                );
            }
        }
        OutboxCmd::Enable { sink, requeue_dead } => {
            let n = outbox.enable(sink, *requeue_dead, tenant).await?;
            println!(
                "sink {sink} enabled; {n} dead letters{} queued again",
                tenant
                    .map(|t| format!(" of tenant {t}"))
                    .unwrap_or_default()
            );
        }
    }
    Ok(())
}
