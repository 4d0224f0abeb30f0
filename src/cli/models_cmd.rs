//! `callsense models`: list, fetch and verify model files from the manifest.

use std::path::PathBuf;

use crate::models::{assets_dir, Manifest, Status};

#[derive(Debug, clap::Args)]
pub struct ModelsArgs {
    #[command(subcommand)]
    pub cmd: ModelsCmd,
    /// Manifest file.
    #[arg(long, global = true, default_value = "models/manifest.toml")]
    pub manifest: PathBuf,
}

#[derive(Debug, clap::Subcommand)]
pub enum ModelsCmd {
    /// Show every file, where it goes and whether it is installed.
    List,
    /// Download (or copy from $CALLSENSE_ASSETS) and verify files; default: the `default = true` ones.
    Fetch { names: Vec<String> },
    /// Re-check installed files against their checksums.
    Verify { names: Vec<String> },
}

pub async fn run(args: ModelsArgs) -> anyhow::Result<()> {
    let manifest = Manifest::load(&args.manifest)?;
    let pick = |names: &[String]| -> anyhow::Result<Vec<_>> {
        if names.is_empty() {
            Ok(manifest.entries().filter(|e| e.default).collect())
        } else {
            names
                .iter()
                .map(|n| manifest.get(n).map_err(Into::into))
                .collect()
        }
    };
    match args.cmd {
        ModelsCmd::List => {
            for e in manifest.entries() {
                let status = match e.status() {
                    Status::Ok => "installed".to_string(),
                    Status::Missing => "missing".to_string(),
                    Status::Corrupt(_) => "CHECKSUM MISMATCH".to_string(),
                    Status::Unverified => "present (unverified)".to_string(),
                };
                println!(
                    "{:<18} {:<22} {}\n{:<18} {}",
                    e.name,
                    status,
                    e.dest.display(),
                    "",
                    e.description
                );
            }
        }
        ModelsCmd::Fetch { names } => {
            let assets = assets_dir();
            let mut failed = 0;
            for e in pick(&names)? {
                match e.fetch(assets.as_deref()).await {
                    Ok(line) => println!("{line}"),
                    Err(err) => {
                        failed += 1;
                        eprintln!("error: {err}");
                    }
                }
            }
            if failed > 0 {
                anyhow::bail!("{failed} file(s) could not be fetched");
            }
        }
        ModelsCmd::Verify { names } => {
            let mut bad = 0;
            for e in pick(&names)? {
                match e.status() {
                    Status::Ok => println!("{}: ok ({})", e.name, e.dest.display()),
                    Status::Unverified => {
                        println!("{}: present, no checksum for the installed form", e.name)
                    }
                    Status::Missing => {
                        bad += 1;
                        println!("{}: MISSING ({})", e.name, e.dest.display());
                    }
                    Status::Corrupt(actual) => {
                        bad += 1;
                        println!(
                            "{}: CHECKSUM MISMATCH ({}: {actual})",
                            e.name,
                            e.dest.display()
                        );
                    }
                }
            }
            if bad > 0 {
                anyhow::bail!("{bad} file(s) missing or corrupt: run `callsense models fetch`");
            }
        }
    }
    Ok(())
}
