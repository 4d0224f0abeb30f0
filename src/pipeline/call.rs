//! One call, end to end: audio → front end → ASR → classifier → results.
//!
//! Owns: the call's event loop (reading audio with backpressure, spawning one
//! task per utterance, emitting results, the summary at half-close) and
//! cleanup when the client vanishes. The task per utterance awaits the ASR
//! pool and the batcher; no inference runs on this task.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::{JoinHandle, JoinSet};

use super::call_rules::CallRules;
use super::engine::{Engine, Gauge};
use super::metrics::Metrics;
use super::prompt::CallPrompts;
use super::summary::SummaryBuilder;
use super::turns::TurnContext;
use super::CallError;
use crate::asr::{AsrError, AsrJob, AsrOutput, TurnAudio};
use crate::audio::{FrontendEvent, FrontendSetup, Utterance};
use crate::classify::{Prediction, Routed};
use crate::connect::CallContext;
use crate::proto::{
    stream_call_response::StreamingResponse, Classification, Intent, IntentScore, Sentiment,
    SentimentLabel, SentimentProbabilities, SpeakerRole, StreamCallResponse, Timings,
    UtteranceResult,
};
use crate::telemetry::ObserveMs;

/// A validated call.
#[derive(Debug, Clone)]
pub struct CallSpec {
    pub call_id: String,
    /// Tenant, customer and callback URL, for the CRM connector.
    pub context: CallContext,
    /// The customer's CRM profile (`{}` when unknown): `customer.*` in rules.
    pub customer: serde_json::Value,
    /// One per channel.
    pub roles: Vec<SpeakerRole>,
    /// `None`: detect.
    pub language: Option<String>,
    /// Server and call vocabulary as a decoder prompt (`None`: no words).
    pub prompt: Option<Arc<str>>,
    pub interim: bool,
    pub setup: FrontendSetup,
}

/// What the client sends after the config.
#[derive(Debug, Clone)]
pub enum Inbound {
    Audio(Bytes),
    /// How the call ended, from the platform.
    Disposition(crate::proto::CallDisposition),
}

/// Frontend events buffered per call.
const EVENT_CAPACITY: usize = 64;

/// An early decode in flight for a channel's utterance (see
/// `audio.early_decode_ms`): the final takes it if its audio is the same.
struct EarlyDecode {
    seq: u32,
    /// [`crate::audio::Segment::audio_key`] of the snapshot.
    audio_key: (u64, u64, usize),
    task: JoinHandle<Result<AsrOutput, AsrError>>,
    /// Stops the Whisper job, queued or running (see [`AsrJob::cancel`]).
    cancel: Arc<AtomicBool>,
}

impl EarlyDecode {
    /// The speaker went on (or the call ended): the decode is wasted work,
    /// and the threads it holds are wanted.
    fn cancel(self) {
        self.cancel.store(true, Ordering::Relaxed);
        self.task.abort();
    }
}

/// What the call's output channel carries.
pub type CallOutput = Result<StreamCallResponse, CallError>;

/// Runs a call until its audio ends (then sends the summary), it fails (then
/// sends the error), or the client goes away.
pub async fn run_call<S>(
    engine: Arc<Engine>,
    key: u64,
    spec: CallSpec,
    mut audio: S,
    out: mpsc::Sender<CallOutput>,
) where
    S: Stream<Item = Result<Inbound, CallError>> + Unpin,
{
    let _active = Gauge::new(&engine.active_calls);
    let (frontend, mut events) = match engine
        .frontend
        .open(spec.setup.clone(), EVENT_CAPACITY)
        .await
    {
        Ok(x) => x,
        Err(e) => {
            let _ = out.send(Err(CallError::Unavailable(e.to_string()))).await;
            return;
        }
    };
    let per_call = Arc::new(Semaphore::new(engine.config.asr.per_call_queue));
    let prompts = Arc::new(CallPrompts::new(
        spec.prompt.clone(),
        spec.roles.len(),
        engine.config.asr.previous_text_max_gap_ms,
        engine.config.asr.previous_text_max_chars,
    ));
    let mut tasks: JoinSet<Option<(UtteranceResult, Instant)>> = JoinSet::new();
    let mut summary = SummaryBuilder::new(spec.call_id.clone(), spec.roles.clone());
    let mut rules = CallRules::new(spec.context.clone(), spec.customer.clone());
    let mut disposition = None;
    // Per channel: the highest seq whose final result went out. Seqs on a
    // channel increase, so an interim at or below it is stale.
    let mut last_final: Vec<u32> = vec![0; spec.roles.len()];
    let mut interim_running: HashSet<usize> = HashSet::new();
    let mut early: Vec<Option<EarlyDecode>> = (0..spec.roles.len()).map(|_| None).collect();
    let mut turns = TurnContext::new(
        spec.roles.len(),
        engine.context_max_gap_ms(),
        engine.config.asr.context_max_ms,
    );
    let (mut input_done, mut flushed, mut duration_ms) = (false, false, 0u64);

    loop {
        if input_done && flushed && tasks.is_empty() {
            break;
        }
        tokio::select! {
            msg = audio.next(), if !input_done => match msg {
                Some(Ok(Inbound::Disposition(d))) => {
                    rules.set_disposition(&d);
                    disposition = Some(d);
                }
                Some(Ok(Inbound::Audio(bytes))) => {
                    engine.metrics.audio_bytes.increment(bytes.len() as u64);
                    if frontend.audio(bytes).await.is_err() {
                        let _ = out.send(Err(CallError::Unavailable("audio front end shut down".into()))).await;
                        return;
                    }
                }
                Some(Err(CallError::Cancelled)) => {
                    engine.metrics.calls_cancelled.increment(1);
                    return;
                }
                Some(Err(e)) => {
                    fail(&engine, &out, e).await;
                    return;
                }
                None => {
                    input_done = true;
                    if frontend.finish().await.is_err() {
                        let _ = out.send(Err(CallError::Unavailable("audio front end shut down".into()))).await;
                        return;
                    }
                }
            },
            ev = events.recv(), if !flushed => match ev {
                Some(FrontendEvent::Utterance { mut utterance, end_of_speech }) => {
                    let ch = utterance.channel;
                    // Anything else from this channel after an early
                    // snapshot (more speech, or a new snapshot) means the
                    // speaker went on: stop that decode.
                    if let Some(slot) = early.get_mut(ch) {
                        let key = (utterance.seq, utterance.segment.audio_key());
                        if slot.as_ref().is_some_and(|e| (e.seq, e.audio_key) != key) {
                            if let Some(e) = slot.take() {
                                tracing::debug!(seq = e.seq, channel = ch, "Early decode cancelled: the speaker went on");
                                engine.metrics.asr_early_cancelled.increment(1);
                                e.cancel();
                            }
                        }
                    }
                    let context = turns.for_utterance(ch, &utterance.segment);
                    if utterance.segment.is_final {
                        turns.record(ch, &utterance.segment, context.as_ref());
                    }
                    if utterance.segment.early {
                        let e = start_early(&engine, key, &spec, &prompts, &mut utterance, context);
                        if let Some(old) = early.get_mut(ch).and_then(|slot| slot.replace(e)) {
                            old.cancel();
                        }
                        continue;
                    }
                    // What is left in the slot has this final's audio.
                    let taken = if utterance.segment.is_final {
                        early.get_mut(ch).and_then(Option::take).map(|e| e.task)
                    } else {
                        None
                    };
                    if !utterance.segment.is_final && !interim_running.insert(ch) {
                        continue; // an interim for this channel is still running
                    }
                    let role = spec.roles.get(ch).copied().unwrap_or(SpeakerRole::RoleUnknown);
                    tasks.spawn(process_utterance(
                        Arc::clone(&engine), key, spec.call_id.clone(), role, spec.language.clone(),
                        Arc::clone(&prompts), utterance, context, end_of_speech, Arc::clone(&per_call), taken,
                    ));
                }
                Some(FrontendEvent::Failed(e)) => {
                    fail(&engine, &out, CallError::from(e)).await;
                    return;
                }
                Some(FrontendEvent::Finished { duration_ms: d }) => {
                    flushed = true;
                    duration_ms = d;
                }
                None => {
                    let _ = out.send(Err(CallError::Unavailable("audio front end shut down".into()))).await;
                    return;
                }
            },
            Some(joined) = tasks.join_next(), if !tasks.is_empty() => {
                let Ok(Some((mut result, end_of_speech))) = joined else { continue };
                if !result.is_final {
                    interim_running.remove(&(result.channel as usize));
                    if last_final.get(result.channel as usize).is_some_and(|&f| result.seq <= f) {
                        continue; // its final already went out
                    }
                } else {
                    if let Some(f) = last_final.get_mut(result.channel as usize) {
                        *f = (*f).max(result.seq);
                    }
                }
                if let Some(t) = result.timings.as_mut() {
                    t.end_of_speech_to_emit_ms = ms(end_of_speech.elapsed());
                    record(&engine.metrics, result.is_final, t);
                }
                summary.add(&result);
                // Masked once, for the CRM event and the rules, whether or
                // not a CRM is configured.
                let masked = result.is_final.then(|| engine.masker.mask(&result.transcript));
                if let (Some(c), Some(m)) = (&engine.connector, &masked) {
                    // Persisted before the client sees it (the acknowledgement).
                    if let Err(e) = c.record_masked_utterance(&spec.context, &result, m).await {
                        tracing::error!(call_id = %spec.call_id, seq = result.seq, error = %e, "Utterance not recorded for the CRM");
                    }
                }
                let alerts = match masked {
                    Some(m) => rules.on_final(&engine, &result, m.text).await,
                    None => Vec::new(),
                };
                let msg = StreamCallResponse { streaming_response: Some(StreamingResponse::Result(result)) };
                if out.send(Ok(msg)).await.is_err() {
                    engine.metrics.calls_cancelled.increment(1);
                    return; // client gone
                }
                for a in alerts {
                    let msg = StreamCallResponse { streaming_response: Some(StreamingResponse::RuleAlert(a)) };
                    if out.send(Ok(msg)).await.is_err() {
                        engine.metrics.calls_cancelled.increment(1);
                        return;
                    }
                }
            },
            () = out.closed() => {
                engine.metrics.calls_cancelled.increment(1);
                return;
            }
        }
    }
    for e in early.into_iter().flatten() {
        e.cancel();
    }
    for a in rules.on_end(&engine).await {
        let msg = StreamCallResponse {
            streaming_response: Some(StreamingResponse::RuleAlert(a)),
        };
        if out.send(Ok(msg)).await.is_err() {
            return;
        }
    }
    let built = summary.build(duration_ms);
    if let Some(c) = &engine.connector {
        if let Err(e) = c
            .record_summary(&spec.context, &built, disposition.as_ref())
            .await
        {
            tracing::error!(call_id = %spec.call_id, error = %e, "Call summary not recorded for the CRM");
        }
    }
    let msg = StreamCallResponse {
        streaming_response: Some(StreamingResponse::Summary(built)),
    };
    if out.send(Ok(msg)).await.is_ok() {
        engine.metrics.calls_completed.increment(1);
    }
}

/// Sends the error that ends a call, counting it.
async fn fail(engine: &Engine, out: &mpsc::Sender<CallOutput>, e: CallError) {
    let counter = match e {
        CallError::InvalidArgument(_) => &engine.metrics.calls_failed_invalid,
        CallError::Cancelled => &engine.metrics.calls_cancelled,
        _ => &engine.metrics.calls_failed_other,
    };
    counter.increment(1);
    let _ = out.send(Err(e)).await;
}

fn record(m: &Metrics, is_final: bool, t: &Timings) {
    if is_final {
        m.utterances_final.increment(1);
        m.end_of_speech_to_emit
            .observe_ms(t.end_of_speech_to_emit_ms);
        m.classify.observe_ms(t.classify_ms);
    } else {
        m.utterances_interim.increment(1);
    }
    m.asr_queued.observe_ms(t.queued_ms);
    m.asr.observe_ms(t.asr_ms);
}

/// How long an early snapshot waits for a worker to come free: a decode
/// just cancelled (the speaker went on, then paused again) stops within a
/// graph step and gives its threads back.
const EARLY_WAIT: std::time::Duration = std::time::Duration::from_millis(20);
/// How often an early snapshot looks for a free worker within [`EARLY_WAIT`].
const EARLY_POLL: std::time::Duration = std::time::Duration::from_millis(5);

/// Hands an early snapshot to an idle Whisper worker (none idle within
/// [`EARLY_WAIT`]: the job is dropped). The snapshot's audio moves into the job.
fn start_early(
    engine: &Arc<Engine>,
    key: u64,
    spec: &CallSpec,
    prompts: &CallPrompts,
    u: &mut Utterance,
    context: Option<TurnAudio>,
) -> EarlyDecode {
    let audio_key = u.segment.audio_key();
    let cancel = Arc::new(AtomicBool::new(false));
    let job = AsrJob {
        call: key,
        audio: std::mem::take(&mut u.segment.audio),
        context,
        language: spec.language.clone(),
        interim: false,
        prompt: prompts.for_utterance(u.channel, u.segment.start_ms()),
        cancel: Some(Arc::clone(&cancel)),
    };
    let e = Arc::clone(engine);
    let (seq, channel) = (u.seq, u.channel);
    let task = tokio::spawn(async move {
        let deadline = Instant::now() + EARLY_WAIT;
        while !e.asr.has_idle_worker() {
            if Instant::now() >= deadline {
                tracing::debug!(
                    seq,
                    channel,
                    queued = e.asr.queued(),
                    busy = e.asr.busy(),
                    "Early decode skipped: no idle Whisper worker"
                );
                return Err(AsrError::Busy);
            }
            tokio::time::sleep(EARLY_POLL).await;
        }
        let r = e.asr.transcribe_if_idle(job).await;
        if !matches!(r, Err(AsrError::Busy)) {
            e.metrics.asr_early_started.increment(1);
        }
        r
    });
    EarlyDecode {
        seq,
        audio_key,
        task,
        cancel,
    }
}

#[allow(clippy::too_many_arguments)]
async fn process_utterance(
    engine: Arc<Engine>,
    key: u64,
    call_id: String,
    role: SpeakerRole,
    language: Option<String>,
    prompts: Arc<CallPrompts>,
    mut u: Utterance,
    context: Option<TurnAudio>,
    end_of_speech: Instant,
    per_call: Arc<Semaphore>,
    early: Option<JoinHandle<Result<AsrOutput, AsrError>>>,
) -> Option<(UtteranceResult, Instant)> {
    let _task = Gauge::new(&engine.utterance_tasks);
    let is_final = u.segment.is_final;
    let job = AsrJob {
        call: key,
        audio: std::mem::take(&mut u.segment.audio),
        context,
        language: language.clone(),
        interim: !is_final,
        prompt: prompts.for_utterance(u.channel, u.segment.start_ms()),
        cancel: None,
    };
    let early = match early {
        Some(task) => task.await.ok().filter(Result::is_ok),
        None => None,
    };
    let asr = if let Some(done) = early {
        engine.metrics.asr_early_used.increment(1);
        done
    } else if is_final {
        let _slot = per_call.acquire().await.ok()?;
        engine.asr.transcribe(job).await
    } else {
        engine.asr.try_transcribe(job).await
    };
    let asr = match asr {
        Ok(a) => a,
        Err(AsrError::Busy) => return None,
        Err(e) => {
            tracing::warn!(call_id, seq = u.seq, error = %e, "Utterance not transcribed");
            return None;
        }
    };
    let Some(transcript) = asr.transcript else {
        if is_final {
            engine.metrics.utterances_dropped.increment(1);
            tracing::debug!(
                call_id,
                seq = u.seq,
                channel = u.channel,
                start_ms = u.segment.start_ms(),
                end_ms = u.segment.end_ms(),
                "Utterance dropped: Whisper heard no speech in it"
            );
        }
        return None;
    };
    if transcript.redecoded {
        engine.metrics.asr_redecoded.increment(1);
    }
    if transcript.loop_collapsed {
        engine.metrics.asr_loops_collapsed.increment(1);
    }
    if is_final && transcript.with_context {
        engine.metrics.asr_with_context.increment(1);
    }
    if asr.threads > engine.config.asr.threads_per_worker {
        engine.metrics.asr_wide_decodes.increment(1);
    }
    if is_final && asr.context_skipped {
        engine.metrics.asr_context_skipped.increment(1);
    }
    if is_final {
        prompts.record_final(u.channel, u.segment.end_ms(), &transcript.text);
    }
    let mut result = UtteranceResult {
        call_id: call_id.clone(),
        seq: u.seq,
        channel: u.channel as u32,
        role: role as i32,
        start_ms: u.segment.start_ms(),
        end_ms: u.segment.end_ms(),
        transcript: transcript.text.clone(),
        is_final,
        language_code: transcript.language.clone(),
        sentiment: None,
        intent: None,
        classification: None,
        timings: Some(Timings {
            queued_ms: ms(asr.queued),
            asr_ms: ms(asr.asr),
            classify_ms: 0.0,
            end_of_speech_to_emit_ms: 0.0,
        }),
    };
    if is_final {
        let hint = (!transcript.language.is_empty()).then_some(transcript.language.as_str());
        match engine
            .classifier
            .classify(transcript.text.clone(), hint)
            .await
        {
            Ok(r) => {
                let (s, i) = prediction_to_proto(&r.classified.prediction);
                result.sentiment = s;
                result.intent = i;
                result.classification = Some(classification_proto(&engine.metrics, &r));
                if let Some(t) = result.timings.as_mut() {
                    t.classify_ms = ms(r.classified.elapsed);
                }
            }
            Err(e) => tracing::warn!(call_id, seq = u.seq, error = %e, "Utterance not classified"),
        }
    }
    Some((result, end_of_speech))
}

/// Converts a model prediction to the API's messages (each head the model has).
pub fn prediction_to_proto(p: &Prediction) -> (Option<Sentiment>, Option<Intent>) {
    let sentiment = p.sentiment.as_ref().map(|s| {
        let label = match s.label {
            0 => SentimentLabel::Negative,
            1 => SentimentLabel::Neutral,
            _ => SentimentLabel::Positive,
        };
        let [negative, neutral, positive] = s.probabilities;
        Sentiment {
            label: label as i32,
            score: s.score,
            probabilities: Some(SentimentProbabilities {
                negative,
                neutral,
                positive,
            }),
        }
    });
    let intent = p.intent.as_ref().map(|i| Intent {
        label: i.label.clone(),
        confidence: i.confidence,
        low_confidence: i.low_confidence,
        top: i
            .top
            .iter()
            .map(|(l, c)| IntentScore {
                label: l.clone(),
                confidence: *c,
            })
            .collect(),
    });
    (sentiment, intent)
}

/// The route a text took, for the API; counts mixed and fallback texts.
pub fn classification_proto(metrics: &Metrics, r: &Routed) -> Classification {
    if r.route.mixed {
        metrics.classified_mixed_language.increment(1);
    }
    if r.route.fallback {
        metrics.classified_language_fallback.increment(1);
    }
    Classification {
        model: r.model_id.to_string(),
        language_code: r.route.language.clone(),
        mixed_language: r.route.mixed,
        language_fallback: r.route.fallback,
    }
}

fn ms(d: std::time::Duration) -> f32 {
    d.as_secs_f32() * 1000.0
}
