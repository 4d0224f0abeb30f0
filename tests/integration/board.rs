//! The supervisor board's feed end to end: calls streamed over gRPC appear
//! in the JSON and the Server-Sent Events of their tenant's supervisors
//! only, with masked turns, alerts and measures; credentials and the
//! viewer limit are enforced. (The page itself: `tests/browser/`.)

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;

use crate::common::*;
use crate::connect::wait_until;

fn sha256(s: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(s.as_bytes()))
}

fn board_config() -> callsense::config::Config {
    let mut config = test_config();
    let ui = format!(
        r#"
listen = "127.0.0.1:0"
max_viewers = 2
[[supervisors]]
name = "ana"
tenant = "acme"
password_sha256 = "{}"
[[supervisors]]
name = "gus"
tenant = "globex"
password_sha256 = "{}"
"#,
        sha256("acme-secret"),
        sha256("globex-secret")
    );
    config.ui = toml::from_str(&ui).unwrap();
    config.ui.validate().unwrap();
    config
}

async fn json(addr: std::net::SocketAddr, path: &str, user: &str, pass: &str) -> Value {
    let text = get(addr, path, user, pass).await.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"))
}

async fn get(addr: std::net::SocketAddr, path: &str, user: &str, pass: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("http://{addr}{path}"))
        .basic_auth(user, Some(pass))
        .send()
        .await
        .unwrap()
}

type Events = Arc<Mutex<Vec<(String, Value)>>>;

/// Reads `/api/events` in the background into a list of (event, data).
async fn listen(addr: std::net::SocketAddr, user: &str, pass: &str) -> Events {
    let resp = get(addr, "/api/events", user, pass).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let events: Events = Arc::default();
    let sink = Arc::clone(&events);
    tokio::spawn(async move {
        let mut body = resp.bytes_stream();
        let mut buf = String::new();
        while let Some(Ok(chunk)) = body.next().await {
            buf.push_str(&String::from_utf8_lossy(&chunk));
            for (name, data) in callsense::testkit::sse::take_events(&mut buf) {
                let v = serde_json::from_str(&data).unwrap_or(Value::Null);
                sink.lock().unwrap().push((name, v));
            }
        }
    });
    events
}

fn tenant_requests(call_id: &str, tenant: &str) -> Vec<callsense::proto::StreamCallRequest> {
    let mut reqs = mulaw_requests(&demo_call(), call_id);
    if let Some(callsense::proto::stream_call_request::StreamingRequest::Config(c)) =
        reqs[0].streaming_request.as_mut()
    {
        c.tenant = tenant.into();
        c.metadata
            .insert("callsense.agent_id".into(), format!("agent-of-{call_id}"));
    }
    reqs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervisors_see_their_tenants_calls_live_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.toml");
    std::fs::write(
        &rules,
        r#"
[[rule]]
name = "cancel-words"
actions = [{ type = "alert", message = "The customer wants to cancel", severity = "high" }]
[rule.phrase]
forbid = ["cancel my account"]
role = "customer"
"#,
    )
    .unwrap();
    let mut config = board_config();
    config.connect.rules.file = Some(rules);
    let server = TestServer::start(config).await;
    let addr = server.board.unwrap();

    // Credentials: none, wrong, right; health is open.
    let open = reqwest::get(format!("http://{addr}/api/calls"))
        .await
        .unwrap();
    assert_eq!(open.status(), 401);
    assert!(open.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    assert_eq!(get(addr, "/api/calls", "ana", "nope").await.status(), 401);
    assert_eq!(
        get(addr, "/api/calls", "eve", "acme-secret").await.status(),
        401
    );
    assert_eq!(
        reqwest::get(format!("http://{addr}/health"))
            .await
            .unwrap()
            .status(),
        200
    );
    let page = get(addr, "/", "ana", "acme-secret")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("/board.js") && page.contains("<table"));
    let js = get(addr, "/board.js", "ana", "acme-secret").await;
    assert_eq!(
        js.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );

    // Two viewers, one per tenant; a third is over ui.max_viewers.
    let acme = listen(addr, "ana", "acme-secret").await;
    let globex = listen(addr, "gus", "globex-secret").await;
    let third = get(addr, "/api/events", "ana", "acme-secret").await;
    assert_eq!(third.status(), 503);
    assert!(third.headers().contains_key("retry-after"));

    // Two acme calls at once.
    let (mut c1, mut c2) = (server.client().await, server.client().await);
    let (r1, r2) = tokio::join!(
        call(&mut c1, tenant_requests("acme-1", "acme")),
        call(&mut c2, tenant_requests("acme-2", "acme")),
    );
    let (r1, r2) = (r1.unwrap(), r2.unwrap());
    let finals1 = finals(&r1);
    wait_until(
        "both calls ended on the feed",
        Duration::from_secs(10),
        || {
            let ev = acme.lock().unwrap();
            ["acme-1", "acme-2"].iter().all(|id| {
                ev.iter()
                    .any(|(k, v)| k == "call" && v["call_id"] == *id && v["status"] == "ended")
            })
        },
    )
    .await;

    let ev = acme.lock().unwrap().clone();
    assert_eq!(ev[0].0, "snapshot", "a viewer starts from a snapshot");
    assert_eq!(ev[0].1["tenant"], "acme");
    // Every final of call 1 as a turn event, with its transcript as masked
    // for the CRM (the phone number) and its score on the −5…+5 scale.
    let turns: Vec<&Value> = ev
        .iter()
        .filter(|(k, v)| k == "turn" && v["call_id"] == "acme-1")
        .map(|(_, v)| &v["turn"])
        .collect();
    assert_eq!(turns.len(), finals1.len());
    let number = turns
        .iter()
        .find(|t| t["text"].as_str().unwrap().contains("number is"))
        .expect("the phone number turn");
    assert!(
        !number["text"]
            .as_str()
            .unwrap()
            .contains("five five five one"),
        "{number}"
    );
    for t in &turns {
        let f = finals1.iter().find(|f| t["seq"] == f.seq).unwrap();
        let s5 = t["score5"].as_f64().unwrap();
        let want = f64::from(f.sentiment.as_ref().unwrap().score) * 5.0;
        assert!((s5 - want).abs() < 0.051, "{t} vs {f:?}");
    }
    let alerts: Vec<&Value> = ev
        .iter()
        .filter(|(k, _)| k == "alert")
        .map(|(_, v)| v)
        .collect();
    assert_eq!(alerts.len(), 2, "one per call: {alerts:?}");
    assert!(alerts.iter().all(|a| a["alert"]["evidence"]
        .as_str()
        .unwrap()
        .contains("cancel my account")));

    // The JSON feed agrees, by need; the other tenant sees nothing.
    let list = json(addr, "/api/calls", "ana", "acme-secret").await;
    let calls = list["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 2);
    for c in calls {
        assert_eq!(
            c["agent"],
            format!("agent-of-{}", c["call_id"].as_str().unwrap())
        );
        assert_eq!(c["status"], "ended");
        assert_eq!(c["outcome"], "completed");
        assert_eq!(c["alert_count"], 1);
        assert!(c["metrics"]["non_talk_ms"].as_u64().unwrap() > 5000);
        assert!(!c["spark"].as_array().unwrap().is_empty());
        assert_eq!(c["summary"]["utterances"], summary(&r1).utterances);
    }
    let one = json(addr, "/api/calls/acme-2", "ana", "acme-secret").await;
    assert_eq!(one["turns"].as_array().unwrap().len(), finals(&r2).len());
    assert_eq!(one["alerts"].as_array().unwrap().len(), 1);
    let theirs = json(addr, "/api/calls", "gus", "globex-secret").await;
    assert_eq!(theirs["calls"].as_array().unwrap().len(), 0);
    assert_eq!(
        get(addr, "/api/calls/acme-1", "gus", "globex-secret")
            .await
            .status(),
        404
    );
    let seen = globex.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "only the empty snapshot: {seen:?}");
    assert_eq!(seen[0].1["calls"].as_array().unwrap().len(), 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_speaks_only_https_when_given_a_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    std::fs::write(dir.path().join("board.crt"), cert.pem()).unwrap();
    std::fs::write(dir.path().join("board.key"), key.serialize_pem()).unwrap();
    let mut config = board_config();
    config.ui.tls_cert = Some(dir.path().join("board.crt"));
    config.ui.tls_key = Some(dir.path().join("board.key"));
    config.ui.validate().unwrap();
    let server = TestServer::start(config).await;
    let port = server.board.unwrap().port();
    // A client that opens a connection and never speaks holds up no one.
    let _silent = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.pem().as_bytes()).unwrap())
        .resolve("localhost", ([127, 0, 0, 1], port).into())
        .build()
        .unwrap();
    let url = |path: &str| format!("https://localhost:{port}{path}");
    let resp = client
        .get(url("/api/calls"))
        .basic_auth("ana", Some("acme-secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert!(body["calls"].is_array(), "{body}");
    let resp = client
        .get(url("/api/calls"))
        .basic_auth("ana", Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401, "credentials are still checked over TLS");
    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/api/calls"))
        .basic_auth("ana", Some("acme-secret"))
        .timeout(Duration::from_secs(15))
        .send()
        .await;
    assert!(plain.is_err(), "plain HTTP is not served: {plain:?}");
    server.stop().await;

    // Half a pair is refused at start, by name.
    let mut config = board_config();
    config.ui.tls_cert = Some(dir.path().join("board.crt"));
    let e = config.ui.validate().unwrap_err();
    assert!(e.contains("ui.tls_cert and ui.tls_key"), "{e}");
}
