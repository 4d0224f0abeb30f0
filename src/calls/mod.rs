//! The one call path every front door uses.
//!
//! A front door (the gRPC service today; telephony WebSocket and TCP
//! adapters next) translates its protocol's call start into a [`NewCall`],
//! validates it ([`NewCall::validate`] → [`ValidCall`], errors naming the
//! [`Field`]), and hands it with a stream of [`Inbound`] items to [`start`].
//! It gets back a [`StartedCall`]: the [`CallAccepted`](crate::proto::CallAccepted)
//! message and the call's event stream, which it translates back.
//!
//! Owns: what a new call must say and its checks ([`new_call`]), the checks
//! on every inbound chunk ([`inbound`]), and admission, the CRM customer
//! lookup and the tracked call task ([`start()`]). The call itself
//! runs in [`crate::pipeline::call`].

mod inbound;
mod new_call;
mod start;

pub use crate::pipeline::Inbound;
pub use inbound::InboundChecks;
pub use new_call::{
    Field, FieldError, NewCall, ValidCall, MAX_CALLER_NUMBER, MAX_CHANNELS, MAX_ID_LEN,
    MAX_VOCABULARY_ENTRY, RATES_HZ,
};
pub use start::{start, Caller, StartedCall};
