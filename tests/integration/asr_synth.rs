//! The words, end to end: synthesized two-channel calls made by
//! models/asr-synth/make_test_call.py with sentences and voice settings the
//! model never trained on, streamed as 8 kHz mu-law over gRPC through the
//! engine's normal whisper-rs path with the committed synthetic-speech model.
//!
//! - tests/fixtures/asr_heldout_call.wav (200 turns, 15 minutes): the
//!   model's target set, held-out sentences in held-out voice variants of the
//!   training accents, opened by the mission sentences. Per role, the words
//!   must be within the model's WER target, and what the customer says must be
//!   classified as said.
//! - tests/fixtures/asr_call.wav (8 turns): the mission sentences alone, the
//!   agent in the accent training never heard (out of domain, so no WER
//!   bound), the customer in a held-out variant: greedy, beam search, the
//!   profile, repeatability and temperature fallback through the engine.

use std::path::Path;

use callsense::proto::{SentimentLabel, UtteranceResult};
use callsense::testkit::word_errors;
use serde::Deserialize;

use crate::common::{call, finals, mulaw_requests, test_config, TestServer};

/// The model's target on held-out synthetic telephone speech (issue 5).
const MAX_WER: f64 = 0.10;

#[derive(Deserialize)]
struct CallMeta {
    channels: Vec<String>,
    turns: Vec<Turn>,
}

#[derive(Deserialize)]
struct Turn {
    channel: u32,
    text: String,
    offset_ms: u32,
    duration_ms: u32,
}

fn overlapping<'a>(finals: &'a [UtteranceResult], t: &Turn) -> Vec<&'a UtteranceResult> {
    finals
        .iter()
        .filter(|r| {
            r.channel == t.channel
                && r.start_ms < t.offset_ms + t.duration_ms
                && r.end_ms > t.offset_ms
        })
        .collect()
}

/// The short test call (tests/fixtures/asr_call.wav).
const TEST_CALL: &str = "tests/fixtures/asr_call";
/// The held-out call of the per-role WER test (tests/fixtures/asr_heldout_call.wav).
const HELDOUT_CALL: &str = "tests/fixtures/asr_heldout_call";

/// The short test call's final results, through the engine with the committed
/// model and `beam_size` decoder beams (1: greedy, the default).
async fn transcribe_test_call(beam_size: u32) -> (CallMeta, Vec<UtteranceResult>) {
    let mut config = test_config();
    config.asr.beam_size = beam_size;
    transcribe_call_with(TEST_CALL, config).await
}

/// The engine settings `config/synth-asr.toml` gives, on the test config.
fn synth_profile_config() -> callsense::config::Config {
    let profile = callsense::config::Config::load_with_env(
        Some(Path::new("config/synth-asr.toml")),
        std::iter::empty(),
    )
    .expect("config/synth-asr.toml loads");
    let mut config = test_config();
    config.asr.beam_size = profile.asr.beam_size;
    config.audio.max_utterance_ms = profile.audio.max_utterance_ms;
    config
}

/// The final results for the call `fixture` (`.wav` with its `.json`), through
/// the engine with the committed model and `config`.
async fn transcribe_call_with(
    fixture: &str,
    mut config: callsense::config::Config,
) -> (CallMeta, Vec<UtteranceResult>) {
    let meta: CallMeta =
        serde_json::from_str(&std::fs::read_to_string(format!("{fixture}.json")).unwrap()).unwrap();
    assert_eq!(meta.channels, ["agent", "customer"]);
    let clip = callsense::audio::AudioClip::read(Path::new(&format!("{fixture}.wav"))).unwrap();
    assert_eq!((clip.sample_rate, clip.channels.len()), (8000, 2));
    config.asr.model = callsense::asr::SYNTH_MODEL.into();
    let server = TestServer::start(config).await;
    let responses = call(&mut server.client().await, mulaw_requests(&clip, "asr-e2e"))
        .await
        .unwrap();
    server.stop().await;
    let mut finals = finals(&responses);
    finals.sort_by_key(|r| (r.channel, r.start_ms));
    (meta, finals)
}

/// What the customer says in the test call, and the intents each turn may be given.
const CUSTOMER_TURNS: [(&str, &[&str]); 4] = [
    ("cancel my account", &["cancel_service"]),
    (
        "charged twice",
        &[
            "billing_question",
            "payment_problem",
            "refund_request",
            "complaint",
        ],
    ),
    ("parcel", &["delivery_problem", "order_status", "complaint"]),
    ("log in", &["account_access"]),
];

/// The first customer turn containing `needle` (in the held-out call the
/// mission sentences open the call) and the engine's first result for it,
/// checked to carry one of `intents` (and, if `negative`, a negative sentiment).
fn check_customer_turn<'a>(
    meta: &'a CallMeta,
    finals: &'a [UtteranceResult],
    needle: &str,
    intents: &[&str],
    negative: bool,
) -> (&'a Turn, &'a UtteranceResult) {
    let turn = meta
        .turns
        .iter()
        .find(|t| t.channel == 1 && t.text.contains(needle))
        .unwrap();
    let got = overlapping(finals, turn);
    assert!(!got.is_empty(), "no result for {:?}", turn.text);
    let r = got[0];
    assert!(
        !r.transcript.trim().is_empty(),
        "{:?}: empty transcript",
        turn.text
    );
    let intent = &r.intent.as_ref().unwrap().label;
    assert!(
        intents.contains(&intent.as_str()),
        "{:?} heard as {:?}: intent {intent}",
        turn.text,
        r.transcript
    );
    if negative {
        let sentiment = r.sentiment.as_ref().unwrap().label;
        assert_eq!(
            sentiment,
            SentimentLabel::Negative as i32,
            "{:?} heard as {:?}: sentiment {sentiment}",
            turn.text,
            r.transcript
        );
    }
    (turn, r)
}

/// The whole target, on the held-out call: words within the WER target on
/// both channels (about 1,000 words each, so one channel's figure moves by a
/// tenth of a point per word), and the customer's mission sentences with
/// their intents, a negative sentiment, and the cancellation word for word.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synthesized_call_words_within_the_wer_target_through_the_engine() {
    let (meta, finals) = transcribe_call_with(HELDOUT_CALL, synth_profile_config()).await;
    for (ch, role) in meta.channels.iter().enumerate() {
        let spoken: Vec<&str> = meta
            .turns
            .iter()
            .filter(|t| t.channel as usize == ch)
            .map(|t| t.text.as_str())
            .collect();
        let heard: Vec<&str> = finals
            .iter()
            .filter(|r| r.channel as usize == ch)
            .map(|r| r.transcript.as_str())
            .collect();
        let (errors, words) = word_errors(&spoken.join(" "), &heard.join(" "));
        assert!(
            words >= 900,
            "{role}: the held-out call should carry about 1,000 words per role, found {words}"
        );
        let wer = errors as f64 / words as f64;
        println!("{role}: WER {wer:.4} ({errors} errors in {words} words)");
        assert!(
            wer <= MAX_WER,
            "{role}: WER {wer:.3} ({errors} errors in {words} words)\n spoken: {spoken:#?}\n heard: {heard:#?}"
        );
    }
    for (needle, intents) in CUSTOMER_TURNS {
        check_customer_turn(&meta, &finals, needle, intents, true);
    }
    check_customer_mission_path(&meta, &finals);
}

/// The mission path from speech, as far as the interim model carries it: the
/// customer's "I want to cancel my account this is the third time it broke."
/// comes out word for word, as cancel_service and negative, and every
/// customer turn gets its intent from the words the engine heard.
fn check_customer_mission_path(meta: &CallMeta, finals: &[UtteranceResult]) {
    for (needle, intents) in CUSTOMER_TURNS {
        check_customer_turn(meta, finals, needle, intents, false);
    }
    let (needle, intents) = CUSTOMER_TURNS[0];
    let (turn, r) = check_customer_turn(meta, finals, needle, intents, true);
    let (errors, words) = word_errors(&turn.text, &r.transcript);
    assert_eq!(
        errors, 0,
        "{:?} heard as {:?} ({errors} errors in {words} words)",
        turn.text, r.transcript
    );
}

/// The default decoder (greedy).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synthesized_call_customer_intents_and_sentiment_through_the_engine() {
    let (meta, finals) = transcribe_test_call(1).await;
    check_customer_mission_path(&meta, &finals);
}

/// `asr.beam_size = 5`: whisper.cpp's beam search through the same path
/// gives every turn a result and the same mission path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synthesized_call_through_the_engine_with_beam_search() {
    let (meta, finals) = transcribe_test_call(5).await;
    assert_eq!(
        finals.len(),
        meta.turns.len(),
        "one result per turn: {:#?}",
        finals.iter().map(|r| &r.transcript).collect::<Vec<_>>()
    );
    check_customer_mission_path(&meta, &finals);
}

/// `config/synth-asr.toml` (8 beams, monologues split at 8 s), the settings
/// the demo uses with this model: it loads, and through it the call gives
/// every turn a result and the same mission path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synthesized_call_through_the_engine_with_the_synth_profile() {
    let config = synth_profile_config();
    assert!(config.asr.beam_size > 1 && config.audio.max_utterance_ms < 15_000);
    let (meta, finals) = transcribe_call_with(TEST_CALL, config).await;
    for t in &meta.turns {
        assert!(
            !overlapping(&finals, t).is_empty(),
            "no result for {:?}: {:#?}",
            t.text,
            finals.iter().map(|r| &r.transcript).collect::<Vec<_>>()
        );
    }
    check_customer_mission_path(&meta, &finals);
}

/// Beam search gives the same words for the same audio whatever the worker
/// decoded before: the test call, the demo call, then both again through one
/// server (whisper.cpp's beam search reads state left by earlier decodes, so
/// the pool gives it a fresh state per utterance).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beam_search_transcripts_do_not_depend_on_what_was_decoded_before() {
    let mut config = synth_profile_config();
    config.asr.model = callsense::asr::SYNTH_MODEL.into();
    let server = TestServer::start(config).await;
    let test_call =
        callsense::audio::AudioClip::read(Path::new(&format!("{TEST_CALL}.wav"))).unwrap();
    let demo = crate::common::demo_call();
    let mut passes = Vec::new();
    for (i, clip) in [&test_call, &demo, &test_call, &demo]
        .into_iter()
        .enumerate()
    {
        let responses = call(
            &mut server.client().await,
            mulaw_requests(clip, &format!("determinism-{i}")),
        )
        .await
        .unwrap();
        let mut finals = finals(&responses);
        finals.sort_by_key(|r| (r.channel, r.start_ms));
        passes.push(
            finals
                .into_iter()
                .map(|r| (r.channel, r.start_ms, r.transcript))
                .collect::<Vec<_>>(),
        );
    }
    server.stop().await;
    assert!(passes[0].len() >= 8 && passes[1].len() >= 10);
    assert_eq!(
        passes[0], passes[2],
        "the test call heard differently the second time"
    );
    assert_eq!(
        passes[1], passes[3],
        "the demo call heard differently the second time"
    );
}

/// `asr.temperature_fallback` reaches whisper.cpp: with a log-probability
/// threshold no decode can meet, every utterance falls back through the
/// temperatures to sampling at 1.0, and the words change from greedy's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temperature_fallback_re_decodes_results_below_the_threshold() {
    let (_, greedy) = transcribe_test_call(1).await;
    let mut config = test_config();
    config.asr.temperature_fallback = 0.5;
    config.asr.fallback_logprob_threshold = 0.0;
    let (_, sampled) = transcribe_call_with(TEST_CALL, config).await;
    let words = |finals: &[UtteranceResult]| {
        finals
            .iter()
            .map(|r| r.transcript.clone())
            .collect::<Vec<_>>()
    };
    assert_ne!(
        words(&greedy),
        words(&sampled),
        "forced fallback decodes gave greedy's words"
    );
}

/// A decode whose result is no longer wanted (an early decode whose speaker
/// went on) stops: cancelled before a worker takes it, it never runs;
/// cancelled while whisper.cpp decodes, it stops at the next graph step
/// (whisper.cpp's abort callback). Both answer `AsrError::Cancelled`, and
/// the worker goes on to the next job.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_decodes_stop_and_free_their_worker() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use callsense::asr::{AsrError, AsrJob, AsrPool, DecodeOptions, WhisperModel};

    let model = WhisperModel::load(Path::new(callsense::asr::SYNTH_MODEL), false).unwrap();
    let opts = DecodeOptions::for_model(&callsense::config::AsrConfig::default(), &model);
    let pool = Arc::new(AsrPool::start(model, 1, 8, true, opts).unwrap());
    let clip = crate::common::demo_call().mono().resampled(16_000).unwrap();
    let audio: Vec<f32> = clip.channels[0][..25 * 16_000].to_vec();
    let job = |cancel: Option<Arc<AtomicBool>>| AsrJob {
        call: 1,
        audio: audio.clone(),
        context: None,
        language: Some(callsense::language::Language::english()),
        interim: false,
        prompt: None,
        cancel,
    };

    let before = Arc::new(AtomicBool::new(true));
    assert!(matches!(
        pool.transcribe(job(Some(before))).await,
        Err(AsrError::Cancelled)
    ));

    let whole = pool.transcribe(job(None)).await.unwrap();
    assert!(whole.transcript.is_some_and(|t| !t.text.is_empty()));

    let flag = Arc::new(AtomicBool::new(false));
    let (p, j) = (Arc::clone(&pool), job(Some(Arc::clone(&flag))));
    let running = tokio::spawn(async move { p.transcribe(j).await });
    while pool.busy() == 0 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    flag.store(true, Ordering::Relaxed);
    // Without the abort callback the decode would run to its end and
    // answer with the transcript.
    let r = running.await.unwrap();
    assert!(
        matches!(r, Err(AsrError::Cancelled)),
        "a decode cancelled while running answered {r:?}"
    );
    // The worker is free for the next job.
    assert!(pool
        .transcribe(job(None))
        .await
        .unwrap()
        .transcript
        .is_some());
}

/// Dropping the pool stops its workers and joins their threads: once the
/// drop returns, no worker holds the model (or its Whisper states) any more.
#[test]
fn dropping_the_pool_joins_its_workers() {
    use callsense::asr::{AsrPool, DecodeOptions, WhisperModel};
    let model = WhisperModel::load(Path::new(callsense::asr::SYNTH_MODEL), false).unwrap();
    let opts = DecodeOptions::for_model(&callsense::config::AsrConfig::default(), &model);
    let pool = AsrPool::start(std::sync::Arc::clone(&model), 3, 8, true, opts).unwrap();
    assert!(
        std::sync::Arc::strong_count(&model) > 3,
        "each worker holds the model"
    );
    drop(pool);
    assert_eq!(
        std::sync::Arc::strong_count(&model),
        1,
        "a worker thread outlived the pool"
    );
}
