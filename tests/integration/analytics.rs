//! Live conversation measures end to end: `CallMetrics` on the stream and in
//! the summary, measures in rules (`on = "metrics"`, `call_end`), phrase
//! rules, and the measures in the CRM's call record.

use std::time::Duration;

use callsense::proto::stream_call_response::StreamingResponse as R;
use callsense::proto::{CallMetrics, RuleAlert, SpeakerRole};
use callsense::testkit::webhook::WebhookReceiver;

use crate::common::*;
use crate::connect::{connect_config, wait_until, SECRET};

/// Time no channel speaks in the fixture's regions over `[0, duration)`.
fn non_talk_of(f: &callsense::testkit::Fixture) -> u32 {
    let mut spans: Vec<(u32, u32)> = f.regions.iter().map(|r| (r.start_ms, r.end_ms)).collect();
    spans.sort_unstable();
    let (mut at, mut gaps) = (0, 0);
    for (a, b) in spans {
        gaps += a.saturating_sub(at);
        at = at.max(b);
    }
    gaps + (f.duration_ms as u32).saturating_sub(at)
}

fn talk_of(f: &callsense::testkit::Fixture, channel: usize) -> u32 {
    f.regions
        .iter()
        .filter(|r| r.channel == channel)
        .map(|r| r.end_ms - r.start_ms)
        .sum()
}

const RULES: &str = r#"
[[rule]]
name = "greeting"
actions = [{ type = "alert", message = "No greeting" }]
[rule.phrase]
require = ["how can I help you"]
match = "fuzzy"
role = "agent"
to_s = 10

[[rule]]
name = "recording-disclosure"
actions = [{ type = "alert", message = "No recording disclosure", severity = "high" }]
[rule.phrase]
require = ["this call may be recorded"]
role = "agent"
to_s = 20

[[rule]]
name = "cancel-words"
actions = [
  { type = "tag", value = "cancellation_mentioned" },
  { type = "alert", message = "The customer wants to cancel", severity = "warning" },
]
[rule.phrase]
forbid = ['\bcancel\b.*\baccount\b']
match = "pattern"
role = "customer"

[[rule]]
name = "quiet-call"
on = "metrics"
when = 'call.non_talk_ms > 8000'
actions = [{ type = "alert", message = "Long silences" }]

[[rule]]
name = "steady-talkers"
on = "call_end"
when = 'agent.talk_speed_wpm > 120.0 && customer.talk_speed_wpm > 120.0 && call.interruptions.customer == 0'
actions = [{ type = "alert", message = "Normal pace" }]
"#;

fn summary_sink(url: &str) -> String {
    format!(
        r#"
[[sinks]]
name = "hooks"
[sinks.webhook]
url = "{url}"
secrets = ["{SECRET}"]
[sinks.records.call_summary.fields]
call_id = "call_id"
non_talk_ms = "metrics.non_talk_ms"
customer_wpm = "metrics.customer.talk_speed_wpm"
agent_talk_ratio = "metrics.agent.talk_ratio"
trend = "metrics.sentiment_trend"
[sinks.records.action.fields]
rule = "rule"
value = "value"
evidence = "evidence"
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_call_streams_its_measures_and_rules_read_them() {
    let hooks = WebhookReceiver::start(&[SECRET]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rules_path = dir.path().join("rules.toml");
    std::fs::write(&rules_path, RULES).unwrap();
    let mut config = test_config();
    config.analytics.baseline_ms = 4000;
    config.analytics.recent_ms = 4000;
    config.connect = connect_config(dir.path(), &summary_sink(&hooks.url("/h")));
    config.connect.rules.file = Some(rules_path);
    let server = TestServer::start(config).await;
    let responses = call(
        &mut server.client().await,
        mulaw_requests(&demo_call(), "measured"),
    )
    .await
    .unwrap();
    let fixture = fixture("demo_call.json");

    // A CallMetrics follows every final (after its alerts); positions only grow.
    let live: Vec<(usize, &CallMetrics)> = responses
        .iter()
        .enumerate()
        .filter_map(|(i, r)| match &r.streaming_response {
            Some(R::Metrics(m)) => Some((i, m)),
            _ => None,
        })
        .collect();
    let finals = finals(&responses);
    assert!(
        live.len() >= finals.len(),
        "{} < {}",
        live.len(),
        finals.len()
    );
    for (i, r) in responses.iter().enumerate() {
        if matches!(&r.streaming_response, Some(R::Result(u)) if u.is_final) {
            let next = responses[i + 1..]
                .iter()
                .find(|x| !matches!(x.streaming_response, Some(R::RuleAlert(_))));
            assert!(
                matches!(
                    next.and_then(|x| x.streaming_response.as_ref()),
                    Some(R::Metrics(_))
                ),
                "no CallMetrics after final #{i}"
            );
        }
    }
    assert!(live
        .windows(2)
        .all(|w| w[1].1.position_ms >= w[0].1.position_ms));
    assert!(live
        .iter()
        .all(|(_, m)| m.call_id == "measured" && m.turns.len() <= 64));

    // The summary's measures against the fixture's measured speech regions
    // (each utterance boundary is within ±300 ms: 15 turns, 30 edges).
    let s = summary(&responses);
    let m = s.metrics.as_ref().expect("summary measures");
    assert!(
        u64::from(m.position_ms).abs_diff(fixture.duration_ms) <= 100,
        "{}",
        m.position_ms
    );
    let expected = non_talk_of(&fixture);
    assert!(
        m.non_talk_ms.abs_diff(expected) <= 3000,
        "non-talk {} vs {expected} from the regions",
        m.non_talk_ms
    );
    assert!(
        m.longest_silence_ms >= 1000 && m.longest_silence_ms <= 2500,
        "{m:?}"
    );
    assert_eq!((m.hold_count, m.overtalk_count, m.overtalk_ms), (0, 0, 0));
    for (ch, role) in [(0, SpeakerRole::Agent), (1, SpeakerRole::Customer)] {
        let r = &m.roles[ch];
        assert_eq!(r.role, role as i32);
        let talk = talk_of(&fixture, ch);
        assert!(
            r.talk_ms.abs_diff(talk) <= 2500,
            "ch{ch}: {} vs {talk}",
            r.talk_ms
        );
        assert_eq!(r.interruptions, 0);
        // espeak-ng's 140–160 words a minute count its pauses between
        // sentences; over the speech alone it is about 250.
        assert!((150.0..=330.0).contains(&r.talk_speed_wpm), "ch{ch}: {r:?}");
        assert!((-45.0..=-3.0).contains(&r.loudness_dbfs), "ch{ch}: {r:?}");
        // One synthetic voice per side at one rate and level: no agitation.
        assert!(r.baseline_ready, "ch{ch}: 4 s + 4 s of speech");
        assert!(r.talk_speed_change_pct.abs() < 35.0, "ch{ch}: {r:?}");
        assert!(r.loudness_change_db.abs() < 3.0, "ch{ch}: {r:?}");
    }
    assert_eq!(m.turns.len(), finals.len());
    let last_customer = m
        .turns
        .iter()
        .rev()
        .find(|p| p.role == SpeakerRole::Customer as i32)
        .unwrap();
    assert_eq!(last_customer.trend, m.sentiment_trend);
    assert!(
        m.turns
            .iter()
            .any(|p| p.role == SpeakerRole::Customer as i32 && p.trend < 0.0),
        "the broken phone and the hour's wait: {:?}",
        m.turns
    );

    // Rules: the greeting was said in time, the disclosure never was, the
    // customer spoke of cancelling, the silences add up, both spoke at a
    // normal pace.
    let alerts: Vec<(usize, &RuleAlert)> = responses
        .iter()
        .enumerate()
        .filter_map(|(i, r)| match &r.streaming_response {
            Some(R::RuleAlert(a)) => Some((i, a)),
            _ => None,
        })
        .collect();
    let mut fired: Vec<&str> = alerts.iter().map(|(_, a)| a.rule.as_str()).collect();
    fired.sort_unstable();
    assert_eq!(
        fired,
        [
            "cancel-words",
            "quiet-call",
            "recording-disclosure",
            "steady-talkers"
        ],
        "{alerts:#?}"
    );
    let by = |name: &str| alerts.iter().find(|(_, a)| a.rule == name).unwrap();
    let (at, disclosure) = by("recording-disclosure");
    assert_eq!(disclosure.seq, 0);
    assert_eq!(
        disclosure.evidence,
        "\"this call may be recorded\" not said by the agent by 0:20"
    );
    let last_final = responses
        .iter()
        .rposition(|r| matches!(&r.streaming_response, Some(R::Result(u)) if u.is_final))
        .unwrap();
    assert!(
        *at < last_final,
        "judged while the call ran, not at its end"
    );
    let (_, cancel) = by("cancel-words");
    let said = finals.iter().find(|r| r.seq == cancel.seq).unwrap();
    assert_eq!(said.role, SpeakerRole::Customer as i32);
    assert_eq!(
        cancel.evidence,
        format!(
            "customer said \"cancel my account\" at 0:17 (turn {})",
            said.seq
        )
    );
    let (quiet_at, quiet) = by("quiet-call");
    assert_eq!(quiet.seq, 0);
    let before = responses[*quiet_at + 1..]
        .iter()
        .find_map(|r| match &r.streaming_response {
            Some(R::Metrics(m)) => Some(m),
            _ => None,
        })
        .expect("a metrics alert precedes its measures");
    assert!(before.non_talk_ms > 8000, "{before:?}");
    let (end_at, _) = by("steady-talkers");
    assert_eq!(
        *end_at,
        responses.len() - 2,
        "call-end alerts come just before the summary"
    );

    // The CRM's call record carries the measures; the phrase rule's tag its evidence.
    wait_until(
        "the call summary and the tag",
        Duration::from_secs(20),
        || {
            let m = hooks.messages();
            m.iter().any(|x| x.kind == "call.summary") && m.iter().any(|x| x.kind == "rule.action")
        },
    )
    .await;
    let msgs = hooks.messages();
    let rec = msgs.iter().find(|x| x.kind == "call.summary").unwrap();
    assert_eq!(rec.data["non_talk_ms"], m.non_talk_ms);
    let wpm = rec.data["customer_wpm"].as_f64().unwrap();
    assert!(
        (wpm - f64::from(m.roles[1].talk_speed_wpm)).abs() < 0.1,
        "{wpm}"
    );
    assert!(rec.data["agent_talk_ratio"].as_f64().unwrap() > 0.2);
    let tag = msgs.iter().find(|x| x.kind == "rule.action").unwrap();
    assert_eq!(tag.data["rule"], "cancel-words");
    assert_eq!(tag.data["evidence"], cancel.evidence.as_str());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silence_is_measured_live_between_finals() {
    let dir = tempfile::tempdir().unwrap();
    let rules_path = dir.path().join("rules.toml");
    std::fs::write(
        &rules_path,
        r#"
[[rule]]
name = "dead-air"
on = "metrics"
when = 'call.longest_silence_ms >= 2500'
actions = [{ type = "alert", message = "Nobody has spoken for a while", severity = "warning" }]
"#,
    )
    .unwrap();
    let mut config = test_config();
    config.analytics.interval_ms = 250;
    config.analytics.hold_min_ms = 2000;
    config.connect.rules.file = Some(rules_path);
    let server = TestServer::start(config).await;
    // The demo call's first 5 s (one customer turn, one agent turn), then
    // 7 s of line silence, streamed in real time (the margin lets the last
    // final come late on a busy machine and still leave seconds of timer
    // updates after it).
    let mut clip = demo_call();
    for ch in &mut clip.channels {
        ch.truncate(8000 * 5);
        ch.extend(std::iter::repeat_n(0.0, 8000 * 7));
    }
    let responses = call_paced(
        &mut server.client().await,
        mulaw_requests(&clip, "quiet"),
        Some(Duration::from_millis(20)),
    )
    .await
    .unwrap();
    let last_final = responses
        .iter()
        .rposition(|r| matches!(&r.streaming_response, Some(R::Result(u)) if u.is_final))
        .unwrap();
    // After the last final, the timer alone reports the growing silence…
    let after: Vec<&CallMetrics> = responses[last_final + 1..]
        .iter()
        .filter_map(|r| match &r.streaming_response {
            Some(R::Metrics(m)) => Some(m),
            _ => None,
        })
        .collect();
    assert!(after.len() >= 4, "{} timer updates", after.len());
    assert!(after
        .windows(2)
        .all(|w| w[1].non_talk_ms >= w[0].non_talk_ms));
    assert!(after.last().unwrap().non_talk_ms > after[0].non_talk_ms + 1500);
    // …and the rule on it fires during the silence, not at the end.
    let alert = responses
        .iter()
        .position(
            |r| matches!(&r.streaming_response, Some(R::RuleAlert(a)) if a.rule == "dead-air"),
        )
        .expect("dead-air alert");
    // (During the silence: before the summary; on a busy machine the last
    // final may itself arrive after the silence passed 2.5 s.)
    assert!(
        alert < responses.len() - 1,
        "the alert came before the call ended"
    );
    let s = summary(&responses);
    let m = s.metrics.unwrap();
    assert_eq!(m.hold_count, 1, "{m:?}");
    assert!(
        m.hold_ms >= 3500 && m.longest_silence_ms == m.hold_ms,
        "{m:?}"
    );
    server.stop().await;
}
