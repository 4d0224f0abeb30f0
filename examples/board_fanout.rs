//! The supervisor board's fan-out under load: N live calls publishing
//! finals, measures and alerts into the board's hub while V viewers read
//! the Server-Sent Events over real HTTP; prints event-to-viewer latency
//! percentiles, lagged resyncs and the CPU the publishing and serving took.
//!
//! ```text
//! cargo run --release --example board_fanout -- [--calls 50] [--viewers 10] [--seconds 20] [--turn-ms 3000] [--browsers 0 --start-after-ms 0]
//! ```
//! `--browsers B` leaves room for B more viewers (real browsers:
//! `tests/browser/fanout.mjs` opens them) and prints the board's address
//! first; `--start-after-ms` gives them time to connect. Each turn's text
//! ends with `sent=<epoch ms>` so a browser can time it too.
//! Each call sends a final every `turn-ms` (± 50 %), each followed by its
//! `CallMetrics`, and an alert every tenth final; the viewers are one
//! tenant's supervisors (every call is theirs), so each event reaches every
//! viewer. Latency: from publishing a final to a viewer parsing its `turn`
//! event.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use callsense::analytics::{AnalyticsConfig, ConversationMeter, Turn};
use callsense::board::{Board, SupervisorConfig, UiConfig};
use callsense::connect::CallIdentity;
use callsense::proto::{CallAccepted, RuleAlert, Sentiment, SpeakerRole, UtteranceResult};
use futures::StreamExt;
use sha2::Digest;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// User and system CPU seconds of this process (Linux).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

type Sent = Arc<Mutex<HashMap<(String, u32), Instant>>>;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (calls, viewers, seconds, turn_ms) = (
        arg("--calls", 50) as usize,
        arg("--viewers", 10) as usize,
        arg("--seconds", 20),
        arg("--turn-ms", 3000),
    );
    let (browsers, start_after_ms) = (arg("--browsers", 0) as usize, arg("--start-after-ms", 0));
    let password = "fanout";
    let ui = UiConfig {
        listen: Some("127.0.0.1:0".into()),
        supervisors: vec![SupervisorConfig {
            name: "sup".into(),
            tenant: "acme".into(),
            password_sha256: hex::encode(sha2::Sha256::digest(password)),
        }],
        max_viewers: (viewers + browsers).max(1),
        ..Default::default()
    };
    let board = Arc::new(Board::new(ui));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    println!("board at http://{addr}/ (user sup, password {password})");
    let stop = tokio_util::sync::CancellationToken::new();
    let auth = callsense::auth::Auth::new(
        &callsense::config::Config::default(),
        &callsense::telemetry::Telemetry::default(),
    )
    .map_err(anyhow::Error::msg)?;
    tokio::spawn(callsense::board::serve(
        Arc::clone(&board),
        auth,
        listener,
        None,
        stop.clone(),
    ));

    let sent: Sent = Arc::default();
    let latencies: Arc<Mutex<Vec<f64>>> = Arc::default();
    let snapshots = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut readers = Vec::new();
    for _ in 0..viewers {
        let resp = reqwest::Client::new()
            .get(format!("http://{addr}/api/events"))
            .basic_auth("sup", Some(password))
            .send()
            .await?;
        anyhow::ensure!(resp.status() == 200, "viewer refused: {}", resp.status());
        let (sent, latencies, snapshots) = (
            Arc::clone(&sent),
            Arc::clone(&latencies),
            Arc::clone(&snapshots),
        );
        readers.push(tokio::spawn(async move {
            let mut body = resp.bytes_stream();
            let mut buf = String::new();
            while let Some(Ok(chunk)) = body.next().await {
                buf.push_str(&String::from_utf8_lossy(&chunk));
                for (name, data) in callsense::testkit::sse::take_events(&mut buf) {
                    if name == "snapshot" {
                        snapshots.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    if name != "turn" {
                        continue;
                    }
                    let v: serde_json::Value = serde_json::from_str(&data).unwrap_or_default();
                    let key = (
                        v["call_id"].as_str().unwrap_or("").to_string(),
                        v["turn"]["seq"].as_u64().unwrap_or(0) as u32,
                    );
                    let at = sent.lock().unwrap().get(&key).copied();
                    if let Some(at) = at {
                        latencies
                            .lock()
                            .unwrap()
                            .push(at.elapsed().as_secs_f64() * 1000.0);
                    }
                }
            }
        }));
    }

    tokio::time::sleep(Duration::from_millis(start_after_ms)).await;
    let cpu0 = cpu_seconds();
    let started = Instant::now();
    let mut callers = Vec::new();
    for c in 0..calls {
        let (board, sent) = (Arc::clone(&board), Arc::clone(&sent));
        callers.push(tokio::spawn(async move {
            let id = CallIdentity {
                call_id: format!("call-{c}"),
                tenant: "acme".into(),
                ..Default::default()
            };
            board.call_started(
                &id,
                &CallAccepted::default(),
                vec!["agent", "customer"],
                &format!("agent-{c}"),
            );
            let mut meter = ConversationMeter::new(
                id.call_id.clone(),
                vec![SpeakerRole::Agent, SpeakerRole::Customer],
                AnalyticsConfig::default(),
            );
            let mut seq = 0u32;
            let mut at_ms = 0u32;
            let deadline = started + Duration::from_secs(seconds);
            // Spread the calls' turns over the first turn interval.
            tokio::time::sleep(Duration::from_millis(
                turn_ms * c as u64 / calls.max(1) as u64,
            ))
            .await;
            while Instant::now() < deadline {
                seq += 1;
                let wait = turn_ms / 2 + (u64::from(seq) * 7919 + c as u64 * 104_729) % turn_ms;
                let r = UtteranceResult {
                    call_id: id.call_id.clone(),
                    seq,
                    channel: seq % 2,
                    role: if seq.is_multiple_of(2) {
                        SpeakerRole::Agent
                    } else {
                        SpeakerRole::Customer
                    } as i32,
                    start_ms: at_ms,
                    end_ms: at_ms + wait as u32 - 400,
                    is_final: true,
                    transcript: format!(
                        "I have been waiting for my refund for three weeks now sent={}",
                        std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map_or(0, |d| d.as_millis())
                    ),
                    sentiment: Some(Sentiment {
                        score: -0.4,
                        ..Default::default()
                    }),
                    ..Default::default()
                };
                at_ms += wait as u32;
                meter.add_turn(Turn::from_result(&r, -20.0));
                sent.lock()
                    .unwrap()
                    .insert((id.call_id.clone(), seq), Instant::now());
                board.turn(&id, &r, &r.transcript);
                if seq.is_multiple_of(10) {
                    board.alert(
                        &id,
                        &RuleAlert {
                            rule: "angry".into(),
                            seq,
                            ..Default::default()
                        },
                    );
                }
                board.metrics(&id, &meter.snapshot(64));
                tokio::time::sleep(Duration::from_millis(wait)).await;
            }
            board.ended(&id, "completed");
            seq
        }));
    }
    let mut finals = 0u64;
    for c in callers {
        finals += u64::from(c.await?);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let cpu = cpu_seconds() - cpu0;
    let wall = started.elapsed().as_secs_f64();
    stop.cancel();
    for r in readers {
        let _ = tokio::time::timeout(Duration::from_secs(2), r).await;
    }
    let mut l = latencies.lock().unwrap().clone();
    l.sort_by(f64::total_cmp);
    let q = |p: f64| {
        l.get(((l.len() as f64 * p) as usize).min(l.len().saturating_sub(1)))
            .copied()
            .unwrap_or(f64::NAN)
    };
    println!(
        "board fan-out: {calls} calls × {viewers} viewers, {seconds} s, {finals} finals ({:.1}/s) → {} turn events received of {} sent",
        finals as f64 / wall,
        l.len(),
        finals * viewers as u64
    );
    println!(
        "event → viewer latency: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms; lagged-viewer snapshots {}",
        q(0.5),
        q(0.95),
        q(0.99),
        l.last().copied().unwrap_or(f64::NAN),
        snapshots.load(std::sync::atomic::Ordering::Relaxed).saturating_sub(viewers)
    );
    println!(
        "CPU (publishing, serving and the viewers' parsing together): {:.2} s over {wall:.1} s = {:.1} % of one core",
        cpu,
        cpu / wall * 100.0
    );
    Ok(())
}
