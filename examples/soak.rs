//! Soak: N concurrent real-time calls for M minutes against the release
//! server (started here as a child process with a CRM webhook sink), the
//! CRM flapping (down with 503 for `--flap-s`, up for as long, again and
//! again), and every 10 s the server's resident memory, threads, open
//! files, outbox file size and pending deliveries, and the calls' turn end
//! → final latency, written to `OUT/soak.csv` (`scripts/soak.sh` plots it).
//!
//! Passes when, over the second half (after warm-up), resident memory,
//! threads, open files and the outbox do not grow (least-squares slope
//! within bounds), every delivery arrives once the CRM stays up, and every
//! call completed.
//!
//! cargo run --release --example soak -- --calls 2 --minutes 60 --out benches/soak

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;

use callsense::proto::stream_call_response::StreamingResponse;
use callsense::proto::{AudioEncoding, CallConfig, SpeakerRole};
use callsense::testkit::proc::sample;
use callsense::testkit::webhook::WebhookReceiver;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn arg<T: std::str::FromStr>(name: &str, default: T) -> T {
    let mut it = std::env::args();
    while let Some(a) = it.next() {
        if a == name {
            if let Some(v) = it.next().and_then(|v| v.parse().ok()) {
                return v;
            }
        }
    }
    default
}

fn config(out: &Path, port: u16, metrics: u16, hooks: &WebhookReceiver, model: &str) -> String {
    format!(
        r#"[asr]
model = "{model}"
[server]
listen = "127.0.0.1:{port}"
metrics_listen = "127.0.0.1:{metrics}"
[connect.outbox]
path = "{outbox}"
poll_interval_ms = 250
[connect.retry]
initial_backoff_ms = 200
max_backoff_ms = 5000
[[connect.sinks]]
name = "crm"
[connect.sinks.webhook]
url = "{url}"
secrets = ["{SECRET}"]
[connect.sinks.records.utterance.fields]
call_id = "call_id"
seq = "seq"
transcript = "transcript"
sentiment = "sentiment.label"
[connect.sinks.records.call_summary.fields]
call_id = "call_id"
utterances = "utterances"
"#,
        outbox = out.join("outbox.sqlite").display(),
        url = hooks.url("/crm"),
    )
}

/// One value of the server's Prometheus text.
async fn gauge(metrics: u16, name: &str) -> Option<f64> {
    let text = reqwest::get(format!("http://127.0.0.1:{metrics}/metrics"))
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

fn file_size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

/// Least-squares slope of `ys` over `xs` (units per x unit).
fn slope(xs: &[f64], ys: &[f64]) -> f64 {
    let n = xs.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
    let cov: f64 = xs.iter().zip(ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let var: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    if var == 0.0 {
        0.0
    } else {
        cov / var
    }
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let calls: usize = arg("--calls", 2);
    let minutes: f64 = arg("--minutes", 60.0);
    let flap_s: u64 = arg("--flap-s", 30);
    let out: PathBuf = arg("--out", PathBuf::from("benches/soak"));
    let clip_path: PathBuf = arg("--clip", PathBuf::from("tests/fixtures/asr_call.wav"));
    let port: u16 = arg("--port", 50081);
    let metrics: u16 = arg("--metrics-port", 50082);
    // "auto": the engine's own choice (Whisper base when set up).
    let model: String = arg("--model", "auto".to_string());
    std::fs::create_dir_all(&out)?;
    let run_dir = tempfile::tempdir()?;
    let clip = callsense::audio::AudioClip::read(&clip_path)?.resampled(8000)?;
    let hooks = Arc::new(WebhookReceiver::start(&[SECRET]).await?);
    let cfg_path = run_dir.path().join("soak.toml");
    std::fs::write(
        &cfg_path,
        config(run_dir.path(), port, metrics, &hooks, &model),
    )?;
    let mut server = std::process::Command::new("target/release/callsense")
        .args(["serve", "--config"])
        .arg(&cfg_path)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(run_dir.path().join("serve.log"))?)
        .spawn()?;
    let pid = server.id();
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let channel = loop {
        if let Ok(c) = tonic::transport::Channel::from_shared(url.clone())?
            .connect()
            .await
        {
            // Wait for the models too: a call is accepted.
            if gauge(metrics, "callsense_calls_active").await.is_some() {
                break c;
            }
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(120),
            "the server did not start"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    println!(
        "soak: {calls} real-time calls of {} ({:.0} s each) for {minutes} min, CRM down/up every {flap_s} s, model {model}; server pid {pid}",
        clip_path.display(),
        clip.seconds()
    );
    let stop = Arc::new(AtomicBool::new(false));
    let latencies = Arc::new(parking_lot::Mutex::new(Vec::<f64>::new()));
    let (completed, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut tasks = Vec::new();
    for slot in 0..calls {
        let (stop, latencies, completed, failed, channel, clip) = (
            Arc::clone(&stop),
            Arc::clone(&latencies),
            Arc::clone(&completed),
            Arc::clone(&failed),
            channel.clone(),
            clip.clone(),
        );
        tasks.push(tokio::spawn(async move {
            // Stagger the slots so their turns do not line up.
            tokio::time::sleep(Duration::from_millis(1700 * slot as u64)).await;
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let cfg = CallConfig {
                    call_id: format!("soak-{slot}-{n}"),
                    tenant: "soak".into(),
                    encoding: AudioEncoding::Mulaw as i32,
                    sample_rate_hz: 8000,
                    audio_channel_count: clip.channels.len() as i32,
                    channel_roles: vec![SpeakerRole::Agent as i32, SpeakerRole::Customer as i32]
                        [..clip.channels.len()]
                        .to_vec(),
                    language_code: "en".into(),
                    ..Default::default()
                };
                n += 1;
                let reqs =
                    callsense::cli::stream::requests_for_clip(&clip, cfg, AudioEncoding::Mulaw, 20);
                let rx = callsense::cli::stream::send_paced(reqs, Some(Duration::from_millis(20)));
                let mut client =
                    callsense::proto::call_sense_client::CallSenseClient::new(channel.clone());
                let result = async {
                    let mut s = client
                        .stream_call(tokio_stream::wrappers::ReceiverStream::new(rx))
                        .await?
                        .into_inner();
                    while let Some(r) = s.next().await {
                        if let Some(StreamingResponse::Result(u)) = r?.streaming_response {
                            if let (true, Some(t)) = (u.is_final, u.timings) {
                                latencies.lock().push(f64::from(t.end_of_speech_to_emit_ms));
                            }
                        }
                    }
                    Ok::<(), tonic::Status>(())
                }
                .await;
                match result {
                    Ok(()) => completed.fetch_add(1, Ordering::Relaxed),
                    Err(e) => {
                        eprintln!("call soak-{slot}-{}: {:?} {}", n - 1, e.code(), e.message());
                        failed.fetch_add(1, Ordering::Relaxed)
                    }
                };
            }
        }));
    }
    // The CRM flaps: down for flap_s, up for flap_s, … (up at the end).
    let flapper = {
        let (stop, hooks) = (Arc::clone(&stop), Arc::clone(&hooks));
        tokio::spawn(async move {
            let mut down = false;
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_secs(flap_s)).await;
                down = !down;
                hooks.set_down(down.then_some(503), None);
            }
            hooks.set_down(None, None);
        })
    };
    let csv_path = out.join("soak.csv");
    let mut csv = std::fs::File::create(&csv_path)?;
    writeln!(
        csv,
        "t_s,rss_mib,threads,open_files,outbox_mib,pending,delivered,calls_completed,p95_ms"
    )?;
    let end = Instant::now() + Duration::from_secs_f64(minutes * 60.0);
    let t0 = Instant::now();
    let mut rows: Vec<[f64; 5]> = Vec::new();
    let mut window: Vec<f64> = Vec::new();
    let mut p95_by_10min: Vec<f64> = Vec::new();
    loop {
        let s = sample(pid).ok_or_else(|| anyhow::anyhow!("the server died"))?;
        let outbox = file_size(&run_dir.path().join("outbox.sqlite"))
            + file_size(&run_dir.path().join("outbox.sqlite-wal"));
        let pending = gauge(metrics, "callsense_outbox_pending")
            .await
            .unwrap_or(f64::NAN);
        let fresh: Vec<f64> = std::mem::take(&mut *latencies.lock());
        window.extend(&fresh);
        let mut recent = fresh.clone();
        let t = t0.elapsed().as_secs_f64();
        writeln!(
            csv,
            "{t:.0},{:.1},{},{},{:.2},{pending},{},{},{:.0}",
            s.rss_kib as f64 / 1024.0,
            s.threads,
            s.open_files,
            outbox as f64 / (1 << 20) as f64,
            hooks.messages().len(),
            completed.load(Ordering::Relaxed),
            percentile(&mut recent, 0.95),
        )?;
        csv.flush()?;
        rows.push([
            t,
            s.rss_kib as f64,
            s.threads as f64,
            s.open_files as f64,
            outbox as f64,
        ]);
        if t >= 600.0 * (p95_by_10min.len() + 1) as f64 {
            p95_by_10min.push(percentile(&mut window, 0.95));
            window.clear();
        }
        if Instant::now() >= end {
            break;
        }
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let _ = flapper.await;
    // The CRM stays up: everything pending must leave.
    let drain = Instant::now();
    while gauge(metrics, "callsense_outbox_pending")
        .await
        .unwrap_or(1.0)
        > 0.0
        && drain.elapsed() < Duration::from_secs(120)
    {
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let pending_end = gauge(metrics, "callsense_outbox_pending")
        .await
        .unwrap_or(f64::NAN);
    if !window.is_empty() {
        p95_by_10min.push(percentile(&mut window, 0.95));
    }
    let _ = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status();
    let _ = server.wait();

    let half: Vec<&[f64; 5]> = rows
        .iter()
        .filter(|r| r[0] >= rows.last().map_or(0.0, |l| l[0]) / 2.0)
        .collect();
    let xs: Vec<f64> = half.iter().map(|r| r[0] / 3600.0).collect();
    let per_hour = |i: usize| slope(&xs, &half.iter().map(|r| r[i]).collect::<Vec<_>>());
    let (rss_h, thr_h, fd_h, ob_h) = (
        per_hour(1) / 1024.0,
        per_hour(2),
        per_hour(3),
        per_hour(4) / (1 << 20) as f64,
    );
    let first = rows.first().copied().unwrap_or_default();
    let last = rows.last().copied().unwrap_or_default();
    println!(
        "{:.0} min: {} calls completed, {} failed; turn end → final p95 per 10 min: {:?} ms",
        t0.elapsed().as_secs_f64() / 60.0,
        completed.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
        p95_by_10min.iter().map(|v| v.round()).collect::<Vec<_>>()
    );
    println!(
        "RSS {:.0} → {:.0} MiB (second half: {rss_h:+.1} MiB/h), threads {} → {} ({thr_h:+.1}/h), open files {} → {} ({fd_h:+.1}/h), outbox {:.1} → {:.1} MiB ({ob_h:+.2} MiB/h); pending after the CRM stayed up: {pending_end}; deliveries received: {}",
        first[1] / 1024.0, last[1] / 1024.0, first[2], last[2], first[3], last[3],
        first[4] / (1 << 20) as f64, last[4] / (1 << 20) as f64, hooks.messages().len()
    );
    println!("samples: {}", csv_path.display());
    let mut failures = Vec::new();
    if failed.load(Ordering::Relaxed) > 0 {
        failures.push("calls failed".to_string());
    }
    if rss_h > 20.0 {
        failures.push(format!("resident memory grows {rss_h:.1} MiB/h"));
    }
    if thr_h > 1.0 || fd_h > 2.0 {
        failures.push("threads or open files grow".into());
    }
    if pending_end != 0.0 {
        failures.push(format!("{pending_end} deliveries still pending"));
    }
    if failures.is_empty() {
        println!("PASS");
        Ok(())
    } else {
        anyhow::bail!("FAIL: {}", failures.join("; "))
    }
}
