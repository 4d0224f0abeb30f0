//! Dynamic batching across calls for the text classifier.
//!
//! Owns: bounded admission (a semaphore of `queue_capacity` permits; a full
//! queue means RESOURCE_EXHAUSTED for AnalyzeText, a short wait for live
//! utterances), forming batches of up to `max_batch` texts, and the one
//! thread that runs the model. Batching policy: take everything already
//! queued; if that shows contention (more than one text), wait up to
//! `max_wait` from the first text's arrival for the batch to fill. An idle
//! engine therefore adds no wait to a lone utterance.

use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

use super::model::{ModelError, Prediction, TextModel};

/// Why a text could not be classified.
#[derive(Debug, thiserror::Error)]
pub enum ClassifyError {
    #[error("classifier queue is full ({0} texts waiting); retry later")]
    Overloaded(usize),
    #[error("classifier is shut down")]
    ShutDown,
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// A classification with its timing.
#[derive(Debug, Clone)]
pub struct Classified {
    pub prediction: Prediction,
    /// Admission to reply: batching wait plus inference.
    pub elapsed: Duration,
    /// Texts in the batch it ran in.
    pub batch_size: usize,
}

struct Request {
    text: String,
    enqueued: Instant,
    /// The batch's error, if it failed, goes to every text in it.
    reply: oneshot::Sender<Result<Classified, ModelError>>,
    _permit: OwnedSemaphorePermit,
}

/// Handle to the batching thread; cheap to clone. When the last clone is
/// dropped the thread answers what is queued, exits and is joined.
#[derive(Clone)]
pub struct Batcher {
    thread: Arc<Thread>,
    permits: Arc<Semaphore>,
    capacity: usize,
    model_id: Arc<str>,
    languages: Arc<[String]>,
}

impl Batcher {
    /// Starts the batching thread, which owns `model`.
    ///
    /// # Errors
    /// The OS refused the thread.
    pub fn start(
        model: TextModel,
        max_batch: usize,
        max_wait: Duration,
        capacity: usize,
    ) -> std::io::Result<Self> {
        let model_id: Arc<str> = model.model_id().into();
        let languages: Arc<[String]> = model.spec().languages.clone().into();
        let (tx, rx) = sync_channel(capacity);
        let handle = std::thread::Builder::new()
            .name("classifier".into())
            .spawn(move || run(model, &rx, max_batch.max(1), max_wait))?;
        Ok(Self {
            thread: Arc::new(Thread {
                tx: Some(tx),
                handle: Some(handle),
            }),
            permits: Arc::new(Semaphore::new(capacity)),
            capacity,
            model_id,
            languages,
        })
    }

    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    /// Shared handle to the model id (cheap to put in every result).
    pub fn model_id_arc(&self) -> Arc<str> {
        Arc::clone(&self.model_id)
    }

    /// Languages the model declares (`labels.json`).
    pub fn languages(&self) -> &[String] {
        &self.languages
    }

    /// Texts admitted and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.capacity - self.permits.available_permits()
    }

    /// Classifies `text` if there is room now.
    ///
    /// # Errors
    /// [`ClassifyError::Overloaded`] when the queue is full.
    pub async fn try_classify(&self, text: String) -> Result<Classified, ClassifyError> {
        let permit = Arc::clone(&self.permits)
            .try_acquire_owned()
            .map_err(|_| ClassifyError::Overloaded(self.in_flight()))?;
        self.submit(text, permit).await
    }

    /// Classifies `text`, waiting for room.
    ///
    /// # Errors
    /// The classifier shut down, or the model failed.
    pub async fn classify(&self, text: String) -> Result<Classified, ClassifyError> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| ClassifyError::ShutDown)?;
        self.submit(text, permit).await
    }

    async fn submit(
        &self,
        text: String,
        permit: OwnedSemaphorePermit,
    ) -> Result<Classified, ClassifyError> {
        let (reply, rx) = oneshot::channel();
        // Never blocks: the channel holds as many requests as there are permits.
        self.thread
            .tx
            .as_ref()
            .ok_or(ClassifyError::ShutDown)?
            .try_send(Request {
                text,
                enqueued: Instant::now(),
                reply,
                _permit: permit,
            })
            .map_err(|_| ClassifyError::ShutDown)?;
        rx.await
            .map_err(|_| ClassifyError::ShutDown)?
            .map_err(ClassifyError::Model)
    }
}

/// The batching thread and the one sender that keeps it running.
struct Thread {
    tx: Option<SyncSender<Request>>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Thread {
    fn drop(&mut self) {
        drop(self.tx.take()); // the thread's recv() ends once the queue is empty
        if let Some(h) = self.handle.take() {
            if h.join().is_err() {
                tracing::error!("The classifier thread panicked");
            }
        }
    }
}

fn run(mut model: TextModel, rx: &Receiver<Request>, max_batch: usize, max_wait: Duration) {
    let mut batch: Vec<Request> = Vec::with_capacity(max_batch);
    while let Ok(first) = rx.recv() {
        let deadline = first.enqueued + max_wait;
        batch.push(first);
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        if batch.len() > 1 {
            while batch.len() < max_batch {
                let now = Instant::now();
                if now >= deadline {
                    break;
                }
                match rx.recv_timeout(deadline - now) {
                    Ok(r) => batch.push(r),
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
        }
        batch.retain(|r| !r.reply.is_closed());
        if batch.is_empty() {
            continue;
        }
        let texts: Vec<&str> = batch.iter().map(|r| r.text.as_str()).collect();
        let result = model.classify(&texts);
        let size = batch.len();
        match result {
            Ok(preds) => {
                for (r, prediction) in batch.drain(..).zip(preds) {
                    let elapsed = r.enqueued.elapsed();
                    let _ = r.reply.send(Ok(Classified {
                        prediction,
                        elapsed,
                        batch_size: size,
                    }));
                }
            }
            Err(e) => {
                for r in batch.drain(..) {
                    let _ = r.reply.send(Err(e.clone()));
                }
            }
        }
    }
}
