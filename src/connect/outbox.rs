//! The durable outbox: SQLite in WAL mode, owned by one thread.
//!
//! Owns: persisting deliveries (one row per event per sink) before the
//! engine acknowledges the event, handing due rows to sink workers under a
//! lease, and recording each attempt's fate: deleted when delivered,
//! rescheduled with its error when it will be retried, moved to the
//! `dead_letter` table with the reason when refused. Appends that arrive
//! together are committed in one transaction (group commit); the caller's
//! `append` returns only after that commit. A row leased by a process that
//! died is due again when the outbox is next opened.
//!
//! Must not: call a sink, or run SQLite on an async worker thread.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};
use tokio::sync::{mpsc, oneshot, Notify};

use super::config::{OutboxConfig, Synchronous};
use super::event::{now_ms, Event};
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
    /// Unix ms from which it may be sent (now, or the next batch window).
    pub due_ms: u64,
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
        due_ms: u64,
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
}

impl Outbox {
    /// Opens (creating if needed) the database and starts its thread.
    /// `sinks` are the configured sink names: workers wait on their wake-ups.
    ///
    /// # Errors
    /// The file cannot be opened or its schema created.
    pub fn open(config: &OutboxConfig, sinks: &[String]) -> Result<Self, OutboxError> {
        let path = config.path.clone();
        let open_err = |reason: String| OutboxError::Open {
            path: path.display().to_string(),
            reason,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
        }
        let conn = open_db(&path, config.synchronous).map_err(|e| open_err(corrupt_hint(&e)))?;
        check_integrity(&conn).map_err(open_err)?;
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
        };
        std::thread::Builder::new()
            .name("callsense-outbox".into())
            .spawn(move || owner.run(rx))
            .map_err(|e| open_err(e.to_string()))?;
        Ok(Self { tx, wake, pending })
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
        let due_ms = now_ms() + delay.as_millis() as u64;
        self.call(|reply| Cmd::Retry {
            id,
            due_ms,
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

/// SQL: the row's event is tenant `?3`'s, or `?3` is NULL (every tenant).
const OF_TENANT: &str = "(?3 IS NULL OR json_extract(payload, '$.tenant') = ?3)";

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
    // Leases held by a process that is gone: due again now.
    conn.execute(
        "UPDATE outbox SET leased = 0, due_ms = MIN(due_ms, ?1) WHERE leased = 1",
        params![now_ms() as i64],
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
}

impl Owner {
    fn run(mut self, mut rx: mpsc::Receiver<Cmd>) {
        while let Some(cmd) = rx.blocking_recv() {
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
        let now = now_ms();
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
                        let payload = serde_json::to_string(&*d.event).map_err(|e| {
                            OutboxError::Sqlite(format!("event not serialisable: {e}"))
                        })?;
                        added += ins.execute(params![
                            d.sink,
                            d.event.key,
                            d.part.as_str(),
                            payload,
                            now as i64,
                            d.due_ms as i64
                        ])? as u64;
                        if d.due_ms <= now && !woken.contains(&d.sink) {
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
                due_ms,
                error,
                reply,
            } => {
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
                        params![sink, reason, now_ms() as i64],
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
        let now = now_ms() as i64;
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
        let now = now_ms() as i64;
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
            params![id, now_ms() as i64, reason],
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
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM sink_state WHERE sink = ?1", params![sink])?;
        let mut n = 0;
        if requeue_dead {
            n = tx.execute(
                &format!("INSERT OR IGNORE INTO outbox (sink, event_key, part, payload, created_ms, due_ms)
                 SELECT sink, event_key, part, payload, created_ms, ?2 FROM dead_letter WHERE sink = ?1 AND {OF_TENANT}"),
                params![sink, now_ms() as i64, tenant],
            )? as u64;
            tx.execute(
                &format!("DELETE FROM dead_letter WHERE sink = ?1 AND {OF_TENANT}"),
                params![sink, now_ms() as i64, tenant],
            )?;
        }
        tx.commit()?;
        self.pending.fetch_add(n, Ordering::Relaxed);
        Ok(n)
    }

    fn counts(&self, tenant: Option<&str>) -> Result<HashMap<String, SinkCounts>, OutboxError> {
        let mut out: HashMap<String, SinkCounts> = HashMap::new();
        let mut q = self.conn.prepare_cached(&format!(
            "SELECT sink, COUNT(*) FROM outbox WHERE ?1 = ?1 AND ?2 = ?2 AND {OF_TENANT} GROUP BY sink"
        ))?;
        for row in q.query_map(params!["", 0, tenant], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })? {
            let (s, n) = row?;
            out.entry(s).or_default().pending = n as u64;
        }
        let mut q = self.conn.prepare_cached(&format!(
            "SELECT sink, COUNT(*) FROM dead_letter WHERE ?1 = ?1 AND ?2 = ?2 AND {OF_TENANT} GROUP BY sink"
        ))?;
        for row in q.query_map(params!["", 0, tenant], |r| {
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
            "SELECT sink, event_key, part, attempts, failed_ms, reason FROM dead_letter WHERE ?2 = ?2 AND {OF_TENANT} ORDER BY failed_ms DESC, id DESC LIMIT ?1",
        ))?;
        let rows = q.query_map(params![limit as i64, 0, tenant], |r| {
            Ok(DeadLetter {
                sink: r.get(0)?,
                event_key: r.get(1)?,
                part: r.get(2)?,
                attempts: r.get::<_, i64>(3)? as u32,
                failed_ms: r.get::<_, i64>(4)? as u64,
                reason: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::event::{CallIdentity, EventKind};

    fn config(dir: &tempfile::TempDir) -> OutboxConfig {
        OutboxConfig {
            path: dir.path().join("outbox.sqlite"),
            ..OutboxConfig::default()
        }
    }

    fn row(sink: &str, seq: u32, part: Part) -> NewDelivery {
        let call = CallIdentity {
            call_id: "c1".into(),
            ..CallIdentity::default()
        };
        NewDelivery {
            sink: sink.into(),
            part,
            due_ms: now_ms(),
            event: Arc::new(Event {
                key: Event::key_for("c1", seq, EventKind::Utterance),
                kind: EventKind::Utterance,
                call,
                occurred_at_ms: now_ms(),
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
}
