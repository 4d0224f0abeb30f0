//! The audit log: one JSON line per thing done or refused — who, as which
//! tenant, through which door, when, and the outcome. Never a transcript,
//! a key or a password.
//!
//! Owns: the writer thread (bounded queue; the caller never waits on the
//! disk), size-based rotation (`<file>.1`), the cap on refusals per second
//! (a client hammering with bad keys cannot fill the disk: the rest are
//! counted and summed up in one line), and appends from operator commands
//! (`callsense outbox …`), which run in another process.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};

use metrics::Counter;
use parking_lot::Mutex;
use serde::Serialize;

use crate::telemetry::Telemetry;

/// Entries queued for the writer before new ones are dropped (and counted).
pub const AUDIT_QUEUE: usize = 8192;
/// Longest `detail` kept, in bytes.
const MAX_DETAIL: usize = 512;

/// One audit record.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// RFC 3339 UTC with milliseconds.
    pub ts: String,
    /// Who: `key:<id>`, `cert:<tenant>`, `twilio:<account>`, `basic:<user>`,
    /// `supervisor:<name>`, `operator:<user>`, `anonymous`.
    pub actor: String,
    /// The tenant acted for ("" when unknown, "*" for all).
    pub tenant: String,
    /// The door: grpc, twilio, fork, audiosocket, audiohook, board, metrics,
    /// cli, engine.
    pub door: &'static str,
    /// What: `connect`, `call.start`, `text.analyze`, `board.view`,
    /// `keys.reload`, `outbox.enable`, …
    pub action: String,
    /// `allowed`, `denied`, `throttled`, `ok`, `failed`.
    pub outcome: &'static str,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub call_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub peer: String,
    /// Why (a refusal's reason); free of secrets and transcripts.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

impl Entry {
    pub fn new(door: &'static str, action: impl Into<String>, outcome: &'static str) -> Self {
        Self {
            ts: crate::connect::mapping::rfc3339_utc(crate::connect::event::now_ms()),
            actor: String::new(),
            tenant: String::new(),
            door,
            action: action.into(),
            outcome,
            call_id: String::new(),
            peer: String::new(),
            detail: String::new(),
        }
    }

    pub fn actor(mut self, a: impl Into<String>) -> Self {
        self.actor = a.into();
        self
    }

    pub fn tenant(mut self, t: impl Into<String>) -> Self {
        self.tenant = t.into();
        self
    }

    pub fn call(mut self, id: impl Into<String>) -> Self {
        self.call_id = id.into();
        self
    }

    pub fn peer(mut self, p: impl ToString) -> Self {
        self.peer = p.to_string();
        self
    }

    pub fn detail(mut self, d: impl Into<String>) -> Self {
        let mut d: String = d.into();
        if d.len() > MAX_DETAIL {
            let mut end = MAX_DETAIL;
            while !d.is_char_boundary(end) {
                end -= 1;
            }
            d.truncate(end);
        }
        self.detail = d;
        self
    }
}

/// Refusals logged in the current second, and those left out.
struct DenialWindow {
    second: u64,
    logged: u32,
    left_out: u64,
}

/// The audit log (a no-op when `auth.audit_log` is unset).
pub struct Audit {
    tx: Option<SyncSender<Entry>>,
    writer: Option<std::thread::JoinHandle<()>>,
    max_denials_per_s: u32,
    window: Mutex<DenialWindow>,
    dropped: Counter,
    written: Counter,
    left_out: AtomicU64,
}

impl Audit {
    /// Starts the writer for `path`.
    ///
    /// # Errors
    /// The file cannot be opened for appending.
    pub fn start(
        path: Option<&Path>,
        max_bytes: u64,
        max_denials_per_s: u32,
        telemetry: &Telemetry,
    ) -> Result<Self, String> {
        let dropped = telemetry.counter(
            "callsense_audit_dropped_total",
            "Audit entries lost because the writer fell behind or failed.",
            &[],
        );
        let written = telemetry.counter(
            "callsense_audit_entries_total",
            "Audit entries handed to the writer.",
            &[],
        );
        let (tx, writer) = match path {
            Some(p) => {
                let file = open_append(p)?;
                let (tx, rx) = sync_channel(AUDIT_QUEUE);
                let (p, d) = (p.to_path_buf(), dropped.clone());
                let writer = std::thread::Builder::new()
                    .name("audit-log".into())
                    .spawn(move || write_loop(&rx, p, file, max_bytes, &d))
                    .map_err(|e| format!("audit log thread: {e}"))?;
                (Some(tx), Some(writer))
            }
            None => (None, None),
        };
        Ok(Self {
            tx,
            writer,
            max_denials_per_s,
            window: Mutex::new(DenialWindow {
                second: 0,
                logged: 0,
                left_out: 0,
            }),
            dropped,
            written,
            left_out: AtomicU64::new(0),
        })
    }

    /// Whether entries go anywhere.
    pub fn enabled(&self) -> bool {
        self.tx.is_some()
    }

    /// Queues `e` (refusals past the per-second cap are counted instead).
    pub fn record(&self, e: Entry) {
        let Some(tx) = &self.tx else {
            return;
        };
        let mut summary = None;
        if e.outcome == "denied" || e.outcome == "throttled" {
            let second = crate::connect::event::now_ms() / 1000;
            let mut w = self.window.lock();
            if w.second != second {
                if w.left_out > 0 {
                    summary = Some(w.left_out);
                }
                *w = DenialWindow {
                    second,
                    logged: 0,
                    left_out: 0,
                };
            }
            if w.logged >= self.max_denials_per_s {
                w.left_out += 1;
                self.left_out.fetch_add(1, Ordering::Relaxed);
                if let Some(n) = summary {
                    drop(w);
                    self.send(tx, left_out_entry(n));
                }
                return;
            }
            w.logged += 1;
        }
        if let Some(n) = summary {
            self.send(tx, left_out_entry(n));
        }
        self.send(tx, e);
    }

    fn send(&self, tx: &SyncSender<Entry>, e: Entry) {
        match tx.try_send(e) {
            Ok(()) => self.written.increment(1),
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.dropped.increment(1);
            }
        }
    }

    /// Refusals left out of the log so far (past the per-second cap).
    pub fn left_out(&self) -> u64 {
        self.left_out.load(Ordering::Relaxed)
    }
}

/// Dropping the log writes what is queued before returning.
impl Drop for Audit {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

fn left_out_entry(n: u64) -> Entry {
    Entry::new("engine", "audit.left_out", "denied")
        .detail(format!("{n} refusals in the previous second were over auth.audit_max_denials_per_s and are not listed"))
}

fn open_append(p: &Path) -> Result<std::fs::File, String> {
    if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("auth.audit_log {}: {e}", p.display()))?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(p)
        .map_err(|e| format!("auth.audit_log {}: {e}", p.display()))
}

fn write_loop(
    rx: &Receiver<Entry>,
    path: PathBuf,
    file: std::fs::File,
    max_bytes: u64,
    dropped: &Counter,
) {
    let mut size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut out = std::io::BufWriter::new(file);
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while let Ok(e) = rx.try_recv() {
            batch.push(e);
            if batch.len() >= 1024 {
                break;
            }
        }
        for e in &batch {
            let Ok(mut line) = serde_json::to_vec(e) else {
                continue;
            };
            line.push(b'\n');
            if size + line.len() as u64 > max_bytes && size > 0 {
                let _ = out.flush();
                let old = path.with_extension(match path.extension() {
                    Some(x) => format!("{}.1", x.to_string_lossy()),
                    None => "1".into(),
                });
                if std::fs::rename(&path, &old).is_ok() {
                    match open_append(&path) {
                        Ok(f) => {
                            out = std::io::BufWriter::new(f);
                            size = 0;
                        }
                        Err(err) => {
                            tracing::error!(error = %err, "Audit log cannot be reopened after rotation");
                        }
                    }
                }
            }
            if out.write_all(&line).is_err() {
                dropped.increment(1);
                tracing::error!(path = %path.display(), "Audit log write failed; entry lost");
            } else {
                size += line.len() as u64;
            }
        }
        if out.flush().is_err() {
            tracing::error!(path = %path.display(), "Audit log flush failed");
        }
    }
}

/// Appends one entry from an operator command (another process than the
/// engine; each line is one `write`, so lines from both do not mix).
///
/// # Errors
/// The file cannot be written.
pub fn append_now(path: &Path, e: &Entry) -> Result<(), String> {
    let mut line = serde_json::to_vec(e).map_err(|e| e.to_string())?;
    line.push(b'\n');
    let mut f = open_append(path)?;
    f.write_all(&line)
        .map_err(|err| format!("auth.audit_log {}: {err}", path.display()))
}

/// The operator running a command (`$USER`, else the uid).
pub fn operator() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .map(|u| format!("operator:{u}"))
        .unwrap_or_else(|_| "operator:unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(p: &Path) -> Vec<serde_json::Value> {
        std::fs::read_to_string(p)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn wait_for(p: &Path, n: usize) -> Vec<serde_json::Value> {
        for _ in 0..200 {
            let v = read(p);
            if v.len() >= n {
                return v;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        read(p)
    }

    #[test]
    fn entries_are_json_lines_and_refusal_floods_are_summed_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit/log.jsonl");
        let audit = Audit::start(Some(&path), 1 << 20, 5, &Telemetry::default()).unwrap();
        audit.record(
            Entry::new("grpc", "call.start", "allowed")
                .actor("key:a1")
                .tenant("acme")
                .call("c-1")
                .peer("127.0.0.1:5"),
        );
        for _ in 0..20 {
            audit.record(Entry::new("grpc", "connect", "denied").detail("unknown API key"));
        }
        let lines = wait_for(&path, 6);
        assert_eq!(lines[0]["actor"], "key:a1");
        assert_eq!(lines[0]["call_id"], "c-1");
        assert!(lines[0]["ts"].as_str().unwrap().ends_with('Z'));
        assert_eq!(lines.len(), 6, "5 refusals a second at most");
        assert_eq!(audit.left_out(), 15);
        // The next second's first refusal brings the summary line.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        audit.record(Entry::new("grpc", "connect", "denied"));
        let lines = wait_for(&path, 8);
        assert!(lines.iter().any(|l| l["action"] == "audit.left_out"
            && l["detail"].as_str().unwrap().starts_with("15 refusals")));
    }

    #[test]
    fn the_log_rotates_at_its_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let audit = Audit::start(Some(&path), 4096, 50, &Telemetry::default()).unwrap();
        for i in 0..100 {
            audit.record(Entry::new("cli", "outbox.status", "ok").actor(format!("operator:u{i}")));
        }
        drop(audit); // writes what is queued
        let old = dir.path().join("audit.jsonl.1");
        assert!(std::fs::metadata(&path).unwrap().len() <= 4096);
        assert!(std::fs::metadata(&old).unwrap().len() <= 4096);
        let last = read(&path);
        assert_eq!(
            last.last().unwrap()["actor"],
            "operator:u99",
            "nothing queued is lost"
        );
        assert!(old.exists());
        let detail = Entry::new("x", "y", "ok").detail("é".repeat(600));
        assert!(detail.detail.len() <= MAX_DETAIL);
    }
}
