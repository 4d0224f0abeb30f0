//! One call, end to end: audio → front end → ASR → classifier → results.
//!
//! Owns: the call's event loop (reading audio with backpressure, spawning one
//! task per utterance, emitting results and the live conversation measures,
//! the summary at half-close) and cleanup when the client vanishes. The task per utterance awaits the ASR
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
use crate::analytics::{ConversationMeter, Turn, LIVE_TURN_POINTS, SUMMARY_TURN_POINTS};
use crate::asr::{AsrError, AsrJob, AsrOutput, TurnAudio};
use crate::audio::{FrontendEvent, FrontendSetup, Utterance};
use crate::classify::{Prediction, Routed};
use crate::connect::CallIdentity;
use crate::language::Language;
use crate::proto::{
    stream_call_response::StreamingResponse, CallMetrics, Classification, Intent, IntentScore,
    Sentiment, SentimentLabel, SentimentProbabilities, SpeakerRole, StreamCallResponse, Timings,
    UtteranceResult,
};
use crate::telemetry::ObserveMs;

/// A validated call.
#[derive(Debug, Clone)]
pub struct CallSpec {
    pub call_id: String,
    /// Tenant, customer and callback URL, for the CRM connector.
    pub identity: CallIdentity,
    /// The customer's CRM profile (`{}` when unknown): `customer.*` in rules.
    pub customer: serde_json::Value,
    /// One per channel.
    pub roles: Vec<SpeakerRole>,
    /// `None`: detect.
    pub language: Option<Language>,
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

/// A finished utterance task: which utterance, and its result (`None`:
/// skipped, or Whisper heard no speech).
struct Done {
    channel: usize,
    seq: u32,
    is_final: bool,
    /// The front end's speech level of a final.
    level_dbfs: f32,
    result: Option<(UtteranceResult, Instant)>,
}

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
    let interval_ms = engine.config.analytics.interval_ms;
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(interval_ms.max(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut call = CallLoop::new(engine, key, spec, out);
    let (mut input_done, mut flushed) = (false, false);
    loop {
        if input_done && flushed && call.tasks.is_empty() {
            break;
        }
        let step = tokio::select! {
            msg = audio.next(), if !input_done => {
                input_done = msg.is_none();
                call.on_input(&frontend, msg).await
            }
            ev = events.recv(), if !flushed => {
                flushed = matches!(ev, Some(FrontendEvent::Finished { .. }));
                call.on_frontend(ev).await
            }
            Some(joined) = call.tasks.join_next(), if !call.tasks.is_empty() => match joined {
                Ok(done) => call.on_done(done).await,
                Err(_) => Step::Go,
            },
            _ = tick.tick(), if interval_ms > 0 => call.on_tick().await,
            () = call.out.closed() => call.client_gone(),
        };
        if step == Step::Stop {
            return;
        }
    }
    call.finish().await;
}

/// Whether the call loop goes on after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Go,
    /// The call ended (its error, if any, was sent).
    Stop,
}

/// One call's state, with one method per source of events: the client's
/// input, the audio front end, finished utterance tasks.
struct CallLoop {
    engine: Arc<Engine>,
    key: u64,
    spec: CallSpec,
    out: mpsc::Sender<CallOutput>,
    /// Bounds the call's finals waiting for Whisper (`asr.per_call_queue`).
    per_call: Arc<Semaphore>,
    prompts: Arc<CallPrompts>,
    tasks: JoinSet<Done>,
    summary: SummaryBuilder,
    meter: ConversationMeter,
    rules: CallRules,
    disposition: Option<crate::proto::CallDisposition>,
    /// Facts the outbox refused (disk full, database error).
    not_recorded: u32,
    /// Per channel: the highest seq whose final result went out. Seqs on a
    /// channel increase, so an interim at or below it is stale.
    last_final: Vec<u32>,
    /// Channels with an interim decode running (one at a time each).
    interim_running: HashSet<usize>,
    /// Per channel: the early decode in flight, if any.
    early: Vec<Option<EarlyDecode>>,
    turns: TurnContext,
    duration_ms: u64,
}

impl CallLoop {
    fn new(engine: Arc<Engine>, key: u64, spec: CallSpec, out: mpsc::Sender<CallOutput>) -> Self {
        let channels = spec.roles.len();
        let asr = &engine.config.asr;
        Self {
            per_call: Arc::new(Semaphore::new(asr.per_call_queue)),
            prompts: Arc::new(CallPrompts::new(
                spec.prompt.clone(),
                channels,
                asr.previous_text_max_gap_ms,
                asr.previous_text_max_chars,
            )),
            tasks: JoinSet::new(),
            summary: SummaryBuilder::new(spec.call_id.clone(), spec.roles.clone()),
            meter: ConversationMeter::new(
                spec.call_id.clone(),
                spec.roles.clone(),
                engine.config.analytics.clone(),
            ),
            rules: CallRules::new(spec.identity.clone(), spec.customer.clone()),
            disposition: None,
            not_recorded: 0,
            last_final: vec![0; channels],
            interim_running: HashSet::new(),
            early: (0..channels).map(|_| None).collect(),
            turns: TurnContext::new(channels, engine.context_max_gap_ms(), asr.context_max_ms),
            duration_ms: 0,
            engine,
            key,
            spec,
            out,
        }
    }

    /// A message from the client, or the end of its input (`None`).
    async fn on_input(
        &mut self,
        frontend: &crate::audio::FrontendHandle,
        msg: Option<Result<Inbound, CallError>>,
    ) -> Step {
        match msg {
            Some(Ok(Inbound::Disposition(d))) => {
                if let Some(b) = &self.engine.board {
                    b.agent(&self.spec.identity, &d.agent_id);
                }
                self.rules.set_disposition(&d);
                self.disposition = Some(d);
                Step::Go
            }
            Some(Ok(Inbound::Audio(bytes))) => {
                self.engine
                    .metrics
                    .audio_bytes
                    .increment(bytes.len() as u64);
                if frontend.audio(bytes).await.is_err() {
                    return self.front_end_gone().await;
                }
                Step::Go
            }
            Some(Err(CallError::Cancelled)) => self.client_gone(),
            Some(Err(e)) => {
                self.board_ended(&format!("failed: {e}"));
                fail(&self.engine, &self.out, e).await;
                Step::Stop
            }
            None => {
                if frontend.finish().await.is_err() {
                    return self.front_end_gone().await;
                }
                Step::Go
            }
        }
    }

    /// An event from the audio front end (`None`: its thread went away).
    async fn on_frontend(&mut self, ev: Option<FrontendEvent>) -> Step {
        match ev {
            Some(FrontendEvent::Utterance {
                utterance,
                end_of_speech,
            }) => {
                self.on_utterance(utterance, end_of_speech);
                Step::Go
            }
            Some(FrontendEvent::Progress(p)) => {
                self.meter.progress(&p);
                Step::Go
            }
            Some(FrontendEvent::Failed(e)) => {
                let e = CallError::from(e);
                self.board_ended(&format!("failed: {e}"));
                fail(&self.engine, &self.out, e).await;
                Step::Stop
            }
            Some(FrontendEvent::Finished { duration_ms }) => {
                self.duration_ms = duration_ms;
                Step::Go
            }
            None => self.front_end_gone().await,
        }
    }

    /// An utterance (interim, early snapshot or final): starts its decode.
    fn on_utterance(&mut self, mut utterance: Utterance, end_of_speech: Instant) {
        let ch = utterance.channel;
        // Anything else from this channel after an early snapshot (more
        // speech, or a new snapshot) means the speaker went on: stop that
        // decode.
        if let Some(slot) = self.early.get_mut(ch) {
            let key = (utterance.seq, utterance.segment.audio_key());
            if slot.as_ref().is_some_and(|e| (e.seq, e.audio_key) != key) {
                if let Some(e) = slot.take() {
                    tracing::debug!(
                        seq = e.seq,
                        channel = ch,
                        "Early decode cancelled: the speaker went on"
                    );
                    self.engine.metrics.asr_early_cancelled.increment(1);
                    e.cancel();
                }
            }
        }
        let context = self.turns.for_utterance(ch, &utterance.segment);
        if utterance.segment.is_final {
            self.turns.record(ch, &utterance.segment, context.as_ref());
            self.meter.speech_pending(
                ch,
                utterance.seq,
                utterance.segment.start_ms(),
                utterance.segment.end_ms(),
            );
        }
        if utterance.segment.early {
            let e = start_early(
                &self.engine,
                self.key,
                &self.spec,
                &self.prompts,
                &mut utterance,
                context,
            );
            if let Some(old) = self.early.get_mut(ch).and_then(|slot| slot.replace(e)) {
                old.cancel();
            }
            return;
        }
        // What is left in the slot has this final's audio.
        let taken = if utterance.segment.is_final {
            self.early
                .get_mut(ch)
                .and_then(Option::take)
                .map(|e| e.task)
        } else {
            None
        };
        if !utterance.segment.is_final && !self.interim_running.insert(ch) {
            return; // an interim for this channel is still running
        }
        let role = self
            .spec
            .roles
            .get(ch)
            .copied()
            .unwrap_or(SpeakerRole::RoleUnknown);
        let (seq, is_final, level_dbfs) = (
            utterance.seq,
            utterance.segment.is_final,
            utterance.level_dbfs,
        );
        let work = process_utterance(
            Arc::clone(&self.engine),
            self.key,
            self.spec.call_id.clone(),
            role,
            self.spec.language,
            Arc::clone(&self.prompts),
            utterance,
            context,
            end_of_speech,
            Arc::clone(&self.per_call),
            taken,
        );
        self.tasks.spawn(async move {
            Done {
                channel: ch,
                seq,
                is_final,
                level_dbfs,
                result: work.await,
            }
        });
    }

    /// An utterance task ended: its final goes into the measures (or its
    /// span out of them, if Whisper heard nothing), its result out.
    async fn on_done(&mut self, done: Done) -> Step {
        if !done.is_final {
            self.interim_running.remove(&done.channel);
        } else {
            let turn = done
                .result
                .as_ref()
                .map(|(r, _)| Turn::from_result(r, done.level_dbfs));
            self.meter.speech_done(done.channel, done.seq, turn);
        }
        match done.result {
            Some((result, end_of_speech)) => self.on_result(result, end_of_speech).await,
            None => Step::Go,
        }
    }

    /// The measures' timer: if they changed, `metrics` rules and a
    /// `CallMetrics` message.
    async fn on_tick(&mut self) -> Step {
        if !self.meter.take_changed() {
            return Step::Go;
        }
        let m = self.meter.snapshot(LIVE_TURN_POINTS);
        self.send_metrics(m).await
    }

    /// Evaluates `metrics` rules on fresh measures and sends their alerts,
    /// then the measures.
    async fn send_metrics(&mut self, m: CallMetrics) -> Step {
        let alerts = self
            .rules
            .on_metrics(&self.engine, &m, self.meter.settled_ms())
            .await;
        for a in alerts {
            if self.send(StreamingResponse::RuleAlert(a)).await == Step::Stop {
                return self.client_gone();
            }
        }
        if self.send(StreamingResponse::Metrics(m)).await == Step::Stop {
            return self.client_gone();
        }
        Step::Go
    }

    /// A decoded (and, if final, classified) utterance: recorded for the
    /// CRM, evaluated by the rules, sent with its alerts (and, for a final,
    /// the measures it changed).
    async fn on_result(&mut self, mut result: UtteranceResult, end_of_speech: Instant) -> Step {
        let channel = result.channel as usize;
        if result.is_final {
            if let Some(f) = self.last_final.get_mut(channel) {
                *f = (*f).max(result.seq);
            }
        } else {
            if self
                .last_final
                .get(channel)
                .is_some_and(|&f| result.seq <= f)
            {
                return Step::Go; // its final already went out
            }
        }
        if let Some(t) = result.timings.as_mut() {
            t.end_of_speech_to_emit_ms = ms(end_of_speech.elapsed());
            record(&self.engine.metrics, result.is_final, t);
        }
        self.summary.add(&result);
        // Masked once, for the CRM event and the rules (whether or not a CRM
        // is configured); with neither, nothing reads it.
        let wanted = self.engine.connector.is_some()
            || self.engine.rules.is_some()
            || self.engine.board.is_some();
        let masked =
            (result.is_final && wanted).then(|| self.engine.masker.mask(&result.transcript));
        if let (Some(c), Some(m)) = (&self.engine.connector, &masked) {
            // Persisted before the client sees it (the acknowledgement).
            if let Err(e) = c
                .record_masked_utterance(&self.spec.identity, &result, m)
                .await
            {
                self.not_recorded += 1;
                tracing::error!(call_id = %self.spec.call_id, seq = result.seq, error = %e, "Utterance not recorded for the CRM");
            }
        }
        let is_final = result.is_final;
        // One snapshot per final, for its rules and then the stream.
        let measures = is_final.then(|| self.meter.snapshot(LIVE_TURN_POINTS));
        if let (Some(b), Some(m)) = (&self.engine.board, &masked) {
            b.turn(&self.spec.identity, &result, &m.text);
        }
        let alerts = match &measures {
            Some(m) => {
                // Without rules or a CRM nothing was masked, and nothing reads it.
                let transcript = masked.map(|m| m.text).unwrap_or_default();
                self.rules
                    .on_final(&self.engine, &result, transcript, m)
                    .await
            }
            None => Vec::new(),
        };
        if self.send(StreamingResponse::Result(result)).await == Step::Stop {
            return self.client_gone();
        }
        for a in alerts {
            if self.send(StreamingResponse::RuleAlert(a)).await == Step::Stop {
                return self.client_gone();
            }
        }
        if let Some(m) = measures {
            self.meter.take_changed();
            return self.send_metrics(m).await;
        }
        Step::Go
    }

    /// The audio ended and every utterance is done: the end-of-call rules,
    /// the summary (recorded for the CRM, then sent).
    async fn finish(self) {
        for e in self.early.into_iter().flatten() {
            e.cancel();
        }
        let metrics: CallMetrics = self.meter.snapshot(SUMMARY_TURN_POINTS);
        let mut rules = self.rules;
        for a in rules.on_end(&self.engine, &metrics).await {
            let r = StreamingResponse::RuleAlert(a);
            publish(&self.engine, &self.spec.identity, &r);
            let msg = StreamCallResponse {
                streaming_response: Some(r),
            };
            if self.out.send(Ok(msg)).await.is_err() {
                return;
            }
        }
        let mut built = self.summary.build(self.duration_ms);
        built.metrics = Some(metrics);
        built.events_not_recorded = self.not_recorded + rules.not_recorded;
        if let Some(c) = &self.engine.connector {
            if let Err(e) = c
                .record_summary(&self.spec.identity, &built, self.disposition.as_ref())
                .await
            {
                built.events_not_recorded += 1;
                tracing::error!(call_id = %self.spec.call_id, error = %e, "Call summary not recorded for the CRM");
            }
        }
        if built.events_not_recorded > 0 {
            tracing::error!(call_id = %self.spec.call_id, lost = built.events_not_recorded, "Facts of this call reach no CRM: the outbox refused them");
        }
        let r = StreamingResponse::Summary(built);
        publish(&self.engine, &self.spec.identity, &r);
        let msg = StreamCallResponse {
            streaming_response: Some(r),
        };
        if self.out.send(Ok(msg)).await.is_ok() {
            self.engine.metrics.calls_completed.increment(1);
        }
    }

    /// Sends one response; [`Step::Stop`] when the client is gone. Alerts
    /// and measures go to the supervisor board too.
    async fn send(&self, r: StreamingResponse) -> Step {
        self.publish(&r);
        let msg = StreamCallResponse {
            streaming_response: Some(r),
        };
        if self.out.send(Ok(msg)).await.is_ok() {
            Step::Go
        } else {
            Step::Stop
        }
    }

    /// Alerts, measures and the summary for the supervisor board.
    fn publish(&self, r: &StreamingResponse) {
        publish(&self.engine, &self.spec.identity, r);
    }

    /// The call ended otherwise than with its summary: the board says how.
    fn board_ended(&self, outcome: &str) {
        if let Some(b) = &self.engine.board {
            b.ended(&self.spec.identity, outcome);
        }
    }

    /// The client went away: nothing more to send.
    fn client_gone(&self) -> Step {
        self.engine.metrics.calls_cancelled.increment(1);
        self.board_ended("cancelled: the client went away");
        Step::Stop
    }

    /// The front-end thread went away (shutdown): the call ends UNAVAILABLE.
    async fn front_end_gone(&self) -> Step {
        self.board_ended("failed: audio front end shut down");
        let _ = self
            .out
            .send(Err(CallError::Unavailable(
                "audio front end shut down".into(),
            )))
            .await;
        Step::Stop
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

/// Alerts, measures and the summary of `call` for the supervisor board.
fn publish(engine: &Engine, call: &CallIdentity, r: &StreamingResponse) {
    let Some(b) = &engine.board else {
        return;
    };
    match r {
        StreamingResponse::RuleAlert(a) => b.alert(call, a),
        StreamingResponse::Metrics(m) => b.metrics(call, m),
        StreamingResponse::Summary(s) => {
            b.summary(call, s);
            b.ended(call, "completed");
        }
        _ => {}
    }
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
        language: spec.language,
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
    language: Option<Language>,
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
        language,
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
    if transcript.loop_stopped {
        engine.metrics.asr_loops_stopped.increment(1);
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
