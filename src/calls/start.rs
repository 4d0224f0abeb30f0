//! Starting a call: the one path from a front door into the engine.
//!
//! Owns: binding the call to its caller's tenant (a call naming another
//! tenant is refused), the tenant's callback prefixes, admission
//! (`server.max_concurrent_calls`, then the tenant's quota and rate), the
//! CRM customer lookup and its view for the platform, the [`CallAccepted`]
//! message, the audit entry, and the call task, spawned on the engine's
//! call tracker so shutdown can drain it.

use std::sync::Arc;

use futures::{Stream, StreamExt};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::{InboundChecks, ValidCall};
use crate::auth::{Door, Entry, Principal};
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

/// Who is starting a call, through which door.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub door: Door,
    /// The client's address, for the audit log ("" when unknown).
    pub peer: String,
}

impl Caller {
    fn audit(&self, action: &str, outcome: &'static str, tenant: &str, call_id: &str) -> Entry {
        Entry::new(self.door.as_str(), action, outcome)
            .actor(self.principal.actor.clone())
            .tenant(tenant)
            .call(call_id)
            .peer(&self.peer)
    }
}

/// Starts `call` for `caller`, reading its input from `inbound` (audio and
/// at most one disposition, checked here against the call's limits; the
/// stream's end is the end of the call's audio, an `Err` ends the call with
/// that error). The call's tenant becomes the caller's.
///
/// # Errors
/// [`CallError::PermissionDenied`] for another tenant's call or a callback
/// outside the tenant's prefixes, [`CallError::ResourceExhausted`] at
/// `server.max_concurrent_calls`, [`CallError::Throttled`] over the
/// tenant's quota or rate, [`CallError::Unavailable`] while shutting down.
pub async fn start<S>(
    engine: &Arc<Engine>,
    caller: &Caller,
    mut call: ValidCall,
    inbound: S,
) -> Result<StartedCall, CallError>
where
    S: Stream<Item = Result<Inbound, CallError>> + Send + Unpin + 'static,
{
    let limits = &engine.config.server;
    let auth = &engine.auth;
    let call_id = call.spec.call_id.clone();
    let tenant = match caller.principal.bind(&call.spec.identity.tenant) {
        Ok(t) => t,
        Err(e) => {
            auth.denied(caller.door, &e, &caller.peer, "call.start");
            return Err(CallError::PermissionDenied(e.message));
        }
    };
    if let Some(url) = &call.spec.identity.callback_url {
        if let Err(m) = auth.tenants.check_callback(&tenant, url) {
            auth.audit.record(
                caller
                    .audit("call.start", "denied", &tenant, &call_id)
                    .detail(&m),
            );
            return Err(CallError::PermissionDenied(m));
        }
    }
    call.spec.identity.tenant.clone_from(&tenant);
    let (key, permit) = engine.admit()?;
    let tenant_permit = match auth.tenants.admit_call(&tenant) {
        Ok(p) => p,
        Err(t) => {
            engine.metrics.calls_rejected.increment(1);
            auth.audit.record(
                caller
                    .audit("call.start", "throttled", &tenant, &call_id)
                    .detail(&t.message),
            );
            return Err(t.into());
        }
    };
    let mut checks = InboundChecks::new(&call, limits.max_chunk_bytes, limits.max_call_seconds);
    let ValidCall {
        mut spec,
        caller_number,
        view_role,
        agent_id,
        ..
    } = call;
    let context = engine
        .customer_context
        .as_ref()
        .filter(|_| auth.tenants.uses_context(&tenant));
    let customer = match context {
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
    auth.audit
        .record(caller.audit("call.start", "allowed", &tenant, &spec.call_id));
    tracing::info!(call_id = %accepted.call_id, session_id = %accepted.session_id, tenant = %spec.identity.tenant, "Call accepted");
    if let Some(b) = &engine.board {
        let roles = spec.roles.iter().map(|r| role_str(*r as i32)).collect();
        b.call_started(&spec.identity, &accepted, roles, &agent_id);
    }
    let (tx, rx) = mpsc::channel(limits.response_buffer);
    let checked = idle_ends(
        inbound.map(move |item| item.and_then(|i| checks.check(i))),
        std::time::Duration::from_secs(limits.idle_timeout_s),
        IdleEnd {
            engine: Arc::clone(engine),
            call_id: spec.call_id.clone(),
            tenant: spec.identity.tenant.clone(),
        },
    );
    let task_engine = Arc::clone(engine);
    engine.track_call(async move {
        let _permits = (permit, tenant_permit);
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

/// What the idle timer needs to say why a call ended.
struct IdleEnd {
    engine: Arc<Engine>,
    call_id: String,
    tenant: String,
}

/// `input`, ended (as if the client had half-closed) once nothing arrives
/// for `idle`.
fn idle_ends<S>(
    input: S,
    idle: std::time::Duration,
    why: IdleEnd,
) -> std::pin::Pin<Box<dyn Stream<Item = Result<Inbound, CallError>> + Send>>
where
    S: Stream<Item = Result<Inbound, CallError>> + Send + 'static,
{
    Box::pin(tokio_stream::StreamExt::map_while(
        tokio_stream::StreamExt::timeout(input, idle),
        move |item| match item {
            Ok(item) => Some(item),
            Err(_) => {
                why.engine.metrics.calls_idle_ended.increment(1);
                tracing::warn!(call_id = %why.call_id, idle_s = idle.as_secs(), "No input from the client; ending the call's audio (server.idle_timeout_s)");
                why.engine.auth.audit.record(
                    Entry::new("engine", "call.idle_end", "ok")
                        .tenant(&why.tenant)
                        .call(&why.call_id)
                        .detail(format!("nothing received for {} s", idle.as_secs())),
                );
                None
            }
        },
    ))
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
