//! The `callsense.v1.CallSense` service: StreamCall and AnalyzeText.
//!
//! Owns: reading the first request, admission, wiring the request stream
//! through [`AudioValidator`] into [`run_call`], and AnalyzeText's input
//! checks. One mapping from domain errors to gRPC statuses lives here.

use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use futures::{Stream, StreamExt};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use super::validate::{validate_config, AudioValidator, VIEW_ROLE_KEY};
use crate::classify::ClassifyError;
use crate::config::Config;
use crate::pipeline::{
    classification_proto, prediction_to_proto, run_call, CallError, Engine, Metrics,
};
use crate::proto::call_sense_server::CallSense;
use crate::proto::stream_call_request::StreamingRequest;
use crate::proto::stream_call_response::StreamingResponse;
use crate::proto::{
    AnalyzeTextRequest, AnalyzeTextResponse, CallAccepted, ClassifierModel, StreamCallRequest,
    StreamCallResponse, TextAnalysis,
};

/// Set once the engine has loaded; until then calls get UNAVAILABLE.
pub type EngineSlot = Arc<OnceLock<Arc<Engine>>>;

pub struct CallSenseService {
    engine: EngineSlot,
    config: Arc<Config>,
}

impl CallSenseService {
    pub fn new(engine: EngineSlot, config: Arc<Config>) -> Self {
        Self { engine, config }
    }

    fn engine(&self) -> Result<Arc<Engine>, Status> {
        self.engine
            .get()
            .cloned()
            .ok_or_else(|| Status::unavailable("models are still loading; retry shortly"))
    }
}

impl From<CallError> for Status {
    fn from(e: CallError) -> Self {
        match e {
            CallError::InvalidArgument(m) => Status::invalid_argument(m),
            CallError::ResourceExhausted(m) => throttled(m),
            CallError::Unavailable(m) => Status::unavailable(m),
            CallError::Cancelled => Status::cancelled("client cancelled the call"),
        }
    }
}

impl From<ClassifyError> for Status {
    fn from(e: ClassifyError) -> Self {
        match e {
            ClassifyError::Overloaded(_) => throttled(e.to_string()),
            ClassifyError::ShutDown => Status::unavailable(e.to_string()),
            ClassifyError::Model(m) => Status::internal(m.to_string()),
        }
    }
}

/// RESOURCE_EXHAUSTED with a `retry-after` hint (seconds).
fn throttled(msg: String) -> Status {
    let mut s = Status::resource_exhausted(msg);
    s.metadata_mut().insert(
        "retry-after",
        tonic::metadata::MetadataValue::from_static("1"),
    );
    s
}

type ResponseStream = Pin<Box<dyn Stream<Item = Result<StreamCallResponse, Status>> + Send>>;

#[tonic::async_trait]
impl CallSense for CallSenseService {
    type StreamCallStream = ResponseStream;

    async fn stream_call(
        &self,
        request: Request<Streaming<StreamCallRequest>>,
    ) -> Result<Response<Self::StreamCallStream>, Status> {
        let engine = self.engine()?;
        let mut inbound = request.into_inner();
        let first = inbound
            .message()
            .await?
            .ok_or_else(|| Status::invalid_argument("stream ended before a config was sent"))?;
        let config = match first.streaming_request {
            Some(StreamingRequest::Config(c)) => c,
            Some(StreamingRequest::AudioContent(_)) => return Err(Status::invalid_argument(
                "the first request must carry config, not audio_content: send a CallConfig first",
            )),
            Some(StreamingRequest::Disposition(_)) => return Err(Status::invalid_argument(
                "the first request must carry config, not a disposition: send a CallConfig first",
            )),
            None => {
                return Err(Status::invalid_argument(
                    "the first request must carry config",
                ))
            }
        };
        // The engine's configuration: settings left to the model (the
        // leading padding) are filled in there.
        let call = validate_config(&config, &engine.config).map_err(Status::invalid_argument)?;
        let (key, permit) = engine.admit().ok_or_else(|| {
            Metrics::inc(&engine.metrics.calls_rejected);
            throttled(format!(
                "server is at its limit of {} concurrent calls (server.max_concurrent_calls)",
                self.config.server.max_concurrent_calls
            ))
        })?;
        let (tx, rx) = mpsc::channel(self.config.server.response_buffer);
        let mut call = call;
        let customer = match &engine.context {
            Some(svc) => {
                let lookup = svc.lookup(&config.customer_id, &config.caller_number).await;
                let role = config
                    .metadata
                    .get(VIEW_ROLE_KEY)
                    .map(String::as_str)
                    .unwrap_or("");
                if let Some(p) = &lookup.profile {
                    call.spec.customer = p.to_json();
                }
                Some(svc.view(&config.customer_id, &lookup, role))
            }
            None => None,
        };
        let accepted = CallAccepted {
            customer,
            call_id: call.spec.call_id.clone(),
            session_id: uuid::Uuid::new_v4().to_string(),
            max_chunk_bytes: self.config.server.max_chunk_bytes as i32,
            asr_model: engine.asr.model_name(),
            classifier_model: engine.classifier.default_model_id().to_string(),
            classifier_models: engine
                .classifier
                .models()
                .iter()
                .map(|m| ClassifierModel {
                    model: m.model_id().to_string(),
                    language_codes: m.languages().to_vec(),
                })
                .collect(),
        };
        Metrics::inc(&engine.metrics.calls_started);
        tracing::info!(call_id = %accepted.call_id, session_id = %accepted.session_id, tenant = %config.tenant, "Call accepted");
        tx.send(Ok(StreamCallResponse {
            streaming_response: Some(StreamingResponse::Accepted(accepted)),
        }))
        .await
        .map_err(|_| Status::cancelled("client went away"))?;
        let mut validator = AudioValidator::new(&call, &self.config);
        let audio = inbound.map(move |r| match r {
            Ok(req) => validator.check(req),
            Err(_) => Err(CallError::Cancelled),
        });
        tokio::spawn(async move {
            let _permit = permit;
            run_call(engine, key, call.spec, Box::pin(audio), tx).await;
        });
        let out = ReceiverStream::new(rx).map(|r| r.map_err(Status::from));
        Ok(Response::new(Box::pin(out)))
    }

    async fn analyze_text(
        &self,
        request: Request<AnalyzeTextRequest>,
    ) -> Result<Response<AnalyzeTextResponse>, Status> {
        let engine = self.engine()?;
        let texts = request.into_inner().texts;
        let limits = &self.config.server;
        if texts.is_empty() {
            return Err(Status::invalid_argument(
                "texts is empty: send 1 or more texts",
            ));
        }
        if texts.len() > limits.max_texts_per_request {
            return Err(Status::invalid_argument(format!(
                "{} texts exceed the limit of {} per request",
                texts.len(),
                limits.max_texts_per_request
            )));
        }
        for (i, t) in texts.iter().enumerate() {
            if t.text.trim().is_empty() {
                return Err(Status::invalid_argument(format!(
                    "texts[{i}].text is empty"
                )));
            }
            if t.text.len() > limits.max_text_bytes {
                return Err(Status::invalid_argument(format!(
                    "texts[{i}].text is {} bytes, over the limit of {}",
                    t.text.len(),
                    limits.max_text_bytes
                )));
            }
        }
        let jobs = texts.into_iter().map(|t| {
            let classifier = &engine.classifier;
            async move {
                let hint = (!t.language_code.is_empty()).then_some(t.language_code.as_str());
                classifier.try_classify(t.text.clone(), hint).await
            }
        });
        let done = futures::future::join_all(jobs).await;
        let mut results = Vec::with_capacity(done.len());
        for r in done {
            let r = r?;
            let (sentiment, intent) = prediction_to_proto(&r.classified.prediction);
            results.push(TextAnalysis {
                sentiment,
                intent,
                classify_ms: r.classified.elapsed.as_secs_f32() * 1000.0,
                classification: Some(classification_proto(&engine.metrics, &r)),
            });
        }
        engine
            .metrics
            .texts_analyzed
            .fetch_add(results.len() as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(Response::new(AnalyzeTextResponse {
            results,
            model: engine.classifier.default_model_id().to_string(),
        }))
    }
}
