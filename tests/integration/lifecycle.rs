//! Health, reflection, admission limits, and clients that vanish mid-call.

use std::sync::Arc;
use std::time::Duration;

use callsense::proto::StreamCallRequest;
use futures::StreamExt;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Code;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

use crate::common::*;

/// Tasks alive on this test's own runtime (other tests run on theirs).
fn alive_tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_serving_and_reflection_lists_the_service() {
    let server = TestServer::start(test_config()).await;
    let channel = tonic::transport::Channel::from_shared(server.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = HealthClient::new(channel.clone());
    for service in ["", "callsense.v1.CallSense"] {
        let r = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            r.status,
            tonic_health::pb::health_check_response::ServingStatus::Serving as i32,
            "{service:?}"
        );
    }
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    let mut refl = ServerReflectionClient::new(channel);
    let req = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut resp = refl
        .server_reflection_info(futures::stream::iter([req]))
        .await
        .unwrap()
        .into_inner();
    let Some(Ok(r)) = resp.next().await else {
        panic!("no reflection response")
    };
    let Some(MessageResponse::ListServicesResponse(list)) = r.message_response else {
        panic!("{r:?}")
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.contains(&"callsense.v1.CallSense".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"grpc.health.v1.Health".to_string()),
        "{names:?}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_beyond_the_limit_get_resource_exhausted() {
    let mut cfg = test_config();
    cfg.server.max_concurrent_calls = 1;
    let server = TestServer::start(cfg).await;
    let clip = demo_call();
    let reqs = mulaw_requests(&clip, "first");
    // Hold the first call open: send the config and one chunk, keep the sender.
    let (tx, rx) = mpsc::channel::<StreamCallRequest>(4);
    tx.send(reqs[0].clone()).await.unwrap();
    tx.send(reqs[1].clone()).await.unwrap();
    let mut first = server
        .client()
        .await
        .stream_call(ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    assert!(first.next().await.unwrap().is_ok(), "first call accepted");
    let e = call(&mut server.client().await, mulaw_requests(&clip, "second"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
    assert!(e.message().contains("max_concurrent_calls"));
    assert_eq!(e.metadata().get("retry-after").unwrap(), "1");
    drop(tx);
    while first.next().await.is_some() {}
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_vanish_mid_call_leak_nothing_and_the_server_keeps_serving() {
    let server = TestServer::start(test_config()).await;
    let clip = demo_call();
    let baseline_tasks = alive_tasks();
    for round in 0..3 {
        let mut clients = Vec::new();
        for n in 0..4 {
            let reqs = mulaw_requests(&clip, &format!("vanish-{round}-{n}"));
            let half = reqs.len() / 2;
            let (tx, rx) = mpsc::channel::<StreamCallRequest>(8);
            let mut client = server.client().await;
            let handle = tokio::spawn(async move {
                let mut stream = client
                    .stream_call(ReceiverStream::new(rx))
                    .await
                    .unwrap()
                    .into_inner();
                // Read until the first utterance result arrives, then vanish.
                let mut got = 0;
                while let Some(Ok(_)) = stream.next().await {
                    got += 1;
                    if got >= 2 {
                        break;
                    }
                }
            });
            let sender = tokio::spawn(async move {
                for r in reqs.into_iter().take(half) {
                    if tx.send(r).await.is_err() {
                        return;
                    }
                }
                // Never half-close: the client just disappears.
                tokio::time::sleep(Duration::from_secs(3600)).await;
            });
            clients.push((handle, sender));
        }
        for (h, s) in clients {
            h.await.unwrap();
            s.abort(); // drops the request sender mid-stream
        }
    }
    // Everything the calls held is released.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let s = server.engine.stats();
        if s == callsense::pipeline::EngineStats::default() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still held after 20 s: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // No task per call is left behind on the server's runtime.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while alive_tasks() > baseline_tasks {
        assert!(
            tokio::time::Instant::now() < deadline,
            "tasks alive: {} before the calls, {} after",
            baseline_tasks,
            alive_tasks()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // And the server still serves a whole call.
    let responses = call(&mut server.client().await, mulaw_requests(&clip, "after"))
        .await
        .unwrap();
    assert!(summary(&responses).utterances >= 10);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_metrics_count_calls_utterances_and_latency() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut cfg = test_config();
    cfg.server.metrics_listen = Some(addr.clone());
    let server = TestServer::start(cfg).await;
    let clip = demo_call();
    let responses = call(&mut server.client().await, mulaw_requests(&clip, "metrics"))
        .await
        .unwrap();
    let n = summary(&responses).utterances;
    let body = http_get(&addr, "/metrics").await;
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    assert!(body.contains("callsense_calls_started_total 1\n"), "{body}");
    assert!(
        body.contains("callsense_calls_completed_total 1\n"),
        "{body}"
    );
    assert!(
        body.contains(&format!("callsense_utterances_total {n}\n")),
        "{body}"
    );
    assert!(
        body.contains(&format!(
            "callsense_end_of_speech_to_result_seconds_count {n}\n"
        )),
        "{body}"
    );
    assert!(body.contains("callsense_calls_active 0\n"), "{body}");
    let health = http_get(&addr, "/health").await;
    assert!(
        health.starts_with("HTTP/1.1 200") && health.ends_with("OK"),
        "{health}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_grpc_over_tls() {
    use callsense::proto::{AnalyzeTextRequest, TextInput};
    use tonic::transport::{Certificate, Channel, ClientTlsConfig};
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert_pem, key_pem) = (cert.cert.pem(), cert.signing_key.serialize_pem());
    std::fs::write(dir.path().join("tls.crt"), &cert_pem).unwrap();
    std::fs::write(dir.path().join("tls.key"), &key_pem).unwrap();
    let mut cfg = test_config();
    cfg.server.tls_cert = Some(dir.path().join("tls.crt"));
    cfg.server.tls_key = Some(dir.path().join("tls.key"));
    let server = TestServer::start(cfg).await;
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&cert_pem))
        .domain_name("localhost");
    let channel = Channel::from_shared(format!("https://{}", server.addr))
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = callsense::proto::call_sense_client::CallSenseClient::new(channel);
    let req = AnalyzeTextRequest {
        texts: vec![TextInput {
            text: "thank you".into(),
            language_code: String::new(),
        }],
    };
    let r = client.analyze_text(req).await.unwrap().into_inner();
    assert_eq!(r.results.len(), 1);
    // Plain-text clients are not served.
    let plain = callsense::proto::call_sense_client::CallSenseClient::connect(server.url()).await;
    if let Ok(mut c) = plain {
        let req = AnalyzeTextRequest {
            texts: vec![TextInput {
                text: "x".into(),
                language_code: String::new(),
            }],
        };
        assert!(c.analyze_text(req).await.is_err());
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_calls_in_flight_finish_and_refuses_new_ones() {
    let server = TestServer::start(test_config()).await;
    let clip = demo_call();
    // ~6 s of the call (the first three turns), paced at 4× real time.
    let short = callsense::audio::AudioClip {
        sample_rate: 8000,
        channels: clip
            .channels
            .iter()
            .map(|c| c[..8000 * 9].to_vec())
            .collect(),
    };
    let reqs = mulaw_requests(&short, "draining");
    let rx = callsense::cli::stream::send_paced(reqs, Some(Duration::from_millis(5)));
    let mut client = server.client().await;
    let mut stream = client
        .stream_call(ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    assert!(stream.next().await.unwrap().is_ok(), "accepted");
    // Stop the server while the call is streaming.
    let url = server.url();
    let engine = Arc::clone(&server.engine);
    let mut same_connection = client.clone();
    let stopping = tokio::spawn(server.stop());
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A new call on the open connection is refused (the client's HTTP/2
    // sees the connection going away, or admission says UNAVAILABLE), never
    // half-started.
    let e = call(&mut same_connection, mulaw_requests(&short, "late-same"))
        .await
        .unwrap_err();
    assert!(
        matches!(e.code(), Code::Unavailable | Code::Cancelled),
        "{e:?}"
    );
    // A new connection is refused while the old call drains.
    let refused = match callsense::proto::call_sense_client::CallSenseClient::connect(url).await {
        Err(_) => true,
        Ok(mut c) => {
            let reqs = mulaw_requests(&short, "late");
            call(&mut c, reqs).await.is_err()
        }
    };
    assert!(refused, "a new call was accepted during shutdown");
    let mut responses = Vec::new();
    while let Some(r) = stream.next().await {
        responses.push(r.expect("the call in flight finishes cleanly"));
    }
    let s = summary(&responses);
    assert!(s.utterances >= 2, "{s:?}");
    tokio::time::timeout(Duration::from_secs(30), stopping)
        .await
        .expect("server stopped")
        .unwrap();
    // serve() returned only after the call's task ended, and the engine
    // takes no more calls.
    assert_eq!(engine.stats().active_calls, 0);
    let late = engine.admit().map(|_| ()).unwrap_err();
    assert!(
        matches!(&late, callsense::pipeline::CallError::Unavailable(m) if m.contains("shutting down")),
        "{late:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_goes_silent_has_its_call_ended_and_summarised_not_held() {
    let mut cfg = test_config();
    cfg.server.idle_timeout_s = 1;
    cfg.server.max_concurrent_calls = 1;
    let server = TestServer::start(cfg).await;
    // Config and 3 s of the demo call, then nothing — the stream stays open.
    let (tx, rx) = mpsc::channel::<StreamCallRequest>(256);
    for r in mulaw_requests(&demo_call(), "idle-1").into_iter().take(151) {
        tx.send(r).await.unwrap();
    }
    let mut client = server.client().await;
    let mut stream = client
        .stream_call(ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    let mut out = Vec::new();
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(r) = stream.next().await {
            out.push(r.unwrap());
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "the call ends though the client never closed"
    );
    assert_eq!(summary(&out).call_id, "idle-1", "with its summary");
    assert!(
        !finals(&out).is_empty(),
        "the audio that came is transcribed"
    );
    // Its slot is free: the next call is served (max_concurrent_calls = 1).
    call(
        &mut client,
        mulaw_requests(&demo_call(), "idle-2")
            .into_iter()
            .take(20)
            .collect(),
    )
    .await
    .unwrap();
    drop(tx);
    assert_eq!(
        metric(
            server.engine.telemetry(),
            "callsense_calls_idle_ended_total"
        ),
        1,
        "the idle end is counted"
    );
    server.stop().await;
}
