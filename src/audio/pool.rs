//! Front-end threads: every call's decode/resample/VAD work runs here, off
//! the async runtime.
//!
//! Owns: a fixed set of OS threads, each holding the [`CallFrontend`]s of the
//! calls assigned to it (least-loaded at call start), fed by a bounded queue.
//! A call talks to its thread through a [`FrontendHandle`]; results come back
//! on a bounded per-call event channel. A call whose handle or event receiver
//! is gone is dropped by the thread, so a vanished client leaks nothing.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;

use super::frontend::{CallFrontend, FrontendError, FrontendSetup, Utterance};
use super::vad::VoiceDetector;

/// Creates one VAD instance per channel.
pub type VadFactory = Arc<dyn Fn() -> Box<dyn VoiceDetector> + Send + Sync>;

/// Events a call receives from its front-end thread.
#[derive(Debug)]
pub enum FrontendEvent {
    /// An utterance (or interim snapshot). `end_of_speech` is the wall-clock
    /// moment its last speech sample arrived, assuming real-time streaming.
    Utterance {
        utterance: Utterance,
        end_of_speech: Instant,
    },
    /// The call's audio was bad or the VAD failed; the call must end.
    Failed(FrontendError),
    /// After `finish`: everything was flushed.
    Finished { duration_ms: u64 },
}

/// Utterance events held for one call whose receiver is not keeping up;
/// beyond this the call fails (its client is not reading results).
const MAX_HELD_EVENTS: usize = 256;

enum Msg {
    Open {
        id: u64,
        setup: FrontendSetup,
        events: mpsc::Sender<FrontendEvent>,
    },
    Audio {
        id: u64,
        bytes: bytes::Bytes,
    },
    Finish {
        id: u64,
    },
    Close {
        id: u64,
    },
}

struct Worker {
    tx: mpsc::Sender<Msg>,
    calls: Arc<AtomicUsize>,
}

/// The front-end thread pool.
pub struct FrontendPool {
    workers: Vec<Worker>,
    next_id: AtomicU64,
}

impl FrontendPool {
    /// Starts `threads` threads with queues of `queue` messages each.
    pub fn start(threads: usize, queue: usize, vad: VadFactory) -> Arc<Self> {
        let workers = (0..threads)
            .map(|i| {
                let (tx, rx) = mpsc::channel(queue);
                let calls = Arc::new(AtomicUsize::new(0));
                let (c, v) = (Arc::clone(&calls), Arc::clone(&vad));
                std::thread::Builder::new()
                    .name(format!("frontend-{i}"))
                    .spawn(move || run_worker(rx, c, v))
                    .expect("spawn front-end thread");
                Worker { tx, calls }
            })
            .collect();
        Arc::new(Self {
            workers,
            next_id: AtomicU64::new(1),
        })
    }

    /// Calls currently held by front-end threads.
    pub fn active_calls(&self) -> usize {
        self.workers
            .iter()
            .map(|w| w.calls.load(Ordering::Relaxed))
            .sum()
    }

    /// Opens a call on the least-loaded thread.
    ///
    /// # Errors
    /// The pool has shut down.
    pub async fn open(
        &self,
        setup: FrontendSetup,
        event_capacity: usize,
    ) -> Result<(FrontendHandle, mpsc::Receiver<FrontendEvent>), PoolClosed> {
        let worker = self
            .workers
            .iter()
            .min_by_key(|w| w.calls.load(Ordering::Relaxed))
            .ok_or(PoolClosed)?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (events, rx) = mpsc::channel(event_capacity);
        worker
            .tx
            .send(Msg::Open { id, setup, events })
            .await
            .map_err(|_| PoolClosed)?;
        Ok((
            FrontendHandle {
                id,
                tx: worker.tx.clone(),
                closed: false,
            },
            rx,
        ))
    }
}

/// The front-end threads are gone (shutdown).
#[derive(Debug, thiserror::Error)]
#[error("audio front end is shut down")]
pub struct PoolClosed;

/// A call's link to its front-end thread. Dropping it releases the call's state.
pub struct FrontendHandle {
    id: u64,
    tx: mpsc::Sender<Msg>,
    closed: bool,
}

impl FrontendHandle {
    /// Queues audio; waits while the thread's queue is full (backpressure).
    ///
    /// # Errors
    /// The pool has shut down.
    pub async fn audio(&self, bytes: bytes::Bytes) -> Result<(), PoolClosed> {
        self.tx
            .send(Msg::Audio { id: self.id, bytes })
            .await
            .map_err(|_| PoolClosed)
    }

    /// Ends the audio; a `Finished` event follows the last utterances.
    ///
    /// # Errors
    /// The pool has shut down.
    pub async fn finish(&self) -> Result<(), PoolClosed> {
        self.tx
            .send(Msg::Finish { id: self.id })
            .await
            .map_err(|_| PoolClosed)
    }
}

impl Drop for FrontendHandle {
    fn drop(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        let msg = Msg::Close { id: self.id };
        if let Err(mpsc::error::TrySendError::Full(msg)) = self.tx.try_send(msg) {
            // Queue full: deliver the close later rather than block a drop.
            let tx = self.tx.clone();
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    let _ = tx.send(msg).await;
                });
            }
        }
    }
}

struct CallState {
    frontend: CallFrontend,
    events: mpsc::Sender<FrontendEvent>,
    held: VecDeque<FrontendEvent>,
}

impl CallState {
    /// Sends `ev`, holding it if the receiver is behind. False: drop the call.
    fn deliver(&mut self, ev: FrontendEvent) -> bool {
        self.held.push_back(ev);
        while let Some(ev) = self.held.pop_front() {
            match self.events.try_send(ev) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(ev)) => {
                    self.held.push_front(ev);
                    return self.held.len() <= MAX_HELD_EVENTS;
                }
                Err(mpsc::error::TrySendError::Closed(_)) => return false,
            }
        }
        true
    }
}

fn run_worker(mut rx: mpsc::Receiver<Msg>, load: Arc<AtomicUsize>, vad: VadFactory) {
    let mut calls: HashMap<u64, CallState> = HashMap::new();
    let mut out = Vec::new();
    while let Some(msg) = rx.blocking_recv() {
        let mut drop_call = None;
        match msg {
            Msg::Open { id, setup, events } => match CallFrontend::new(&setup, || vad()) {
                Ok(frontend) => {
                    calls.insert(
                        id,
                        CallState {
                            frontend,
                            events,
                            held: VecDeque::new(),
                        },
                    );
                }
                Err(e) => {
                    let _ = events.try_send(FrontendEvent::Failed(e));
                }
            },
            Msg::Audio { id, bytes } => {
                if let Some(call) = calls.get_mut(&id) {
                    let result = call.frontend.push(&bytes, &mut out);
                    let end = Instant::now();
                    let pos_ms = call.frontend.duration_ms();
                    let mut alive = true;
                    for u in out.drain(..) {
                        let eos = end_of_speech(end, pos_ms, &u);
                        alive &= call.deliver(FrontendEvent::Utterance {
                            utterance: u,
                            end_of_speech: eos,
                        });
                    }
                    if let Err(e) = result {
                        call.deliver(FrontendEvent::Failed(e));
                        alive = false;
                    }
                    if !alive {
                        drop_call = Some(id);
                    }
                }
            }
            Msg::Finish { id } => {
                if let Some(mut call) = calls.remove(&id) {
                    let result = call.frontend.finish(&mut out);
                    let end = Instant::now();
                    let pos_ms = call.frontend.duration_ms();
                    for u in out.drain(..) {
                        let eos = end_of_speech(end, pos_ms, &u);
                        call.deliver(FrontendEvent::Utterance {
                            utterance: u,
                            end_of_speech: eos,
                        });
                    }
                    let last = match result {
                        Ok(()) => FrontendEvent::Finished {
                            duration_ms: pos_ms,
                        },
                        Err(e) => FrontendEvent::Failed(e),
                    };
                    call.deliver(last);
                    // Whatever is still held goes out as the receiver drains,
                    // on a helper that may block: the call is over for this thread.
                    if !call.held.is_empty() {
                        let (events, held) = (call.events, call.held);
                        std::thread::spawn(move || {
                            for ev in held {
                                if events.blocking_send(ev).is_err() {
                                    break;
                                }
                            }
                        });
                    }
                }
            }
            Msg::Close { id } => drop_call = Some(id),
        }
        if let Some(id) = drop_call {
            calls.remove(&id);
        }
        // Calls whose receiver vanished without a Close (belt and braces).
        calls.retain(|_, c| !c.events.is_closed());
        load.store(calls.len(), Ordering::Relaxed);
    }
}

/// Wall-clock end of speech: now, minus the audio that arrived after it.
fn end_of_speech(now: Instant, pos_ms: u64, u: &Utterance) -> Instant {
    let after = pos_ms.saturating_sub(u.segment.end_ms() as u64);
    now.checked_sub(std::time::Duration::from_millis(after))
        .unwrap_or(now)
}
