//! N Whisper states on N threads, fed by a bounded queue that is fair
//! across calls.
//!
//! Owns: admission (a semaphore of `queue_capacity` permits: callers wait
//! when it is full; interim work is only tried), round-robin scheduling
//! between calls (one busy call cannot starve the others), finals before
//! interims, skipping work whose caller has gone, and the thread budget:
//! `workers × threads_per_worker` threads in all. A final decode that starts
//! while nothing else waits also takes the threads of idle workers
//! (`asr.lend_idle_threads`; a 2-thread decode of Whisper base takes ~0.6 of
//! the time), and the next job waits for them to come back rather than run
//! beside it on too few cores (ggml's threads spin at each barrier, so an
//! oversubscribed decode is slower than a queued one).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

use super::whisper::{
    transcribe, AsrInput, Context, DecodeOptions, LanguageDetector, Transcript, WhisperModel,
};
use super::AsrError;
use crate::language::Language;

/// One utterance to transcribe.
#[derive(Debug)]
pub struct AsrJob {
    /// Calls are scheduled round-robin by this key.
    pub call: u64,
    pub audio: Vec<f32>,
    /// The same speaker's audio just before, when this utterance continues
    /// their turn (see [`AsrInput::context`]). Used only when no other
    /// call's final waits for a worker.
    pub context: Option<TurnAudio>,
    /// `None` detects it (multilingual models only).
    pub language: Option<Language>,
    /// Interim snapshots run only when no final utterance waits.
    pub interim: bool,
    /// The call's vocabulary as preceding text for the decoder (see
    /// [`super::whisper::transcribe`]).
    pub prompt: Option<Arc<str>>,
    /// Set when the result is no longer wanted (see [`AsrInput::cancel`]):
    /// a queued job is skipped, a running one stops.
    pub cancel: Option<Arc<AtomicBool>>,
}

/// The same speaker's audio before an utterance (see [`Context`]).
#[derive(Debug, Clone)]
pub struct TurnAudio {
    pub audio: Arc<[f32]>,
    /// See [`Context::silence`].
    pub silence: (usize, usize),
}

/// A finished job.
#[derive(Debug)]
pub struct AsrOutput {
    /// `None`: judged non-speech or no text.
    pub transcript: Option<Transcript>,
    /// The job's context was dropped: other calls' finals were waiting.
    pub context_skipped: bool,
    /// Threads the decode ran on (more than `threads_per_worker`: it took
    /// idle workers' threads).
    pub threads: usize,
    pub queued: Duration,
    pub asr: Duration,
}

struct Pending {
    job: AsrJob,
    reply: oneshot::Sender<Result<AsrOutput, AsrError>>,
    enqueued: Instant,
    _permit: OwnedSemaphorePermit,
}

/// Round-robin over calls, FIFO within a call.
#[derive(Default)]
struct FairQueue {
    per_call: HashMap<u64, VecDeque<Pending>>,
    order: VecDeque<u64>,
    len: usize,
}

impl FairQueue {
    fn push(&mut self, p: Pending) {
        let q = self.per_call.entry(p.job.call).or_default();
        if q.is_empty() {
            self.order.push_back(p.job.call);
        }
        q.push_back(p);
        self.len += 1;
    }

    fn pop(&mut self) -> Option<Pending> {
        let call = self.order.pop_front()?;
        let q = self.per_call.get_mut(&call)?;
        let p = q.pop_front();
        if q.is_empty() {
            self.per_call.remove(&call);
        } else {
            self.order.push_back(call);
        }
        self.len -= usize::from(p.is_some());
        p
    }
}

struct Queues {
    finals: FairQueue,
    interims: FairQueue,
    /// Threads of the budget not taken by a running decode.
    free_threads: usize,
}

/// How the pool shares its threads between decodes.
#[derive(Debug, Clone, Copy)]
pub struct ThreadBudget {
    /// Threads a decode always has.
    pub per_worker: usize,
    /// Whether a final decode takes idle workers' threads too.
    pub lend_idle: bool,
}

impl Queues {
    /// The next job a worker may start and the threads it runs on, or
    /// `None` (nothing queued, or the threads are out on a wider decode).
    fn take(&mut self, budget: ThreadBudget) -> Option<(Pending, usize)> {
        if self.free_threads < budget.per_worker {
            return None;
        }
        let p = self.finals.pop().or_else(|| self.interims.pop())?;
        // Finals (and early decodes, their stand-ins) borrow when nothing
        // else waits; interims never do, so a final can always start.
        let lend =
            budget.lend_idle && !p.job.interim && self.finals.len == 0 && self.interims.len == 0;
        let threads = if lend {
            self.free_threads
        } else {
            budget.per_worker
        };
        self.free_threads -= threads;
        Some((p, threads))
    }
}

struct Shared {
    /// The queues, and the threads of the budget not in use (one lock, so a
    /// worker sees both at once).
    queues: Mutex<Queues>,
    ready: Condvar,
    shutdown: AtomicBool,
    busy: AtomicUsize,
}

/// The recogniser pool. Dropping it stops the workers and joins their
/// threads (a decode in progress finishes first; queued jobs are answered
/// `ShutDown`).
pub struct AsrPool {
    threads: Vec<std::thread::JoinHandle<()>>,
    shared: Arc<Shared>,
    permits: Arc<Semaphore>,
    model: Arc<WhisperModel>,
    workers: usize,
    threads_per_worker: usize,
}

impl AsrPool {
    /// Starts `workers` threads, each with its own Whisper state.
    ///
    /// # Errors
    /// A state could not be created.
    pub fn start(
        model: Arc<WhisperModel>,
        workers: usize,
        queue_capacity: usize,
        lend_idle_threads: bool,
        opts: DecodeOptions,
    ) -> Result<Self, AsrError> {
        let budget = ThreadBudget {
            per_worker: opts.threads,
            lend_idle: lend_idle_threads,
        };
        let shared = Arc::new(Shared {
            queues: Mutex::new(Queues {
                finals: FairQueue::default(),
                interims: FairQueue::default(),
                free_threads: workers * opts.threads,
            }),
            ready: Condvar::new(),
            shutdown: AtomicBool::new(false),
            busy: AtomicUsize::new(0),
        });
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let mut threads = Vec::with_capacity(workers);
        for i in 0..workers {
            let (m, s, o, tx) = (
                Arc::clone(&model),
                Arc::clone(&shared),
                opts.clone(),
                ready_tx.clone(),
            );
            let thread = std::thread::Builder::new()
                .name(format!("asr-{i}"))
                .spawn(move || {
                    let detector = if m.is_multilingual() {
                        LanguageDetector::new(&m, &o.languages).map(Some)
                    } else {
                        Ok(None)
                    };
                    match detector.and_then(|d| Ok((m.new_state()?, d))) {
                        Ok((state, detector)) => {
                            let _ = tx.send(Ok(()));
                            run_worker(&m, state, detector, &s, &o, budget);
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e));
                        }
                    }
                })
                .map_err(|e| AsrError::Inference(format!("cannot spawn ASR thread: {e}")))?;
            threads.push(thread);
        }
        drop(ready_tx);
        let pool = Self {
            threads,
            shared,
            permits: Arc::new(Semaphore::new(queue_capacity)),
            model,
            workers,
            threads_per_worker: budget.per_worker,
        };
        for _ in 0..workers {
            ready_rx.recv().map_err(|_| AsrError::ShutDown)??;
        }
        Ok(pool)
    }

    /// The model's file name.
    pub fn model_name(&self) -> String {
        self.model.name()
    }

    /// See [`WhisperModel::is_synthetic`].
    pub fn is_synthetic(&self) -> bool {
        self.model.is_synthetic()
    }

    /// See [`WhisperModel::lead_pad_ms`].
    pub fn lead_pad_ms(&self) -> u32 {
        self.model.lead_pad_ms()
    }

    /// Whether the model's word times tell an utterance from its context
    /// (see [`WhisperModel::has_word_times`]).
    pub fn has_word_times(&self) -> bool {
        self.model.has_word_times()
    }

    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Jobs waiting (not running).
    pub fn queued(&self) -> usize {
        let q = self.shared.queues.lock().expect("ASR queue lock");
        q.finals.len + q.interims.len
    }

    /// Whether a worker's threads are free (every running decode holds at
    /// least its own worker's, a wider one more) and no job waits for them.
    pub fn has_idle_worker(&self) -> bool {
        let q = self.shared.queues.lock().expect("ASR queue lock");
        q.finals.len + q.interims.len == 0 && q.free_threads >= self.threads_per_worker
    }

    /// Jobs running now.
    pub fn busy(&self) -> usize {
        self.shared.busy.load(Ordering::Relaxed)
    }

    /// Queues a final utterance, waiting for room if the queue is full.
    ///
    /// # Errors
    /// The pool shut down or recognition failed.
    pub async fn transcribe(&self, job: AsrJob) -> Result<AsrOutput, AsrError> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| AsrError::ShutDown)?;
        self.enqueue(job, permit).await
    }

    /// Queues work only if there is room now (interim snapshots).
    ///
    /// # Errors
    /// [`AsrError::Busy`] when full; otherwise as [`AsrPool::transcribe`].
    pub async fn try_transcribe(&self, job: AsrJob) -> Result<AsrOutput, AsrError> {
        let permit = Arc::clone(&self.permits)
            .try_acquire_owned()
            .map_err(|_| AsrError::Busy)?;
        self.enqueue(job, permit).await
    }

    /// Queues work only if a worker is idle now and no other job waits:
    /// early decodes, which must never delay anyone's final.
    ///
    /// # Errors
    /// [`AsrError::Busy`] when no worker is free; otherwise as
    /// [`AsrPool::transcribe`].
    pub async fn transcribe_if_idle(&self, job: AsrJob) -> Result<AsrOutput, AsrError> {
        if !self.has_idle_worker() {
            return Err(AsrError::Busy);
        }
        let permit = Arc::clone(&self.permits)
            .try_acquire_owned()
            .map_err(|_| AsrError::Busy)?;
        self.enqueue(job, permit).await
    }

    async fn enqueue(
        &self,
        job: AsrJob,
        permit: OwnedSemaphorePermit,
    ) -> Result<AsrOutput, AsrError> {
        let (reply, rx) = oneshot::channel();
        {
            let mut q = self.shared.queues.lock().expect("ASR queue lock");
            let p = Pending {
                reply,
                enqueued: Instant::now(),
                _permit: permit,
                job,
            };
            if p.job.interim {
                q.interims.push(p);
            } else {
                q.finals.push(p);
            }
        }
        self.shared.ready.notify_one();
        rx.await.map_err(|_| AsrError::ShutDown)?
    }
}

impl Drop for AsrPool {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        self.permits.close();
        self.shared.ready.notify_all();
        for t in self.threads.drain(..) {
            if t.join().is_err() {
                tracing::error!("A Whisper worker thread panicked");
            }
        }
    }
}

fn run_worker(
    model: &WhisperModel,
    mut state: whisper_rs::WhisperState,
    mut detector: Option<LanguageDetector>,
    shared: &Shared,
    opts: &DecodeOptions,
    budget: ThreadBudget,
) {
    loop {
        let (next, context_skipped, threads) = {
            let mut q = shared.queues.lock().expect("ASR queue lock");
            loop {
                if shared.shutdown.load(Ordering::SeqCst) {
                    return;
                }
                if let Some((mut p, threads)) = q.take(budget) {
                    // Context costs ~70 % more decode time: only when no
                    // other call's final waits behind this one (accuracy
                    // when there is room, throughput when there is not; a
                    // call's own utterances never change each other's text).
                    let others_wait = q.finals.per_call.keys().any(|&c| c != p.job.call);
                    let skipped = others_wait && p.job.context.take().is_some();
                    break (p, skipped, threads);
                }
                q = shared.ready.wait(q).expect("ASR queue lock");
            }
        };
        let give_back = || {
            shared.queues.lock().expect("ASR queue lock").free_threads += threads;
            // Any worker may now start the next job.
            shared.ready.notify_all();
        };
        if next.reply.is_closed() {
            give_back();
            continue; // the call is gone
        }
        if next
            .job
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
        {
            give_back();
            let _ = next.reply.send(Err(AsrError::Cancelled));
            continue;
        }
        shared.busy.fetch_add(1, Ordering::Relaxed);
        let queued = next.enqueued.elapsed();
        let t0 = Instant::now();
        // whisper.cpp's beam search reads state left by earlier decodes (the
        // same audio came out differently after other utterances): beams get
        // a fresh state per utterance, so results depend on the audio alone.
        // Greedy decoding is repeatable on a reused state.
        let fresh = if opts.beam_size > 1 {
            model.new_state().map(|s| state = s)
        } else {
            Ok(())
        };
        let result = fresh.and_then(|()| {
            let job = &next.job;
            let input = AsrInput {
                audio: &job.audio,
                context: job.context.as_ref().map(|c| Context {
                    audio: &c.audio,
                    silence: c.silence,
                }),
                language: job.language,
                prompt: job.prompt.as_deref(),
                cancel: job.cancel.as_deref(),
            };
            if threads == opts.threads {
                transcribe(model, &mut state, detector.as_mut(), input, opts)
            } else {
                let wide = DecodeOptions {
                    threads,
                    ..opts.clone()
                };
                transcribe(model, &mut state, detector.as_mut(), input, &wide)
            }
        });
        let asr = t0.elapsed();
        give_back();
        shared.busy.fetch_sub(1, Ordering::Relaxed);
        let _ = next.reply.send(result.map(|transcript| AsrOutput {
            transcript,
            context_skipped,
            threads,
            queued,
            asr,
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(call: u64, tag: usize, sem: &Arc<Semaphore>) -> Pending {
        let (reply, _rx) = oneshot::channel();
        Pending {
            job: AsrJob {
                call,
                audio: vec![tag as f32],
                context: None,
                language: None,
                interim: false,
                prompt: None,
                cancel: None,
            },
            reply,
            enqueued: Instant::now(),
            _permit: Arc::clone(sem).try_acquire_owned().unwrap(),
        }
    }

    fn queues(free_threads: usize) -> Queues {
        Queues {
            finals: FairQueue::default(),
            interims: FairQueue::default(),
            free_threads,
        }
    }

    #[test]
    fn a_lone_final_takes_idle_threads_and_the_next_job_waits_for_them() {
        let sem = Arc::new(Semaphore::new(100));
        let budget = ThreadBudget {
            per_worker: 1,
            lend_idle: true,
        };
        let mut q = queues(2);
        q.finals.push(pending(1, 0, &sem));
        let (_, threads) = q.take(budget).unwrap();
        assert_eq!(threads, 2, "nothing else waits: both workers' threads");
        q.finals.push(pending(2, 1, &sem));
        assert!(q.take(budget).is_none(), "no thread free: the job waits");
        q.free_threads += threads;
        // Two waiting: each runs on its own worker's thread.
        q.finals.push(pending(3, 2, &sem));
        let (a, ta) = q.take(budget).unwrap();
        let (b, tb) = q.take(budget).unwrap();
        assert_eq!((a.job.call, ta, b.job.call, tb), (2, 1, 3, 1));
        assert!(q.take(budget).is_none());
        // Interims never borrow, so a final can always start beside one.
        q.free_threads = 2;
        let mut i = pending(4, 3, &sem);
        i.job.interim = true;
        q.interims.push(i);
        assert_eq!(q.take(budget).unwrap().1, 1);
        q.finals.push(pending(5, 4, &sem));
        assert_eq!(q.take(budget).unwrap().1, 1);
        // Lending off: always the worker's own threads.
        let off = ThreadBudget {
            per_worker: 2,
            lend_idle: false,
        };
        let mut q = queues(4);
        q.finals.push(pending(6, 5, &sem));
        assert_eq!(q.take(off).unwrap().1, 2);
        assert_eq!(q.free_threads, 2);
    }

    #[test]
    fn busy_call_cannot_starve_others() {
        let sem = Arc::new(Semaphore::new(100));
        let mut q = FairQueue::default();
        for i in 0..5 {
            q.push(pending(1, i, &sem)); // call 1 floods the queue first
        }
        q.push(pending(2, 100, &sem));
        q.push(pending(3, 200, &sem));
        let order: Vec<(u64, f32)> = std::iter::from_fn(|| q.pop())
            .map(|p| (p.job.call, p.job.audio[0]))
            .collect();
        assert_eq!(
            order[..3].iter().map(|o| o.0).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        // FIFO within a call.
        let call1: Vec<f32> = order.iter().filter(|o| o.0 == 1).map(|o| o.1).collect();
        assert_eq!(call1, vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(q.len, 0);
        assert_eq!(
            sem.available_permits(),
            100,
            "permits released with the jobs"
        );
    }
}
