//! Twilio Media Streams front door.
//!
//! `protocol` is the wire format (messages, signature, track joining);
//! `session` runs one WebSocket connection as one engine call.

mod protocol;
mod session;

use std::sync::Arc;

use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_util::sync::CancellationToken;

pub use protocol::{
    field_message, new_call, parse, signature, signature_matches, signing_token, CallMapping,
    Media, MediaJoin, Message, Start, StreamError, StreamMedia,
};

use super::config::TwilioConfig;
use super::listener::{Protocol, Refusal, Upgrade};
use super::metrics::IngressMetrics;
use crate::auth::{Door, Principal};
use crate::calls::Caller;
use crate::pipeline::Engine;

/// The header Twilio signs each request with.
pub const SIGNATURE_HEADER: &str = "x-twilio-signature";

/// A Twilio listener's settings, secrets resolved.
pub struct Twilio {
    config: TwilioConfig,
    tokens: Vec<String>,
    mapping: CallMapping,
    metrics: IngressMetrics,
}

impl Twilio {
    /// # Errors
    /// An `env:` auth token whose variable is not set.
    pub fn new(config: &TwilioConfig, metrics: IngressMetrics) -> Result<Self, String> {
        let tokens = config
            .auth_tokens
            .iter()
            .map(|t| {
                t.secret()
                    .resolve()
                    .map_err(|e| format!("ingress.twilio.auth_tokens: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            mapping: CallMapping {
                inbound: config.inbound,
                outbound: config.outbound,
                tenant: config.tenant.clone(),
                language: config.language.to_string(),
                interim_results: config.interim_results,
            },
            config: config.clone(),
            tokens,
            metrics,
        })
    }

    /// The URL Twilio signed: the configured public URL, or `wss://` + Host + path.
    fn signed_url(&self, up: &Upgrade<'_>) -> String {
        match &self.config.public_url {
            Some(u) => u.clone(),
            None => format!(
                "wss://{}{}",
                up.header("host").unwrap_or_default(),
                up.request.uri()
            ),
        }
    }
}

impl Protocol for Twilio {
    /// Which auth token signed the upgrade (`None`: an API key or client
    /// certificate, or `allow_unsigned`).
    type Accepted = Option<usize>;

    fn name(&self) -> &'static str {
        "twilio"
    }

    fn door(&self) -> Door {
        Door::Twilio
    }

    fn principal(&self, accepted: &Option<usize>) -> Option<Principal> {
        let i = (*accepted)?;
        let tenant = match self.config.auth_tokens[i].tenant() {
            "" => &self.config.tenant,
            t => t,
        };
        (!tenant.is_empty()).then(|| Principal::of_tenant(tenant, format!("twilio:token{i}")))
    }

    fn accept(&self, up: &Upgrade<'_>) -> Result<Option<usize>, Refusal> {
        if up.principal.is_some() || self.tokens.is_empty() {
            return Ok(None); // an API key or certificate, or allow_unsigned
        }
        let Some(sig) = up.header(SIGNATURE_HEADER) else {
            return Err(Refusal {
                status: StatusCode::UNAUTHORIZED,
                reason: "X-Twilio-Signature header is missing".into(),
            });
        };
        if let Some(i) = signing_token(&self.tokens, &self.signed_url(up), sig) {
            Ok(Some(i))
        } else {
            Err(Refusal {
                status: StatusCode::FORBIDDEN,
                reason: "X-Twilio-Signature does not match this URL under any configured auth token (check ingress.twilio.public_url)".into(),
            })
        }
    }

    async fn session(
        self: Arc<Self>,
        ws: crate::ingress::session::Socket,
        _: Option<usize>,
        caller: Caller,
        engine: Arc<Engine>,
        stop: CancellationToken,
    ) {
        session::run(ws, &self, &caller, engine, stop).await;
    }
}
