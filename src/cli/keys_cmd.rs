//! `callsense keys`: make API keys and list the keys in force.
//!
//! `new` prints a fresh key once (it is stored nowhere) and the `[[key]]`
//! entry to add to `auth.keys_file`, which the engine re-reads without a
//! restart. `list` shows the configured keys (ids, tenants, scopes, state;
//! never hashes), optionally for one tenant. Both are audited when
//! `auth.audit_log` is set.

use std::path::PathBuf;

use crate::auth::config::{KeysFile, Scope};
use crate::auth::keys::new_key;
use crate::config::Config;

#[derive(Debug, clap::Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    pub cmd: KeysCmd,
    /// TOML config (`[auth]`: keys, keys_file, audit_log).
    #[arg(long, short, global = true, env = "CALLSENSE_CONFIG")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
pub enum KeysCmd {
    /// A new random key for a tenant: the key (shown once) and its entry.
    New {
        /// The tenant the key stands for ("*": any tenant the client names).
        #[arg(long)]
        tenant: String,
        /// Its id in logs and the audit log (default: <tenant>-<date>).
        #[arg(long)]
        id: Option<String>,
        /// What it may do: calls, board, metrics.
        #[arg(long, value_delimiter = ',', default_value = "calls")]
        scopes: Vec<String>,
    },
    /// The keys in force (config and keys file): id, tenant, scopes, state.
    List {
        /// Only this tenant's keys.
        #[arg(long)]
        tenant: Option<String>,
    },
}

pub fn run(args: KeysArgs) -> anyhow::Result<()> {
    let config = Config::load(args.config.as_deref())?;
    let (action, tenant) = match &args.cmd {
        KeysCmd::New { tenant, .. } => ("keys.new", tenant.clone()),
        KeysCmd::List { tenant } => ("keys.list", tenant.clone().unwrap_or_else(|| "*".into())),
    };
    let result = match args.cmd {
        KeysCmd::New { tenant, id, scopes } => new(&tenant, id, &scopes),
        KeysCmd::List { tenant } => list(&config, tenant.as_deref()),
    };
    if let Some(log) = &config.auth.audit_log {
        let entry =
            crate::auth::Entry::new("cli", action, if result.is_ok() { "ok" } else { "failed" })
                .actor(crate::auth::audit::operator())
                .tenant(tenant);
        if let Err(e) = crate::auth::audit::append_now(log, &entry) {
            eprintln!("warning: the audit log was not written: {e}");
        }
    }
    result
}

fn new(tenant: &str, id: Option<String>, scopes: &[String]) -> anyhow::Result<()> {
    anyhow::ensure!(
        !tenant.is_empty() && tenant.len() <= crate::auth::config::MAX_TENANT_LEN,
        "--tenant must be 1–{} bytes",
        crate::auth::config::MAX_TENANT_LEN
    );
    let scopes: Vec<Scope> = scopes
        .iter()
        .map(|s| {
            serde_json::from_value(serde_json::Value::from(s.trim()))
                .map_err(|_| anyhow::anyhow!("--scopes: {s:?} is not calls, board or metrics"))
        })
        .collect::<anyhow::Result<_>>()?;
    let id = id.unwrap_or_else(|| {
        format!(
            "{}-{}",
            if tenant == "*" { "platform" } else { tenant },
            chrono::Utc::now().format("%Y%m%d-%H%M%S")
        )
    });
    let (key, hash) = new_key();
    let scopes_toml: Vec<String> = scopes.iter().map(|s| format!("{:?}", s.as_str())).collect();
    eprintln!("The key (shown once; give it to the client, store it nowhere else):");
    println!("{key}");
    eprintln!("\nAdd this entry to auth.keys_file (the engine reloads it without a restart):\n");
    eprintln!(
        "[[key]]\nid = {id:?}\ntenant = {tenant:?}\nsha256 = \"{hash}\"\nscopes = [{}]",
        scopes_toml.join(", ")
    );
    Ok(())
}

fn list(config: &Config, tenant: Option<&str>) -> anyhow::Result<()> {
    let mut keys = config.auth.keys.clone();
    if let Some(p) = &config.auth.keys_file {
        let text = std::fs::read_to_string(p)
            .map_err(|e| anyhow::anyhow!("auth.keys_file {}: {e}", p.display()))?;
        let file: KeysFile = toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("auth.keys_file {}: {e}", p.display()))?;
        keys.extend(file.keys);
    }
    println!("{:<32} {:<20} {:<22} state", "id", "tenant", "scopes");
    for k in keys.iter().filter(|k| tenant.is_none_or(|t| k.tenant == t)) {
        let scopes: Vec<&str> = k.scopes.iter().map(|s| s.as_str()).collect();
        let state = if k.revoked {
            "revoked".to_string()
        } else {
            match &k.expires {
                Some(t) => format!("expires {t}"),
                None => "active".into(),
            }
        };
        println!(
            "{:<32} {:<20} {:<22} {state}",
            k.id,
            k.tenant,
            scopes.join(",")
        );
    }
    Ok(())
}
