//! Twilio Media Streams against the real server: a client that speaks the
//! protocol as Twilio does (signed upgrade, `connected`, `start` with both
//! tracks and custom parameters, 20 ms `media` per track with timestamps,
//! `stop`) gets the same results in the CRM as the same call over gRPC; bad
//! input gets the protocol's own answer and loses nothing already accepted.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine as _;
use callsense::ingress::twilio::signature;
use callsense::ingress::{TwilioConfig, TwilioToken};
use callsense::proto::AudioEncoding;
use callsense::secret::Secret;
use callsense::testkit::webhook::WebhookReceiver;
use futures::SinkExt;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message as Ws;

use crate::common::*;
use crate::connect::{connect_config, wait_until, webhook_sink, SECRET};

const TOKEN: &str = "twilio-auth-token-for-tests";

fn twilio_config() -> TwilioConfig {
    TwilioConfig {
        listen: "127.0.0.1:0".into(),
        auth_tokens: vec![
            TwilioToken::Plain(Secret::new("an-old-token")),
            TwilioToken::Plain(Secret::new(TOKEN)),
        ],
        ..TwilioConfig::default()
    }
}

/// Connects as Twilio does, signing `wss://{host}/twilio` with `token`.
async fn connect(addr: SocketAddr, token: Option<&str>) -> Result<Client, String> {
    let url = format!("ws://{addr}/twilio");
    let mut req = url.into_client_request().unwrap();
    if let Some(t) = token {
        let sig = signature(t, &format!("wss://{addr}/twilio"));
        req.headers_mut()
            .insert("X-Twilio-Signature", sig.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => {
            Err(format!("HTTP {}", r.status().as_u16()))
        }
        Err(e) => Err(e.to_string()),
    }
}

fn start_message(call_sid: &str, params: &[(&str, &str)]) -> String {
    let params: BTreeMap<_, _> = params.iter().copied().collect();
    serde_json::json!({
        "event": "start", "sequenceNumber": "1", "streamSid": "MZ-test",
        "start": {
            "accountSid": "AC-test", "streamSid": "MZ-test", "callSid": call_sid,
            "tracks": ["inbound", "outbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            "customParameters": params,
        }
    })
    .to_string()
}

/// The demo call as Twilio sends it: the customer (channel 1) on the
/// inbound track, the agent (channel 0) on the outbound one, 20 ms each,
/// the two tracks' messages alternating.
fn media_messages() -> Vec<String> {
    let clip = demo_call();
    let stereo = clip.encode(AudioEncoding::Mulaw);
    let agent: Vec<u8> = stereo.iter().step_by(2).copied().collect();
    let customer: Vec<u8> = stereo.iter().skip(1).step_by(2).copied().collect();
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let mut out = Vec::new();
    for (i, (c, a)) in customer.chunks(160).zip(agent.chunks(160)).enumerate() {
        for (track, chunk) in [("inbound", c), ("outbound", a)] {
            out.push(
                serde_json::json!({
                    "event": "media", "sequenceNumber": (i * 2 + 2).to_string(), "streamSid": "MZ-test",
                    "media": {"track": track, "chunk": (i + 1).to_string(), "timestamp": (i * 20).to_string(), "payload": b64(chunk)}
                })
                .to_string(),
            );
        }
    }
    out
}

async fn send(ws: &mut Client, text: String) {
    ws.send(Ws::Text(text.into())).await.unwrap();
}

/// (role, transcript, sentiment, intent) of every utterance a call wrote to the CRM.
fn written(hooks: &WebhookReceiver, call_id: &str) -> Vec<(String, String, String, String)> {
    let mut v: Vec<_> = hooks
        .messages()
        .into_iter()
        .filter(|m| m.kind == "utterance.final" && m.data["call_id"] == call_id)
        .map(|m| {
            let s = |k: &str| m.data[k].as_str().unwrap_or("").to_string();
            (s("role"), s("transcript"), s("sentiment"), s("intent"))
        })
        .collect();
    v.sort();
    v
}

fn summary_of(hooks: &WebhookReceiver, call_id: &str) -> Option<serde_json::Value> {
    hooks
        .messages()
        .into_iter()
        .find(|m| m.kind == "call.summary" && m.data["call_id"] == call_id)
        .map(|m| m.data)
}

/// A server with a Twilio listener, and a webhook sink to see what reaches the CRM.
async fn server_with_twilio() -> (TestServer, WebhookReceiver, tempfile::TempDir) {
    let hooks = WebhookReceiver::start(&[SECRET]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config();
    let sink = webhook_sink(&hooks.url("/crm/{tenant}"), &[SECRET]);
    config.connect = connect_config(dir.path(), &sink);
    config.ingress.twilio = Some(twilio_config());
    (TestServer::start(config).await, hooks, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_twilio_stream_writes_the_same_facts_as_the_same_call_over_grpc() {
    let (server, hooks, _dir) = server_with_twilio().await;
    let addr = server.twilio.unwrap();

    // The call over gRPC: agent on channel 0, customer on channel 1.
    let responses = call(
        &mut server.client().await,
        mulaw_requests(&demo_call(), "grpc-call"),
    )
    .await
    .unwrap();
    let finals = finals(&responses);
    assert!(finals.len() >= 10);

    // The same call from Twilio.
    let mut ws = connect(addr, Some(TOKEN)).await.unwrap();
    send(
        &mut ws,
        r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#.into(),
    )
    .await;
    send(
        &mut ws,
        start_message("CA-twilio-call", &[("tenant", "test")]),
    )
    .await;
    for m in media_messages() {
        send(&mut ws, m).await;
    }
    send(&mut ws, r#"{"event":"stop","sequenceNumber":"9999","streamSid":"MZ-test","stop":{"accountSid":"AC-test","callSid":"CA-twilio-call"}}"#.into()).await;
    assert_eq!(
        close_of(&mut ws).await,
        (CloseCode::Normal, "call complete".into())
    );

    wait_until("both calls' summaries", Duration::from_secs(20), || {
        summary_of(&hooks, "grpc-call").is_some() && summary_of(&hooks, "CA-twilio-call").is_some()
    })
    .await;
    let grpc = written(&hooks, "grpc-call");
    let twilio = written(&hooks, "CA-twilio-call");
    assert_eq!(grpc.len(), finals.len());
    assert_eq!(
        twilio, grpc,
        "same utterances, roles and intents from both front doors"
    );
    assert!(
        twilio.iter().any(|(role, ..)| role == "customer")
            && twilio.iter().any(|(role, ..)| role == "agent")
    );
    let t = server.engine.telemetry();
    assert_eq!(
        metric(t, "callsense_ingress_calls_total{protocol=\"twilio\"}"),
        1
    );
    // The session task lets go of its connection just after the close frame.
    wait_until(
        "the connection gauge back at 0",
        Duration::from_secs(5),
        || metric(t, "callsense_ingress_connections{protocol=\"twilio\"}") == 0,
    )
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_twilio_streams_get_the_protocols_answer_and_lose_nothing() {
    let (server, hooks, _dir) = server_with_twilio().await;
    let addr = server.twilio.unwrap();

    // Upgrades: no signature, a wrong one.
    assert_eq!(connect(addr, None).await.unwrap_err(), "HTTP 401");
    assert_eq!(
        connect(addr, Some("not-the-token")).await.unwrap_err(),
        "HTTP 403"
    );

    // Media before start; malformed JSON; a binary frame; an unknown format;
    // a bad call id — each closed with the reason.
    let cases: Vec<(Vec<Ws>, CloseCode, &str)> = vec![
        (
            vec![Ws::Text(media_messages()[0].clone().into())],
            CloseCode::Policy,
            "media before the stream's start message",
        ),
        (
            vec![Ws::Text("{not json".into())],
            CloseCode::Policy,
            "not valid JSON",
        ),
        (
            vec![Ws::Binary(vec![0u8; 160].into())],
            CloseCode::Unsupported,
            "binary frames",
        ),
        (
            vec![Ws::Text(
                start_message("CA-x", &[])
                    .replace("audio/x-mulaw", "audio/ogg")
                    .into(),
            )],
            CloseCode::Policy,
            "start.mediaFormat.encoding \"audio/ogg\" is not supported",
        ),
        (
            vec![Ws::Text(start_message("has spaces", &[]).into())],
            CloseCode::Policy,
            "start.callSid (or customParameters.call_id)",
        ),
    ];
    for (msgs, code, reason) in cases {
        let mut ws = connect(addr, Some(TOKEN)).await.unwrap();
        for m in msgs {
            ws.send(m).await.unwrap();
        }
        let (c, r) = close_of(&mut ws).await;
        assert_eq!(c, code, "{r}");
        assert!(r.contains(reason), "{r:?} should say {reason:?}");
    }

    // A peer that vanishes mid-call: what it sent is still transcribed,
    // summarised and written back.
    let mut ws = connect(addr, Some(TOKEN)).await.unwrap();
    send(&mut ws, start_message("CA-vanished", &[("tenant", "test")])).await;
    let media = media_messages();
    for m in &media[..media.len() / 2] {
        send(&mut ws, m.clone()).await;
    }
    drop(ws); // no stop, no close frame
    wait_until(
        "the vanished call's summary",
        Duration::from_secs(30),
        || summary_of(&hooks, "CA-vanished").is_some(),
    )
    .await;
    assert!(
        !written(&hooks, "CA-vanished").is_empty(),
        "its utterances were written back"
    );

    // A media message that breaks the stream mid-call ends it with the
    // reason — and the call's audio so far still counts.
    let mut ws = connect(addr, Some(TOKEN)).await.unwrap();
    send(&mut ws, start_message("CA-garbled", &[("tenant", "test")])).await;
    for m in &media[..media.len() / 2] {
        send(&mut ws, m.clone()).await;
    }
    send(
        &mut ws,
        r#"{"event":"media","media":{"track":"inbound","timestamp":"5","payload":"%%%"}}"#.into(),
    )
    .await;
    let (c, r) = close_of(&mut ws).await;
    assert_eq!(c, CloseCode::Policy);
    assert!(r.contains("media payload is not base64"), "{r}");
    wait_until(
        "the garbled call's summary",
        Duration::from_secs(30),
        || summary_of(&hooks, "CA-garbled").is_some(),
    )
    .await;
    let t = server.engine.telemetry();
    assert_eq!(
        metric(
            t,
            "callsense_ingress_refused_total{protocol=\"twilio\",status=\"401\"}"
        ),
        1
    );
    assert_eq!(
        metric(
            t,
            "callsense_ingress_refused_total{protocol=\"twilio\",status=\"403\"}"
        ),
        1
    );
    assert_eq!(
        metric(
            t,
            "callsense_ingress_bad_streams_total{protocol=\"twilio\"}"
        ),
        6
    );
    server.stop().await;
}

/// Twilio's own recorded `<Connect><Stream>` session (the `output.txt` of
/// twilio/media-streams' connect-basic sample: `connected`, a `start` with
/// the inbound track only and a custom parameter, `media` with string
/// sequence numbers, chunks and timestamps, and the `mark` echoes Twilio
/// sends on a two-way stream), replayed with the recorded ids and first
/// payload, then the demo call's customer side, then `stop`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilios_recorded_connect_stream_replays_as_a_one_track_call() {
    let (server, hooks, _dir) = server_with_twilio().await;
    let mut ws = connect(server.twilio.unwrap(), Some(TOKEN)).await.unwrap();
    let sid = "9e7ee906-377b-408f-a852-eebfb834422a";
    let call_sid = "CA3c95a2a6bba5fde93a5dea01e388e8fb";
    send(
        &mut ws,
        r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#.into(),
    )
    .await;
    let start = serde_json::json!({
        "event": "start", "sequenceNumber": "1",
        "start": {
            "accountSid": "AC18fbd524d33614fba208030751dffdca", "streamSid": sid, "callSid": call_sid,
            "tracks": ["inbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            "customParameters": {"aCutomParameter": "aCustomValue that was set in TwiML", "tenant": "test"}
        },
        "streamSid": sid
    });
    send(&mut ws, start.to_string()).await;
    let recorded = "6/jk2NbZ3uXj5Oz+bmhiYnD07+XWy8bIzdjg6mpNPzk3Nzc2Njg/UXXl2s7Cu7u+xcnLzdr7aGp98/94++PTztXc3NfV3PRnYGNhXVtfe9vMxcXJzM/X81JAOjY0MjEwMzlDVX3dzsK6tre8wsfK0OxdVFtx/nZw89fMzNLb3NPS3v5kYXZvXl5q3snBvb3BxsrYakY3Ly0sKysrLjZCZA==";
    let media = |seq: usize, chunk: usize, ts: usize, payload: &str| {
        serde_json::json!({"event": "media", "sequenceNumber": seq.to_string(),
            "media": {"track": "inbound", "chunk": chunk.to_string(), "timestamp": ts.to_string(), "payload": payload},
            "streamSid": sid})
        .to_string()
    };
    send(&mut ws, media(2, 1, 52, recorded)).await;
    let customer: Vec<u8> = demo_call()
        .encode(AudioEncoding::Mulaw)
        .iter()
        .skip(1)
        .step_by(2)
        .copied()
        .collect();
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let mut seq = 3;
    for (i, c) in customer.chunks(160).enumerate() {
        send(&mut ws, media(seq, i + 2, 72 + i * 20, &b64(c))).await;
        seq += 1;
        if seq % 51 == 1 {
            // Twilio echoes each mark the server sent, in sequence.
            let mark = serde_json::json!({"event": "mark", "sequenceNumber": seq.to_string(), "streamSid": sid,
                                          "mark": {"name": format!("Repeat message {}", seq / 51 - 2)}});
            send(&mut ws, mark.to_string()).await;
            seq += 1;
        }
    }
    send(
        &mut ws,
        serde_json::json!({"event": "stop", "sequenceNumber": seq.to_string(), "streamSid": sid,
        "stop": {"accountSid": "AC18fbd524d33614fba208030751dffdca", "callSid": call_sid}})
        .to_string(),
    )
    .await;
    assert_eq!(
        close_of(&mut ws).await,
        (CloseCode::Normal, "call complete".into())
    );
    wait_until("the call's summary", Duration::from_secs(20), || {
        summary_of(&hooks, call_sid).is_some()
    })
    .await;
    let facts = written(&hooks, call_sid);
    assert!(facts.len() >= 3, "{facts:?}");
    assert!(
        facts.iter().all(|(role, ..)| role == "customer"),
        "the inbound track is the customer: {facts:?}"
    );
    server.stop().await;
}
