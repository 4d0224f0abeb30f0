//! Utterance-final → CRM-acknowledged latency and sync accuracy of the CRM
//! connector, with concurrent calls writing to a local CRM endpoint.
//!
//! Each call records one final utterance every `--interval-ms` (jittered)
//! for `--seconds`, then its summary, through the real connector: PII
//! masking, the SQLite outbox (fsync per commit by default), sink workers
//! and HTTP. The CRM is the Salesforce-contract server (`--sink
//! salesforce`, OAuth + sObject Collections upserts) or a Standard Webhooks
//! receiver (`--sink webhook`). Latency runs from the moment the utterance
//! is handed to the connector to the CRM storing the record (its
//! `CreatedDate`, or the webhook's arrival). `--outage-s N` takes the CRM
//! down for N seconds in the middle of the run.
//!
//! `cargo bench --bench connect_latency -- --calls 8 --seconds 30`

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use callsense::connect::{CallIdentity, ConnectConfig, Connector, Mode};
use callsense::testkit::salesforce::{datetime_ms, DoubleConfig, ObjectSchema, SalesforceDouble};
use callsense::testkit::webhook::WebhookReceiver;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

struct Args {
    calls: usize,
    seconds: u64,
    interval_ms: u64,
    sink: String,
    crm_latency_ms: u64,
    outage_s: u64,
    synchronous: String,
}

fn parse_args() -> Args {
    let mut a = Args {
        calls: 8,
        seconds: 30,
        interval_ms: 500,
        sink: "salesforce".into(),
        crm_latency_ms: 0,
        outage_s: 0,
        synchronous: "full".into(),
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut it = argv.iter();
    while let Some(k) = it.next() {
        let mut v = || it.next().cloned().unwrap_or_default();
        match k.as_str() {
            "--calls" => a.calls = v().parse().expect("--calls N"),
            "--seconds" => a.seconds = v().parse().expect("--seconds N"),
            "--interval-ms" => a.interval_ms = v().parse().expect("--interval-ms N"),
            "--sink" => a.sink = v(),
            "--crm-latency-ms" => a.crm_latency_ms = v().parse().expect("--crm-latency-ms N"),
            "--outage-s" => a.outage_s = v().parse().expect("--outage-s N"),
            "--synchronous" => a.synchronous = v(),
            "--bench" => {}
            other => panic!("unknown option {other}"),
        }
    }
    assert!(
        a.sink == "salesforce" || a.sink == "webhook",
        "--sink salesforce|webhook"
    );
    a
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn fields_toml(prefix: &str) -> String {
    format!(
        r#"
[{prefix}.records.utterance]
object = "Callsense_Utterance__c"
external_id_field = "Callsense_Key__c"
[{prefix}.records.utterance.fields]
Call_Id__c = "call_id"
Sentiment__c = "sentiment.label"
Intent__c = "intent.label"
Occurred_Ms__c = "occurred_at_ms"
[{prefix}.records.call_summary]
object = "Callsense_Call__c"
external_id_field = "Callsense_Key__c"
[{prefix}.records.call_summary.fields]
Call_Id__c = "call_id"
Top_Intent__c = "top_intent"
Occurred_Ms__c = "occurred_at_ms"
"#
    )
}

fn main() {
    let args = parse_args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run(args));
}

async fn run(a: Args) {
    let dir = tempfile::tempdir().unwrap();
    let set = |f: &[&str]| f.iter().map(|s| s.to_string()).collect();
    let mut sf = None;
    let mut hooks = None;
    let sink_toml = if a.sink == "salesforce" {
        let double = SalesforceDouble::start(DoubleConfig {
            client_id: "bench".into(),
            client_secret: "bench-secret".into(),
            objects: [
                (
                    "Callsense_Utterance__c".to_string(),
                    ObjectSchema {
                        fields: set(&[
                            "Callsense_Key__c",
                            "Call_Id__c",
                            "Sentiment__c",
                            "Intent__c",
                            "Occurred_Ms__c",
                        ]),
                        external_id_fields: set(&["Callsense_Key__c"]),
                    },
                ),
                (
                    "Callsense_Call__c".to_string(),
                    ObjectSchema {
                        fields: set(&[
                            "Callsense_Key__c",
                            "Call_Id__c",
                            "Top_Intent__c",
                            "Occurred_Ms__c",
                        ]),
                        external_id_fields: set(&["Callsense_Key__c"]),
                    },
                ),
            ]
            .into_iter()
            .collect(),
        })
        .await
        .unwrap();
        double.set_latency(Duration::from_millis(a.crm_latency_ms));
        let t = format!(
            "[[sinks]]\nname = \"crm\"\nmax_batch = 50\nworkers = 2\n[sinks.salesforce]\nlogin_url = \"{}\"\nclient_id = \"bench\"\nclient_secret = \"bench-secret\"\n{}",
            double.base_url(),
            fields_toml("sinks")
        );
        sf = Some(double);
        t
    } else {
        let r = WebhookReceiver::start(&[SECRET]).await.unwrap();
        r.set_latency(Duration::from_millis(a.crm_latency_ms));
        let t = format!(
            "[[sinks]]\nname = \"crm\"\nworkers = 4\n[sinks.webhook]\nurl = \"{}\"\nsecrets = [\"{SECRET}\"]\n{}",
            r.url("/events"),
            fields_toml("sinks")
        );
        hooks = Some(Arc::new(r));
        t
    };
    let config: ConnectConfig = toml::from_str(&format!(
        "[outbox]\npath = {:?}\nsynchronous = \"{}\"\npoll_interval_ms = 100\n[retry]\ninitial_backoff_ms = 100\nmax_backoff_ms = 2000\n{sink_toml}",
        dir.path().join("outbox.sqlite"),
        a.synchronous
    ))
    .unwrap();
    config.validate().unwrap();
    let connector = Connector::start(
        &config,
        Mode::Engine,
        &callsense::telemetry::Telemetry::default(),
    )
    .await
    .unwrap()
    .unwrap();

    println!(
        "connect_latency: {} calls, one utterance per ~{} ms each for {} s, sink {}, CRM latency {} ms, outbox synchronous={}, outage {} s",
        a.calls, a.interval_ms, a.seconds, a.sink, a.crm_latency_ms, a.synchronous, a.outage_s
    );
    if a.outage_s > 0 {
        let (sf, hooks) = (sf.clone(), hooks.clone());
        let outage = a.outage_s;
        let begin = a.seconds.saturating_sub(outage) / 2;
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(begin)).await;
            let set = |down: bool| {
                if let Some(s) = &sf {
                    s.set_unavailable(down);
                }
                if let Some(h) = &hooks {
                    h.set_down(down.then_some(503), Some(1));
                }
            };
            set(true);
            tokio::time::sleep(Duration::from_secs(outage)).await;
            set(false);
        });
    }
    let mut tasks = Vec::new();
    for call in 0..a.calls {
        let c = Arc::clone(&connector);
        let (seconds, interval) = (a.seconds, a.interval_ms);
        tasks.push(tokio::spawn(async move {
            let id = format!("bench-{call}");
            let ctx = CallIdentity {
                call_id: id.clone(),
                tenant: "bench".into(),
                customer_id: format!("cust-{call}"),
                callback_url: None,
            };
            let mut append_ms = Vec::new();
            let end = Instant::now() + Duration::from_secs(seconds);
            let mut seq = 0;
            // Stagger the calls.
            tokio::time::sleep(Duration::from_millis(interval * call as u64 / 8)).await;
            while Instant::now() < end {
                seq += 1;
                let r = callsense::testkit::sample_utterance(
                    &id,
                    seq,
                    "i want to cancel my account my card is 4532 0151 1283 0366",
                );
                let t = Instant::now();
                c.record_utterance(&ctx, &r).await.expect("outbox append");
                append_ms.push(t.elapsed().as_secs_f64() * 1000.0);
                let jitter = (seq as u64 * 7919 + call as u64 * 104_729) % (interval / 2 + 1);
                tokio::time::sleep(Duration::from_millis(interval / 2 + jitter)).await;
            }
            let summary = callsense::proto::CallSummary {
                call_id: id.clone(),
                utterances: seq,
                ..Default::default()
            };
            c.record_summary(&ctx, &summary, None)
                .await
                .expect("outbox append");
            (seq as usize + 1, append_ms)
        }));
    }
    let mut emitted = 0;
    let mut append_ms = Vec::new();
    for t in tasks {
        let (n, a_ms) = t.await.unwrap();
        emitted += n;
        append_ms.extend(a_ms);
    }
    // Wait for the backlog to drain (bounded).
    let drain_start = Instant::now();
    while connector.outbox().unwrap().pending() > 0
        && drain_start.elapsed() < Duration::from_secs(60)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let drained_after = drain_start.elapsed();

    // (key → stored-at ms, occurred ms) as the CRM saw them.
    let mut stored: HashMap<String, Vec<(u64, u64)>> = HashMap::new();
    if let Some(sf) = &sf {
        for object in ["Callsense_Utterance__c", "Callsense_Call__c"] {
            for r in sf.records(object) {
                let key = r["Callsense_Key__c"].as_str().unwrap_or("").to_string();
                let created = r
                    .get("CreatedDate")
                    .and_then(|v| v.as_str())
                    .and_then(datetime_ms)
                    .unwrap_or(0);
                let occurred = r
                    .get("Occurred_Ms__c")
                    .and_then(|v| v.as_u64())
                    .unwrap_or(0);
                stored.entry(key).or_default().push((created, occurred));
            }
        }
    }
    if let Some(h) = &hooks {
        for m in h.messages() {
            let occurred = m
                .data
                .get("Occurred_Ms__c")
                .and_then(|v| v.as_u64())
                .unwrap_or(0);
            stored
                .entry(m.id.clone())
                .or_default()
                .push((m.at_ms, occurred));
        }
    }
    let duplicates: usize = stored.values().map(|v| v.len().saturating_sub(1)).sum();
    let mut lat: Vec<f64> = stored
        .values()
        .map(|v| v[0].0.saturating_sub(v[0].1) as f64)
        .collect();
    lat.sort_by(f64::total_cmp);
    append_ms.sort_by(f64::total_cmp);
    let accuracy = stored.len() as f64 / emitted as f64 * 100.0;
    println!(
        "events emitted        {emitted} ({:.1} per second)",
        emitted as f64 / a.seconds as f64
    );
    println!(
        "records in the CRM    {} unique, {duplicates} duplicates; sync accuracy {accuracy:.2} %",
        stored.len()
    );
    println!(
        "dead letters          {}",
        connector
            .outbox()
            .unwrap()
            .dead_letters(1000, None)
            .await
            .unwrap()
            .len()
    );
    println!(
        "backlog drained       {:.1} s after the last event",
        drained_after.as_secs_f64()
    );
    println!(
        "final → CRM stored    p50 {:.1} ms  p90 {:.1} ms  p99 {:.1} ms  max {:.1} ms",
        pct(&lat, 0.5),
        pct(&lat, 0.9),
        pct(&lat, 0.99),
        pct(&lat, 1.0)
    );
    println!(
        "outbox append (ack)   p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        pct(&append_ms, 0.5),
        pct(&append_ms, 0.99),
        pct(&append_ms, 1.0)
    );
    if let Some(sf) = &sf {
        let s = sf.stats();
        println!(
            "CRM requests          {} ({} Collections, {} single upserts, {} tokens)",
            s.requests, s.collections_requests, s.upsert_requests, s.tokens_issued
        );
    }
    connector.shutdown(Duration::from_secs(2)).await;
}
