//! The `callsense` binary: `analyze-text` offline and `stream --json` against a server.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::common::*;

const BIN: &str = env!("CARGO_BIN_EXE_callsense");

#[test]
fn analyze_text_jsonl_in_jsonl_out_with_shipped_labels_and_named_bad_lines() {
    let input = concat!(
        "{\"id\": 1, \"text\": \"thank you so much that was really helpful\"}\n",
        "{\"id\": 2, \"text\": \"i want to cancel my account this is the third time it broke\", \"lang\": \"en\"}\n",
        "not json\n",
        "{\"id\": 4, \"txt\": \"typo in the field name\"}\n",
        "{\"id\": 5, \"text\": \"my card payment keeps getting declined\"}\n",
    );
    let (ok, stderr, lines) = analyze(&["--model", "models/callsense-en"], input);
    assert!(!ok, "bad lines make the exit status non-zero");
    assert!(stderr.contains("line 3: not JSON"), "{stderr}");
    assert_eq!(lines.len(), 5, "one output object per input line");
    assert_eq!(lines[0]["id"], 1);
    assert_eq!(lines[0]["sentiment"]["label"], "positive");
    assert_eq!(lines[0]["intent"]["label"], "gratitude");
    assert_eq!(lines[1]["intent"]["label"], "cancel_service");
    assert_eq!(lines[1]["sentiment"]["label"], "negative");
    let p = &lines[1]["sentiment"]["probabilities"];
    let sum = p["negative"].as_f64().unwrap()
        + p["neutral"].as_f64().unwrap()
        + p["positive"].as_f64().unwrap();
    assert!((sum - 1.0).abs() < 1e-3);
    let score = lines[1]["sentiment"]["score"].as_f64().unwrap();
    assert!(
        (score - (p["positive"].as_f64().unwrap() - p["negative"].as_f64().unwrap())).abs() < 1e-4
    );
    assert_eq!(lines[2]["line"], 3);
    assert!(lines[3]["error"]
        .as_str()
        .unwrap()
        .contains("missing string field \"text\""));
    assert_eq!(lines[4]["intent"]["label"], "payment_problem");
}

/// Runs the binary expecting success; returns its stdout.
fn succeeding(args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs the binary expecting failure; returns its stderr.
fn failing(args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success(), "{args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs `analyze-text` with `args` on `input`; returns (success, stderr, stdout lines).
fn analyze(args: &[&str], input: &str) -> (bool, String, Vec<serde_json::Value>) {
    let mut child = Command::new(BIN)
        .arg("analyze-text")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.success(), stderr, lines)
}

#[test]
fn analyze_text_runs_the_banking77_pack_intent_only() {
    let (ok, _, lines) = analyze(
        &["--model", "models/banking77"],
        "{\"text\": \"my card payment was declined at the shop today\"}\n",
    );
    assert!(ok);
    assert!(lines[0].get("sentiment").is_none(), "{}", lines[0]);
    assert_eq!(
        lines[0]["intent"]["label"], "declined_card_payment",
        "{}",
        lines[0]
    );
    assert_eq!(lines[0]["intent"]["top"].as_array().unwrap().len(), 3);
    assert_eq!(
        lines[0]["classification"]["model"],
        crate::routing::model_id("models/banking77")
    );
}

#[test]
fn analyze_text_routes_lines_to_the_model_of_their_language() {
    let (ok, _, lines) = analyze(
        &[
            "--model",
            "models/callsense-en",
            "--model",
            "models/callsense-zh",
        ],
        concat!(
            "{\"text\": \"where is my parcel\"}\n",
            "{\"text\": \"我的快递到哪了\"}\n",
            "{\"text\": \"我的快递到哪了\", \"lang\": \"en\"}\n",
        ),
    );
    assert!(ok);
    let zh = crate::routing::model_id("models/callsense-zh");
    assert_eq!(lines[0]["classification"]["language"], "en");
    assert_eq!(lines[1]["classification"]["model"], zh.as_str());
    // a wrong hint does not send plainly Chinese text to the English model
    assert_eq!(lines[2]["classification"]["model"], zh.as_str());
}

#[test]
fn analyze_text_names_a_missing_model_directory() {
    let stderr = failing(&["analyze-text", "--model", "no/such/dir"]);
    assert!(
        stderr.contains("no/such/dir") && stderr.contains("labels.json"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_json_prints_one_response_per_line_with_proto_field_names() {
    let server = TestServer::start(test_config()).await;
    let url = server.url();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .args([
                "stream",
                "tests/fixtures/demo_call.wav",
                "--as",
                "mulaw",
                "--rate",
                "8000",
                "--json",
                "--server",
                &url,
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines[0]["accepted"]["call_id"].is_string(), "{}", lines[0]);
    let results: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l.get("result").is_some()).collect();
    assert!(results.len() >= 10);
    let r = &results[0]["result"];
    assert_eq!(r["is_final"], true);
    assert!(r["role"] == "AGENT" || r["role"] == "CUSTOMER", "{r}");
    assert!(r["sentiment"]["label"].is_string() && r["intent"]["label"].is_string());
    assert!(r["timings"]["asr_ms"].is_number());
    assert!(lines.last().unwrap()["summary"]["utterances"].is_number());
    server.stop().await;
}

#[test]
fn a_missing_onnx_runtime_library_is_a_clear_error() {
    let stderr = failing(&[
        "analyze-text",
        "--ort-library",
        "/nonexistent/libonnxruntime.so",
    ]);
    assert!(
        stderr.contains("ONNX Runtime library not found")
            && stderr.contains("/nonexistent/libonnxruntime.so"),
        "{stderr}"
    );
    assert!(
        stderr.contains("callsense models fetch onnxruntime"),
        "{stderr}"
    );
}

#[test]
fn eval_reports_accuracy_per_head_and_reads_sst2_tsv() {
    let stdout = succeeding(&["eval", "models/callsense-en/dev_examples.jsonl", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let results = v["results"].as_array().unwrap();
    let get = |head: &str| results.iter().find(|r| r["head"] == head).unwrap();
    assert!(get("sentiment")["accuracy"].as_f64().unwrap() >= 0.9);
    assert!(get("intent")["macro_f1"].as_f64().unwrap() >= 0.75);
    assert_eq!(get("intent")["n"], 192);

    let dir = tempfile::tempdir().unwrap();
    let tsv = dir.path().join("mini.tsv");
    std::fs::write(
        &tsv,
        "label\tcontent\n1\ta wonderful , moving film\n0\ta dull , lifeless mess\n",
    )
    .unwrap();
    let text = succeeding(&["eval", tsv.to_str().unwrap(), "--sentiment-binary"]);
    assert!(
        text.contains("sentiment [en, binary]: n = 2, accuracy = 100.00 %"),
        "{text}"
    );

    std::fs::write(&tsv, "label\tcontent\n7\toops\n").unwrap();
    let stderr = failing(&["eval", tsv.to_str().unwrap()]);
    assert!(
        stderr.contains("line 2") && stderr.contains("not 0 or 1"),
        "{stderr}"
    );
}
