//! Asterisk AudioSocket against the real server: two TCP connections speak
//! as Asterisk does (UUID frame, then 20 ms frames of 8 kHz signed-linear
//! audio, then a hangup), one per leg, their UUIDs following the documented
//! convention (same first 15 bytes; `…00` the caller, `…01` the callee).
//! The engine joins them into one call that writes the same facts to the
//! CRM as the same call over gRPC; bad connections are closed and counted.

use std::time::Duration;

use callsense::ingress::audiosocket::{encode, uuid_text, KIND_HANGUP, KIND_SLIN, KIND_UUID};
use callsense::ingress::AudioSocketConfig;
use callsense::proto::AudioEncoding;
use callsense::testkit::webhook::WebhookReceiver;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::*;
use crate::connect::{
    assert_same_facts, connect_config, wait_for_summaries, wait_until, webhook_sink, SECRET,
};

async fn server_with(cfg: AudioSocketConfig) -> (TestServer, WebhookReceiver, tempfile::TempDir) {
    let hooks = WebhookReceiver::start(&[SECRET]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config();
    let sink = webhook_sink(&hooks.url("/crm/{tenant}"), &[SECRET]);
    config.connect = connect_config(dir.path(), &sink);
    config.ingress.audiosocket = Some(AudioSocketConfig {
        listen: "127.0.0.1:0".into(),
        tenant: "test".into(),
        ..cfg
    });
    (TestServer::start(config).await, hooks, dir)
}

fn loopback() -> AudioSocketConfig {
    AudioSocketConfig {
        allow_from: vec!["127.0.0.0/8".into()],
        // The test sends faster than real time: let a leg lead by more.
        max_lead_ms: 5000,
        ..AudioSocketConfig::default()
    }
}

/// One channel of the demo call as 20 ms frames of L16.
fn leg_frames(channel: usize) -> Vec<Vec<u8>> {
    let pcm = demo_call().encode(AudioEncoding::Linear16);
    let mono: Vec<u8> = pcm
        .chunks(4)
        .flat_map(|f| [f[2 * channel], f[2 * channel + 1]])
        .collect();
    mono.chunks(320).map(<[u8]>::to_vec).collect()
}

/// Reads until the server closes; true if it did within 10 s.
async fn closed_by_server(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 64];
    loop {
        match tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
            Err(_) => return false,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_legs_make_one_call_with_the_same_facts_as_grpc() {
    let (server, hooks, _dir) = server_with(loopback()).await;
    let addr = server.audiosocket.unwrap();
    call(
        &mut server.client().await,
        mulaw_requests(&demo_call(), "grpc-call"),
    )
    .await
    .unwrap();

    let mut uuid = *uuid::Uuid::new_v4().as_bytes();
    uuid[15] = 0;
    let call_id = uuid_text(&uuid);
    // The caller is the customer: channel 1 of the demo call; the callee,
    // the agent, channel 0.
    let (customer, agent) = (leg_frames(1), leg_frames(0));
    let mut legs = Vec::new();
    for last in [0u8, 1] {
        let mut id = uuid;
        id[15] = last;
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(&encode(KIND_UUID, &id)).await.unwrap();
        legs.push(s);
    }
    for (i, (c, a)) in customer.iter().zip(&agent).enumerate() {
        legs[0].write_all(&encode(KIND_SLIN, c)).await.unwrap();
        legs[1].write_all(&encode(KIND_SLIN, a)).await.unwrap();
        if i % 25 == 24 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    for s in &mut legs {
        s.write_all(&encode(KIND_HANGUP, &[])).await.unwrap();
        assert!(
            closed_by_server(s).await,
            "the server closes a leg that hung up"
        );
    }
    wait_for_summaries(&hooks, &["grpc-call", &call_id]).await;
    assert_same_facts(&hooks, &call_id, "grpc-call");
    let t = server.engine.telemetry();
    assert_eq!(
        metric(t, "callsense_ingress_calls_total{protocol=\"audiosocket\"}"),
        1,
        "two legs, one call"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_legs_are_closed_and_what_came_before_is_kept() {
    let (server, hooks, _dir) = server_with(loopback()).await;
    let addr = server.audiosocket.unwrap();
    let uuid = |last: u8| {
        let mut u = [0x5a; 16];
        u[15] = last;
        u
    };
    let cases: Vec<Vec<u8>> = vec![
        encode(KIND_SLIN, &[0; 320]), // audio before the UUID
        [encode(KIND_UUID, &uuid(7)), encode(0x42, &[1])].concat(), // unknown kind
        [encode(KIND_UUID, &uuid(8)), vec![KIND_SLIN, 0xff, 0xff]].concat(), // oversized
        [encode(KIND_UUID, &uuid(9)), encode(KIND_UUID, &uuid(9))].concat(), // two UUIDs
        encode(KIND_UUID, &[1; 15]),  // short UUID
    ];
    for wire in &cases {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(wire).await.unwrap();
        assert!(closed_by_server(&mut s).await, "{wire:?} should be closed");
    }
    // Audio, then garbage: the leg is closed and the audio before counts.
    let speech = leg_frames(1);
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(&encode(KIND_UUID, &uuid(3))).await.unwrap();
    for f in speech.iter().take(speech.len() / 2) {
        s.write_all(&encode(KIND_SLIN, f)).await.unwrap();
    }
    s.write_all(&encode(0x42, &[])).await.unwrap();
    assert!(closed_by_server(&mut s).await);
    let id = uuid_text(&uuid(3));
    wait_until(
        "the broken leg's call summary",
        Duration::from_secs(30),
        || {
            hooks
                .messages()
                .iter()
                .any(|m| m.kind == "call.summary" && m.data["call_id"] == id.as_str())
        },
    )
    .await;
    assert!(
        hooks
            .messages()
            .iter()
            .any(|m| m.kind == "utterance.final" && m.data["call_id"] == id.as_str()),
        "the audio before the bad frame was transcribed"
    );
    let t = server.engine.telemetry();
    assert_eq!(
        metric(
            t,
            "callsense_ingress_bad_streams_total{protocol=\"audiosocket\"}"
        ),
        6
    );
    server.stop().await;

    // A peer outside allow_from is closed at once and counted.
    let (server, _hooks, _dir) = server_with(AudioSocketConfig {
        allow_from: vec!["10.0.0.0/8".into()],
        ..AudioSocketConfig::default()
    })
    .await;
    let mut s = TcpStream::connect(server.audiosocket.unwrap())
        .await
        .unwrap();
    let _ = s.write_all(&encode(KIND_UUID, &uuid(0))).await;
    assert!(closed_by_server(&mut s).await);
    assert_eq!(
        metric(
            server.engine.telemetry(),
            "callsense_ingress_refused_total{protocol=\"audiosocket\",status=\"403\"}"
        ),
        1
    );
    server.stop().await;
}
