//! Front-end threads: every call's decode/resample/VAD work runs here, off
//! the async runtime.
//!
//! Owns: a fixed set of OS threads, each holding the [`CallFrontend`]s of the
//! calls assigned to it (least-loaded at call start), fed by a bounded queue.
//! A call talks to its thread through a [`FrontendHandle`]; results come back
//! on a bounded per-call event channel. When a call's receiver is behind, its
//! thread holds up to `MAX_HELD_EVENTS` events and retries every
//! `HELD_RETRY` (also after the call's audio has ended) instead of blocking
//! the other calls. A call whose handle or event receiver is gone is dropped
//! by the thread, so a vanished client leaks nothing. Dropping the pool
//! stops its threads and joins them (calls still held are dropped, so their
//! event channels close).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::frontend::{CallFrontend, FrontendError, FrontendSetup, Progress, Utterance};
use super::vad::VadFactory;

/// Events a call receives from its front-end thread.
#[derive(Debug)]
pub enum FrontendEvent {
    /// An utterance (or interim snapshot). `end_of_speech` is the wall-clock
    /// moment its last speech sample arrived, assuming real-time streaming.
    Utterance {
        utterance: Utterance,
        end_of_speech: Instant,
    },
    /// How far the front end has got and who is speaking (after the
    /// utterances of the same audio): the live conversation measures.
    Progress(Progress),
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
    /// The pool is dropped: drop every call and exit.
    Shutdown,
}

struct Worker {
    tx: mpsc::Sender<Msg>,
    calls: Arc<AtomicUsize>,
}

/// Set when the pool is dropped; a thread checks it after every message.
type Stop = Arc<AtomicBool>;

/// The front-end thread pool. Dropping it stops and joins its threads.
pub struct FrontendPool {
    workers: Vec<Worker>,
    threads: Vec<std::thread::JoinHandle<()>>,
    stop: Stop,
    next_id: AtomicU64,
}

impl FrontendPool {
    /// Starts `threads` threads with queues of `queue` messages each.
    ///
    /// # Errors
    /// The OS refused a thread (those already started are stopped).
    pub fn start(threads: usize, queue: usize, vad: VadFactory) -> std::io::Result<Arc<Self>> {
        let mut pool = Self {
            workers: Vec::with_capacity(threads),
            threads: Vec::with_capacity(threads),
            stop: Stop::default(),
            next_id: AtomicU64::new(1),
        };
        for i in 0..threads {
            let (tx, rx) = mpsc::channel(queue);
            let calls = Arc::new(AtomicUsize::new(0));
            let (c, v, s) = (Arc::clone(&calls), Arc::clone(&vad), Arc::clone(&pool.stop));
            let thread = std::thread::Builder::new()
                .name(format!("frontend-{i}"))
                .spawn(move || run_worker(rx, c, v, &s))?;
            pool.workers.push(Worker { tx, calls });
            pool.threads.push(thread);
        }
        Ok(Arc::new(pool))
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

impl Drop for FrontendPool {
    fn drop(&mut self) {
        // Closing our senders alone would not end a thread while call
        // handles hold theirs: the flag ends it after the message it is on,
        // and `Shutdown` wakes one that waits (a full queue means it is
        // awake already).
        self.stop.store(true, Ordering::Release);
        for w in self.workers.drain(..) {
            let _ = w.tx.try_send(Msg::Shutdown);
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
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
        self.flush()
    }

    /// Sends held events until the receiver is full. False: the receiver is
    /// gone, or more than [`MAX_HELD_EVENTS`] are held (drop the call).
    fn flush(&mut self) -> bool {
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

/// How often a thread retries delivering held events while a receiver is behind.
const HELD_RETRY: Duration = Duration::from_millis(5);

fn run_worker(
    mut rx: mpsc::Receiver<Msg>,
    load: Arc<AtomicUsize>,
    vad: VadFactory,
    stop: &AtomicBool,
) {
    let mut calls: HashMap<u64, CallState> = HashMap::new();
    // Finished calls whose last events wait for a slow receiver (at most one
    // entry per call this thread held, each with at most MAX_HELD_EVENTS).
    let mut draining: Vec<CallState> = Vec::new();
    let mut out = Vec::new();
    loop {
        let behind = !draining.is_empty() || calls.values().any(|c| !c.held.is_empty());
        let msg = if behind {
            match rx.try_recv() {
                Ok(m) => Some(m),
                Err(mpsc::error::TryRecvError::Empty) => {
                    std::thread::sleep(HELD_RETRY);
                    None
                }
                Err(mpsc::error::TryRecvError::Disconnected) => break,
            }
        } else {
            match rx.blocking_recv() {
                Some(m) => Some(m),
                None => break,
            }
        };
        match msg {
            Some(Msg::Shutdown) => break,
            Some(msg) => handle(msg, &mut calls, &mut draining, &mut out, &vad),
            None => {}
        }
        if stop.load(Ordering::Acquire) {
            break;
        }
        // Retry held events; drop calls whose receiver is gone or hopelessly behind.
        calls.retain(|_, c| c.flush() && !c.events.is_closed());
        draining.retain_mut(|c| c.flush() && !c.held.is_empty());
        load.store(calls.len() + draining.len(), Ordering::Relaxed);
    }
    load.store(0, Ordering::Relaxed);
}

fn handle(
    msg: Msg,
    calls: &mut HashMap<u64, CallState>,
    draining: &mut Vec<CallState>,
    out: &mut Vec<Utterance>,
    vad: &VadFactory,
) {
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
            let Some(call) = calls.get_mut(&id) else {
                return;
            };
            let result = call.frontend.push(&bytes, out);
            let mut alive = call.deliver_utterances(out);
            if let Err(e) = result {
                call.deliver(FrontendEvent::Failed(e));
                alive = false;
            }
            if !alive {
                calls.remove(&id);
            }
        }
        Msg::Finish { id } => {
            let Some(mut call) = calls.remove(&id) else {
                return;
            };
            let result = call.frontend.finish(out);
            call.deliver_utterances(out);
            let last = match result {
                Ok(()) => FrontendEvent::Finished {
                    duration_ms: call.frontend.duration_ms(),
                },
                Err(e) => FrontendEvent::Failed(e),
            };
            call.deliver(last);
            if !call.held.is_empty() {
                draining.push(call); // the rest goes out as the receiver catches up
            }
        }
        Msg::Close { id } => {
            calls.remove(&id);
        }
        Msg::Shutdown => {} // run_worker exits before handing it here
    }
}

impl CallState {
    /// Delivers the utterances in `out` (draining it), then the progress
    /// they leave the call at, if it changed. False: drop the call.
    fn deliver_utterances(&mut self, out: &mut Vec<Utterance>) -> bool {
        let now = Instant::now();
        let pos_ms = self.frontend.duration_ms();
        let mut alive = true;
        for u in out.drain(..) {
            let end_of_speech = end_of_speech(now, pos_ms, &u);
            alive &= self.deliver(FrontendEvent::Utterance {
                utterance: u,
                end_of_speech,
            });
        }
        if let Some(p) = self.frontend.progress() {
            alive &= self.deliver(FrontendEvent::Progress(p));
        }
        alive
    }
}

/// Wall-clock end of speech: now, minus the audio that arrived after it.
fn end_of_speech(now: Instant, pos_ms: u64, u: &Utterance) -> Instant {
    let after = pos_ms.saturating_sub(u.segment.end_ms() as u64);
    now.checked_sub(Duration::from_millis(after)).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::endpoint::EndpointParams;
    use crate::audio::vad::{VadError, VoiceDetector};
    use crate::config::AudioConfig;
    use crate::proto::AudioEncoding;

    /// Frames whose mean magnitude is above 0.05 are speech.
    struct Loudness;
    impl VoiceDetector for Loudness {
        fn frame_len(&self) -> usize {
            320
        }
        fn probability(&mut self, frame: &[f32]) -> Result<f32, VadError> {
            let m = frame.iter().map(|v| v.abs()).sum::<f32>() / frame.len() as f32;
            Ok(if m > 0.05 { 0.9 } else { 0.1 })
        }
        fn reset(&mut self) {}
    }

    #[tokio::test]
    async fn a_receiver_that_falls_behind_still_gets_every_event_in_order() {
        let pool = FrontendPool::start(
            1,
            16,
            Arc::new(|| Box::new(Loudness) as Box<dyn VoiceDetector>),
        )
        .unwrap();
        let setup = FrontendSetup {
            encoding: AudioEncoding::Linear16,
            sample_rate_hz: 16_000,
            channels: 1,
            endpoint: EndpointParams::from_config(&AudioConfig::default(), false),
        };
        // Room for one event only; five utterances follow.
        let (handle, mut events) = pool.open(setup, 1).await.unwrap();
        let mut bytes = Vec::new();
        for _ in 0..5 {
            for i in 0..16_000 * 6 / 10 {
                let s: i16 = if i % 2 == 0 { 9000 } else { -9000 };
                bytes.extend_from_slice(&s.to_le_bytes());
            }
            bytes.extend(std::iter::repeat_n(0u8, 2 * 16_000 * 8 / 10));
        }
        handle.audio(bytes.into()).await.unwrap();
        handle.finish().await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await; // nobody reads meanwhile
        let mut seqs = Vec::new();
        let mut progress = Vec::new();
        loop {
            match tokio::time::timeout(Duration::from_secs(5), events.recv())
                .await
                .unwrap()
            {
                Some(FrontendEvent::Utterance { utterance, .. }) => {
                    if utterance.segment.is_final {
                        seqs.push(utterance.seq);
                    } else {
                        assert!(
                            utterance.segment.early,
                            "only early snapshots besides finals"
                        );
                    }
                }
                Some(FrontendEvent::Progress(p)) => progress.push(p),
                Some(FrontendEvent::Finished { duration_ms }) => {
                    assert_eq!(duration_ms, 7000);
                    break;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(seqs, vec![1, 2, 3, 4, 5]);
        // One chunk: one report, after its utterances, with nobody speaking.
        assert_eq!(
            progress,
            vec![Progress {
                position_ms: 7000,
                speaking_since_ms: vec![None]
            }]
        );
        drop(handle);
        let deadline = Instant::now() + Duration::from_secs(2);
        while pool.active_calls() > 0 {
            assert!(Instant::now() < deadline, "call state not released");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[test]
    fn progress_reports_who_is_speaking_and_the_level_of_each_final() {
        let setup = FrontendSetup {
            encoding: AudioEncoding::Linear16,
            sample_rate_hz: 16_000,
            channels: 2,
            endpoint: EndpointParams::from_config(&AudioConfig::default(), false),
        };
        let mut fe = CallFrontend::new(&setup, || Box::new(Loudness)).unwrap();
        // Channel 0 speaks 1.0–2.0 s at 9000 (−11.2 dBFS square wave);
        // channel 1 is silent. 100 ms chunks.
        let mut reports = Vec::new();
        let mut finals = Vec::new();
        let mut out = Vec::new();
        for chunk in 0..40u32 {
            let mut bytes = Vec::new();
            for i in 0..1600u32 {
                let t = chunk * 1600 + i;
                let on = (16_000..32_000).contains(&t);
                let s: i16 = if on && i % 2 == 0 {
                    9000
                } else if on {
                    -9000
                } else {
                    0
                };
                bytes.extend_from_slice(&s.to_le_bytes());
                bytes.extend_from_slice(&0i16.to_le_bytes());
            }
            fe.push(&bytes, &mut out).unwrap();
            finals.extend(out.drain(..).filter(|u| u.segment.is_final));
            reports.extend(fe.progress());
        }
        let speaking_at = |ms: u64| {
            reports
                .iter()
                .rev()
                .find(|p| p.position_ms <= ms)
                .map(|p| p.speaking_since_ms.clone())
        };
        assert_eq!(speaking_at(900), Some(vec![None, None]));
        assert_eq!(speaking_at(1500), Some(vec![Some(1000), None]));
        assert_eq!(speaking_at(3500), Some(vec![None, None]));
        // Reports come when speech starts or stops, else every 500 ms.
        assert!(reports.iter().any(|p| p.position_ms == 1100));
        assert!(reports
            .windows(2)
            .all(|w| w[1].position_ms > w[0].position_ms
                && w[1].position_ms - w[0].position_ms <= 500));
        assert_eq!(finals.len(), 1);
        let level = finals[0].level_dbfs;
        let expected = 20.0 * (9000.0f32 / 32768.0).log10() + 3.0103;
        assert!((level - expected).abs() < 0.5, "{level} vs {expected}");
    }

    #[tokio::test]
    async fn dropping_the_pool_joins_its_threads_and_closes_open_calls() {
        let vad: VadFactory = Arc::new(|| Box::new(Loudness) as Box<dyn VoiceDetector>);
        let pool = FrontendPool::start(2, 4, Arc::clone(&vad)).unwrap();
        assert_eq!(
            Arc::strong_count(&vad),
            3,
            "each thread holds the VAD factory"
        );
        let setup = FrontendSetup {
            encoding: AudioEncoding::Linear16,
            sample_rate_hz: 16_000,
            channels: 1,
            endpoint: EndpointParams::from_config(&AudioConfig::default(), false),
        };
        // A call still open (its handle holds a sender) must not keep a
        // thread alive: the drop returns once both threads have exited.
        let (handle, mut events) = pool.open(setup, 4).await.unwrap();
        handle.audio(vec![0u8; 3200].into()).await.unwrap();
        tokio::task::spawn_blocking(move || drop(pool))
            .await
            .unwrap();
        assert_eq!(Arc::strong_count(&vad), 1, "a thread outlived the pool");
        assert!(handle.audio(vec![0u8; 320].into()).await.is_err());
        // What was heard before the drop may still be there; then nothing.
        while let Some(ev) = events.recv().await {
            assert!(matches!(ev, FrontendEvent::Progress(_)), "{ev:?}");
        }
    }
}
