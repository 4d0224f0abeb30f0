//! ONNX Runtime, loaded at run time from a shared library (`load-dynamic`).
//!
//! Owns: finding `libonnxruntime.so` (config, `ORT_DYLIB_PATH`, the setup
//! step's `.runtime/lib`), initialising ort once per process, and a clear
//! error naming every place looked at when it is missing — ort would
//! otherwise panic at first use.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::environment::Environment;

/// Where `callsense models fetch onnxruntime` puts the library.
pub const DEFAULT_ORT_LIBRARY: &str = ".runtime/lib/libonnxruntime.so";

/// ONNX Runtime could not be loaded.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RuntimeError {
    #[error(
        "ONNX Runtime library not found (looked at: {looked}). Run `callsense models fetch onnxruntime` \
         (or scripts/setup.sh), or point ORT_DYLIB_PATH / classifier.ort_library at libonnxruntime.so"
    )]
    Missing { looked: String },
    #[error("cannot load ONNX Runtime from {path}: {reason}")]
    Load { path: PathBuf, reason: String },
}

static ENV: OnceLock<Result<Environment, RuntimeError>> = OnceLock::new();

/// Candidate library paths, in order. A path named explicitly (config or
/// `ORT_DYLIB_PATH`) is the only candidate: if it is wrong, that is an error,
/// not a reason to load some other copy.
pub fn candidates(configured: Option<&Path>) -> Vec<PathBuf> {
    if let Some(p) = configured {
        return vec![p.to_path_buf()];
    }
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        return vec![PathBuf::from(p)];
    }
    let mut v = vec![PathBuf::from(DEFAULT_ORT_LIBRARY)];
    if let Ok(exe) = std::env::current_exe() {
        // target/release/callsense → <repo>/.runtime/lib
        for up in exe.ancestors().skip(1).take(3) {
            v.push(up.join(DEFAULT_ORT_LIBRARY));
        }
    }
    v
}

/// Initialises ONNX Runtime once; later calls return the same environment
/// (the `configured` path of the first call wins).
///
/// # Errors
/// No library found, or it failed to load.
pub fn init(configured: Option<&Path>) -> Result<Environment, RuntimeError> {
    ENV.get_or_init(|| {
        let all = candidates(configured);
        let path =
            all.iter()
                .find(|p| p.is_file())
                .cloned()
                .ok_or_else(|| RuntimeError::Missing {
                    looked: all
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
        let load_err = |reason: String| RuntimeError::Load {
            path: path.clone(),
            reason,
        };
        ort::init_from(&path)
            .map_err(|e| load_err(e.to_string()))?
            .with_name("callsense")
            .with_telemetry(false)
            .build()
            .map_err(|e| load_err(e.to_string()))
    })
    .clone()
}
