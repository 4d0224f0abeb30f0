//! Faults the engine must survive: the outbox's disk full, a corrupt or
//! read-only outbox at start-up, and model files replaced while the engine
//! runs. (Clock steps: the outbox's unit tests, on hand-moved clocks.)

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use callsense::connect::{Connector, Mode};
use callsense::telemetry::Telemetry;
use callsense::testkit::webhook::WebhookReceiver;

use crate::common::*;
use crate::connect::{connect_config, webhook_sink, SECRET};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_outbox_loses_facts_loudly_and_the_calls_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let hooks = WebhookReceiver::start(&[SECRET]).await.unwrap();
    hooks.set_down(Some(503), None); // nothing leaves: the outbox only grows
    let mut config = test_config();
    config.connect = connect_config(dir.path(), &webhook_sink(&hooks.url("/crm"), &[SECRET]));
    config.connect.outbox.max_bytes = 64 * 1024; // a disk that fills after a few dozen facts
    let server = TestServer::start(config).await;
    let mut client = server.client().await;
    let mut lost = 0;
    let mut finals_per_call = Vec::new();
    for n in 0..4 {
        let out = call(
            &mut client,
            mulaw_requests(&demo_call(), &format!("full-{n}")),
        )
        .await
        .expect("the call goes on when the outbox is full");
        finals_per_call.push(finals(&out).len());
        lost = summary(&out).events_not_recorded;
    }
    assert!(
        finals_per_call
            .iter()
            .all(|&n| n == finals_per_call[0] && n > 5),
        "every call got all its results: {finals_per_call:?}"
    );
    assert!(
        lost > 0,
        "the last call's summary says what did not reach the CRM"
    );
    let errors = metric(
        server.engine.telemetry(),
        "callsense_connect_record_errors_total",
    );
    assert!(errors >= u64::from(lost), "the loss is counted: {errors}");
    // The disk frees up (the CRM is back, deliveries leave): new facts are kept again.
    hooks.set_down(None, None);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let out = call(&mut client, mulaw_requests(&demo_call(), "full-after"))
        .await
        .unwrap();
    assert_eq!(summary(&out).events_not_recorded, 0, "recording resumed");
    server.stop().await;
}

#[tokio::test]
async fn a_corrupt_outbox_stops_start_up_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let config = connect_config(dir.path(), &webhook_sink("http://127.0.0.1:9/x", &[SECRET]));
    std::fs::write(
        dir.path().join("outbox.sqlite"),
        b"this is not a SQLite database, it was overwritten".repeat(100),
    )
    .unwrap();
    let e = match Connector::start(&config, Mode::Engine, &Telemetry::default()).await {
        Ok(_) => panic!("a corrupt outbox was opened"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("outbox.sqlite"), "names the file: {e}");
    assert!(e.contains("move the file aside"), "says what to do: {e}");

    // A real outbox with a page overwritten in the middle.
    let dir = tempfile::tempdir().unwrap();
    let config = connect_config(dir.path(), &webhook_sink("http://127.0.0.1:9/x", &[SECRET]));
    {
        let c = Connector::start(&config, Mode::Engine, &Telemetry::default())
            .await
            .unwrap()
            .unwrap();
        for i in 0..300 {
            let event = callsense::connect::Event {
                key: format!("c:{i}:utterance"),
                kind: callsense::connect::EventKind::Utterance,
                call: callsense::connect::CallIdentity {
                    call_id: "c".into(),
                    tenant: "t".into(),
                    customer_id: String::new(),
                    callback_url: None,
                },
                occurred_at_ms: 1,
                data: serde_json::json!({"seq": i, "transcript": "x".repeat(200)}),
            };
            c.record(event).await.unwrap();
        }
        c.shutdown(Duration::from_secs(1)).await;
    }
    let path = dir.path().join("outbox.sqlite");
    // Fold the WAL in, then damage a page of the table's B-tree.
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
    }
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 8 * 4096, "{} bytes", bytes.len());
    for b in &mut bytes[3 * 4096..3 * 4096 + 2048] {
        *b = 0xa5;
    }
    std::fs::write(&path, &bytes).unwrap();
    let e = match Connector::start(&config, Mode::Engine, &Telemetry::default()).await {
        Ok(_) => panic!("a damaged outbox was opened"),
        Err(e) => e.to_string(),
    };
    assert!(
        e.contains("move the file aside"),
        "a damaged page is found at start-up: {e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn model_files_replaced_while_running_do_not_disturb_calls() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config();
    let whisper = dir.path().join("whisper.bin");
    let vad = dir.path().join("vad.onnx");
    std::fs::copy(TEST_WHISPER, &whisper).unwrap();
    std::fs::copy(&config.audio.silero_model, &vad).unwrap();
    config.asr.model = whisper.to_string_lossy().as_ref().into();
    config.audio.silero_model = vad.clone();
    let server = TestServer::start(config).await;
    let mut client = server.client().await;
    let before = call(&mut client, mulaw_requests(&demo_call(), "swap-before"))
        .await
        .unwrap();
    // A deploy overwrites the files in place (truncated, then garbage).
    std::fs::write(&whisper, b"not a model").unwrap();
    std::fs::write(&vad, b"not a model either").unwrap();
    let after = call(&mut client, mulaw_requests(&demo_call(), "swap-after"))
        .await
        .unwrap();
    let text = |r: &[callsense::proto::StreamCallResponse]| {
        let mut v = finals(r)
            .into_iter()
            .map(|u| (u.channel, u.transcript))
            .collect::<Vec<_>>();
        v.sort();
        v
    };
    assert_eq!(text(&after), text(&before), "the models in memory serve on");
    server.stop().await;
}

/// The effective user id, from `/proc/self/status`.
fn euid() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    line.split_whitespace().nth(2).unwrap().parse().unwrap()
}

/// A directory made read-only the way production makes it: as root (whom
/// permissions do not stop) a tmpfs volume mounted over it and remounted
/// read-only, as anyone else its permission bits. Undone when dropped.
struct ReadOnlyVolume {
    at: PathBuf,
    mounted: bool,
}

impl ReadOnlyVolume {
    /// A writable volume at `at` (a tmpfs for root).
    fn new(at: &Path) -> Self {
        std::fs::create_dir_all(at).unwrap();
        let mounted = euid() == 0;
        if mounted {
            let out = Command::new("mount")
                .args(["-t", "tmpfs", "-o", "size=16m", "callsense-test"])
                .arg(at)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "as root this test mounts a tmpfs (it needs CAP_SYS_ADMIN): {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Self {
            at: at.to_path_buf(),
            mounted,
        }
    }

    fn set_read_only(&self, ro: bool) {
        use std::os::unix::fs::PermissionsExt;
        if self.mounted {
            // The outbox thread closes its files just after the connector
            // is dropped; until then the kernel says the mount is busy.
            let opt = if ro { "remount,ro" } else { "remount,rw" };
            for attempt in 0.. {
                let out = Command::new("mount")
                    .args(["-o", opt])
                    .arg(&self.at)
                    .output()
                    .unwrap();
                if out.status.success() {
                    break;
                }
                assert!(
                    attempt < 50,
                    "{opt}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        } else {
            let (dir, file) = if ro { (0o555, 0o444) } else { (0o755, 0o644) };
            for e in std::fs::read_dir(&self.at).unwrap() {
                let p = e.unwrap().path();
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(file)).unwrap();
            }
            std::fs::set_permissions(&self.at, std::fs::Permissions::from_mode(dir)).unwrap();
        }
    }
}

impl Drop for ReadOnlyVolume {
    fn drop(&mut self) {
        if self.mounted {
            let _ = Command::new("umount").arg("-l").arg(&self.at).status();
        } else {
            self.set_read_only(false);
        }
    }
}

async fn start_error(config: &callsense::connect::ConnectConfig) -> String {
    match Connector::start(config, Mode::Engine, &Telemetry::default()).await {
        Ok(_) => panic!("a read-only outbox was opened for delivering"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn a_read_only_outbox_volume_stops_start_up_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let sink = webhook_sink("http://127.0.0.1:9/x", &[SECRET]);

    // A volume that was read-only from the start: no outbox can be made.
    let fresh = ReadOnlyVolume::new(&dir.path().join("fresh"));
    fresh.set_read_only(true);
    let e = start_error(&connect_config(&fresh.at, &sink)).await;
    assert!(e.contains("outbox.sqlite"), "names the file: {e}");
    assert!(e.contains("not writable"), "says why: {e}");
    assert!(e.contains("connect.outbox.path"), "says what to do: {e}");

    // The engine ran and left facts behind; the volume came back read-only.
    let vol = ReadOnlyVolume::new(&dir.path().join("vol"));
    let config = connect_config(&vol.at, &sink);
    {
        let c = Connector::start(&config, Mode::Engine, &Telemetry::default())
            .await
            .unwrap()
            .unwrap();
        c.shutdown(Duration::from_millis(200)).await;
    }
    vol.set_read_only(true);
    let e = start_error(&config).await;
    assert!(
        e.contains("outbox.sqlite") && e.contains("not writable"),
        "{e}"
    );
    // Operators can still read it (`callsense outbox status`).
    let ob = callsense::connect::Outbox::open_with(
        &config.outbox,
        &[],
        callsense::connect::OpenOptions::operator(),
    );
    let ob = ob.unwrap_or_else(|e| panic!("read-only inspection works: {e}"));
    assert!(ob.counts(None).await.unwrap().is_empty());
    drop(ob);
    // Writable again: the engine starts.
    vol.set_read_only(false);
    let c = Connector::start(&config, Mode::Engine, &Telemetry::default())
        .await
        .unwrap()
        .unwrap();
    c.shutdown(Duration::from_millis(200)).await;
}
