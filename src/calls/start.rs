//! Starting a call: the one path from a front door into the engine.
//!
//! Owns: admission (`server.max_concurrent_calls`), the CRM customer lookup
//! and its view for the platform, the [`CallAccepted`] message, and the call
//! task, spawned on the engine's call tracker so shutdown can drain it.

use std::sync::Arc;

use futures::{Stream, StreamExt};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::{InboundChecks, ValidCall};
use crate::connect::event::role_str;
use crate::pipeline::Inbound;
use crate::pipeline::{run_call, CallError, CallOutput, Engine};
use crate::proto::{CallAccepted, ClassifierModel};

/// A call the engine took on.
pub struct StartedCall {
    /// What the platform is told first: ids, limits, models, and the CRM's
    /// view of the customer when a context lookup is configured.
    pub accepted: CallAccepted,
    /// Results, alerts and the summary as the call runs; an error ends it.
    /// Dropping this stream ends the call (counted as cancelled).
    pub events: ReceiverStream<CallOutput>,
}

/// Starts `call`, reading its input from `inbound` (audio and at most one
/// disposition, checked here against the call's limits; the stream's end is
/// the end of the call's audio, an `Err` ends the call with that error).
///
/// # Errors
/// [`CallError::ResourceExhausted`] at `server.max_concurrent_calls`,
/// [`CallError::Unavailable`] while shutting down.
pub async fn start<S>(
    engine: &Arc<Engine>,
    call: ValidCall,
    inbound: S,
) -> Result<StartedCall, CallError>
where
    S: Stream<Item = Result<Inbound, CallError>> + Send + Unpin + 'static,
{
    let limits = &engine.config.server;
    let (key, permit) = engine.admit()?;
    let mut checks = InboundChecks::new(&call, limits.max_chunk_bytes, limits.max_call_seconds);
    let ValidCall {
        mut spec,
        caller_number,
        view_role,
        agent_id,
        ..
    } = call;
    let customer = match &engine.customer_context {
        Some(svc) => {
            let lookup = svc.lookup(&spec.identity.customer_id, &caller_number).await;
            if let Some(p) = &lookup.profile {
                spec.customer = p.to_json();
            }
            Some(svc.view(&spec.identity.customer_id, &lookup, &view_role))
        }
        None => None,
    };
    let accepted = accepted(engine, &spec.call_id, customer);
    engine.metrics.calls_started.increment(1);
    tracing::info!(call_id = %accepted.call_id, session_id = %accepted.session_id, tenant = %spec.identity.tenant, "Call accepted");
    if let Some(b) = &engine.board {
        let roles = spec.roles.iter().map(|r| role_str(*r as i32)).collect();
        b.call_started(&spec.identity, &accepted, roles, &agent_id);
    }
    let (tx, rx) = mpsc::channel(limits.response_buffer);
    let checked = inbound.map(move |item| item.and_then(|i| checks.check(i)));
    let task_engine = Arc::clone(engine);
    engine.track_call(async move {
        let _permit = permit;
        let (board, identity) = (task_engine.board.clone(), spec.identity.clone());
        run_call(task_engine, key, spec, checked, tx).await;
        if let Some(b) = board {
            b.ended(&identity, "ended"); // unless the call loop said how
        }
    });
    Ok(StartedCall {
        accepted,
        events: ReceiverStream::new(rx),
    })
}

/// The first message of a call.
fn accepted(
    engine: &Engine,
    call_id: &str,
    customer: Option<crate::proto::CustomerContext>,
) -> CallAccepted {
    CallAccepted {
        customer,
        call_id: call_id.to_string(),
        session_id: uuid::Uuid::new_v4().to_string(),
        max_chunk_bytes: engine.config.server.max_chunk_bytes as i32,
        asr_model: engine.asr.model_name(),
        asr_model_synthetic: engine.asr.is_synthetic(),
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
    }
}
