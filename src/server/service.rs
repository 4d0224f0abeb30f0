//! The `callsense.v1.CallSense` service: StreamCall and AnalyzeText.
//!
//! Owns: translating StreamCall onto the call path ([`crate::calls`]: the
//! first request's config becomes a validated call, later requests its
//! input, its events the response stream) and AnalyzeText's input checks.
//! One mapping from domain errors to gRPC statuses lives here.

use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use futures::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

use super::validate::{self, validate_config};
use crate::calls;
use crate::classify::ClassifyError;
use crate::config::Config;
use crate::pipeline::{classification_proto, prediction_to_proto, CallError, Engine};
use crate::proto::call_sense_server::CallSense;
use crate::proto::stream_call_request::StreamingRequest;
use crate::proto::stream_call_response::StreamingResponse;
use crate::proto::{
    AnalyzeTextRequest, AnalyzeTextResponse, StreamCallRequest, StreamCallResponse, TextAnalysis,
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
            CallError::ResourceExhausted(m) => throttled(m, 1),
            CallError::Throttled {
                message,
                retry_after_s,
            } => throttled(message, retry_after_s),
            CallError::PermissionDenied(m) => Status::permission_denied(m),
            CallError::Unavailable(m) => Status::unavailable(m),
            CallError::Internal(m) => Status::internal(m),
            CallError::Cancelled => Status::cancelled("client cancelled the call"),
        }
    }
}

impl From<ClassifyError> for Status {
    fn from(e: ClassifyError) -> Self {
        match e {
            ClassifyError::Overloaded(_) => throttled(e.to_string(), 1),
            ClassifyError::ShutDown => Status::unavailable(e.to_string()),
            ClassifyError::Model(m) => Status::internal(m.to_string()),
        }
    }
}

/// RESOURCE_EXHAUSTED with a `retry-after` hint (seconds).
fn throttled(msg: String, retry_after_s: u64) -> Status {
    let mut s = Status::resource_exhausted(msg);
    s.metadata_mut().insert(
        "retry-after",
        tonic::metadata::MetadataValue::from(retry_after_s.max(1)),
    );
    s
}

/// A refused credential as a gRPC status.
pub fn auth_status(e: &crate::auth::AuthError) -> Status {
    match e.kind {
        crate::auth::Denial::Unauthenticated => Status::unauthenticated(e.message.clone()),
        crate::auth::Denial::PermissionDenied => Status::permission_denied(e.message.clone()),
    }
}

/// The caller the interceptor ([`super::auth::Authenticate`]) attached.
fn caller_of<T>(request: &Request<T>) -> Result<calls::Caller, Status> {
    request
        .extensions()
        .get::<calls::Caller>()
        .cloned()
        .ok_or_else(|| Status::internal("request reached the service without authentication"))
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
        let caller = caller_of(&request)?;
        let mut inbound = request.into_inner();
        let first = inbound
            .message()
            .await
            .map_err(|s| match validate::inbound_error(&s) {
                // A first message that does not decode is the client's to fix.
                CallError::InvalidArgument(m) => Status::invalid_argument(m),
                _ => s,
            })?
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
        let input = inbound.map(|r| match r {
            Ok(req) => validate::inbound(req),
            Err(s) => Err(validate::inbound_error(&s)),
        });
        let started = calls::start(&engine, &caller, call, input).await?;
        let accepted = StreamCallResponse {
            streaming_response: Some(StreamingResponse::Accepted(started.accepted)),
        };
        let out = futures::stream::once(async { Ok(accepted) })
            .chain(started.events.map(|r| r.map_err(Status::from)));
        Ok(Response::new(Box::pin(out)))
    }

    async fn analyze_text(
        &self,
        request: Request<AnalyzeTextRequest>,
    ) -> Result<Response<AnalyzeTextResponse>, Status> {
        let engine = self.engine()?;
        let caller = caller_of(&request)?;
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
        // Texts count against the caller's tenant (one named by a key or
        // certificate; others share the defaults' bucket as tenant "").
        let tenant = caller.principal.bind("").unwrap_or_default();
        engine
            .auth
            .tenants
            .take_texts(&tenant, texts.len())
            .map_err(CallError::from)?;
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
            .increment(results.len() as u64);
        Ok(Response::new(AnalyzeTextResponse {
            results,
            model: engine.classifier.default_model_id().to_string(),
        }))
    }
}
