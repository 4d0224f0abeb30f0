//! Bad input: INVALID_ARGUMENT naming the problem, and other calls on the
//! same server are unaffected.

use callsense::proto::stream_call_request::StreamingRequest;
use callsense::proto::{
    AnalyzeTextRequest, AudioEncoding, CallConfig, StreamCallRequest, TextInput,
};
use tonic::Code;

use crate::common::*;

fn cfg_req(c: CallConfig) -> StreamCallRequest {
    StreamCallRequest {
        streaming_request: Some(StreamingRequest::Config(c)),
    }
}

fn audio_req(n: usize) -> StreamCallRequest {
    StreamCallRequest {
        streaming_request: Some(StreamingRequest::AudioContent(vec![0x7Fu8; n].into())),
    }
}

fn linear16_mono() -> CallConfig {
    CallConfig {
        encoding: AudioEncoding::Linear16 as i32,
        audio_channel_count: 1,
        channel_roles: vec![],
        ..mulaw_config("bad", 1)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_invalid_argument_naming_the_problem_while_a_good_call_runs() {
    let server = TestServer::start(test_config()).await;
    let clip = demo_call();
    let mut good_client = server.client().await;
    let good =
        tokio::spawn(async move { call(&mut good_client, mulaw_requests(&clip, "good")).await });

    let cases: Vec<(&str, Vec<StreamCallRequest>, &str)> = vec![
        (
            "audio before config",
            vec![audio_req(160), cfg_req(mulaw_config("x", 1))],
            "first request must carry config",
        ),
        ("empty stream", vec![], "stream ended before a config"),
        (
            "missing call_id",
            vec![cfg_req(CallConfig {
                call_id: String::new(),
                ..mulaw_config("x", 1)
            })],
            "call_id is required",
        ),
        (
            "unspecified encoding",
            vec![cfg_req(CallConfig {
                encoding: 0,
                ..mulaw_config("x", 1)
            })],
            "encoding is required",
        ),
        (
            "unknown encoding",
            vec![cfg_req(CallConfig {
                encoding: 42,
                ..mulaw_config("x", 1)
            })],
            "encoding 42",
        ),
        (
            "sample rate",
            vec![cfg_req(CallConfig {
                sample_rate_hz: 4000,
                ..mulaw_config("x", 1)
            })],
            "sample_rate_hz 4000",
        ),
        (
            "channels",
            vec![cfg_req(CallConfig {
                audio_channel_count: 3,
                ..mulaw_config("x", 1)
            })],
            "audio_channel_count",
        ),
        (
            "language",
            vec![cfg_req(CallConfig {
                language_code: "klingon".into(),
                ..mulaw_config("x", 1)
            })],
            "language_code",
        ),
        (
            "odd LINEAR16",
            vec![cfg_req(linear16_mono()), audio_req(320), audio_req(321)],
            "321 bytes is not a whole number of 2-byte frames",
        ),
        (
            "oversize chunk",
            vec![cfg_req(mulaw_config("x", 1)), audio_req(65 * 1024)],
            "exceeds the limit of 65536 bytes",
        ),
        (
            "config twice",
            vec![cfg_req(mulaw_config("x", 1)), cfg_req(mulaw_config("x", 1))],
            "only be sent in the first request",
        ),
        (
            "disposition twice",
            vec![
                cfg_req(mulaw_config("x", 1)),
                disposition_req("resolved"),
                disposition_req("resolved"),
            ],
            "disposition may be sent only once",
        ),
        (
            "oversize disposition",
            vec![
                cfg_req(mulaw_config("x", 1)),
                disposition_req(&"x".repeat(65)),
            ],
            "service_result ≤ 64 bytes",
        ),
        (
            "disposition first",
            vec![disposition_req("resolved")],
            "not a disposition",
        ),
        (
            "caller number",
            vec![cfg_req(CallConfig {
                caller_number: "call me maybe".into(),
                ..mulaw_config("x", 1)
            })],
            "caller_number",
        ),
        (
            "callback url",
            vec![cfg_req(CallConfig {
                metadata: [("callsense.callback_url".to_string(), "ftp://x".to_string())]
                    .into_iter()
                    .collect(),
                ..mulaw_config("x", 1)
            })],
            "callsense.callback_url",
        ),
        (
            "empty request",
            vec![
                cfg_req(mulaw_config("x", 1)),
                StreamCallRequest {
                    streaming_request: None,
                },
            ],
            "neither config nor audio_content",
        ),
    ];
    let mut client = server.client().await;
    for (name, reqs, needle) in cases {
        let status = call(&mut client, reqs).await.expect_err(name);
        assert_eq!(status.code(), Code::InvalidArgument, "{name}: {status:?}");
        assert!(
            status.message().contains(needle),
            "{name}: message {:?} lacks {needle:?}",
            status.message()
        );
    }

    let responses = good.await.unwrap().expect("the good call is unaffected");
    assert!(
        results(&responses).len() >= 10,
        "good call produced {} results",
        results(&responses).len()
    );
    assert!(summary(&responses).utterances >= 10);

    // AnalyzeText input checks.
    let t = |s: &str| TextInput {
        text: s.into(),
        language_code: String::new(),
    };
    let e = client
        .analyze_text(AnalyzeTextRequest { texts: vec![] })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    let e = client
        .analyze_text(AnalyzeTextRequest {
            texts: vec![t("ok"), t("  ")],
        })
        .await
        .unwrap_err();
    assert!(
        e.message().contains("texts[1].text is empty"),
        "{}",
        e.message()
    );
    let e = client
        .analyze_text(AnalyzeTextRequest {
            texts: vec![t(&"a".repeat(5000))],
        })
        .await
        .unwrap_err();
    assert!(e.message().contains("over the limit"), "{}", e.message());
    server.stop().await;
}

fn disposition_req(result: &str) -> StreamCallRequest {
    StreamCallRequest {
        streaming_request: Some(
            callsense::proto::stream_call_request::StreamingRequest::Disposition(
                callsense::proto::CallDisposition {
                    service_result: result.into(),
                    ..Default::default()
                },
            ),
        ),
    }
}
