//! The durable outbox: SQLite in WAL mode, owned by one thread.
//!
//! Owns: persisting deliveries (one row per event per sink) before the
//! engine acknowledges the event, handing due rows to sink workers under a
//! lease, and recording each attempt's fate: deleted when delivered,
//! rescheduled with its error when it will be retried, moved to the
//! `dead_letter` table with the reason when refused. Appends that arrive
//! together are committed in one transaction (group commit); the caller's
//! `append` returns only after that commit. A row leased by a process that
//! died is due again when the outbox is next opened. Every time it stores
//! is read from [`Clock`], so a step of the system clock moves the stored
//! schedule with it instead of delaying or hurrying deliveries.
//!
//! Must not: call a sink, or run SQLite on an async worker thread.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{named_params, params, Connection, OptionalExtension};
use tokio::sync::{mpsc, oneshot, Notify};

use super::clock::Clock;
use super::config::{OutboxConfig, Synchronous};
use super::event::Event;
use super::mapping::Part;

#[derive(Debug, Clone, thiserror::Error)]
pub enum OutboxError {
    #[error("outbox database {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("outbox database error: {0}")]
    Sqlite(String),
    #[error("outbox is full: {pending} deliveries pending (connect.outbox.max_pending = {max}); is a sink down?")]
    Full { pending: u64, max: u64 },
    #[error("outbox is closed")]
    Closed,
    #[error("outbox disk is full (or connect.outbox.max_bytes reached): {0}")]
    DiskFull(String),
}

impl From<rusqlite::Error> for OutboxError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => Self::DiskFull(e.to_string()),
            _ => Self::Sqlite(e.to_string()),
        }
    }
}

/// A delivery to persist.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub sink: String,
    pub part: Part,
    /// How long from now until it may be sent (0: now; the next batch
    /// window for the batched half).
    pub delay_ms: u64,
    pub event: Arc<Event>,
}

/// A persisted delivery handed to a worker.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: i64,
    pub sink: String,
    pub part: Part,
    pub event: Event,
    /// Failed attempts so far.
    pub attempts: u32,
    pub created_ms: u64,
}

impl Delivery {
    /// The idempotency key of this delivery: the event key, plus `:detail`
    /// for the batched half.
    pub fn delivery_id(&self) -> String {
        match self.part {
            Part::Core => self.event.key.clone(),
            Part::Detail => format!("{}:detail", self.event.key),
        }
    }
}

/// A dead-lettered delivery, for operators.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeadLetter {
    pub sink: String,
    pub event_key: String,
    pub part: String,
    pub attempts: u32,
    pub failed_ms: u64,
    pub reason: String,
}

/// Rows per sink.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SinkCounts {
    pub pending: u64,
    pub dead: u64,
    pub disabled: Option<String>,
}

type Reply<T> = oneshot::Sender<Result<T, OutboxError>>;

enum Cmd {
    Append(Vec<NewDelivery>, Reply<()>),
    Claim {
        sink: String,
        limit: usize,
        reply: Reply<Vec<Delivery>>,
    },
    Complete(Vec<i64>, Reply<()>),
    Retry {
        id: i64,
        delay_ms: u64,
        error: String,
        reply: Reply<()>,
    },
    Release(Vec<i64>, Reply<()>),
    DeadLetter {
        id: i64,
        reason: String,
        reply: Reply<()>,
    },
    Disable {
        sink: String,
        reason: String,
        reply: Reply<()>,
    },
    Enable {
        sink: String,
        requeue_dead: bool,
        tenant: Option<String>,
        reply: Reply<u64>,
    },
    Counts {
        tenant: Option<String>,
        reply: Reply<HashMap<String, SinkCounts>>,
    },
    ListDead {
        limit: usize,
        tenant: Option<String>,
        reply: Reply<Vec<DeadLetter>>,
    },
}

/// Handle to the outbox thread; cheap to clone.
#[derive(Clone)]
pub struct Outbox {
    tx: mpsc::Sender<Cmd>,
    wake: Arc<HashMap<String, Arc<Notify>>>,
    pending: Arc<AtomicU64>,
    clock: Arc<Clock>,
}

/// The horizon of [`Outbox::open`]: a day, longer than any delay the
/// default retry, lease and batch settings produce.
pub const DEFAULT_HORIZON_MS: u64 = 24 * 3_600_000;

/// How a process opens the outbox.
#[derive(Clone)]
pub struct OpenOptions {
    /// The time every stored schedule is measured in.
    pub clock: Arc<Clock>,
    /// The process delivers from it (engine, relay): leases left by a
    /// process that is gone become due now, and schedules further ahead
    /// than `horizon_ms` (left by a backward clock step while no process
    /// ran) are due now. Operator commands open it without, so they never
    /// touch the rows a running engine holds.
    pub deliver: bool,
    /// The furthest ahead a delivery is ever legitimately scheduled: the
    /// longest backoff, `Retry-After`, lease or batch window.
    pub horizon_ms: u64,
}

impl OpenOptions {
    /// A delivering process on the system clock.
    pub fn delivering(horizon_ms: u64) -> Self {
        Self {
            clock: Clock::system(),
            deliver: true,
            horizon_ms,
        }
    }

    /// An operator command on the system clock.
    pub fn operator() -> Self {
        Self {
            clock: Clock::system(),
            deliver: false,
            horizon_ms: u64::MAX,
        }
    }
}

impl Outbox {
    /// Opens (creating if needed) the database and starts its thread, for
    /// delivering, on the system clock, with [`DEFAULT_HORIZON_MS`]. The
    /// connector opens it with [`Outbox::open_with`] and the horizon its
    /// config allows ([`super::ConnectConfig::schedule_horizon_ms`]).
    /// `sinks` are the configured sink names: workers wait on their wake-ups.
    ///
    /// # Errors
    /// The file cannot be opened or its schema created.
    pub fn open(config: &OutboxConfig, sinks: &[String]) -> Result<Self, OutboxError> {
        Self::open_with(config, sinks, OpenOptions::delivering(DEFAULT_HORIZON_MS))
    }

    /// [`Outbox::open`] with explicit options.
    ///
    /// # Errors
    /// The file cannot be opened, is corrupt, or its schema cannot be created.
    pub fn open_with(
        config: &OutboxConfig,
        sinks: &[String],
        options: OpenOptions,
    ) -> Result<Self, OutboxError> {
        let path = config.path.clone();
        let open_err = |reason: String| OutboxError::Open {
            path: path.display().to_string(),
            reason,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
        }
        if options.deliver {
            check_writable(&path).map_err(open_err)?;
        }
        let conn = match open_db(&path, config.synchronous) {
            Ok(c) => c,
            // An operator reading an outbox on a read-only volume: SQLite
            // cannot make its shared-memory file there, so it reads the
            // file as it stands (writes then fail, naming the read-only file).
            Err(e) if !options.deliver && path.is_file() => {
                open_read_only(&path).map_err(|_| open_err(corrupt_hint(&e)))?
            }
            Err(e) => return Err(open_err(corrupt_hint(&e))),
        };
        check_integrity(&conn).map_err(open_err)?;
        let clock = options.clock;
        if options.deliver {
            recover(&conn, clock.now_ms(), options.horizon_ms)
                .map_err(|e| open_err(e.to_string()))?;
        }
        if config.max_bytes > 0 {
            let page: i64 = conn
                .query_row("PRAGMA page_size", [], |r| r.get(0))
                .map_err(|e| open_err(e.to_string()))?;
            let pages = (config.max_bytes / page.max(512) as u64).max(16);
            conn.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(()))
                .map_err(|e| open_err(e.to_string()))?;
        }
        let pending: u64 = conn
            .query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get::<_, i64>(0))
            .map_err(|e| open_err(e.to_string()))? as u64;
        let pending = Arc::new(AtomicU64::new(pending));
        let wake: HashMap<_, _> = sinks
            .iter()
            .map(|s| (s.clone(), Arc::new(Notify::new())))
            .collect();
        let wake = Arc::new(wake);
        let (tx, rx) = mpsc::channel(config.queue_capacity);
        let owner = Owner {
            conn,
            wake: Arc::clone(&wake),
            pending: Arc::clone(&pending),
            max_pending: config.max_pending,
            max_group: config.max_group_commit,
            lease_ms: config.lease_ms,
            clock: Arc::clone(&clock),
        };
        std::thread::Builder::new()
            .name("callsense-outbox".into())
            .spawn(move || owner.run(rx))
            .map_err(|e| open_err(e.to_string()))?;
        Ok(Self {
            tx,
            wake,
            pending,
            clock,
        })
    }

    /// The outbox's time (Unix ms; see [`Clock`]): what stored due and
    /// creation times compare with.
    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// Steps of the system clock the outbox has seen and adjusted for.
    pub fn clock_jumps(&self) -> u64 {
        self.clock.jumps()
    }

    async fn call<T>(&self, make: impl FnOnce(Reply<T>) -> Cmd) -> Result<T, OutboxError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(make(reply))
            .await
            .map_err(|_| OutboxError::Closed)?;
        rx.await.map_err(|_| OutboxError::Closed)?
    }

    /// Persists deliveries; returns once they are committed (fsynced with
    /// `synchronous = "full"`). A delivery already pending with the same
    /// sink, key and part is not added twice.
    ///
    /// # Errors
    /// The database failed, or `max_pending` would be exceeded.
    pub async fn append(&self, rows: Vec<NewDelivery>) -> Result<(), OutboxError> {
        if rows.is_empty() {
            return Ok(());
        }
        self.call(|r| Cmd::Append(rows, r)).await
    }

    /// Leases up to `limit` due deliveries of `sink`, oldest first.
    ///
    /// # Errors
    /// The database failed.
    pub async fn claim(&self, sink: &str, limit: usize) -> Result<Vec<Delivery>, OutboxError> {
        self.call(|reply| Cmd::Claim {
            sink: sink.into(),
            limit,
            reply,
        })
        .await
    }

    /// Deletes delivered rows.
    ///
    /// # Errors
    /// The database failed.
    pub async fn complete(&self, ids: Vec<i64>) -> Result<(), OutboxError> {
        self.call(|r| Cmd::Complete(ids, r)).await
    }

    /// Counts a failed attempt and makes the row due again after `delay`.
    ///
    /// # Errors
    /// The database failed.
    pub async fn retry(&self, id: i64, delay: Duration, error: String) -> Result<(), OutboxError> {
        let delay_ms = delay.as_millis() as u64;
        self.call(|reply| Cmd::Retry {
            id,
            delay_ms,
            error,
            reply,
        })
        .await
    }

    /// Gives leased rows back, due now, without counting an attempt.
    ///
    /// # Errors
    /// The database failed.
    pub async fn release(&self, ids: Vec<i64>) -> Result<(), OutboxError> {
        self.call(|r| Cmd::Release(ids, r)).await
    }

    /// Moves a row to the dead-letter table with the reason.
    ///
    /// # Errors
    /// The database failed.
    pub async fn dead_letter(&self, id: i64, reason: String) -> Result<(), OutboxError> {
        self.call(|reply| Cmd::DeadLetter { id, reason, reply })
            .await
    }

    /// Stops deliveries to a sink (webhook 410) until [`Outbox::enable`].
    ///
    /// # Errors
    /// The database failed.
    pub async fn disable(&self, sink: &str, reason: String) -> Result<(), OutboxError> {
        self.call(|reply| Cmd::Disable {
            sink: sink.into(),
            reason,
            reply,
        })
        .await
    }

    /// Re-enables a sink; with `requeue_dead`, its dead letters (only
    /// `tenant`'s, when given) become pending again. Returns the rows
    /// requeued.
    ///
    /// # Errors
    /// The database failed.
    pub async fn enable(
        &self,
        sink: &str,
        requeue_dead: bool,
        tenant: Option<&str>,
    ) -> Result<u64, OutboxError> {
        self.call(|reply| Cmd::Enable {
            sink: sink.into(),
            requeue_dead,
            tenant: tenant.map(Into::into),
            reply,
        })
        .await
    }

    /// Pending and dead rows (only `tenant`'s, when given) and the disabled
    /// reason, per sink.
    ///
    /// # Errors
    /// The database failed.
    pub async fn counts(
        &self,
        tenant: Option<&str>,
    ) -> Result<HashMap<String, SinkCounts>, OutboxError> {
        self.call(|reply| Cmd::Counts {
            tenant: tenant.map(Into::into),
            reply,
        })
        .await
    }

    /// The newest dead letters (only `tenant`'s, when given).
    ///
    /// # Errors
    /// The database failed.
    pub async fn dead_letters(
        &self,
        limit: usize,
        tenant: Option<&str>,
    ) -> Result<Vec<DeadLetter>, OutboxError> {
        self.call(|reply| Cmd::ListDead {
            limit,
            tenant: tenant.map(Into::into),
            reply,
        })
        .await
    }

    /// Wakes when a delivery for `sink` was appended or released.
    pub fn wake(&self, sink: &str) -> Option<Arc<Notify>> {
        self.wake.get(sink).cloned()
    }

    /// Rows not yet delivered or dead-lettered, all sinks.
    pub fn pending(&self) -> u64 {
        self.pending.load(Ordering::Relaxed)
    }
}

/// What to do about an outbox the engine cannot write.
const UNWRITABLE_HINT: &str = "the engine records every CRM fact here before it acknowledges it, so it will not start without it: give it a writable volume there, or point connect.outbox.path at one";

/// A delivering process must be able to write the file and its directory
/// (SQLite creates `-wal` and `-shm` files beside it); a read-only volume
/// or file is refused here, by name, instead of failing every append later.
fn check_writable(path: &Path) -> Result<(), String> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let probe = dir.join(format!(".callsense-outbox-probe-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
        }
        Err(e) => {
            return Err(format!(
                "its directory {} is not writable ({e}): {UNWRITABLE_HINT}",
                dir.display()
            ))
        }
    }
    if path.exists() {
        if let Err(e) = std::fs::OpenOptions::new().append(true).open(path) {
            return Err(format!("the file is not writable ({e}): {UNWRITABLE_HINT}"));
        }
    }
    Ok(())
}

/// How to recover from a corrupt file, added to SQLite's own message.
const CORRUPT_HINT: &str = "the file is not a healthy outbox database; stop the engine, move the file aside (a new outbox is created; recover undelivered events from the old one with `sqlite3 OLD .recover | sqlite3 NEW`) and start again";

fn corrupt_hint(e: &rusqlite::Error) -> String {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt) => {
            format!("{e}: {CORRUPT_HINT}")
        }
        _ => e.to_string(),
    }
}

/// SQLite's quick check of the file's structure (it reads every page once).
fn check_integrity(conn: &Connection) -> Result<(), String> {
    let verdict: String = conn
        .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
        .map_err(|e| corrupt_hint(&e))?;
    if verdict == "ok" {
        Ok(())
    } else {
        Err(format!(
            "integrity check failed ({verdict}): {CORRUPT_HINT}"
        ))
    }
}

/// SQL: the row's event is tenant `:tenant`'s, or `:tenant` is NULL (every
/// tenant).
const OF_TENANT: &str = "(:tenant IS NULL OR json_extract(payload, '$.tenant') = :tenant)";

/// A delivering process takes over the file: leases held by a process that
/// is gone are due now, and schedules or creation times that a backward
/// step of the clock (while nothing ran) left beyond any legitimate delay
/// are brought back to now.
fn recover(conn: &Connection, now: u64, horizon_ms: u64) -> rusqlite::Result<()> {
    let now = now as i64;
    conn.execute(
        "UPDATE outbox SET leased = 0, due_ms = MIN(due_ms, ?1) WHERE leased = 1",
        params![now],
    )?;
    let ahead = conn.execute(
        "UPDATE outbox SET due_ms = ?1 WHERE due_ms > ?1 + ?2",
        params![now, horizon_ms.min(i64::MAX as u64 / 2) as i64],
    )?;
    let future = conn.execute(
        "UPDATE outbox SET created_ms = ?1 WHERE created_ms > ?1",
        params![now],
    )?;
    if ahead + future > 0 {
        tracing::warn!(
            rescheduled = ahead,
            recreated = future,
            "Outbox rows were stored ahead of the clock (it was set back while the engine was stopped); they are due now"
        );
    }
    Ok(())
}

fn open_read_only(path: &Path) -> rusqlite::Result<Connection> {
    use rusqlite::OpenFlags;
    let uri = format!(
        "file:{}?immutable=1",
        path.display()
            .to_string()
            .replace('%', "%25")
            .replace('?', "%3f")
            .replace('#', "%23")
    );
    Connection::open_with_flags(
        uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
}

fn open_db(path: &Path, sync: Synchronous) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(
        None,
        "synchronous",
        match sync {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        },
    )?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS outbox (
             id INTEGER PRIMARY KEY AUTOINCREMENT,
             sink TEXT NOT NULL,
             event_key TEXT NOT NULL,
             part TEXT NOT NULL,
             payload TEXT NOT NULL,
             created_ms INTEGER NOT NULL,
             due_ms INTEGER NOT NULL,
             attempts INTEGER NOT NULL DEFAULT 0,
             leased INTEGER NOT NULL DEFAULT 0,
             last_error TEXT,
             UNIQUE (sink, event_key, part));
         CREATE INDEX IF NOT EXISTS outbox_due ON outbox (sink, due_ms, id);
         CREATE TABLE IF NOT EXISTS dead_letter (
             id INTEGER PRIMARY KEY,
             sink TEXT NOT NULL,
             event_key TEXT NOT NULL,
             part TEXT NOT NULL,
             payload TEXT NOT NULL,
             created_ms INTEGER NOT NULL,
             failed_ms INTEGER NOT NULL,
             attempts INTEGER NOT NULL,
             reason TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS sink_state (
             sink TEXT PRIMARY KEY,
             disabled_reason TEXT NOT NULL,
             disabled_ms INTEGER NOT NULL);",
    )?;
    Ok(conn)
}

struct Owner {
    conn: Connection,
    wake: Arc<HashMap<String, Arc<Notify>>>,
    pending: Arc<AtomicU64>,
    max_pending: u64,
    max_group: usize,
    lease_ms: u64,
    clock: Arc<Clock>,
}

impl Owner {
    fn run(mut self, mut rx: mpsc::Receiver<Cmd>) {
        while let Some(cmd) = rx.blocking_recv() {
            if let Some(jump) = self.clock.check() {
                self.follow_clock(jump);
            }
            let mut appends = Vec::new();
            let mut others = Vec::new();
            match cmd {
                Cmd::Append(rows, reply) => appends.push((rows, reply)),
                other => others.push(other),
            }
            // Group commit: take every append already waiting.
            while !appends.is_empty() && appends.len() < self.max_group {
                match rx.try_recv() {
                    Ok(Cmd::Append(rows, reply)) => appends.push((rows, reply)),
                    Ok(other) => others.push(other),
                    Err(_) => break,
                }
            }
            if !appends.is_empty() {
                self.append(appends);
            }
            for cmd in others {
                self.handle(cmd);
            }
        }
    }

    fn append(&mut self, batch: Vec<(Vec<NewDelivery>, Reply<()>)>) {
        let total: u64 = batch.iter().map(|(r, _)| r.len() as u64).sum();
        let pending = self.pending.load(Ordering::Relaxed);
        if pending + total > self.max_pending {
            for (_, reply) in batch {
                let _ = reply.send(Err(OutboxError::Full {
                    pending,
                    max: self.max_pending,
                }));
            }
            return;
        }
        let now = self.clock.now_ms();
        let result = (|| -> Result<(u64, Vec<String>), OutboxError> {
            let tx = self.conn.transaction()?;
            let mut added = 0u64;
            let mut woken = Vec::new();
            {
                let mut ins = tx.prepare_cached(
                    "INSERT OR IGNORE INTO outbox (sink, event_key, part, payload, created_ms, due_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?;
                for (rows, _) in &batch {
                    for d in rows {
                        let due = now + d.delay_ms;
                        let payload = serde_json::to_string(&*d.event).map_err(|e| {
                            OutboxError::Sqlite(format!("event not serialisable: {e}"))
                        })?;
                        added += ins.execute(params![
                            d.sink,
                            d.event.key,
                            d.part.as_str(),
                            payload,
                            now as i64,
                            due as i64
                        ])? as u64;
                        if due <= now && !woken.contains(&d.sink) {
                            woken.push(d.sink.clone());
                        }
                    }
                }
            }
            tx.commit()?;
            Ok((added, woken))
        })();
        match result {
            Ok((added, woken)) => {
                self.pending.fetch_add(added, Ordering::Relaxed);
                for s in woken {
                    self.notify(&s);
                }
                for (_, reply) in batch {
                    let _ = reply.send(Ok(()));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "Outbox append failed");
                for (_, reply) in batch {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }

    /// The system clock stepped by `jump` ms: every stored schedule and
    /// creation time moves with it, so each delivery keeps its remaining
    /// delay, lease and age.
    fn follow_clock(&mut self, jump: i64) {
        let moved = self.conn.execute(
            "UPDATE outbox SET due_ms = MAX(0, due_ms + ?1), created_ms = MAX(0, created_ms + ?1)",
            params![jump],
        );
        match moved {
            Ok(rows) => tracing::warn!(
                jump_ms = jump,
                rows,
                "The system clock stepped; the outbox moved its schedule with it (delays, leases and ages are kept)"
            ),
            Err(e) => tracing::error!(
                jump_ms = jump,
                error = %e,
                "The system clock stepped and the outbox could not move its schedule; retries may come early or late by the step"
            ),
        }
    }

    fn notify(&self, sink: &str) {
        if let Some(n) = self.wake.get(sink) {
            n.notify_waiters();
            n.notify_one();
        }
    }

    fn handle(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Append(rows, reply) => self.append(vec![(rows, reply)]),
            Cmd::Claim { sink, limit, reply } => {
                let _ = reply.send(self.claim(&sink, limit));
            }
            Cmd::Complete(ids, reply) => {
                let r = self.delete(&ids);
                let _ = reply.send(r);
            }
            Cmd::Retry {
                id,
                delay_ms,
                error,
                reply,
            } => {
                let due_ms = self.clock.now_ms() + delay_ms;
                let r = self
                    .conn
                    .execute(
                        "UPDATE outbox SET attempts = attempts + 1, due_ms = ?2, leased = 0, last_error = ?3 WHERE id = ?1",
                        params![id, due_ms as i64, error],
                    )
                    .map(|_| ())
                    .map_err(Into::into);
                let _ = reply.send(r);
            }
            Cmd::Release(ids, reply) => {
                let r = self.release(&ids);
                let _ = reply.send(r);
            }
            Cmd::DeadLetter { id, reason, reply } => {
                let _ = reply.send(self.dead_letter(id, &reason));
            }
            Cmd::Disable {
                sink,
                reason,
                reply,
            } => {
                let r = self
                    .conn
                    .execute(
                        "INSERT OR REPLACE INTO sink_state (sink, disabled_reason, disabled_ms) VALUES (?1, ?2, ?3)",
                        params![sink, reason, self.clock.now_ms() as i64],
                    )
                    .map(|_| ())
                    .map_err(Into::into);
                let _ = reply.send(r);
            }
            Cmd::Enable {
                sink,
                requeue_dead,
                tenant,
                reply,
            } => {
                let r = self.enable(&sink, requeue_dead, tenant.as_deref());
                if r.is_ok() {
                    self.notify(&sink);
                }
                let _ = reply.send(r);
            }
            Cmd::Counts { tenant, reply } => {
                let _ = reply.send(self.counts(tenant.as_deref()));
            }
            Cmd::ListDead {
                limit,
                tenant,
                reply,
            } => {
                let _ = reply.send(self.list_dead(limit, tenant.as_deref()));
            }
        }
    }

    fn disabled(&self, sink: &str) -> Result<Option<String>, OutboxError> {
        Ok(self
            .conn
            .query_row(
                "SELECT disabled_reason FROM sink_state WHERE sink = ?1",
                params![sink],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn claim(&mut self, sink: &str, limit: usize) -> Result<Vec<Delivery>, OutboxError> {
        if self.disabled(sink)?.is_some() {
            return Ok(Vec::new());
        }
        let now = self.clock.now_ms() as i64;
        let tx = self.conn.transaction()?;
        let mut out = Vec::new();
        let mut corrupt = Vec::new();
        {
            let mut sel = tx.prepare_cached(
                "SELECT id, event_key, part, payload, attempts, created_ms FROM outbox
                 WHERE sink = ?1 AND due_ms <= ?2 ORDER BY due_ms, id LIMIT ?3",
            )?;
            let rows = sel.query_map(params![sink, now, limit as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            })?;
            for row in rows {
                let (id, key, part, payload, attempts, created) = row?;
                match (serde_json::from_str::<Event>(&payload), Part::parse(&part)) {
                    (Ok(event), Some(part)) => out.push(Delivery {
                        id,
                        sink: sink.to_string(),
                        part,
                        event,
                        attempts: attempts as u32,
                        created_ms: created as u64,
                    }),
                    (Err(e), _) => {
                        corrupt.push((id, format!("stored event {key} is unreadable: {e}")))
                    }
                    (_, None) => {
                        corrupt.push((id, format!("stored event {key} has unknown part {part:?}")))
                    }
                }
            }
            let mut lease =
                tx.prepare_cached("UPDATE outbox SET leased = 1, due_ms = ?2 WHERE id = ?1")?;
            for d in &out {
                lease.execute(params![d.id, now + self.lease_ms as i64])?;
            }
        }
        tx.commit()?;
        for (id, reason) in corrupt {
            self.dead_letter(id, &reason)?;
        }
        Ok(out)
    }

    fn delete(&mut self, ids: &[i64]) -> Result<(), OutboxError> {
        let tx = self.conn.transaction()?;
        let mut n = 0u64;
        {
            let mut del = tx.prepare_cached("DELETE FROM outbox WHERE id = ?1")?;
            for id in ids {
                n += del.execute(params![id])? as u64;
            }
        }
        tx.commit()?;
        self.pending.fetch_sub(
            n.min(self.pending.load(Ordering::Relaxed)),
            Ordering::Relaxed,
        );
        Ok(())
    }

    fn release(&mut self, ids: &[i64]) -> Result<(), OutboxError> {
        let now = self.clock.now_ms() as i64;
        let tx = self.conn.transaction()?;
        {
            let mut up =
                tx.prepare_cached("UPDATE outbox SET leased = 0, due_ms = ?2 WHERE id = ?1")?;
            for id in ids {
                up.execute(params![id, now])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn dead_letter(&mut self, id: i64, reason: &str) -> Result<(), OutboxError> {
        let tx = self.conn.transaction()?;
        let moved = tx.execute(
            "INSERT INTO dead_letter (id, sink, event_key, part, payload, created_ms, failed_ms, attempts, reason)
             SELECT id, sink, event_key, part, payload, created_ms, ?2, attempts + 1, ?3 FROM outbox WHERE id = ?1",
            params![id, self.clock.now_ms() as i64, reason],
        )?;
        tx.execute("DELETE FROM outbox WHERE id = ?1", params![id])?;
        tx.commit()?;
        if moved > 0 {
            self.pending.fetch_sub(
                1.min(self.pending.load(Ordering::Relaxed)),
                Ordering::Relaxed,
            );
        }
        Ok(())
    }

    fn enable(
        &mut self,
        sink: &str,
        requeue_dead: bool,
        tenant: Option<&str>,
    ) -> Result<u64, OutboxError> {
        let now = self.clock.now_ms() as i64;
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM sink_state WHERE sink = ?1", params![sink])?;
        let mut n = 0;
        if requeue_dead {
            n = tx.execute(
                &format!("INSERT OR IGNORE INTO outbox (sink, event_key, part, payload, created_ms, due_ms)
                 SELECT sink, event_key, part, payload, created_ms, :now FROM dead_letter WHERE sink = :sink AND {OF_TENANT}"),
                named_params! {":sink": sink, ":now": now, ":tenant": tenant},
            )? as u64;
            tx.execute(
                &format!("DELETE FROM dead_letter WHERE sink = :sink AND {OF_TENANT}"),
                named_params! {":sink": sink, ":tenant": tenant},
            )?;
        }
        tx.commit()?;
        self.pending.fetch_add(n, Ordering::Relaxed);
        Ok(n)
    }

    fn counts(&self, tenant: Option<&str>) -> Result<HashMap<String, SinkCounts>, OutboxError> {
        let mut out: HashMap<String, SinkCounts> = HashMap::new();
        let mut q = self.conn.prepare_cached(&format!(
            "SELECT sink, COUNT(*) FROM outbox WHERE {OF_TENANT} GROUP BY sink"
        ))?;
        for row in q.query_map(named_params! {":tenant": tenant}, |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })? {
            let (s, n) = row?;
            out.entry(s).or_default().pending = n as u64;
        }
        let mut q = self.conn.prepare_cached(&format!(
            "SELECT sink, COUNT(*) FROM dead_letter WHERE {OF_TENANT} GROUP BY sink"
        ))?;
        for row in q.query_map(named_params! {":tenant": tenant}, |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })? {
            let (s, n) = row?;
            out.entry(s).or_default().dead = n as u64;
        }
        let mut q = self
            .conn
            .prepare_cached("SELECT sink, disabled_reason FROM sink_state")?;
        for row in q.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
            let (s, reason) = row?;
            out.entry(s).or_default().disabled = Some(reason);
        }
        Ok(out)
    }

    fn list_dead(
        &self,
        limit: usize,
        tenant: Option<&str>,
    ) -> Result<Vec<DeadLetter>, OutboxError> {
        let mut q = self.conn.prepare_cached(&format!(
            "SELECT sink, event_key, part, attempts, failed_ms, reason FROM dead_letter WHERE {OF_TENANT} ORDER BY failed_ms DESC, id DESC LIMIT :limit",
        ))?;
        let rows = q.query_map(
            named_params! {":limit": limit as i64, ":tenant": tenant},
            |r| {
                Ok(DeadLetter {
                    sink: r.get(0)?,
                    event_key: r.get(1)?,
                    part: r.get(2)?,
                    attempts: r.get::<_, i64>(3)? as u32,
                    failed_ms: r.get::<_, i64>(4)? as u64,
                    reason: r.get(5)?,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::clock::ManualClocks;
    use crate::connect::event::{CallIdentity, EventKind};

    fn config(dir: &tempfile::TempDir) -> OutboxConfig {
        OutboxConfig {
            path: dir.path().join("outbox.sqlite"),
            ..OutboxConfig::default()
        }
    }

    fn row(sink: &str, seq: u32, part: Part) -> NewDelivery {
        tenant_row(sink, seq, part, "")
    }

    fn tenant_row(sink: &str, seq: u32, part: Part, tenant: &str) -> NewDelivery {
        let call = CallIdentity {
            call_id: "c1".into(),
            tenant: tenant.into(),
            ..CallIdentity::default()
        };
        NewDelivery {
            sink: sink.into(),
            part,
            delay_ms: 0,
            event: Arc::new(Event {
                key: Event::key_for(&format!("c1{tenant}"), seq, EventKind::Utterance),
                kind: EventKind::Utterance,
                call,
                occurred_at_ms: crate::connect::event::now_ms(),
                data: serde_json::json!({"seq": seq}),
            }),
        }
    }

    #[tokio::test]
    async fn append_claim_complete_retry_dead_letter() {
        let dir = tempfile::tempdir().unwrap();
        let ob = Outbox::open(&config(&dir), &["a".into(), "b".into()]).unwrap();
        ob.append(vec![
            row("a", 1, Part::Core),
            row("b", 1, Part::Core),
            row("a", 2, Part::Core),
        ])
        .await
        .unwrap();
        // The same key again is not a second delivery.
        ob.append(vec![row("a", 1, Part::Core)]).await.unwrap();
        assert_eq!(ob.pending(), 3);
        let got = ob.claim("a", 10).await.unwrap();
        assert_eq!(
            got.iter().map(|d| d.event.key.as_str()).collect::<Vec<_>>(),
            ["c1:1:utterance", "c1:2:utterance"]
        );
        assert!(
            ob.claim("a", 10).await.unwrap().is_empty(),
            "leased rows are not handed out twice"
        );
        ob.complete(vec![got[0].id]).await.unwrap();
        ob.retry(got[1].id, Duration::from_millis(0), "HTTP 503".into())
            .await
            .unwrap();
        let again = ob.claim("a", 10).await.unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].attempts, 1);
        ob.dead_letter(again[0].id, "HTTP 400 INVALID_FIELD".into())
            .await
            .unwrap();
        let counts = ob.counts(None).await.unwrap();
        assert_eq!(
            counts["a"],
            SinkCounts {
                pending: 0,
                dead: 1,
                disabled: None
            }
        );
        assert_eq!(counts["b"].pending, 1);
        let dead = ob.dead_letters(10, None).await.unwrap();
        assert_eq!(
            (
                dead[0].event_key.as_str(),
                dead[0].attempts,
                dead[0].reason.as_str()
            ),
            ("c1:2:utterance", 2, "HTTP 400 INVALID_FIELD")
        );
        assert_eq!(ob.enable("a", true, None).await.unwrap(), 1, "requeued");
        assert_eq!(ob.claim("a", 10).await.unwrap().len(), 1);
        assert_eq!(ob.pending(), 2);
    }

    #[tokio::test]
    async fn leases_of_a_dead_process_are_due_again_on_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let ob = Outbox::open(&config(&dir), &["a".into()]).unwrap();
            ob.append(vec![row("a", 1, Part::Core), row("a", 1, Part::Detail)])
                .await
                .unwrap();
            assert_eq!(ob.claim("a", 10).await.unwrap().len(), 2);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        let ob = Outbox::open(&config(&dir), &["a".into()]).unwrap();
        assert_eq!(ob.pending(), 2);
        let got = ob.claim("a", 10).await.unwrap();
        assert_eq!(
            got.len(),
            2,
            "leased rows are claimable after a restart, not after the lease"
        );
        assert_eq!(got[1].delivery_id(), "c1:1:utterance:detail");
    }

    #[tokio::test]
    async fn disabled_sinks_hold_their_rows_and_full_outbox_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let ob = Outbox::open(
            &OutboxConfig {
                max_pending: 2,
                ..config(&dir)
            },
            &["a".into()],
        )
        .unwrap();
        ob.append(vec![row("a", 1, Part::Core)]).await.unwrap();
        ob.disable("a", "HTTP 410".into()).await.unwrap();
        assert!(ob.claim("a", 10).await.unwrap().is_empty());
        assert_eq!(
            ob.counts(None).await.unwrap()["a"].disabled.as_deref(),
            Some("HTTP 410")
        );
        ob.enable("a", false, None).await.unwrap();
        assert_eq!(ob.claim("a", 10).await.unwrap().len(), 1);
        let err = ob
            .append(vec![row("a", 2, Part::Core), row("a", 3, Part::Core)])
            .await
            .unwrap_err();
        assert!(
            matches!(err, OutboxError::Full { pending: 1, max: 2 }),
            "{err}"
        );
    }

    /// An outbox on hand-moved clocks, delivering.
    fn manual(dir: &tempfile::TempDir, t: &Arc<ManualClocks>, horizon_ms: u64) -> Outbox {
        Outbox::open_with(
            &config(dir),
            &["a".into()],
            OpenOptions {
                clock: Clock::new(t.clone()),
                deliver: true,
                horizon_ms,
            },
        )
        .unwrap()
    }

    const WALL: u64 = 1_800_000_000_000;
    const HOUR: i64 = 3_600_000;

    #[tokio::test]
    async fn a_backward_clock_step_does_not_hold_retries_back() {
        let dir = tempfile::tempdir().unwrap();
        let t = ManualClocks::new(WALL);
        let ob = manual(&dir, &t, HOUR as u64);
        ob.append(vec![row("a", 1, Part::Core)]).await.unwrap();
        let got = ob.claim("a", 10).await.unwrap();
        ob.retry(got[0].id, Duration::from_millis(200), "HTTP 503".into())
            .await
            .unwrap();
        t.step(-HOUR);
        t.advance(100);
        assert!(
            ob.claim("a", 10).await.unwrap().is_empty(),
            "not due before its delay"
        );
        t.advance(150);
        assert_eq!(
            ob.claim("a", 10).await.unwrap().len(),
            1,
            "due after its 200 ms, not after the hour the clock went back"
        );
        assert_eq!(ob.clock_jumps(), 1);
        assert_eq!(
            ob.now_ms(),
            WALL - HOUR as u64 + 250,
            "and on the wall clock again"
        );
    }

    #[tokio::test]
    async fn a_forward_clock_step_neither_re_leases_nor_ages_deliveries() {
        let dir = tempfile::tempdir().unwrap();
        let t = ManualClocks::new(WALL);
        let ob = manual(&dir, &t, HOUR as u64);
        ob.append(vec![row("a", 1, Part::Core), row("a", 2, Part::Core)])
            .await
            .unwrap();
        let first = ob.claim("a", 1).await.unwrap();
        assert_eq!(first[0].event.key, "c1:1:utterance");
        t.step(2 * 24 * HOUR);
        t.advance(10);
        let got = ob.claim("a", 10).await.unwrap();
        assert_eq!(
            got.iter().map(|d| d.event.key.as_str()).collect::<Vec<_>>(),
            ["c1:2:utterance"],
            "the leased delivery is still leased: no second send while the first is in flight"
        );
        let age = ob.now_ms() - got[0].created_ms;
        assert!(age < 1_000, "two days of clock step are not age ({age} ms)");
    }

    #[tokio::test]
    async fn a_restart_after_the_clock_went_back_makes_stranded_rows_due() {
        let dir = tempfile::tempdir().unwrap();
        {
            let t = ManualClocks::new(WALL);
            let ob = manual(&dir, &t, HOUR as u64);
            ob.append(vec![row("a", 1, Part::Core)]).await.unwrap();
            let got = ob.claim("a", 10).await.unwrap();
            ob.retry(got[0].id, Duration::from_secs(30), "HTTP 503".into())
                .await
                .unwrap();
        }
        // Stopped; the clock is set back a day; started again.
        let t = ManualClocks::new(WALL - 24 * HOUR as u64);
        let ob = manual(&dir, &t, 120_000);
        let got = ob.claim("a", 10).await.unwrap();
        assert_eq!(
            got.len(),
            1,
            "a schedule beyond every possible delay is due now"
        );
        assert_eq!(
            got[0].created_ms,
            ob.now_ms(),
            "and it is not from the future"
        );
    }

    #[tokio::test]
    async fn operator_commands_leave_a_running_engine_s_leases_alone() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Outbox::open(&config(&dir), &["a".into()]).unwrap();
        engine.append(vec![row("a", 1, Part::Core)]).await.unwrap();
        assert_eq!(engine.claim("a", 10).await.unwrap().len(), 1);
        let operator = Outbox::open_with(&config(&dir), &[], OpenOptions::operator()).unwrap();
        assert_eq!(operator.counts(None).await.unwrap()["a"].pending, 1);
        drop(operator);
        assert!(
            engine.claim("a", 10).await.unwrap().is_empty(),
            "the in-flight delivery is not handed out a second time"
        );
    }

    #[tokio::test]
    async fn operator_views_and_requeues_are_scoped_by_tenant() {
        let dir = tempfile::tempdir().unwrap();
        let ob = Outbox::open(&config(&dir), &["a".into()]).unwrap();
        ob.append(vec![
            tenant_row("a", 1, Part::Core, "acme"),
            tenant_row("a", 1, Part::Core, "globex"),
            tenant_row("a", 2, Part::Core, "globex"),
        ])
        .await
        .unwrap();
        for d in ob.claim("a", 10).await.unwrap() {
            ob.dead_letter(d.id, "HTTP 400".into()).await.unwrap();
        }
        assert_eq!(ob.counts(None).await.unwrap()["a"].dead, 3);
        assert_eq!(ob.counts(Some("acme")).await.unwrap()["a"].dead, 1);
        assert_eq!(ob.counts(Some("globex")).await.unwrap()["a"].dead, 2);
        assert!(ob.counts(Some("initech")).await.unwrap().is_empty());
        let keys = |v: Vec<DeadLetter>| v.into_iter().map(|d| d.event_key).collect::<Vec<_>>();
        assert_eq!(
            keys(ob.dead_letters(10, Some("acme")).await.unwrap()),
            ["c1acme:1:utterance"]
        );
        assert_eq!(ob.dead_letters(1, None).await.unwrap().len(), 1, "limit");
        assert_eq!(ob.enable("a", true, Some("globex")).await.unwrap(), 2);
        let counts = ob.counts(None).await.unwrap();
        assert_eq!(
            (counts["a"].pending, counts["a"].dead),
            (2, 1),
            "acme's stays dead"
        );
    }
}
