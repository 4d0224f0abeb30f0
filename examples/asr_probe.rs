//! One Whisper decode per clip, through the engine's own `transcribe`, with
//! the decoding settings of the configuration: a quick way to see what a
//! decoding choice does to real speech before streaming whole calls.
//!
//! ```text
//! cargo run --release --example asr_probe -- MODEL.bin CLIPS.tsv [--config FILE] [--repeat N]
//! ```
//!
//! CLIPS.tsv: `path <TAB> channel <TAB> reference <TAB> language` per line.
//! Each clip goes through the telephone line the engine sees (8 kHz, μ-law
//! round trip, back to 16 kHz), gets the endpointer's 200 ms of padding on
//! each side, and is decoded once (or `--repeat` times, for timing). Prints
//! per clip: decode time, errors/words, the transcript; then totals.
//! Settings come from the config file and `CALLSENSE__ASR__*` variables.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};

use callsense::asr::{transcribe, LanguageDetector};
use callsense::asr::{AsrInput, DecodeOptions, WhisperModel};
use callsense::audio::AudioClip;
use callsense::config::Config;
use callsense::testkit::{telephone_line, word_errors};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        bail!("usage: asr_probe MODEL.bin CLIPS.tsv [--config FILE] [--repeat N]");
    }
    let mut config_path = None;
    let mut repeat = 1usize;
    let mut i = 2;
    while i < args.len() {
        match args[i].as_str() {
            "--config" => config_path = Some(PathBuf::from(&args[i + 1])),
            "--repeat" => repeat = args[i + 1].parse()?,
            other => bail!("unknown argument {other}"),
        }
        i += 2;
    }
    // RUST_LOG=callsense=debug shows the decoder's own decisions (loops).
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let config = Config::load(config_path.as_deref())?;
    let model = WhisperModel::load(Path::new(&args[0]), false)?;
    let opts = DecodeOptions::for_model(&config.asr, &model);
    let mut state = model.new_state()?;
    let mut detector = if model.is_multilingual() {
        Some(LanguageDetector::new(&model, &opts.languages)?)
    } else {
        None
    };
    let list = std::fs::read_to_string(&args[1]).context("clips list")?;
    let (mut errs, mut words, mut total_ms) = (0usize, 0usize, 0f64);
    let mut times = Vec::new();
    for line in list.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split('\t').collect();
        let (path, ch, reference, lang) = (f[0], f[1].parse::<usize>()?, f[2], f[3]);
        let clip = AudioClip::read(Path::new(path))?;
        let audio = telephone_line(
            &clip.channels[ch.min(clip.channels.len() - 1)],
            clip.sample_rate,
        )?;
        let pad = vec![0.0f32; 3200];
        let input = [&pad[..], &audio[..], &pad[..]].concat();
        let mut text = String::new();
        let mut best = f64::MAX;
        for _ in 0..repeat {
            let t0 = Instant::now();
            let t = transcribe(
                &model,
                &mut state,
                detector.as_mut(),
                AsrInput {
                    audio: &input,
                    language: callsense::language::LanguageHint::parse(lang)?.fixed(),
                    ..AsrInput::default()
                },
                &opts,
            )?;
            best = best.min(t0.elapsed().as_secs_f64() * 1000.0);
            text = t.map(|t| t.text).unwrap_or_default();
        }
        let (e, n) = word_errors(reference, &text);
        errs += e;
        words += n;
        total_ms += best;
        times.push(best);
        println!(
            "{:>7.0} ms {:>3}/{:<3} {:>5.1}s {}: {}",
            best,
            e,
            n,
            audio.len() as f64 / 16000.0,
            Path::new(path).file_stem().unwrap().to_string_lossy(),
            text
        );
    }
    times.sort_by(f64::total_cmp);
    println!(
        "TOTAL errors {errs}/{words} = {:.1} %, decode total {:.0} ms, median {:.0} ms, max {:.0} ms",
        100.0 * errs as f64 / words.max(1) as f64,
        total_ms,
        times[times.len() / 2],
        times[times.len() - 1]
    );
    Ok(())
}
