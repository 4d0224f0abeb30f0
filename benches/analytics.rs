//! Cost of the live conversation measures per call-second.
//!
//! ```text
//! cargo bench --bench analytics
//! ```
//!
//! - `analytics/replay_10min_call`: one 10-minute two-channel call (≈ 200
//!   turns, some overlapping) replayed the way the call loop drives the
//!   meter: a front-end progress report every 500 ms, each final as pending
//!   then done, a `CallMetrics` snapshot (64 turn points) with its rule facts
//!   and a fuzzy phrase check after every final, and a timer snapshot every
//!   5 s. After the group the bench prints the cost per call-second and the
//!   share of one core per live call (target: under 0.5 %).
//! - `analytics/snapshot_at_end`: one snapshot of the whole call (512 points),
//!   the summary's.

use std::time::{Duration, Instant};

use criterion::{black_box, criterion_group, criterion_main, Criterion};

use callsense::analytics::{
    facts, AnalyticsConfig, ConversationMeter, MatchKind, PhraseMatcher, Turn,
};
use callsense::audio::Progress;
use callsense::proto::SpeakerRole;

const CALL_MS: u32 = 600_000;
const PROGRESS_MS: u32 = 500;
const TIMER_MS: u32 = 5000;

const SAID: &[&str] = &[
    "thank you for calling how can I help you today",
    "this is the third time my phone broke and nobody called me back",
    "I can see the order here let me check the warranty for you",
    "okay",
    "I have been waiting for an hour and I want to cancel my account",
    "I understand I can offer you half off your plan for six months",
];

/// A deterministic call: alternating turns of 1–7 s with −0.5…2 s gaps
/// (negative: the next speaker starts early), one back-channel in five.
fn script() -> Vec<Turn> {
    let mut seed: u64 = 0x5eed;
    let mut next = |n: u32| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) % u64::from(n)) as u32
    };
    let (mut at, mut turns, mut seq) = (500u32, Vec::new(), 1u32);
    while at < CALL_MS - 8000 {
        let channel = (seq % 2) as usize;
        let text = SAID[next(SAID.len() as u32) as usize];
        let len = if text == "okay" {
            400
        } else {
            1000 + next(6000)
        };
        turns.push(Turn {
            seq,
            channel,
            start_ms: at,
            end_ms: at + len,
            words: text.split(' ').count() as u32,
            weight: if text == "okay" { 0.0 } else { 1.0 },
            backchannel: text == "okay",
            score: Some(next(200) as f32 / 100.0 - 1.0),
            level_dbfs: -30.0 + next(150) as f32 / 10.0,
        });
        seq += 1;
        at = (at + len + next(2500)).saturating_sub(500);
    }
    turns
}

/// Replays the call; returns the number of snapshots taken.
fn replay(turns: &[Turn], matcher: &PhraseMatcher) -> usize {
    let mut m = ConversationMeter::new(
        "bench".into(),
        vec![SpeakerRole::Agent, SpeakerRole::Customer],
        AnalyticsConfig::default(),
    );
    let (mut next_turn, mut snapshots) = (0, 0);
    let mut pos = 0;
    while pos < CALL_MS {
        pos += PROGRESS_MS;
        let mut speaking = vec![None, None];
        for t in &turns[next_turn..] {
            if t.start_ms >= pos {
                break;
            }
            if t.end_ms > pos {
                speaking[t.channel] = Some(t.start_ms);
            }
        }
        m.progress(&Progress {
            position_ms: u64::from(pos),
            speaking_since_ms: speaking,
        });
        while next_turn < turns.len() && turns[next_turn].end_ms <= pos {
            let t = turns[next_turn].clone();
            m.speech_pending(t.channel, t.seq, t.start_ms, t.end_ms);
            m.speech_done(t.channel, t.seq, Some(t.clone()));
            black_box(matcher.find(SAID[t.seq as usize % SAID.len()]));
            black_box(facts(&m.snapshot(64)));
            m.take_changed();
            snapshots += 1;
            next_turn += 1;
        }
        if pos % TIMER_MS == 0 && m.take_changed() {
            black_box(facts(&m.snapshot(64)));
            snapshots += 1;
        }
    }
    snapshots
}

fn bench(c: &mut Criterion) {
    let turns = script();
    let matcher = PhraseMatcher::new(
        MatchKind::Fuzzy,
        &[
            "this call may be recorded".into(),
            "offer you half off".into(),
        ],
        0.8,
    )
    .expect("phrases");
    let snapshots = replay(&turns, &matcher);
    eprintln!(
        "analytics: {} turns in a {} s call, {snapshots} snapshots",
        turns.len(),
        CALL_MS / 1000
    );
    let mut g = c.benchmark_group("analytics");
    let mut timings = Vec::new();
    g.bench_function("replay_10min_call", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(replay(&turns, &matcher));
            }
            let d = start.elapsed();
            timings.push(d / iters as u32);
            d
        });
    });
    let mut full = ConversationMeter::new(
        "bench".into(),
        vec![SpeakerRole::Agent, SpeakerRole::Customer],
        AnalyticsConfig::default(),
    );
    for t in &turns {
        full.add_turn(t.clone());
    }
    g.bench_function("snapshot_at_end", |b| {
        b.iter(|| black_box(full.snapshot(512)))
    });
    g.finish();
    timings.sort_unstable();
    let median = timings
        .get(timings.len() / 2)
        .copied()
        .unwrap_or(Duration::ZERO);
    let per_second = median.as_secs_f64() / (f64::from(CALL_MS) / 1000.0);
    println!(
        "\nanalytics: {:.1} ms per 10-minute call, {:.1} µs per call-second = {:.4} % of one core per live call (target < 0.5 %)\n",
        median.as_secs_f64() * 1000.0,
        per_second * 1e6,
        per_second * 100.0
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
