//! Resident memory of the classifier models, in a fresh process:
//! ONNX Runtime, then each model directory loaded and run on a few texts.
//!
//! ```text
//! ORT_DYLIB_PATH=$PWD/.runtime/lib/libonnxruntime.so \
//!   cargo run --release --example classifier_memory [-- DIR…]
//! ```
//! Defaults to the engine's `classifier.model_dirs` plus `models/banking77`.
//! Budget (issue 3): ≤ 150 MB for all classifier models together.

use std::path::PathBuf;

use callsense::classify::{runtime, TextModel};
use callsense::config::ClassifierConfig;

/// VmRSS of this process in MiB (Linux).
fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() -> anyhow::Result<()> {
    let mut dirs: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    if dirs.is_empty() {
        dirs = ClassifierConfig::default().model_dirs;
        dirs.push("models/banking77".into());
    }
    let texts = [
        "i want to cancel my account this is the third time it broke",
        "我的手机屏幕又坏了 这是第三次了 我要退款",
        "so i called last week and the week before and the person said it would be sorted and then someone else said it was a different department and what i really want now is just to cancel",
    ];
    let start = rss_mib();
    let env = runtime::init(None)?;
    let after_ort = rss_mib();
    println!("| resident memory (VmRSS) | MiB | added |\n|---|---:|---:|");
    println!("| process start | {start:.0} | |");
    println!(
        "| + ONNX Runtime | {after_ort:.0} | {:+.0} |",
        after_ort - start
    );
    let mut prev = after_ort;
    let mut models = Vec::new();
    for d in &dirs {
        let mut m = TextModel::load(&env, d, 1)?;
        for _ in 0..20 {
            m.classify(&texts)?;
        }
        let now = rss_mib();
        println!(
            "| + {} (loaded, run) | {now:.0} | {:+.0} |",
            m.model_id(),
            now - prev
        );
        prev = now;
        models.push(m);
    }
    println!(
        "| all classifier models incl. ONNX Runtime | | **{:+.0}** |",
        prev - start
    );
    Ok(())
}
