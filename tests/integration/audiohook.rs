//! Genesys Cloud AudioHook against the real server: a client that speaks as
//! Genesys does (signed upgrade, `open` with the three media offers, `ping`s,
//! a client-side pause with its duplicate `paused`, 200 ms stereo PCMU
//! frames, `close`), with the sequence numbers the reference client and its
//! compliance suite use, checked on every server message. The call writes
//! the same facts to the CRM as the same call over gRPC; probes, bad
//! signatures and bad sessions get the protocol's answers.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use callsense::ingress::audiohook::sign;
use callsense::ingress::{AudioHookClient, AudioHookConfig};
use callsense::proto::AudioEncoding;
use callsense::secret::Secret;
use callsense::testkit::webhook::WebhookReceiver;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as Ws;

use crate::common::*;
use crate::connect::{
    assert_same_facts, connect_config, wait_for_summaries, wait_until, webhook_sink, SECRET,
};

const API_KEY: &str = "SGVsbG8sIEkgYW0gdGhlIEFQSSBrZXkh";
const CLIENT_SECRET: &str = "TXlTdXBlclNlY3JldEtleVRlbGxOby0xITJAMyM0JDU=";
const ORG: &str = "56e6a4b1-1c2b-4b5c-9d8e-0123456789ab";

async fn server_with_audiohook() -> (TestServer, WebhookReceiver, tempfile::TempDir) {
    let hooks = WebhookReceiver::start(&[SECRET]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config();
    let sink = webhook_sink(&hooks.url("/crm/{tenant}"), &[SECRET]);
    config.connect = connect_config(dir.path(), &sink);
    config.ingress.audiohook = Some(AudioHookConfig {
        listen: "127.0.0.1:0".into(),
        clients: vec![AudioHookClient {
            api_key: Secret::new(API_KEY),
            client_secret: Secret::new(CLIENT_SECRET),
            organization_id: Some(ORG.into()),
            tenant: "test".into(),
        }],
        events: true,
        ..AudioHookConfig::default()
    });
    (TestServer::start(config).await, hooks, dir)
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// How the upgrade is signed.
#[derive(Clone, Copy, PartialEq)]
enum Signing {
    Good,
    None,
    WrongSecret,
    Old,
}

/// An AudioHook client keeping the protocol's sequence numbers.
struct Hook {
    ws: Client,
    id: String,
    seq: u64,
    serverseq: u64,
    /// Server messages other than the one waited for (events, mostly).
    events: Vec<Value>,
}

impl Hook {
    async fn connect(addr: SocketAddr, signing: Signing, nonce: &str) -> Result<Self, u16> {
        Self::connect_as(addr, signing, nonce, ORG).await
    }

    async fn connect_as(
        addr: SocketAddr,
        signing: Signing,
        nonce: &str,
        org: &str,
    ) -> Result<Self, u16> {
        let id = uuid();
        let target = "/api/v1/audiohook/ws";
        let mut req = format!("ws://{addr}{target}")
            .into_client_request()
            .unwrap();
        let corr = uuid();
        let headers = [
            ("audiohook-organization-id", org.to_string()),
            ("audiohook-session-id", id.clone()),
            ("audiohook-correlation-id", corr),
            ("x-api-key", API_KEY.to_string()),
        ];
        for (k, v) in &headers {
            req.headers_mut().insert(*k, v.parse().unwrap());
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let secret = if signing == Signing::WrongSecret {
            "d3Jvbmcgc2VjcmV0"
        } else {
            CLIENT_SECRET
        };
        let key = base64::engine::general_purpose::STANDARD
            .decode(secret)
            .unwrap();
        let created = if signing == Signing::Old {
            now - 60
        } else {
            now
        };
        let authority = addr.to_string();
        let (input, sig) = sign(API_KEY, &key, nonce, created, |c| match c {
            "@request-target" => Some(target.to_string()),
            "@authority" => Some(authority.clone()),
            h => headers
                .iter()
                .find(|(k, _)| *k == h)
                .map(|(_, v)| v.clone()),
        });
        if signing != Signing::None {
            req.headers_mut()
                .insert("signature-input", input.parse().unwrap());
            req.headers_mut().insert("signature", sig.parse().unwrap());
        }
        match tokio_tungstenite::connect_async(req).await {
            Ok((ws, _)) => Ok(Self {
                ws,
                id,
                seq: 0,
                serverseq: 0,
                events: Vec::new(),
            }),
            Err(tokio_tungstenite::tungstenite::Error::Http(r)) => Err(r.status().as_u16()),
            Err(e) => panic!("{e}"),
        }
    }

    async fn send(&mut self, kind: &str, parameters: Value) {
        self.seq += 1;
        let m = json!({"version": "2", "type": kind, "id": self.id, "seq": self.seq,
                       "serverseq": self.serverseq, "position": "PT0S", "parameters": parameters});
        self.ws.send(Ws::Text(m.to_string().into())).await.unwrap();
    }

    async fn audio(&mut self, frame: &[u8]) {
        self.ws
            .send(Ws::Binary(frame.to_vec().into()))
            .await
            .unwrap();
    }

    /// The next server message of `kind`, checking every message's numbers
    /// as the Genesys client does; other messages are kept in `events`.
    async fn expect(&mut self, kind: &str) -> Value {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(30), self.ws.next())
                .await
                .unwrap_or_else(|_| panic!("no {kind} within 30 s"));
            let text = match msg {
                Some(Ok(Ws::Text(t))) => t,
                Some(Ok(Ws::Binary(_))) => panic!("the server sent binary data"),
                Some(Ok(_)) => continue,
                other => panic!("waiting for {kind}: {other:?}"),
            };
            let v: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(v["version"], "2");
            assert_eq!(v["id"], self.id.as_str());
            assert_eq!(
                v["seq"].as_u64(),
                Some(self.serverseq + 1),
                "server seq: {v}"
            );
            self.serverseq += 1;
            if v["type"] == kind {
                return v;
            }
            assert_eq!(v["type"], "event", "unexpected {v}");
            self.events.push(v);
        }
    }
}

fn offers() -> Value {
    json!([
        {"type": "audio", "format": "PCMU", "channels": ["external", "internal"], "rate": 8000},
        {"type": "audio", "format": "PCMU", "channels": ["external"], "rate": 8000},
        {"type": "audio", "format": "PCMU", "channels": ["internal"], "rate": 8000},
    ])
}

fn open_params(conversation: &str, org: &str) -> Value {
    json!({"organizationId": org, "conversationId": conversation,
           "participant": {"id": uuid(), "ani": "tel:+15550100", "aniName": "Jo Doe", "dnis": "+18005556789"},
           "media": offers(), "language": "en", "customConfig": {"customer_id": "C-1042"},
           "supportedLanguages": false})
}

/// The demo call as 200 ms frames of stereo PCMU, external (the customer,
/// channel 1 of the file) first.
fn pcmu_frames() -> Vec<Vec<u8>> {
    let pcm = demo_call().encode(AudioEncoding::Mulaw);
    let swapped: Vec<u8> = pcm.chunks(2).flat_map(|f| [f[1], f[0]]).collect();
    swapped.chunks(1600 * 2).map(<[u8]>::to_vec).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_genesys_session_replays_the_reference_sequences_and_writes_the_same_facts_as_grpc() {
    let (server, hooks, _dir) = server_with_audiohook().await;
    let addr = server.audiohook.unwrap();
    call(
        &mut server.client().await,
        mulaw_requests(&demo_call(), "grpc-call"),
    )
    .await
    .unwrap();

    let conversation = uuid();
    let mut h = Hook::connect(addr, Signing::Good, "bm9uY2Utb2YtdGhlLWZpcnN0LXNlc3Npb24")
        .await
        .unwrap();
    h.send("open", open_params(&conversation, ORG)).await;
    let opened = h.expect("opened").await;
    assert_eq!(
        (opened["seq"].as_u64(), opened["clientseq"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        opened["parameters"]["media"],
        json!([offers()[0]]),
        "the stereo offer, as offered"
    );
    assert_eq!(opened["parameters"]["startPaused"], false);
    // Ping, pong, ping with rtt, pong: as the reference client starts.
    h.send("ping", json!({})).await;
    let pong = h.expect("pong").await;
    assert_eq!(
        pong["clientseq"].as_u64(),
        Some(2),
        "a pong answers its ping"
    );
    h.send("ping", json!({"rtt": "PT0.001002791S"})).await;
    assert_eq!(h.expect("pong").await["clientseq"].as_u64(), Some(3));

    let frames = pcmu_frames();
    let half = frames.len() / 2;
    for f in &frames[..half] {
        h.audio(f).await;
    }
    // A client-side pause (hold), `paused` sent twice as the compliance
    // suite does, a ping while paused, then `resumed`.
    h.send("paused", json!({})).await;
    h.send("paused", json!({})).await;
    h.send("ping", json!({})).await;
    assert_eq!(h.expect("pong").await["clientseq"].as_u64(), Some(6));
    h.send("resumed", json!({"start": "PT0.2S", "discarded": "PT0S"}))
        .await;
    for f in &frames[half..] {
        h.audio(f).await;
    }
    h.send("close", json!({"reason": "end"})).await;
    let closed = h.expect("closed").await;
    assert_eq!(closed["clientseq"].as_u64(), Some(8));
    assert_eq!(closed["parameters"], json!({}));

    // Results came back as events: a transcript entity and the full result.
    let transcripts: Vec<&Value> = h
        .events
        .iter()
        .flat_map(|e| e["parameters"]["entities"].as_array().unwrap())
        .filter(|e| e["type"] == "transcript" && e["data"]["isFinal"] == true)
        .collect();
    assert!(
        transcripts.len() >= 5,
        "{} final transcripts came back",
        transcripts.len()
    );
    for t in &transcripts {
        assert!(t["data"]["channelId"] == 0 || t["data"]["channelId"] == 1);
        assert!(t["data"]["offset"].as_str().unwrap().starts_with("PT"));
    }
    assert!(
        h.events
            .iter()
            .any(|e| e["parameters"]["entities"][0]["type"] == "callsense"
                && e["parameters"]["entities"][0]["data"]["summary"].is_object()),
        "the summary came back"
    );

    wait_for_summaries(&hooks, &["grpc-call", &conversation]).await;
    assert_same_facts(&hooks, &conversation, "grpc-call");
    let summary = hooks
        .messages()
        .into_iter()
        .find(|m| m.kind == "call.summary" && m.data["call_id"] == conversation.as_str())
        .unwrap();
    assert_eq!(summary.path, "/crm/test", "the credentials' tenant");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_probe_is_opened_and_closed_without_a_call() {
    let (server, _hooks, _dir) = server_with_audiohook().await;
    let mut h = Hook::connect(
        server.audiohook.unwrap(),
        Signing::Good,
        "cHJvYmUtbm9uY2UtMDAwMDAwMDAw",
    )
    .await
    .unwrap();
    let mut open = open_params(NULL, ORG);
    open["participant"] = json!({"id": NULL, "ani": "", "aniName": "", "dnis": ""});
    h.send("open", open).await;
    let opened = h.expect("opened").await;
    assert_eq!(
        (opened["seq"].as_u64(), opened["clientseq"].as_u64()),
        (Some(1), Some(1))
    );
    h.send("close", json!({"reason": "end"})).await;
    let closed = h.expect("closed").await;
    assert_eq!(
        (closed["seq"].as_u64(), closed["clientseq"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(
        metric(
            server.engine.telemetry(),
            "callsense_ingress_calls_total{protocol=\"audiohook\"}"
        ),
        0
    );
    server.stop().await;
}

const NULL: &str = "00000000-0000-0000-0000-000000000000";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_signatures_are_refused_and_bad_sessions_get_disconnect_with_the_reason() {
    let (server, _hooks, _dir) = server_with_audiohook().await;
    let addr = server.audiohook.unwrap();
    let nonce = |i: u32| format!("dGVzdC1ub25jZS1udW1iZXIt{i:04}");
    assert_eq!(
        Hook::connect(addr, Signing::None, &nonce(1)).await.err(),
        Some(401)
    );
    assert_eq!(
        Hook::connect(addr, Signing::WrongSecret, &nonce(2))
            .await
            .err(),
        Some(401)
    );
    assert_eq!(
        Hook::connect(addr, Signing::Old, &nonce(3)).await.err(),
        Some(401)
    );
    let other_org = "11111111-2222-4333-8444-555555555555";
    assert_eq!(
        Hook::connect_as(addr, Signing::Good, &nonce(4), other_org)
            .await
            .err(),
        Some(401)
    );
    // A signed request replayed with its nonce is refused.
    Hook::connect(addr, Signing::Good, &nonce(5)).await.unwrap();
    assert_eq!(
        Hook::connect(addr, Signing::Good, &nonce(5)).await.err(),
        Some(401)
    );

    let conversation = uuid();
    let frame = pcmu_frames()[0].clone();
    let cases: Vec<(&str, &str, &str)> = vec![
        ("seq", "error", "Invalid seq value"),
        ("json", "error", "not valid JSON"),
        ("early-audio", "error", "Received audio before open"),
        ("type", "error", "'dance' is not a supported client message"),
        ("paused-audio", "error", "Received audio in state PAUSED"),
        ("odd-frame", "error", "not a valid audio frame"),
        ("no-media", "error", "none of the offered media"),
    ];
    for (i, (case, reason, info)) in cases.into_iter().enumerate() {
        let mut h = Hook::connect(addr, Signing::Good, &nonce(100 + i as u32))
            .await
            .unwrap();
        let open = open_params(&conversation, ORG);
        match case {
            "seq" => {
                h.seq = 1; // the first message numbered 2
                h.send("open", open).await;
            }
            "json" => h.ws.send(Ws::Text("{".into())).await.unwrap(),
            "early-audio" => h.audio(&frame).await,
            "type" => h.send("dance", json!({})).await,
            "paused-audio" | "odd-frame" => {
                h.send("open", open).await;
                h.expect("opened").await;
                if case == "paused-audio" {
                    h.send("paused", json!({})).await;
                    h.audio(&frame).await;
                } else {
                    h.audio(&frame[..frame.len() - 1]).await;
                }
            }
            "no-media" => {
                let mut open = open;
                open["media"] = json!([{"type": "audio", "format": "OPUS", "channels": ["external"], "rate": 48000}]);
                h.send("open", open).await;
            }
            _ => unreachable!(),
        }
        let d = h.expect("disconnect").await;
        assert_eq!(d["parameters"]["reason"], reason, "{case}: {d}");
        let got = d["parameters"]["info"].as_str().unwrap();
        assert!(got.contains(info), "{case}: {got:?} should say {info:?}");
        // The client answers with close; the server with closed.
        h.send("close", json!({"reason": "disconnect"})).await;
        h.expect("closed").await;
    }
    // An open whose organization is not the upgrade's.
    let mut h = Hook::connect(addr, Signing::Good, &nonce(200))
        .await
        .unwrap();
    h.send(
        "open",
        open_params(&conversation, "11111111-2222-4333-8444-555555555555"),
    )
    .await;
    let d = h.expect("disconnect").await;
    assert_eq!(d["parameters"]["reason"], "unauthorized");
    h.send("close", json!({"reason": "disconnect"})).await;
    h.expect("closed").await;

    let t = server.engine.telemetry();
    assert_eq!(
        metric(
            t,
            "callsense_ingress_refused_total{protocol=\"audiohook\",status=\"401\"}"
        ),
        5
    );
    wait_until("every bad session counted", Duration::from_secs(5), || {
        metric(
            t,
            "callsense_ingress_bad_streams_total{protocol=\"audiohook\"}",
        ) == 8
    })
    .await;
    server.stop().await;
}
