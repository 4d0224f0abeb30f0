//! FreeSWITCH `mod_audio_fork` / Jambonz `listen` against the real server:
//! a client that speaks as the fork does (subprotocol, basic credentials,
//! one JSON metadata frame, then 20 ms binary frames of 16-bit PCM, stereo
//! with the caller first) gets results back on the socket and writes the
//! same facts to the CRM as the same call over gRPC.

use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine as _;
use callsense::ingress::{BasicAuth, ForkConfig};
use callsense::proto::AudioEncoding;
use callsense::secret::Secret;
use callsense::testkit::webhook::WebhookReceiver;
use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message as Ws;

use crate::common::*;
use crate::connect::{assert_same_facts, connect_config, wait_for_summaries, webhook_sink, SECRET};

async fn server_with_fork() -> (TestServer, WebhookReceiver, tempfile::TempDir) {
    let hooks = WebhookReceiver::start(&[SECRET]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config();
    let sink = webhook_sink(&hooks.url("/crm/{tenant}"), &[SECRET]);
    config.connect = connect_config(dir.path(), &sink);
    config.ingress.fork = Some(ForkConfig {
        listen: "127.0.0.1:0".into(),
        basic_auth: vec![BasicAuth {
            username: "freeswitch".into(),
            password: Secret::new("fork-secret"),
            tenant: String::new(),
        }],
        ..ForkConfig::default()
    });
    (TestServer::start(config).await, hooks, dir)
}

/// Connects as the fork does; `Err` is the HTTP status of a refusal.
async fn connect(addr: SocketAddr, user_pass: Option<&str>) -> Result<Client, u16> {
    let mut req = format!("ws://{addr}/fork").into_client_request().unwrap();
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "audio.drachtio.org".parse().unwrap(),
    );
    if let Some(up) = user_pass {
        let v = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(up)
        );
        req.headers_mut()
            .insert("Authorization", v.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, resp)) => {
            assert_eq!(
                resp.headers()["sec-websocket-protocol"],
                "audio.drachtio.org",
                "the subprotocol is echoed"
            );
            Ok(ws)
        }
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => Err(r.status().as_u16()),
        Err(e) => panic!("{e}"),
    }
}

/// The demo call as stereo L16 with the caller (the customer, channel 1 of
/// the file) first, in 20 ms frames.
fn pcm_frames() -> Vec<Vec<u8>> {
    let pcm = demo_call().encode(AudioEncoding::Linear16);
    let swapped: Vec<u8> = pcm
        .chunks(4)
        .flat_map(|f| [f[2], f[3], f[0], f[1]])
        .collect();
    swapped.chunks(160 * 4).map(<[u8]>::to_vec).collect()
}

/// (role, transcript) of a result in a `transcription` frame, if final.
fn final_in(frame: &str) -> Option<(String, String)> {
    let v: serde_json::Value = serde_json::from_str(frame).unwrap();
    assert_eq!(v["type"], "transcription", "{frame}");
    let r = &v["data"]["result"];
    (r["is_final"] == true).then(|| {
        (
            r["role"].as_str().unwrap_or("").to_string(),
            r["transcript"].as_str().unwrap_or("").to_string(),
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fork_gets_results_back_and_writes_the_same_facts_as_grpc() {
    let (server, hooks, _dir) = server_with_fork().await;
    let addr = server.fork.unwrap();
    let responses = call(
        &mut server.client().await,
        mulaw_requests(&demo_call(), "grpc-call"),
    )
    .await
    .unwrap();
    let grpc: Vec<(String, String)> = finals(&responses)
        .iter()
        .map(|r| {
            let role = if r.role == callsense::proto::SpeakerRole::Agent as i32 {
                "AGENT"
            } else {
                "CUSTOMER"
            };
            (role.to_string(), r.transcript.clone())
        })
        .collect();
    assert!(grpc.len() >= 10);

    let mut ws = connect(addr, Some("freeswitch:fork-secret")).await.unwrap();
    let meta = r#"{"uuid":"fs-call-1","from":"+15550100","tenant":"test"}"#;
    ws.send(Ws::Text(meta.into())).await.unwrap();
    for f in pcm_frames() {
        ws.send(Ws::Binary(f.into())).await.unwrap();
    }
    // Results come back while the fork streams; the last one may need the
    // stream's end, which is the fork closing the socket.
    let mut back = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while back.len() + 1 < grpc.len() {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Ws::Text(t)))) => back.extend(final_in(&t)),
            Ok(Some(Ok(_))) => {}
            other => panic!(
                "{} of {} results came back, then {other:?}",
                back.len(),
                grpc.len()
            ),
        }
    }
    ws.close(None).await.unwrap();
    for r in &back {
        assert!(
            grpc.contains(r),
            "{r:?} is not among the gRPC call's results"
        );
    }
    wait_for_summaries(&hooks, &["grpc-call", "fs-call-1"]).await;
    assert_same_facts(&hooks, "fs-call-1", "grpc-call");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_forks_are_refused_or_closed_with_the_reason() {
    let (server, _hooks, _dir) = server_with_fork().await;
    let addr = server.fork.unwrap();
    assert_eq!(connect(addr, None).await.unwrap_err(), 401);
    assert_eq!(
        connect(addr, Some("freeswitch:wrong")).await.unwrap_err(),
        401
    );
    let cases: Vec<(Ws, &str)> = vec![
        (
            Ws::Binary(vec![0u8; 640].into()),
            "audio before the metadata frame",
        ),
        (
            Ws::Text("{not json".into()),
            "must be the call's JSON metadata",
        ),
        (
            Ws::Text(r#"{"from":"+1555"}"#.into()),
            "metadata call_id (or callSid / uuid) is required",
        ),
        (
            Ws::Text(r#"{"uuid":"x","mixType":"quad"}"#.into()),
            "mixType \"quad\"",
        ),
    ];
    for (first, reason) in cases {
        let mut ws = connect(addr, Some("freeswitch:fork-secret")).await.unwrap();
        ws.send(first).await.unwrap();
        let (code, r) = close_of(&mut ws).await;
        assert_eq!(code, CloseCode::Policy, "{r}");
        assert!(r.contains(reason), "{r:?} should say {reason:?}");
    }
    let t = server.engine.telemetry();
    assert_eq!(
        metric(
            t,
            "callsense_ingress_refused_total{protocol=\"fork\",status=\"401\"}"
        ),
        2
    );
    assert_eq!(
        metric(t, "callsense_ingress_bad_streams_total{protocol=\"fork\"}"),
        4
    );
    // The listener answers its load balancer's health check and serves
    // its own metrics.
    let get = |path| async move {
        let r = http_get(&addr.to_string(), path).await;
        let (head, body) = r.split_once("\r\n\r\n").unwrap();
        (
            head.split(' ').nth(1).unwrap().to_string(),
            body.to_string(),
        )
    };
    let (status, body) = get("/health").await;
    assert_eq!(
        (status.as_str(), body.trim()),
        ("200", r#"{"status":"serving","protocol":"fork"}"#)
    );
    let (status, body) = get("/metrics").await;
    assert_eq!(status, "200");
    assert!(
        body.contains("callsense_ingress_bad_streams_total{protocol=\"fork\"} 4"),
        "{body}"
    );
    assert!(
        body.lines()
            .all(|l| l.starts_with('#') || l.contains("protocol=\"fork\"")),
        "{body}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fork_listener_with_a_certificate_speaks_tls() {
    use std::sync::Arc;
    use tokio_rustls::rustls::{self, pki_types::ServerName, RootCertStore};
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    std::fs::write(dir.path().join("tls.crt"), cert.cert.pem()).unwrap();
    std::fs::write(dir.path().join("tls.key"), cert.signing_key.serialize_pem()).unwrap();
    let mut config = test_config();
    config.ingress.fork = Some(ForkConfig {
        listen: "127.0.0.1:0".into(),
        allow_unauthenticated: true,
        tls_cert: Some(dir.path().join("tls.crt")),
        tls_key: Some(dir.path().join("tls.key")),
        ..ForkConfig::default()
    });
    let server = TestServer::start(config).await;
    let addr = server.fork.unwrap();

    let mut roots = RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let stream = tokio_rustls::TlsConnector::from(Arc::new(tls))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    let (mut ws, _) =
        tokio_tungstenite::client_async(format!("wss://localhost:{}/fork", addr.port()), stream)
            .await
            .unwrap();
    ws.send(Ws::Text(r#"{"uuid":"x","mixType":"quad"}"#.into()))
        .await
        .unwrap();
    let (code, reason) = close_of(&mut ws).await;
    assert_eq!(code, CloseCode::Policy);
    assert!(reason.contains("mixType"), "{reason}");

    // A plain WebSocket client gets no upgrade from a TLS listener.
    assert!(tokio::time::timeout(
        Duration::from_secs(15),
        tokio_tungstenite::connect_async(format!("ws://{addr}/fork"))
    )
    .await
    .map_or(true, |r| r.is_err()));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jambonz_fork_at_64_khz_is_transcribed() {
    let (server, _hooks, _dir) = server_with_fork().await;
    let mut ws = connect(server.fork.unwrap(), Some("freeswitch:fork-secret"))
        .await
        .unwrap();
    let meta = r#"{"callSid":"jb-64k","mixType":"mono","sampleRate":64000,"tenant":"test"}"#;
    ws.send(Ws::Text(meta.into())).await.unwrap();
    // The customer's side (channel 1) held up to 64 kHz, sample by sample.
    let pcm = demo_call().encode(AudioEncoding::Linear16);
    let up: Vec<u8> = pcm.chunks(4).flat_map(|f| [f[2], f[3]].repeat(8)).collect();
    for f in up.chunks(64 * 20 * 2) {
        ws.send(Ws::Binary(f.to_vec().into())).await.unwrap();
    }
    let mut back = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    // The customer's side has 8 utterances; most are final before the end.
    while back.len() < 6 {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Ws::Text(t)))) => back.extend(final_in(&t)),
            Ok(Some(Ok(_))) => {}
            other => panic!("{back:?} came back, then {other:?}"),
        }
    }
    assert!(back.iter().all(|(role, _)| role == "CUSTOMER"), "{back:?}");
    assert!(back.iter().any(|(_, t)| t.contains("help")), "{back:?}");
    server.stop().await;
}
