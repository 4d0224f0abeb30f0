//! Credentials and tenants on every front door: API keys (no key, a wrong
//! key, a revoked key, another tenant's key, a call naming another tenant),
//! keys rotated without a restart, client certificates, per-tenant quotas,
//! rates and callback prefixes, and two tenants streaming at once with
//! different sinks and rules, each seeing only its own events in its CRM and
//! on the board. The audit log records it all, without secrets.

use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine as _;
use futures::{SinkExt, StreamExt};
use tokio_stream::wrappers::ReceiverStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as Ws;
use tonic::Code;

use callsense::config::Config;
use callsense::proto::stream_call_request::StreamingRequest;
use callsense::proto::stream_call_response::StreamingResponse;
use callsense::proto::{StreamCallRequest, StreamCallResponse};
use callsense::testkit::webhook::WebhookReceiver;

use crate::common::*;
use crate::connect::{connect_config, wait_until, SECRET};

const ACME: &str = "csk_acme_key_for_tests";
const ACME_NEXT: &str = "csk_acme_rotated_key";
const GLOBEX: &str = "csk_globex_key_for_tests";
const OLD: &str = "csk_revoked_key";
const PLATFORM: &str = "csk_platform_key";
const BOARD_GLOBEX: &str = "csk_globex_board_key";

fn sha256(s: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(s.as_bytes()))
}

fn key(id: &str, tenant: &str, k: &str, extra: &str) -> String {
    format!(
        "[[key]]\nid = \"{id}\"\ntenant = \"{tenant}\"\nsha256 = \"{}\"\n{extra}\n",
        sha256(k)
    )
}

fn keys_file(acme_revoked: bool, with_next: bool) -> String {
    let mut s = key("acme-1", "acme", ACME, &format!("revoked = {acme_revoked}"))
        + &key("globex-1", "globex", GLOBEX, "")
        + &key("old", "acme", OLD, "revoked = true")
        + &key(
            "platform",
            "*",
            PLATFORM,
            "scopes = [\"calls\", \"metrics\"]",
        )
        + &key(
            "globex-board",
            "globex",
            BOARD_GLOBEX,
            "scopes = [\"board\"]",
        );
    if with_next {
        s += &key("acme-2", "acme", ACME_NEXT, "");
    }
    s
}

/// A server with `auth.mode = "required"`, keys in a file reloaded every
/// 100 ms, and an audit log; `extra` is more TOML (sinks, tenants, …).
fn auth_config(dir: &std::path::Path, extra: &str) -> Config {
    std::fs::write(dir.join("keys.toml"), keys_file(false, false)).unwrap();
    let text = format!(
        "[auth]\nmode = \"required\"\nkeys_file = {:?}\nreload_interval_ms = 100\naudit_log = {:?}\n{extra}",
        dir.join("keys.toml"),
        dir.join("audit.jsonl"),
    );
    let overlay: Config = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let mut config = test_config();
    config.auth = overlay.auth;
    config.tenants = overlay.tenants;
    config.tenant_defaults = overlay.tenant_defaults;
    config.ingress = overlay.ingress;
    config.ui = overlay.ui;
    config
}

/// The first `n` requests of the demo call (config and audio) for
/// `tenant` ("" names none).
fn short_call(call_id: &str, tenant: &str, n: usize) -> Vec<StreamCallRequest> {
    let mut reqs = mulaw_requests(&demo_call(), call_id);
    if let Some(StreamingRequest::Config(c)) = &mut reqs[0].streaming_request {
        c.tenant = tenant.into();
    }
    reqs.truncate(n);
    reqs
}

async fn call_as(
    server: &TestServer,
    api_key: Option<&str>,
    reqs: Vec<StreamCallRequest>,
) -> Result<Vec<StreamCallResponse>, tonic::Status> {
    let rx = callsense::cli::stream::send_paced(reqs, None);
    let req = callsense::cli::stream::with_key(ReceiverStream::new(rx), api_key).unwrap();
    let mut stream = server.client().await.stream_call(req).await?.into_inner();
    let mut out = Vec::new();
    while let Some(r) = stream.next().await {
        out.push(r?);
    }
    Ok(out)
}

fn refused(r: Result<Vec<StreamCallResponse>, tonic::Status>) -> tonic::Status {
    match r {
        Ok(v) => panic!("the call was accepted: {} responses", v.len()),
        Err(s) => s,
    }
}

fn audit(dir: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_calls_need_a_valid_key_of_their_own_tenant_and_keys_rotate_live() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(auth_config(dir.path(), "")).await;

    let s = refused(call_as(&server, None, short_call("c-none", "acme", 1)).await);
    assert_eq!(s.code(), Code::Unauthenticated, "{s:?}");
    assert!(
        s.message().contains("credentials required"),
        "{}",
        s.message()
    );
    let s = refused(call_as(&server, Some("csk_wrong"), short_call("c-wrong", "acme", 1)).await);
    assert_eq!(
        (s.code(), s.message()),
        (Code::Unauthenticated, "unknown API key")
    );
    let s = refused(call_as(&server, Some(OLD), short_call("c-old", "acme", 1)).await);
    assert_eq!(s.code(), Code::Unauthenticated);
    assert!(
        s.message().contains("\"old\" was revoked"),
        "{}",
        s.message()
    );
    // Another tenant's key, and a call naming another tenant than its key's.
    let s = refused(call_as(&server, Some(GLOBEX), short_call("c-other", "acme", 1)).await);
    assert_eq!(s.code(), Code::PermissionDenied, "{s:?}");
    assert!(
        s.message()
            .contains("tenant \"globex\"'s; the call names tenant \"acme\""),
        "{}",
        s.message()
    );
    // A key without the calls scope.
    let s = refused(call_as(&server, Some(BOARD_GLOBEX), short_call("c-scope", "", 1)).await);
    assert_eq!(s.code(), Code::PermissionDenied);

    // The right key: the call is acme's, named or not.
    for (id, named) in [("c-acme", "acme"), ("c-unnamed", "")] {
        let out = call_as(&server, Some(ACME), short_call(id, named, 50))
            .await
            .unwrap();
        assert_eq!(accepted(&out).call_id, id);
    }
    // A platform key (tenant "*") may name any tenant.
    call_as(
        &server,
        Some(PLATFORM),
        short_call("c-platform", "initech", 5),
    )
    .await
    .unwrap();
    // AnalyzeText too.
    let req = callsense::proto::AnalyzeTextRequest {
        texts: vec![callsense::proto::TextInput {
            text: "thanks".into(),
            language_code: String::new(),
        }],
    };
    let s = server
        .client()
        .await
        .analyze_text(req.clone())
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::Unauthenticated);
    let with = callsense::cli::stream::with_key(req, Some(ACME)).unwrap();
    server.client().await.analyze_text(with).await.unwrap();
    // Health stays open.
    let channel = tonic::transport::Channel::from_shared(server.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let health = tonic_health::pb::health_client::HealthClient::new(channel)
        .check(tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(health.status, 1, "SERVING without a key");

    // Rotation without a restart: a second acme key, then the first revoked.
    std::fs::write(dir.path().join("keys.toml"), keys_file(false, true)).unwrap();
    let next = || call_as(&server, Some(ACME_NEXT), short_call("c-next", "acme", 5));
    let mut ok = false;
    for _ in 0..100 {
        if next().await.is_ok() {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ok, "the rotated key works without a restart");
    call_as(&server, Some(ACME), short_call("c-both", "acme", 5))
        .await
        .expect("both keys work during the rotation");
    std::fs::write(dir.path().join("keys.toml"), keys_file(true, true)).unwrap();
    let mut revoked = false;
    for _ in 0..100 {
        if let Err(s) = call_as(&server, Some(ACME), short_call("c-rev", "acme", 1)).await {
            assert!(
                s.message().contains("\"acme-1\" was revoked"),
                "{}",
                s.message()
            );
            revoked = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(revoked, "a revoked key is refused without a restart");
    // A broken keys file keeps the keys in force.
    std::fs::write(dir.path().join("keys.toml"), "[[key]]\nid = 7\n").unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    call_as(&server, Some(ACME_NEXT), short_call("c-kept", "acme", 5))
        .await
        .expect("the keys in force stay when the file is broken");
    server.stop().await;

    // The audit log: who, which tenant, what, and why refusals happened;
    // no key material.
    let log = audit(dir.path());
    let text = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    for k in [ACME, ACME_NEXT, GLOBEX, OLD, PLATFORM, "csk_wrong"] {
        assert!(!text.contains(k), "a key is in the audit log");
        assert!(!text.contains(&sha256(k)), "a key hash is in the audit log");
    }
    let started = |id: &str| {
        log.iter()
            .find(|e| e["action"] == "call.start" && e["call_id"] == id)
            .cloned()
    };
    let e = started("c-unnamed").expect("the call's start is audited");
    assert_eq!(
        (e["actor"].as_str(), e["tenant"].as_str()),
        (Some("key:acme-1"), Some("acme"))
    );
    assert_eq!(e["outcome"], "allowed");
    assert_eq!(started("c-platform").unwrap()["tenant"], "initech");
    let denied: Vec<&str> = log
        .iter()
        .filter(|e| e["outcome"] == "denied")
        .filter_map(|e| e["detail"].as_str())
        .collect();
    for reason in [
        "no_credential",
        "unknown_key",
        "revoked_key",
        "tenant_mismatch",
        "scope",
    ] {
        assert!(
            denied.iter().any(|d| d.starts_with(reason)),
            "{reason} not audited: {denied:?}"
        );
    }
    assert!(log
        .iter()
        .any(|e| e["action"] == "keys.reload" && e["outcome"] == "ok"));
    assert!(log
        .iter()
        .any(|e| e["action"] == "keys.reload" && e["outcome"] == "failed"));
    assert!(log.iter().all(|e| e.get("transcript").is_none()));
}

/// Webhook sinks per tenant and a rule per tenant.
fn two_tenant_setup(dir: &std::path::Path, hooks: &WebhookReceiver) -> Config {
    let sinks = ["acme", "globex"]
        .iter()
        .map(|t| {
            crate::connect::webhook_sink(&hooks.url(&format!("/{t}")), &[SECRET])
                .replace("name = \"hooks\"", &format!("name = \"hooks-{t}\""))
        })
        .collect::<String>();
    let rules = dir.join("rules.toml");
    std::fs::write(
        &rules,
        r#"
[[rule]]
name = "acme-greeting"
tenants = ["acme"]
when = "true"
actions = [{ type = "alert", message = "acme rule" }]
[[rule]]
name = "globex-greeting"
tenants = ["globex"]
when = "true"
actions = [{ type = "alert", message = "globex rule" }]
"#,
    )
    .unwrap();
    let ui = format!(
        "[ui]\nlisten = \"127.0.0.1:0\"\n[[ui.supervisors]]\nname = \"ana\"\ntenant = \"acme\"\npassword_sha256 = \"{}\"\n",
        sha256("ana-pw")
    );
    let extra = format!(
        "{ui}\n[tenants.acme]\nsinks = [\"hooks-acme\"]\n[tenants.globex]\nsinks = [\"hooks-globex\"]\n"
    );
    let mut config = auth_config(dir, &extra);
    config.connect = connect_config(dir, &sinks);
    config.connect.rules.file = Some(rules);
    config.validate().unwrap();
    config
}

fn alerts(out: &[StreamCallResponse]) -> Vec<String> {
    out.iter()
        .filter_map(|r| match &r.streaming_response {
            Some(StreamingResponse::RuleAlert(a)) => Some(a.message.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tenants_at_once_each_see_only_their_own_crm_events_rules_and_board() {
    let dir = tempfile::tempdir().unwrap();
    let hooks = WebhookReceiver::start(&[SECRET]).await.unwrap();
    let server = TestServer::start(two_tenant_setup(dir.path(), &hooks)).await;
    let (a, g) = tokio::join!(
        call_as(&server, Some(ACME), short_call("t-acme", "", usize::MAX)),
        call_as(
            &server,
            Some(GLOBEX),
            short_call("t-globex", "", usize::MAX)
        ),
    );
    let (a, g) = (a.unwrap(), g.unwrap());
    assert_eq!(alerts(&a), ["acme rule"], "acme's rules only");
    assert_eq!(alerts(&g), ["globex rule"], "globex's rules only");
    crate::connect::wait_for_summaries(&hooks, &["t-acme", "t-globex"]).await;
    let msgs = hooks.messages();
    for (tenant, call) in [("acme", "t-acme"), ("globex", "t-globex")] {
        let mine: Vec<_> = msgs
            .iter()
            .filter(|m| m.path == format!("/{tenant}"))
            .collect();
        assert!(mine.len() > 5, "{tenant}'s CRM got its events");
        assert!(
            mine.iter().all(|m| m.data["call_id"] == call),
            "{tenant}'s CRM got only its own call's events"
        );
    }
    // The board: ana (acme) sees acme's call; globex's board key sees globex's.
    let board = server.board.unwrap();
    let get = |auth: reqwest::RequestBuilder| async move {
        let r = auth.send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    let url = format!("http://{board}/api/calls");
    let http = reqwest::Client::new();
    let (status, body) = get(http.get(&url).basic_auth("ana", Some("ana-pw"))).await;
    assert_eq!(status, 200);
    assert!(
        body.contains("t-acme") && !body.contains("t-globex"),
        "{body}"
    );
    let (status, body) = get(http.get(&url).bearer_auth(BOARD_GLOBEX)).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("t-globex") && !body.contains("t-acme"),
        "{body}"
    );
    // No credential, a wrong key, a key without the board scope, a revoked key.
    assert_eq!(get(http.get(&url)).await.0, 401);
    assert_eq!(get(http.get(&url).bearer_auth("csk_nope")).await.0, 401);
    assert_eq!(get(http.get(&url).bearer_auth(GLOBEX)).await.0, 403);
    assert_eq!(get(http.get(&url).bearer_auth(OLD)).await.0, 401);
    let (status, _) = get(http
        .get(format!("http://{board}/api/calls/t-acme"))
        .bearer_auth(BOARD_GLOBEX))
    .await;
    assert_eq!(status, 404, "another tenant's call is not on the board");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_quotas_rates_and_callback_prefixes_hold() {
    let dir = tempfile::tempdir().unwrap();
    let extra = "[tenants.acme]\nmax_concurrent_calls = 1\ncallback_prefixes = [\"https://acme.example/\"]\n[tenants.globex]\ncalls_per_minute = 6\n";
    let server = TestServer::start(auth_config(dir.path(), extra)).await;
    // One acme call at a time: a second is RESOURCE_EXHAUSTED with retry-after.
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    for r in short_call("q-1", "", 10) {
        tx.send(r).await.unwrap();
    }
    let req = callsense::cli::stream::with_key(ReceiverStream::new(rx), Some(ACME)).unwrap();
    let mut client = server.client().await;
    let mut first = client.stream_call(req).await.unwrap().into_inner();
    first.next().await.unwrap().unwrap(); // accepted
    let s = refused(call_as(&server, Some(ACME), short_call("q-2", "", 5)).await);
    assert_eq!(s.code(), Code::ResourceExhausted);
    assert!(
        s.message().contains("quota of 1 concurrent calls"),
        "{}",
        s.message()
    );
    assert_eq!(s.metadata().get("retry-after").unwrap(), "1");
    // Globex is not starved by acme.
    call_as(&server, Some(GLOBEX), short_call("q-g1", "", 5))
        .await
        .unwrap();
    drop(tx); // the first call's audio ends; it finishes and frees its slot
    while let Some(r) = first.next().await {
        r.unwrap();
    }
    // Globex's rate: 6 a minute, a burst of 1: the next one waits ~10 s.
    let s = refused(call_as(&server, Some(GLOBEX), short_call("q-g2", "", 5)).await);
    assert_eq!(s.code(), Code::ResourceExhausted);
    let after: u64 = s
        .metadata()
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((5..=11).contains(&after), "retry-after {after}");
    // A callback outside acme's prefixes is refused, one inside accepted.
    wait_until("acme's call slot to free", Duration::from_secs(10), || {
        server.engine.auth.tenants.active("acme") == 0
    })
    .await;
    let with_callback = |id: &str, url: &str| {
        let mut r = short_call(id, "", 5);
        if let Some(StreamingRequest::Config(c)) = &mut r[0].streaming_request {
            c.metadata
                .insert("callsense.callback_url".into(), url.into());
        }
        r
    };
    let s = refused(
        call_as(
            &server,
            Some(ACME),
            with_callback("q-cb1", "https://evil.example/x"),
        )
        .await,
    );
    assert_eq!(s.code(), Code::PermissionDenied);
    assert!(s.message().contains("callback prefixes"), "{}", s.message());
    call_as(
        &server,
        Some(ACME),
        with_callback("q-cb2", "https://acme.example/cb"),
    )
    .await
    .unwrap();
    server.stop().await;
}

/// Connects to a WebSocket front door with `headers`; `Err` is the
/// refusal's HTTP status.
async fn ws_connect(
    url: String,
    headers: &[(&'static str, String)],
) -> Result<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    u16,
> {
    let mut req = url.into_client_request().unwrap();
    for (k, v) in headers {
        req.headers_mut().insert(*k, v.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => Err(r.status().as_u16()),
        Err(e) => panic!("{e}"),
    }
}

/// Reads until the server closes; its close reason.
async fn close_reason(
    ws: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> String {
    loop {
        match tokio::time::timeout(Duration::from_secs(20), ws.next()).await {
            Ok(Some(Ok(Ws::Close(Some(f))))) => return f.reason.to_string(),
            Ok(Some(Ok(Ws::Close(None)))) | Ok(None) | Ok(Some(Err(_))) => return String::new(),
            Ok(Some(Ok(_))) => {}
            Err(_) => panic!("no close within 20 s"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telephony_front_doors_check_keys_and_bind_tenants() {
    let dir = tempfile::tempdir().unwrap();
    let extra = r#"
[ingress.fork]
listen = "127.0.0.1:0"
basic_auth = [{ username = "fs", password = "fs-pw", tenant = "acme" }]
[ingress.twilio]
listen = "127.0.0.1:0"
auth_tokens = [{ token = "twilio-token", tenant = "globex" }]
[ingress.audiohook]
listen = "127.0.0.1:0"
clients = [{ api_key = "ah-key", client_secret = "c2VjcmV0", tenant = "acme" }]
"#;
    let server = TestServer::start(auth_config(dir.path(), extra)).await;
    let bearer = |k: &str| vec![("Authorization", format!("Bearer {k}"))];
    let basic = |up: &str| {
        vec![(
            "Authorization",
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(up)
            ),
        )]
    };
    let fork = format!("ws://{}/fork", server.fork.unwrap());
    let twilio = format!("ws://{}/twilio", server.twilio.unwrap());
    let audiohook = format!("ws://{}/audiohook", server.audiohook.unwrap());
    // No credential, a wrong key, a revoked key: refused at the upgrade.
    for url in [&fork, &twilio, &audiohook] {
        assert_eq!(ws_connect(url.clone(), &[]).await.err(), Some(401), "{url}");
        assert_eq!(
            ws_connect(url.clone(), &bearer("csk_nope")).await.err(),
            Some(401),
            "{url}"
        );
        assert_eq!(
            ws_connect(url.clone(), &bearer(OLD)).await.err(),
            Some(401),
            "{url}"
        );
        assert_eq!(
            ws_connect(url.clone(), &bearer(BOARD_GLOBEX)).await.err(),
            Some(403),
            "{url}: a key without the calls scope"
        );
    }
    assert_eq!(
        ws_connect(fork.clone(), &basic("fs:wrong")).await.err(),
        Some(401)
    );

    // Another tenant's key, its call naming acme: closed, permission denied.
    let mut ws = ws_connect(fork.clone(), &bearer(GLOBEX)).await.unwrap();
    ws.send(Ws::Text(r#"{"uuid":"f-1","tenant":"acme"}"#.into()))
        .await
        .unwrap();
    let reason = close_reason(&mut ws).await;
    assert!(reason.contains("permission denied"), "{reason}");
    assert!(reason.contains("\"globex\"'s"), "{reason}");
    // The fork's Basic user stands for acme: a call naming globex is refused…
    let mut ws = ws_connect(fork.clone(), &basic("fs:fs-pw")).await.unwrap();
    ws.send(Ws::Text(r#"{"uuid":"f-2","tenant":"globex"}"#.into()))
        .await
        .unwrap();
    assert!(close_reason(&mut ws).await.contains("permission denied"));
    // … one naming none is acme's.
    let mut ws = ws_connect(fork.clone(), &basic("fs:fs-pw")).await.unwrap();
    ws.send(Ws::Text(r#"{"uuid":"f-3"}"#.into())).await.unwrap();
    ws.send(Ws::Binary(vec![0u8; 640].into())).await.unwrap();
    ws.close(None).await.unwrap();
    // Twilio with a key: a start naming another tenant than the key's is closed.
    let mut ws = ws_connect(twilio.clone(), &bearer(ACME)).await.unwrap();
    let start = serde_json::json!({
        "event": "start", "sequenceNumber": "1", "streamSid": "MZ-a",
        "start": {"accountSid": "AC-x", "streamSid": "MZ-a", "callSid": "CA-1",
            "tracks": ["inbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            "customParameters": {"tenant": "globex"}}
    });
    ws.send(Ws::Text(start.to_string().into())).await.unwrap();
    let reason = close_reason(&mut ws).await;
    assert!(reason.contains("permission denied"), "{reason}");
    // Twilio's own signature stands for globex.
    let sig = callsense::ingress::twilio::signature(
        "twilio-token",
        &format!("wss://{}/twilio", server.twilio.unwrap()),
    );
    let ws = ws_connect(twilio.clone(), &[("X-Twilio-Signature", sig)]).await;
    assert!(
        ws.is_ok(),
        "a signed stream is let in as its token's tenant"
    );

    let audit = wait_for_audit(dir.path(), "f-3").await;
    let e = audit
        .iter()
        .find(|e| e["action"] == "call.start" && e["call_id"] == "f-3")
        .unwrap();
    assert_eq!(
        (
            e["door"].as_str(),
            e["tenant"].as_str(),
            e["actor"].as_str()
        ),
        (Some("fork"), Some("acme"), Some("basic:fs"))
    );
    server.stop().await;
}

async fn wait_for_audit(dir: &std::path::Path, call_id: &str) -> Vec<serde_json::Value> {
    for _ in 0..200 {
        let log = audit(dir);
        if log.iter().any(|e| e["call_id"] == call_id) {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{call_id} never reached the audit log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificates_name_the_tenant_over_mutual_tls() {
    use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};
    let dir = tempfile::tempdir().unwrap();
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "callsense test CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let issue = |names: Vec<String>, cn: &str| {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut p = rcgen::CertificateParams::new(names).unwrap();
        p.distinguished_name.push(rcgen::DnType::CommonName, cn);
        let cert = p.signed_by(&key, &*ca).unwrap();
        (cert.pem(), key.serialize_pem())
    };
    let (server_cert, server_key) = issue(vec!["localhost".into()], "localhost");
    std::fs::write(dir.path().join("tls.crt"), &server_cert).unwrap();
    std::fs::write(dir.path().join("tls.key"), &server_key).unwrap();
    std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
    let extra = format!(
        "[auth.mtls]\nclient_ca = {:?}\ntenant_from = \"cn\"\n",
        dir.path().join("ca.pem")
    );
    let mut config = auth_config(dir.path(), &extra);
    config.server.tls_cert = Some(dir.path().join("tls.crt"));
    config.server.tls_key = Some(dir.path().join("tls.key"));
    let server = TestServer::start(config).await;
    let client = |identity: Option<(String, String)>| {
        let ca = ca.pem();
        let addr = server.addr;
        async move {
            let mut tls = ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(ca))
                .domain_name("localhost");
            if let Some((c, k)) = identity {
                tls = tls.identity(Identity::from_pem(c, k));
            }
            let ch = Channel::from_shared(format!("https://{addr}"))
                .unwrap()
                .tls_config(tls)
                .unwrap()
                .connect()
                .await
                .unwrap();
            callsense::proto::call_sense_client::CallSenseClient::new(ch)
        }
    };
    let stream = |mut c: callsense::proto::call_sense_client::CallSenseClient<Channel>,
                  reqs: Vec<StreamCallRequest>,
                  key: Option<&'static str>| async move {
        let rx = callsense::cli::stream::send_paced(reqs, None);
        let req = callsense::cli::stream::with_key(ReceiverStream::new(rx), key).unwrap();
        let mut s = c.stream_call(req).await?.into_inner();
        let mut n = 0;
        while let Some(r) = s.next().await {
            r?;
            n += 1;
        }
        Ok::<usize, tonic::Status>(n)
    };
    let acme_cert = issue(vec![], "acme");
    // The certificate's CN is the tenant.
    stream(
        client(Some(acme_cert.clone())).await,
        short_call("m-1", "", 5),
        None,
    )
    .await
    .unwrap();
    let s = stream(
        client(Some(acme_cert.clone())).await,
        short_call("m-2", "globex", 5),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(s.code(), Code::PermissionDenied, "{s:?}");
    // A key of another tenant than the certificate's is refused.
    let s = stream(
        client(Some(acme_cert)).await,
        short_call("m-3", "", 5),
        Some(GLOBEX),
    )
    .await
    .unwrap_err();
    assert_eq!(s.code(), Code::PermissionDenied, "{s:?}");
    // Neither a certificate nor a key.
    let s = stream(client(None).await, short_call("m-4", "", 5), None)
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::Unauthenticated, "{s:?}");
    let log = wait_for_audit(dir.path(), "m-1").await;
    let e = log.iter().find(|e| e["call_id"] == "m-1").unwrap();
    assert_eq!(
        (e["actor"].as_str(), e["tenant"].as_str()),
        (Some("cert:acme"), Some("acme"))
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listener_metrics_can_require_a_metrics_key() {
    let dir = tempfile::tempdir().unwrap();
    let extra = "metrics = \"authenticated\"\n[ingress.fork]\nlisten = \"127.0.0.1:0\"\nbasic_auth = [{ username = \"fs\", password = \"pw\", tenant = \"acme\" }]\n";
    let server = TestServer::start(auth_config(dir.path(), extra)).await;
    let url = format!("http://{}/metrics", server.fork.unwrap());
    let http = reqwest::Client::new();
    let status =
        |r: reqwest::RequestBuilder| async move { r.send().await.unwrap().status().as_u16() };
    assert_eq!(status(http.get(&url)).await, 401);
    assert_eq!(
        status(http.get(&url).bearer_auth(ACME)).await,
        403,
        "no metrics scope"
    );
    assert_eq!(status(http.get(&url).bearer_auth(PLATFORM)).await, 200);
    let health = http
        .get(format!("http://{}/health", server.fork.unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200, "health stays open");
    let _: SocketAddr = server.addr;
    server.stop().await;
}
