//! The CRM connector end to end: the engine's results reach a Standard
//! Webhooks receiver and a Salesforce-contract server through the durable
//! outbox, exactly once, through faults (CRM down, expired tokens, rate
//! limits, a poison record, a 410, the engine killed with SIGKILL).

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use callsense::connect::Delivery;
use callsense::connect::Part;
use callsense::connect::Sink;
use std::sync::Arc;
use std::time::{Duration, Instant};

use callsense::connect::{CallIdentity, ConnectConfig, Connector, Event, Mode};
use callsense::proto::{SpeakerRole, UtteranceResult};
use callsense::telemetry::Telemetry;
use callsense::testkit::salesforce::{DoubleConfig, Fault, ObjectSchema, SalesforceDouble};
use callsense::testkit::webhook::WebhookReceiver;

use crate::common::*;

pub(crate) const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OLD_SECRET: &str = "whsec_c2VjcmV0LWtleS1vZi10aGUtb2xkLWdlbmVyYXRpb24=";

pub(crate) fn connect_config(dir: &Path, sinks_toml: &str) -> ConnectConfig {
    let text = format!(
        "[outbox]\npath = {:?}\npoll_interval_ms = 50\n[retry]\ninitial_backoff_ms = 50\nmax_backoff_ms = 400\n{sinks_toml}",
        dir.join("outbox.sqlite")
    );
    let c: ConnectConfig = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    c.validate().unwrap();
    c
}

pub(crate) fn webhook_sink(url: &str, secrets: &[&str]) -> String {
    format!(
        r#"
[[sinks]]
name = "hooks"
[sinks.webhook]
url = "{url}"
secrets = {secrets:?}
[sinks.records.utterance.fields]
call_id = "call_id"
seq = "seq"
role = "role"
transcript = "transcript"
sentiment = "sentiment.label"
score = "sentiment.score"
intent = "intent.label"
[sinks.records.call_summary.fields]
call_id = "call_id"
utterances = "utterances"
customer_sentiment = "customer_sentiment_label"
top_intent = "top_intent"
service_result = "service_result"
transfer_reason = "transfer_reason"
human_requested = "human_requested"
[sinks.records.action.fields]
rule = "rule"
action = "action"
seq = "seq"
value = "value"
subject = "subject"
due_at = "due_at"
"#
    )
}

/// Asserts that `call` wrote the same facts as `reference`: the same final
/// utterances (paired by role and start), each with the same sentiment and
/// intent, and the same words but for at most 2 word errors in any one
/// utterance. (Whisper may break a near-tie differently when the engine
/// batches the utterances differently: "today" / "to day".)
pub(crate) fn assert_same_facts(
    hooks: &callsense::testkit::webhook::WebhookReceiver,
    call: &str,
    reference: &str,
) {
    let facts = |id: &str| {
        let mut v: Vec<_> = hooks
            .messages()
            .into_iter()
            .filter(|m| m.kind == "utterance.final" && m.data["call_id"] == id)
            .map(|m| {
                let s = |k: &str| m.data[k].as_str().unwrap_or_default().to_string();
                (
                    (s("role"), m.data["start_ms"].as_u64().unwrap_or_default()),
                    [s("sentiment"), s("intent")],
                    s("transcript"),
                )
            })
            .collect();
        v.sort();
        v
    };
    let (got, want) = (facts(call), facts(reference));
    assert!(want.len() >= 10, "{reference}: {want:?}");
    assert_eq!(
        got.iter().map(|f| &f.0).collect::<Vec<_>>(),
        want.iter().map(|f| &f.0).collect::<Vec<_>>(),
        "{call}: the same utterances (role, start) as {reference}"
    );
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(
            g.1, w.1,
            "{call}: sentiment and intent of {:?} vs {:?}",
            g.2, w.2
        );
        let (errors, _) = callsense::testkit::word_errors(&w.2, &g.2);
        assert!(errors <= 2, "{call}: {:?} vs {:?}", g.2, w.2);
    }
}

/// Waits until every call in `ids` has its summary written.
pub(crate) async fn wait_for_summaries(
    hooks: &callsense::testkit::webhook::WebhookReceiver,
    ids: &[&str],
) {
    wait_until("the calls' summaries", Duration::from_secs(30), || {
        let msgs = hooks.messages();
        ids.iter().all(|id| {
            msgs.iter()
                .any(|m| m.kind == "call.summary" && m.data["call_id"] == *id)
        })
    })
    .await;
}

pub(crate) async fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn disposition(result: &str, transfer: &str) -> callsense::proto::StreamCallRequest {
    callsense::proto::StreamCallRequest {
        streaming_request: Some(
            callsense::proto::stream_call_request::StreamingRequest::Disposition(
                callsense::proto::CallDisposition {
                    service_result: result.into(),
                    transfer_reason: transfer.into(),
                    agent_id: "agent-7".into(),
                    tags: vec!["billing".into()],
                },
            ),
        ),
    }
}

fn utterance(call_id: &str, seq: u32, text: &str) -> UtteranceResult {
    callsense::testkit::sample_utterance(call_id, seq, text)
}

fn ctx(call_id: &str) -> CallIdentity {
    CallIdentity {
        call_id: call_id.into(),
        tenant: "acme".into(),
        customer_id: "cust-1".into(),
        callback_url: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_final_utterance_and_the_summary_reach_a_signed_webhook_once() {
    let hooks = WebhookReceiver::start(&[SECRET]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config();
    config.connect = connect_config(
        dir.path(),
        &webhook_sink(&hooks.url("/crm/{tenant}"), &[SECRET]),
    );
    let masking = config.connect.privacy.masking.clone();
    let server = TestServer::start(config).await;
    let mut reqs = mulaw_requests(&demo_call(), "hook-call");
    reqs.push(disposition("resolved", "asked for a supervisor"));
    let responses = call(&mut server.client().await, reqs).await.unwrap();
    let finals = finals(&responses);
    assert!(finals.len() >= 10);
    wait_until(
        "every event at the webhook",
        Duration::from_secs(20),
        || hooks.messages().len() > finals.len(),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await; // nothing more should arrive
    let msgs = hooks.messages();
    assert_eq!(
        msgs.len(),
        finals.len() + 1,
        "one message per final utterance plus the summary"
    );
    assert_eq!(hooks.duplicates(), 0);
    assert_eq!(hooks.rejected_signatures(), 0);
    let by_id: HashMap<_, _> = msgs.iter().map(|m| (m.id.as_str(), m)).collect();
    // The stream gets what was heard; what leaves for the CRM is masked
    // (the demo call's customer reads out a phone number).
    let masker = callsense::pii::Masker::new(&masking);
    for r in &finals {
        let m = by_id[format!("hook-call:{}:utterance", r.seq).as_str()];
        assert_eq!(m.kind, "utterance.final");
        assert_eq!(m.path, "/crm/test", "{{tenant}} filled from the call");
        assert_eq!(m.data["seq"], r.seq);
        assert_eq!(
            m.data["transcript"],
            masker.mask(&r.transcript).text.as_str()
        );
        assert_eq!(m.data["intent"], r.intent.as_ref().unwrap().label.as_str());
        let role = if r.role == SpeakerRole::Agent as i32 {
            "agent"
        } else {
            "customer"
        };
        assert_eq!(m.data["role"], role);
        assert_eq!(
            m.data.as_object().unwrap().len(),
            7,
            "only configured fields leave: {}",
            m.data
        );
    }
    let s = by_id["hook-call:0:call_summary"];
    assert_eq!(s.kind, "call.summary");
    assert_eq!(s.data["utterances"], summary(&responses).utterances);
    assert_eq!(
        s.data["service_result"], "resolved",
        "the platform's disposition is written back"
    );
    assert_eq!(s.data["transfer_reason"], "asked for a supervisor");
    let metrics = server.engine.render_metrics();
    assert!(
        metrics.contains(&format!(
            "callsense_connect_delivered_total{{sink=\"hooks\"}} {}",
            finals.len() + 1
        )),
        "{metrics}"
    );
    assert!(metrics.contains("callsense_outbox_pending 0"), "{metrics}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_outage_retries_rotation_poison_and_gone_endpoint() {
    // The receiver knows only the new key; the sink signs with old and new.
    let hooks = WebhookReceiver::start(&[SECRET]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = connect_config(
        dir.path(),
        &webhook_sink(&hooks.url("/h"), &[OLD_SECRET, SECRET]),
    );
    let c = Connector::start(&config, Mode::Engine, &Telemetry::default())
        .await
        .unwrap()
        .unwrap();

    hooks.set_down(Some(503), Some(1));
    for seq in 1..=5 {
        c.record_utterance(&ctx("down"), &utterance("down", seq, "it broke again"))
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(hooks.messages().is_empty());
    assert_eq!(
        c.outbox().unwrap().pending(),
        5,
        "kept while the endpoint is down"
    );
    hooks.set_down(None, None);
    wait_until("5 messages after recovery", Duration::from_secs(10), || {
        hooks.messages().len() == 5
    })
    .await;
    assert_eq!(hooks.duplicates(), 0);

    // A 400 is not retried: dead letter, and the next event still flows.
    hooks.fail_next(1, 400, None);
    c.record_utterance(&ctx("poison"), &utterance("poison", 1, "x"))
        .await
        .unwrap();
    c.record_utterance(&ctx("poison"), &utterance("poison", 2, "y"))
        .await
        .unwrap();
    wait_until(
        "the event after the poison one",
        Duration::from_secs(10),
        || hooks.messages().len() == 6,
    )
    .await;
    let dead = c.outbox().unwrap().dead_letters(10, None).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert!(dead[0].reason.contains("HTTP 400"), "{}", dead[0].reason);
    // Two workers: either event may have drawn the 400; the other one arrived.
    let other = if dead[0].event_key == "poison:1:utterance" {
        "poison:2:utterance"
    } else {
        "poison:1:utterance"
    };
    assert!(
        dead[0].event_key.starts_with("poison:"),
        "{}",
        dead[0].event_key
    );
    assert!(
        hooks.messages().iter().any(|m| m.id == other),
        "the other event flowed"
    );

    // 410 disables the sink; the event stays pending until re-enabled.
    hooks.set_down(Some(410), None);
    c.record_utterance(&ctx("gone"), &utterance("gone", 1, "z"))
        .await
        .unwrap();
    wait_until("the sink disabled", Duration::from_secs(10), || {
        futures::executor::block_on(c.outbox().unwrap().counts(None))
            .unwrap()
            .get("hooks")
            .is_some_and(|s| s.disabled.is_some())
    })
    .await;
    hooks.set_down(None, None);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        hooks.messages().len(),
        6,
        "nothing is sent to a disabled sink"
    );
    assert_eq!(
        c.outbox()
            .unwrap()
            .enable("hooks", false, None)
            .await
            .unwrap(),
        0
    );
    wait_until(
        "the held event after re-enabling",
        Duration::from_secs(10),
        || hooks.messages().len() == 7,
    )
    .await;
    assert_eq!(hooks.duplicates(), 0);
    c.shutdown(Duration::from_secs(2)).await;
}

fn salesforce_double_config() -> DoubleConfig {
    let fields = |f: &[&str]| f.iter().map(|s| s.to_string()).collect();
    DoubleConfig {
        client_id: "cs-client".into(),
        client_secret: "cs-secret".into(),
        objects: [
            (
                "Callsense_Utterance__c".to_string(),
                ObjectSchema {
                    fields: fields(&[
                        "Callsense_Key__c",
                        "Call_Id__c",
                        "Seq__c",
                        "Sentiment__c",
                        "Score__c",
                        "Intent__c",
                        "Transcript__c",
                    ]),
                    external_id_fields: fields(&["Callsense_Key__c"]),
                },
            ),
            (
                "Callsense_Call__c".to_string(),
                ObjectSchema {
                    fields: fields(&[
                        "Callsense_Key__c",
                        "Call_Id__c",
                        "Customer_Sentiment__c",
                        "Top_Intent__c",
                    ]),
                    external_id_fields: fields(&["Callsense_Key__c"]),
                },
            ),
        ]
        .into_iter()
        .collect(),
    }
}

fn salesforce_sink(login_url: &str, max_batch: usize) -> String {
    format!(
        r#"
[[sinks]]
name = "salesforce"
max_batch = {max_batch}
workers = 2
[sinks.salesforce]
login_url = "{login_url}"
api_version = "v61.0"
client_id = "cs-client"
client_secret = "env:CALLSENSE_TEST_SF_SECRET"
[sinks.records.utterance]
object = "Callsense_Utterance__c"
external_id_field = "Callsense_Key__c"
[sinks.records.utterance.fields]
Call_Id__c = "call_id"
Seq__c = "seq"
Sentiment__c = {{ from = "sentiment.label", map = {{ negative = "Negative", neutral = "Neutral", positive = "Positive" }} }}
Score__c = "sentiment.score"
Intent__c = "intent.label"
Transcript__c = {{ from = "transcript", sync = "batch" }}
[sinks.records.call_summary]
object = "Callsense_Call__c"
external_id_field = "Callsense_Key__c"
[sinks.records.call_summary.fields]
Call_Id__c = "call_id"
Customer_Sentiment__c = "customer_sentiment_label"
Top_Intent__c = "top_intent"
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn salesforce_upserts_exactly_once_through_outage_token_expiry_limits_and_a_duplicate_key() {
    std::env::set_var("CALLSENSE_TEST_SF_SECRET", "cs-secret");
    let sf = SalesforceDouble::start(salesforce_double_config())
        .await
        .unwrap();
    // Two records already share this key: its upsert must be dead-lettered (300 / DUPLICATE_EXTERNAL_ID).
    for _ in 0..2 {
        let rec =
            serde_json::json!({"Callsense_Key__c": "call-3:4:utterance", "Call_Id__c": "old"});
        sf.insert_record("Callsense_Utterance__c", rec.as_object().unwrap().clone());
    }
    let dir = tempfile::tempdir().unwrap();
    let config = connect_config(dir.path(), &salesforce_sink(&sf.base_url(), 20));
    let c = Connector::start(&config, Mode::Engine, &Telemetry::default())
        .await
        .unwrap()
        .unwrap();

    // One event while the CRM is up (the sink gets a token).
    c.record_utterance(&ctx("warm"), &utterance("warm", 1, "hello"))
        .await
        .unwrap();
    wait_until("the first record", Duration::from_secs(10), || {
        sf.records("Callsense_Utterance__c").len() == 3
    })
    .await;
    // The CRM is down while 8 calls stream; then it comes back with a rate limit and expired tokens.
    sf.set_unavailable(true);
    let c2 = Arc::clone(&c);
    let producers: Vec<_> = (0..8)
        .map(|call| {
            let c = Arc::clone(&c2);
            tokio::spawn(async move {
                let id = format!("call-{call}");
                for seq in 1..=6 {
                    c.record_utterance(
                        &ctx(&id),
                        &utterance(&id, seq, "my card 4532015112830366 was charged twice"),
                    )
                    .await
                    .unwrap();
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
        })
        .collect();
    for p in producers {
        p.await.unwrap();
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        sf.records("Callsense_Utterance__c").len(),
        3,
        "nothing written while the CRM is down"
    );
    sf.set_unavailable(false);
    sf.expire_tokens();
    sf.fail_next(2, Fault::TooManyRequests { retry_after_s: 1 });
    sf.fail_next(1, Fault::RequestLimitExceeded);

    wait_until("47 more utterance records", Duration::from_secs(30), || {
        sf.records("Callsense_Utterance__c").len() == 3 + 47
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let records = sf.records("Callsense_Utterance__c");
    let keys: Vec<_> = records
        .iter()
        .filter_map(|r| r["Callsense_Key__c"].as_str())
        .collect();
    let unique: BTreeSet<_> = keys.iter().collect();
    assert_eq!(keys.len(), 50, "no duplicates created by retries");
    assert_eq!(unique.len(), 49);
    let r = sf
        .record_by(
            "Callsense_Utterance__c",
            "Callsense_Key__c",
            "call-5:2:utterance",
        )
        .expect("record");
    assert_eq!(r["Sentiment__c"], "Negative", "value map applied");
    assert_eq!(r["Intent__c"], "cancel_service");
    assert!(
        r.get("Transcript__c").is_none(),
        "batch fields wait for the hourly window"
    );
    let dead = c.outbox().unwrap().dead_letters(10, None).await.unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].event_key, "call-3:4:utterance");
    assert!(
        dead[0].reason.contains("DUPLICATE_EXTERNAL_ID") || dead[0].reason.contains("300"),
        "{}",
        dead[0].reason
    );
    let stats = sf.stats();
    assert!(
        stats.tokens_issued >= 2,
        "token refreshed after expiry: {stats:?}"
    );
    assert!(
        stats.collections_requests >= 1,
        "batched with sObject Collections: {stats:?}"
    );
    // Detail rows (the transcripts) are pending for the next hourly window, masked.
    let counts = c.outbox().unwrap().counts(None).await.unwrap();
    assert_eq!(counts["salesforce"].pending, 49);
    assert_eq!(counts["salesforce"].dead, 1);
    c.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transcripts_are_masked_before_they_are_persisted_or_sent() {
    let hooks = WebhookReceiver::start(&[SECRET]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = connect_config(dir.path(), &webhook_sink(&hooks.url("/h"), &[SECRET]));
    let c = Connector::start(&config, Mode::Engine, &Telemetry::default())
        .await
        .unwrap()
        .unwrap();
    let said =
        "my card is 4532 0151 1283 0366 and my phone 13812345678 email john.smith@example.com";
    c.record_utterance(&ctx("pii"), &utterance("pii", 1, said))
        .await
        .unwrap();
    wait_until("the message", Duration::from_secs(10), || {
        hooks.messages().len() == 1
    })
    .await;
    let sent = hooks.messages()[0].data["transcript"]
        .as_str()
        .unwrap()
        .to_string();
    for secret in [
        "4532 0151 1283 0366",
        "13812345678",
        "john.smith@example.com",
    ] {
        assert!(!sent.contains(secret), "{secret} leaked: {sent}");
    }
    assert!(
        sent.contains("0366"),
        "partial mask keeps the last four digits: {sent}"
    );
    c.shutdown(Duration::from_secs(2)).await;
    let db = std::fs::read(dir.path().join("outbox.sqlite")).unwrap();
    let wal = std::fs::read(dir.path().join("outbox.sqlite-wal")).unwrap_or_default();
    for bytes in [db, wal] {
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("4532 0151 1283 0366") && !text.contains("13812345678"),
            "unmasked PII persisted"
        );
    }
    // An event built directly is masked the same way.
    let e = Event::utterance(
        &ctx("x"),
        &utterance("x", 1, said),
        &c.masker().mask(said),
        false,
    );
    assert!(!e.data.to_string().contains("13812345678"));
}

const BIN: &str = env!("CARGO_BIN_EXE_callsense");

/// A server process, killed (SIGKILL) and reaped when dropped.
struct ServerProcess(Child);

impl ServerProcess {
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

fn spawn_server(config: &Path, addr: &str) -> ServerProcess {
    ServerProcess(
        Command::new(BIN)
            .args([
                "serve",
                "--config",
                config.to_str().unwrap(),
                "--listen",
                addr,
            ])
            .env("CALLSENSE_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

async fn connect_when_up(
    url: &str,
) -> callsense::proto::call_sense_client::CallSenseClient<tonic::transport::Channel> {
    let start = Instant::now();
    loop {
        if let Ok(mut c) =
            callsense::proto::call_sense_client::CallSenseClient::connect(url.to_string()).await
        {
            // Ready once AnalyzeText answers (models loaded).
            let req = callsense::proto::AnalyzeTextRequest {
                texts: vec![callsense::proto::TextInput {
                    text: "hi".into(),
                    language_code: "en".into(),
                }],
            };
            if c.analyze_text(req).await.is_ok() {
                return c;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "server did not come up"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_acknowledged_before_a_sigkill_are_delivered_after_restart() {
    let hooks = WebhookReceiver::start(&[SECRET]).await.unwrap();
    hooks.set_down(Some(503), Some(1)); // the CRM is down: everything waits in the outbox
    let dir = tempfile::tempdir().unwrap();
    let cfg_path = dir.path().join("callsense.toml");
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let sinks = webhook_sink(&hooks.url("/h"), &[SECRET])
        .replace("[[sinks]]", "[[connect.sinks]]")
        .replace("[sinks.", "[connect.sinks.");
    std::fs::write(
        &cfg_path,
        format!(
            "[asr]\nmodel = {:?}\nworkers = 2\n[connect.outbox]\npath = {:?}\npoll_interval_ms = 50\n[connect.retry]\ninitial_backoff_ms = 50\nmax_backoff_ms = 500\n{sinks}",
            std::fs::canonicalize(TEST_WHISPER).unwrap(),
            dir.path().join("outbox.sqlite")
        ),
    )
    .unwrap();
    let mut server = spawn_server(&cfg_path, &addr);
    let url = format!("http://{addr}");
    let mut client = connect_when_up(&url).await;

    // Stream the call and kill the engine once some results are acknowledged.
    let rx = callsense::cli::stream::send_paced(mulaw_requests(&demo_call(), "killed"), None);
    let mut stream = client
        .stream_call(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    let mut acked = Vec::new();
    while let Some(Ok(r)) = futures::StreamExt::next(&mut stream).await {
        if let Some(callsense::proto::stream_call_response::StreamingResponse::Result(u)) =
            r.streaming_response
        {
            if u.is_final {
                acked.push(format!("killed:{}:utterance", u.seq));
            }
        }
        if acked.len() >= 4 {
            server.kill(); // SIGKILL
            break;
        }
    }
    assert!(
        acked.len() >= 4,
        "the call produced results before the kill"
    );
    assert!(hooks.messages().is_empty());

    hooks.set_down(None, None);
    let _server = spawn_server(&cfg_path, &addr);
    wait_until(
        "every acknowledged event at the webhook",
        Duration::from_secs(60),
        || {
            let got: BTreeSet<_> = hooks.messages().into_iter().map(|m| m.id).collect();
            acked.iter().all(|k| got.contains(k))
        },
    )
    .await;
    assert_eq!(hooks.duplicates(), 0, "no event delivered twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_halves_of_an_event_in_one_batch_become_one_salesforce_record() {
    std::env::set_var("CALLSENSE_TEST_SF_SECRET", "cs-secret");
    let sf = SalesforceDouble::start(salesforce_double_config())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = connect_config(dir.path(), &salesforce_sink(&sf.base_url(), 20));
    let sink = Sink::build(&config.sinks[0]).unwrap();
    let masker = callsense::pii::Masker::new(&Default::default());
    let mut batch = Vec::new();
    for seq in 1..=3 {
        let event = Event::utterance(
            &ctx("both"),
            &utterance("both", seq, "it broke"),
            &masker.mask("it broke"),
            false,
        );
        for part in [Part::Core, Part::Detail] {
            batch.push(Delivery {
                id: batch.len() as i64,
                sink: "salesforce".into(),
                part,
                event: event.clone(),
                attempts: 0,
                created_ms: 0,
            });
        }
    }
    let outcomes = sink.deliver(&batch).await;
    assert!(
        outcomes
            .iter()
            .all(|o| *o == callsense::connect::Outcome::Delivered),
        "{outcomes:?}"
    );
    let records = sf.records("Callsense_Utterance__c");
    assert_eq!(records.len(), 3);
    assert!(
        records
            .iter()
            .all(|r| r["Transcript__c"] == "it broke" && r["Intent__c"] == "cancel_service"),
        "{records:?}"
    );
    assert_eq!(sf.stats().collections_requests, 1);
}

/// NATS JetStream on loopback (the CI machine runs one).
const NATS_URL: &str = "nats://127.0.0.1:4222";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engines_publish_to_jetstream_and_two_connector_processes_deliver_each_event_once() {
    let run = format!(
        "t{}_{}",
        std::process::id(),
        callsense::connect::now_ms() % 1_000_000
    );
    let broker = format!(
        "[broker]\nurl = \"{NATS_URL}\"\nstream = \"CALLSENSE_TEST_{run}\"\nsubject_prefix = \"callsense.test.{run}\"\nconsumer = \"relay-{run}\"\nfetch_batch = 4\nfetch_wait_ms = 200\nack_wait_s = 2\n"
    );
    let hooks = WebhookReceiver::start(&[SECRET]).await.unwrap();
    let engine_dir = tempfile::tempdir().unwrap();
    let engine_cfg = connect_config(engine_dir.path(), &broker);
    let engine = Connector::start(&engine_cfg, Mode::Engine, &Telemetry::default())
        .await
        .unwrap()
        .unwrap();
    assert!(
        engine.outbox().is_none(),
        "an engine with a broker keeps no outbox"
    );

    // Two engine nodes publish; one re-publishes keys it already sent (a retry after a lost ack).
    for call in 0..4 {
        for seq in 1..=10 {
            let id = format!("js-{call}");
            engine
                .record_utterance(&ctx(&id), &utterance(&id, seq, "please cancel"))
                .await
                .unwrap();
        }
    }
    for seq in 1..=5 {
        engine
            .record_utterance(&ctx("js-0"), &utterance("js-0", seq, "please cancel"))
            .await
            .unwrap();
    }

    // Two connector processes share the durable consumer.
    let mut relays = Vec::new();
    let mut dirs = Vec::new();
    for _ in 0..2 {
        let dir = tempfile::tempdir().unwrap();
        let cfg = connect_config(
            dir.path(),
            &format!("{broker}{}", webhook_sink(&hooks.url("/h"), &[SECRET])),
        );
        let telemetry = Telemetry::default();
        let c = Connector::start(&cfg, Mode::Relay, &telemetry)
            .await
            .unwrap()
            .unwrap();
        let (stop, stop_rx) = tokio::sync::watch::channel(false);
        let b = cfg.broker.clone().unwrap();
        let task = tokio::spawn({
            let c = Arc::clone(&c);
            async move { callsense::connect::relay(&b, c, stop_rx).await }
        });
        relays.push((c, stop, task, telemetry));
        dirs.push(dir);
    }
    wait_until("40 events at the webhook", Duration::from_secs(30), || {
        hooks.messages().len() >= 40
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ids: BTreeSet<_> = hooks.messages().into_iter().map(|m| m.id).collect();
    assert_eq!(
        ids.len(),
        40,
        "every event once; re-published keys de-duplicated by JetStream"
    );
    assert_eq!(hooks.duplicates(), 0);
    let recorded: Vec<u64> = relays
        .iter()
        .map(|(_, _, _, t)| metric(t, "callsense_connect_events_total"))
        .collect();
    assert_eq!(recorded.iter().sum::<u64>(), 40, "{recorded:?}");
    for (c, stop, task, _) in relays {
        let _ = stop.send(true);
        task.await.unwrap().unwrap();
        c.shutdown(Duration::from_secs(2)).await;
    }
    // Clean up the test's stream.
    let client = async_nats::connect(NATS_URL).await.unwrap();
    let _ = async_nats::jetstream::new(client)
        .delete_stream(format!("CALLSENSE_TEST_{run}"))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_raise_alerts_on_the_stream_and_write_their_actions_to_the_crm() {
    let hooks = WebhookReceiver::start(&[SECRET]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rules_path = dir.path().join("rules.toml");
    std::fs::write(
        &rules_path,
        r#"
[params]
min_utterances = 3

[[rule]]
name = "first-customer-turn"
when = 'utterance.role == "customer"'
actions = [
  { type = "tag", value = "called_in" },
  { type = "alert", message = "Customer is speaking", severity = "info" },
]

[[rule]]
name = "long-call-follow-up"
on = "call_end"
when = 'call.utterances >= params.min_utterances && call.service_result == "resolved"'
actions = [{ type = "task", subject = "Follow-up call", due_in_hours = 24 }]
"#,
    )
    .unwrap();
    let mut config = test_config();
    config.connect = connect_config(dir.path(), &webhook_sink(&hooks.url("/h"), &[SECRET]));
    config.connect.rules.file = Some(rules_path);
    let server = TestServer::start(config).await;
    let mut reqs = mulaw_requests(&demo_call(), "ruled");
    reqs.push(disposition("resolved", ""));
    let responses = call(&mut server.client().await, reqs).await.unwrap();
    use callsense::proto::stream_call_response::StreamingResponse as R;
    let alerts: Vec<(usize, callsense::proto::RuleAlert)> = responses
        .iter()
        .enumerate()
        .filter_map(|(i, r)| match &r.streaming_response {
            Some(R::RuleAlert(a)) => Some((i, a.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(alerts.len(), 1, "once per call: {alerts:?}");
    let (at, alert) = &alerts[0];
    assert_eq!(alert.rule, "first-customer-turn");
    assert_eq!(alert.actions, ["tag:called_in"]);
    let Some(R::Result(trigger)) = &responses[at - 1].streaming_response else {
        panic!("an alert follows its result")
    };
    assert_eq!(trigger.seq, alert.seq);
    assert_eq!(trigger.role, SpeakerRole::Customer as i32);
    let first_customer = finals(&responses)
        .into_iter()
        .find(|r| r.role == SpeakerRole::Customer as i32)
        .unwrap();
    assert_eq!(
        first_customer.seq, alert.seq,
        "fired on the first customer utterance"
    );
    wait_until("the two action events", Duration::from_secs(20), || {
        hooks
            .messages()
            .iter()
            .filter(|m| m.kind == "rule.action")
            .count()
            == 2
    })
    .await;
    let actions: Vec<_> = hooks
        .messages()
        .into_iter()
        .filter(|m| m.kind == "rule.action")
        .collect();
    let tag = actions.iter().find(|m| m.data["action"] == "tag").unwrap();
    assert_eq!(tag.data["value"], "called_in");
    assert_eq!(
        tag.id,
        format!("ruled:{}:action:first-customer-turn:0", alert.seq)
    );
    let task = actions.iter().find(|m| m.data["action"] == "task").unwrap();
    assert_eq!(task.data["subject"], "Follow-up call");
    assert_eq!(task.data["seq"], 0);
    assert!(task.data["due_at"].as_str().unwrap().ends_with('Z'));
    let metrics = server.engine.render_metrics();
    assert!(
        metrics.contains("callsense_rules_fired_total 2"),
        "{metrics}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rules_see_masked_transcripts_with_no_crm_configured() {
    // The held-out call's "My phone number is zero two four zero nine five
    // seven one one seven six." (agent channel, 211.9 s), alone.
    let clip = callsense::audio::AudioClip::read(Path::new("tests/fixtures/asr_heldout_call.wav"))
        .unwrap();
    let (from, to) = (8 * 211_400, 8 * 216_300);
    let clip = callsense::audio::AudioClip {
        sample_rate: 8000,
        channels: clip.channels.iter().map(|c| c[from..to].to_vec()).collect(),
    };
    let dir = tempfile::tempdir().unwrap();
    let rules_path = dir.path().join("rules.toml");
    std::fs::write(
        &rules_path,
        r#"
[[rule]]
name = "saw-masked-number"
when = 'utterance.transcript.contains("[PHONE]") || utterance.transcript.contains("[NUMBER]") || utterance.transcript.contains("[CN_ID]")'
actions = [{ type = "alert", message = "masked" }]
"#,
    )
    .unwrap();
    let mut config = test_config();
    assert!(!config.connect.enabled(), "no sink: no connector");
    config.connect.rules.file = Some(rules_path);
    config.connect.privacy.masking.style = callsense::pii::MaskStyle::Tag;
    let server = TestServer::start(config).await;
    assert!(server.engine.connector.is_none());
    let responses = call(
        &mut server.client().await,
        mulaw_requests(&clip, "masked-rules"),
    )
    .await
    .unwrap();
    use callsense::proto::stream_call_response::StreamingResponse as R;
    let heard: Vec<String> = finals(&responses)
        .into_iter()
        .map(|r| r.transcript)
        .collect();
    assert!(
        heard
            .iter()
            .any(|t| t.chars().filter(char::is_ascii_digit).count() >= 6
                || t.to_lowercase().contains("zero")),
        "the stream keeps what was heard: {heard:?}"
    );
    let fired = responses.iter().any(
        |r| matches!(&r.streaming_response, Some(R::RuleAlert(a)) if a.rule == "saw-masked-number"),
    );
    assert!(fired, "rules did not see the number masked in {heard:?}");
    server.stop().await;
}

fn crm_with_customers() -> DoubleConfig {
    let mut c = salesforce_double_config();
    let fields = |f: &[&str]| f.iter().map(|s| s.to_string()).collect();
    c.objects.insert(
        "Contact".into(),
        ObjectSchema {
            fields: fields(&[
                "Customer_Id__c",
                "Phone",
                "Tier__c",
                "Lifetime_Value__c",
                "Avg_Order_Value__c",
                "Orders_90d__c",
                "Open_Tickets__c",
                "Risk_Tags__c",
            ]),
            external_id_fields: fields(&["Customer_Id__c", "Phone"]),
        },
    );
    c
}

fn context_toml(login_url: &str, timeout_ms: u64) -> String {
    format!(
        r#"
[context]
timeout_ms = {timeout_ms}
[context.salesforce]
login_url = "{login_url}"
client_id = "cs-client"
client_secret = "cs-secret"
object = "Contact"
id_field = "Customer_Id__c"
phone_field = "Phone"
[context.fields]
tier = "Tier__c"
lifetime_value = "Lifetime_Value__c"
avg_order_value = "Avg_Order_Value__c"
recent_orders = "Orders_90d__c"
open_tickets = "Open_Tickets__c"
risk_tags = "Risk_Tags__c"
phone = "Phone"
[context.views.agent]
mask = ["phone"]
hide = ["lifetime_value"]
[context.views.supervisor]
"#
    )
}

fn seed_customers(sf: &SalesforceDouble) {
    for rec in [
        serde_json::json!({"Customer_Id__c": "C-VIP", "Phone": "13812345678", "Tier__c": "Gold", "Lifetime_Value__c": 25000.0,
                           "Avg_Order_Value__c": 800.0, "Orders_90d__c": 4, "Open_Tickets__c": 1, "Risk_Tags__c": "churn_risk;prefers_wechat"}),
        serde_json::json!({"Customer_Id__c": "C-LOW", "Phone": "13900001111", "Tier__c": "Bronze", "Lifetime_Value__c": 300.0,
                           "Avg_Order_Value__c": 60.0, "Orders_90d__c": 1, "Open_Tickets__c": 0}),
    ] {
        sf.insert_record("Contact", rec.as_object().unwrap().clone());
    }
}

/// Only the config, then half-close: CallAccepted and an empty summary.
async fn config_only(
    server: &TestServer,
    customer_id: &str,
    caller: &str,
    role: &str,
) -> callsense::proto::CallAccepted {
    let mut cfg = mulaw_config(&format!("ctx-{customer_id}-{caller}-{role}"), 1);
    cfg.customer_id = customer_id.into();
    cfg.caller_number = caller.into();
    if !role.is_empty() {
        cfg.metadata
            .insert("callsense.view_role".into(), role.into());
    }
    let req = callsense::proto::StreamCallRequest {
        streaming_request: Some(
            callsense::proto::stream_call_request::StreamingRequest::Config(cfg),
        ),
    };
    accepted(&call(&mut server.client().await, vec![req]).await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_start_returns_the_crm_profile_masked_for_the_role_and_rules_use_it() {
    let sf = SalesforceDouble::start(crm_with_customers()).await.unwrap();
    seed_customers(&sf);
    let dir = tempfile::tempdir().unwrap();
    let rules_path = dir.path().join("rules.toml");
    std::fs::write(
        &rules_path,
        r#"
[params]
retention_min_order_value = 500
[[rule]]
name = "high-value-customer-speaking"
when = 'utterance.role == "customer" && customer.avg_order_value >= params.retention_min_order_value'
actions = [{ type = "alert", message = "High-value customer", severity = "high" }]
"#,
    )
    .unwrap();
    let mut config = test_config();
    config.connect = connect_config(dir.path(), &context_toml(&sf.base_url(), 2000));
    config.connect.rules.file = Some(rules_path);
    let server = TestServer::start(config).await;

    let vip = config_only(&server, "C-VIP", "", "")
        .await
        .customer
        .expect("context");
    assert_eq!(vip.status, callsense::proto::ContextStatus::Found as i32);
    assert_eq!(
        (
            vip.tier.as_str(),
            vip.avg_order_value,
            vip.recent_orders,
            vip.open_tickets
        ),
        ("Gold", 800.0, 4, 1)
    );
    assert_eq!(vip.risk_tags, ["churn_risk", "prefers_wechat"]);
    assert_eq!(vip.phone, "138****5678", "the agent sees the phone masked");
    assert_eq!(vip.lifetime_value, 0.0, "hidden from agents");
    assert_eq!(vip.view_role, "agent");
    let routing = vip.routing.unwrap();
    assert_eq!(
        (routing.priority.as_str(), routing.reason.as_str()),
        ("high", "tier Gold")
    );
    let again = config_only(&server, "C-VIP", "", "supervisor")
        .await
        .customer
        .unwrap();
    assert!(again.cached, "second lookup comes from the cache");
    assert_eq!(
        again.phone, "13812345678",
        "a supervisor sees the full number"
    );
    assert_eq!(again.lifetime_value, 25000.0);
    let by_phone = config_only(&server, "", "13900001111", "")
        .await
        .customer
        .unwrap();
    assert_eq!(
        (by_phone.status, by_phone.tier.as_str()),
        (callsense::proto::ContextStatus::Found as i32, "Bronze")
    );
    assert_eq!(by_phone.routing.unwrap().priority, "normal");
    let unknown = config_only(&server, "C-NOBODY", "", "")
        .await
        .customer
        .unwrap();
    assert_eq!(
        unknown.status,
        callsense::proto::ContextStatus::NotFound as i32
    );
    let nokey = config_only(&server, "", "", "").await.customer.unwrap();
    assert_eq!(
        nokey.status,
        callsense::proto::ContextStatus::NoCustomerKey as i32
    );

    // The rule sees customer.avg_order_value: it fires for the VIP, not for the low-value customer.
    for (customer, alerts_expected) in [("C-VIP", 1), ("C-LOW", 0)] {
        let mut reqs = mulaw_requests(&demo_call(), &format!("ctx-rule-{customer}"));
        if let Some(callsense::proto::stream_call_request::StreamingRequest::Config(c)) =
            &mut reqs[0].streaming_request
        {
            c.customer_id = customer.into();
        }
        let responses = call(&mut server.client().await, reqs).await.unwrap();
        let alerts = responses
            .iter()
            .filter(|r| {
                matches!(
                    r.streaming_response,
                    Some(callsense::proto::stream_call_response::StreamingResponse::RuleAlert(_))
                )
            })
            .count();
        assert_eq!(alerts, alerts_expected, "{customer}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_crm_does_not_hold_the_call_and_fills_the_cache_for_the_next() {
    let sf = SalesforceDouble::start(crm_with_customers()).await.unwrap();
    seed_customers(&sf);
    sf.set_latency(Duration::from_millis(1200));
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config();
    config.connect = connect_config(dir.path(), &context_toml(&sf.base_url(), 300));
    let server = TestServer::start(config).await;
    let started = Instant::now();
    let first = config_only(&server, "C-VIP", "", "")
        .await
        .customer
        .unwrap();
    assert_eq!(
        first.status,
        callsense::proto::ContextStatus::TimedOut as i32
    );
    assert!(
        started.elapsed() < Duration::from_millis(1200),
        "the call did not wait for the CRM"
    );
    assert_eq!(first.routing.unwrap().priority, "normal");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let second = config_only(&server, "C-VIP", "", "")
        .await
        .customer
        .unwrap();
    assert_eq!(
        second.status,
        callsense::proto::ContextStatus::Found as i32,
        "the late answer was cached"
    );
    assert!(second.cached);
    sf.set_unavailable(true);
    let down = config_only(&server, "C-LOW", "", "")
        .await
        .customer
        .unwrap();
    assert_eq!(
        down.status,
        callsense::proto::ContextStatus::Unavailable as i32
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_rules_and_a_broken_file_keeps_the_rules_in_force() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.toml");
    let one = "[[rule]]\nname = \"a\"\nwhen = 'utterance.role == \"customer\"'\nactions = [{ type = \"tag\", value = \"x\" }]\n";
    std::fs::write(&rules, one).unwrap();
    let free_addr = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .to_string()
    };
    let (addr, metrics) = (free_addr(), free_addr());
    let cfg_path = dir.path().join("callsense.toml");
    std::fs::write(
        &cfg_path,
        format!(
            "[server]\nmetrics_listen = \"{metrics}\"\n[asr]\nmodel = {:?}\n[connect.rules]\nfile = {:?}\nreload_interval_ms = 600000\n",
            std::fs::canonicalize(TEST_WHISPER).unwrap(),
            rules
        ),
    )
    .unwrap();
    let server = spawn_server(&cfg_path, &addr);
    connect_when_up(&format!("http://{addr}")).await;
    let loaded = || async { http_get(&metrics, "/metrics").await };
    assert!(loaded().await.contains("callsense_rules_loaded 1\n"));
    let hup = || {
        let ok = Command::new("kill")
            .args(["-HUP", &server.0.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -HUP");
    };
    std::fs::write(&rules, format!("{one}{}", one.replace("\"a\"", "\"b\""))).unwrap();
    hup();
    let start = Instant::now();
    while !loaded().await.contains("callsense_rules_loaded 2\n") {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "SIGHUP did not reload the rules"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    std::fs::write(
        &rules,
        "[[rule]]\nname = \"broken\"\nwhen = '((('\nactions = []\n",
    )
    .unwrap();
    hup();
    let start = Instant::now();
    loop {
        let m = loaded().await;
        if m.contains("callsense_rules_reload_errors_total 1\n") {
            assert!(
                m.contains("callsense_rules_loaded 2\n"),
                "the rules in force stay: {m}"
            );
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the broken file was not noticed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    connect_when_up(&format!("http://{addr}")).await; // still serving
}

/// The Kafka-compatible broker binary (tansu): `CALLSENSE_TANSU`, else
/// `.runtime/bin/tansu` (installed by scripts/test.sh), else `tansu` on PATH.
fn tansu_binary() -> std::path::PathBuf {
    if let Ok(p) = std::env::var("CALLSENSE_TANSU") {
        return p.into();
    }
    let local = Path::new(".runtime/bin/tansu");
    if local.is_file() {
        return local.into();
    }
    "tansu".into()
}

struct Broker(Child);

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_tansu(port: u16) -> Broker {
    let bin = tansu_binary();
    let child = Command::new(&bin)
        .args([
            "broker",
            "--listener-url",
            &format!("tcp://127.0.0.1:{port}"),
            "--advertised-listener-url",
            &format!("tcp://127.0.0.1:{port}"),
            "--storage-engine",
            "memory://tansu/",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start the Kafka-compatible broker {}: {e}; run scripts/test.sh (it installs tansu) or set CALLSENSE_TANSU", bin.display()));
    Broker(child)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_sink_delivers_each_event_once_after_the_broker_comes_up() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let sink = format!(
        r#"
[[sinks]]
name = "kafka"
timeout_ms = 3000
[sinks.kafka]
brokers = ["127.0.0.1:{port}"]
topic = "callsense-events"
partitions = 2
[sinks.records.utterance.fields]
seq = "seq"
intent = "intent.label"
transcript = "transcript"
"#
    );
    let c = Connector::start(
        &connect_config(dir.path(), &sink),
        Mode::Engine,
        &Telemetry::default(),
    )
    .await
    .unwrap()
    .unwrap();
    // The broker is not up yet: events wait in the outbox.
    for call in 0..3 {
        for seq in 1..=5 {
            let id = format!("k-{call}");
            c.record_utterance(
                &ctx(&id),
                &utterance(&id, seq, "card 4532015112830366 please cancel"),
            )
            .await
            .unwrap();
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(c.outbox().unwrap().pending(), 15);
    let _broker = start_tansu(port);
    wait_until(
        "the outbox drained into Kafka",
        Duration::from_secs(60),
        || c.outbox().unwrap().pending() == 0,
    )
    .await;

    // Read the topic back.
    let client = rskafka::client::ClientBuilder::new(vec![format!("127.0.0.1:{port}")])
        .build()
        .await
        .unwrap();
    let mut keys = Vec::new();
    let mut partitions_of_call: HashMap<String, BTreeSet<i32>> = HashMap::new();
    for p in 0..2 {
        let pc = client
            .partition_client(
                "callsense-events",
                p,
                rskafka::client::partition::UnknownTopicHandling::Retry,
            )
            .await
            .unwrap();
        let (records, _) = pc.fetch_records(0, 1..1_000_000, 1000).await.unwrap();
        for r in records {
            let key = String::from_utf8(r.record.key.clone().unwrap()).unwrap();
            let v: serde_json::Value =
                serde_json::from_slice(r.record.value.as_ref().unwrap()).unwrap();
            assert_eq!(v["type"], "utterance.final");
            assert_eq!(v["data"]["intent"], "cancel_service");
            assert!(
                !v["data"]["transcript"]
                    .as_str()
                    .unwrap()
                    .contains("4532015112830366"),
                "masked"
            );
            assert_eq!(r.record.headers["callsense-key"], key.as_bytes());
            partitions_of_call
                .entry(key.split(':').next().unwrap().to_string())
                .or_default()
                .insert(p);
            keys.push(key);
        }
    }
    assert_eq!(partitions_of_call.len(), 3);
    for (call, parts) in &partitions_of_call {
        assert_eq!(
            parts.len(),
            1,
            "all events of {call} on one partition (ordered for consumers)"
        );
    }
    keys.sort();
    let unique: BTreeSet<_> = keys.iter().cloned().collect();
    assert_eq!(keys.len(), 15, "{keys:?}");
    assert_eq!(unique.len(), 15);
    c.shutdown(Duration::from_secs(2)).await;
}
