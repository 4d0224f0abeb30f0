//! Translating what a gRPC client sends onto the call path.
//!
//! Owns: `CallConfig` → [`NewCall`] (enum values, metadata limits, the
//! `callsense.*` metadata keys) with every error naming the `config.` field
//! and its allowed values, and `StreamCallRequest` → [`Inbound`] for the
//! requests after the first. The checks every front door shares live in
//! [`crate::calls`]. Nothing a client sends reaches an `unwrap`.

use crate::calls::{Field, FieldError, Inbound, NewCall, ValidCall, RATES_HZ};
use crate::config::Config;
use crate::pipeline::CallError;
use crate::proto::{
    stream_call_request::StreamingRequest, AudioEncoding, CallConfig, SpeakerRole,
    StreamCallRequest,
};

const MAX_METADATA_ENTRIES: usize = 64;
const MAX_METADATA_KEY: usize = 128;
const MAX_METADATA_BYTES: usize = 1024;
/// Metadata key of a per-call callback URL for score webhooks.
pub const CALLBACK_URL_KEY: &str = "callsense.callback_url";
/// Metadata key naming whose view of the customer context is returned.
pub const VIEW_ROLE_KEY: &str = "callsense.view_role";
/// Metadata key: the agent on the call, for the supervisor board.
pub const AGENT_ID_KEY: &str = "callsense.agent_id";

/// Checks the first request's config.
///
/// # Errors
/// A message naming the offending `config.` field.
pub fn validate_config(c: &CallConfig, cfg: &Config) -> Result<ValidCall, String> {
    new_call(c)?
        .validate(cfg)
        .map_err(|e: FieldError| e.message_with(config_field))
}

/// `CallConfig` as the call path's [`NewCall`].
fn new_call(c: &CallConfig) -> Result<NewCall, String> {
    let encoding = match AudioEncoding::try_from(c.encoding) {
        Ok(AudioEncoding::EncodingUnspecified) => None,
        Ok(e) => Some(e),
        Err(_) => {
            return Err(format!(
                "config.encoding {} is not a known encoding (LINEAR16=1, MULAW=2, ALAW=3)",
                c.encoding
            ))
        }
    };
    let channels = match c.audio_channel_count {
        0 => 1,
        n if n < 0 => {
            return Err(format!(
                "config.audio_channel_count must be 1 or 2, got {n}"
            ))
        }
        n => n as usize,
    };
    let mut roles = Vec::with_capacity(c.channel_roles.len());
    for (i, &r) in c.channel_roles.iter().enumerate() {
        roles.push(SpeakerRole::try_from(r).map_err(|_| {
            format!("config.channel_roles[{i}] = {r} is not a role (ROLE_UNKNOWN=0, AGENT=1, CUSTOMER=2)")
        })?);
    }
    if c.metadata.len() > MAX_METADATA_ENTRIES
        || c.metadata
            .iter()
            .any(|(k, v)| k.len() > MAX_METADATA_KEY || v.len() > MAX_METADATA_BYTES)
    {
        return Err(format!(
            "config.metadata is limited to {MAX_METADATA_ENTRIES} entries, keys of {MAX_METADATA_KEY} bytes, values of {MAX_METADATA_BYTES} bytes"
        ));
    }
    Ok(NewCall {
        call_id: c.call_id.clone(),
        tenant: c.tenant.clone(),
        customer_id: c.customer_id.clone(),
        caller_number: c.caller_number.clone(),
        callback_url: c.metadata.get(CALLBACK_URL_KEY).cloned(),
        view_role: c.metadata.get(VIEW_ROLE_KEY).cloned().unwrap_or_default(),
        agent_id: c.metadata.get(AGENT_ID_KEY).cloned().unwrap_or_default(),
        encoding,
        sample_rate_hz: u32::try_from(c.sample_rate_hz).map_err(|_| {
            format!(
                "config.sample_rate_hz {} is out of range: {}–{} Hz",
                c.sample_rate_hz,
                RATES_HZ.start(),
                RATES_HZ.end()
            )
        })?,
        channels,
        roles,
        language_code: c.language_code.clone(),
        vocabulary: c.vocabulary.clone(),
        interim_results: c.interim_results,
    })
}

/// A [`Field`]'s name in `CallConfig`.
fn config_field(f: Field) -> String {
    match f {
        Field::Channels => "config.audio_channel_count".into(),
        Field::Roles => "config.channel_roles".into(),
        Field::CallbackUrl => format!("config.metadata[\"{CALLBACK_URL_KEY}\"]"),
        Field::AgentId => format!("config.metadata[\"{AGENT_ID_KEY}\"]"),
        f => format!("config.{}", f.name()),
    }
}

/// One request after the first as the call's input.
///
/// # Errors
/// A second config, or a request with neither audio nor a disposition.
pub fn inbound(req: StreamCallRequest) -> Result<Inbound, CallError> {
    match req.streaming_request {
        Some(StreamingRequest::AudioContent(b)) => Ok(Inbound::Audio(b)),
        Some(StreamingRequest::Disposition(d)) => Ok(Inbound::Disposition(d)),
        Some(StreamingRequest::Config(_)) => Err(CallError::InvalidArgument(
            "config may only be sent in the first request of a stream".into(),
        )),
        None => Err(CallError::InvalidArgument(
            "request carries neither config nor audio_content".into(),
        )),
    }
}

/// An error reading the request stream: the client's transport going away
/// is a cancel; anything else (a message that does not decode, one over
/// `server.max_message_bytes`) is the client's to fix.
pub fn inbound_error(s: &tonic::Status) -> CallError {
    // tonic attaches the underlying error (h2, hyper, I/O) to a transport
    // failure; a message that does not decode carries none.
    let transport = std::error::Error::source(s).is_some();
    if s.code() == tonic::Code::Cancelled || transport {
        CallError::Cancelled
    } else {
        CallError::InvalidArgument(format!(
            "the request stream could not be read: {}",
            s.message()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> CallConfig {
        CallConfig {
            call_id: "call-1".into(),
            encoding: AudioEncoding::Mulaw as i32,
            sample_rate_hz: 8000,
            audio_channel_count: 2,
            channel_roles: vec![SpeakerRole::Agent as i32, SpeakerRole::Customer as i32],
            ..Default::default()
        }
    }

    fn err(c: CallConfig) -> String {
        validate_config(&c, &Config::default()).unwrap_err()
    }

    /// Inputs the fuzz targets found crashing the engine
    /// (`fuzz/regressions/`), now refused with a message.
    #[test]
    fn fuzz_findings_are_refused_not_panics() {
        use prost::Message;
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
        let bytes = std::fs::read(dir.join("grpc_request-language-nul")).unwrap();
        let req = StreamCallRequest::decode(&bytes[..]).unwrap();
        let Some(StreamingRequest::Config(c)) = req.streaming_request else {
            panic!("the finding is a config");
        };
        let e = err(c);
        assert!(e.contains("config.language_code"), "{e}");
    }

    #[test]
    fn valid_stereo_mulaw_with_metadata_keys() {
        let mut c = cfg();
        c.metadata
            .insert(CALLBACK_URL_KEY.into(), "https://hooks.example/s".into());
        c.metadata.insert(VIEW_ROLE_KEY.into(), "agent".into());
        let v = validate_config(&c, &Config::default()).unwrap();
        assert_eq!(v.bytes_per_frame, 2);
        assert_eq!(
            v.spec.roles,
            vec![SpeakerRole::Agent, SpeakerRole::Customer]
        );
        assert_eq!(v.spec.language, None);
        assert_eq!(
            v.spec.identity.callback_url.as_deref(),
            Some("https://hooks.example/s")
        );
        assert_eq!(v.view_role, "agent");
    }

    #[test]
    fn each_bad_field_is_named_as_in_call_config() {
        let cases: Vec<(CallConfig, &str)> = vec![
            (
                CallConfig {
                    call_id: "".into(),
                    ..cfg()
                },
                "config.call_id is required",
            ),
            (
                CallConfig {
                    call_id: "a b".into(),
                    ..cfg()
                },
                "config.call_id must be",
            ),
            (
                CallConfig {
                    tenant: "t".repeat(200),
                    ..cfg()
                },
                "config.tenant is limited to 128 bytes",
            ),
            (
                CallConfig {
                    encoding: 0,
                    ..cfg()
                },
                "config.encoding is required",
            ),
            (
                CallConfig {
                    encoding: 9,
                    ..cfg()
                },
                "config.encoding 9",
            ),
            (
                CallConfig {
                    sample_rate_hz: 4000,
                    ..cfg()
                },
                "config.sample_rate_hz 4000",
            ),
            (
                CallConfig {
                    sample_rate_hz: -8000,
                    ..cfg()
                },
                "config.sample_rate_hz -8000 is out of range",
            ),
            (
                CallConfig {
                    audio_channel_count: 3,
                    ..cfg()
                },
                "config.audio_channel_count must be 1 or 2, got 3",
            ),
            (
                CallConfig {
                    audio_channel_count: -1,
                    ..cfg()
                },
                "config.audio_channel_count must be 1 or 2, got -1",
            ),
            (
                CallConfig {
                    channel_roles: vec![1, 7],
                    ..cfg()
                },
                "config.channel_roles[1]",
            ),
            (
                CallConfig {
                    channel_roles: vec![1, 2, 2],
                    ..cfg()
                },
                "config.channel_roles has 3 entries",
            ),
            (
                CallConfig {
                    language_code: "xx-YY".into(),
                    ..cfg()
                },
                "config.language_code \"xx-YY\"",
            ),
            (
                CallConfig {
                    caller_number: "call me".into(),
                    ..cfg()
                },
                "config.caller_number must be",
            ),
            (
                CallConfig {
                    vocabulary: vec!["ok".into(), "  ".into()],
                    ..cfg()
                },
                "config.vocabulary[1] must be",
            ),
        ];
        for (c, want) in cases {
            let e = err(c);
            assert!(e.contains(want), "{e:?} lacks {want:?}");
        }
        let mut c = cfg();
        c.metadata.insert(CALLBACK_URL_KEY.into(), "ftp://x".into());
        let e = err(c);
        assert!(
            e.starts_with("config.metadata[\"callsense.callback_url\"] must be an http(s) URL"),
            "{e}"
        );
        let mut c = cfg();
        c.metadata.insert("k".repeat(129), "v".into());
        assert!(err(c).contains("config.metadata is limited"));
    }

    #[test]
    fn later_requests_carry_audio_or_a_disposition() {
        let req = |r| StreamCallRequest {
            streaming_request: r,
        };
        assert!(matches!(
            inbound(req(Some(StreamingRequest::AudioContent(
                vec![0u8; 4].into()
            )))),
            Ok(Inbound::Audio(_))
        ));
        let e = inbound(req(Some(StreamingRequest::Config(cfg())))).unwrap_err();
        assert!(e.to_string().contains("first request"), "{e}");
        let e = inbound(req(None)).unwrap_err();
        assert!(
            e.to_string().contains("neither config nor audio_content"),
            "{e}"
        );
    }

    #[test]
    fn a_transport_error_is_a_cancel_and_an_undecodable_message_is_named() {
        assert_eq!(
            inbound_error(&tonic::Status::cancelled("gone")),
            CallError::Cancelled
        );
        let mut reset = tonic::Status::internal("h2 protocol error: connection reset");
        reset.set_source(std::sync::Arc::new(std::io::Error::from(
            std::io::ErrorKind::ConnectionReset,
        )));
        assert_eq!(inbound_error(&reset), CallError::Cancelled);
        let e = inbound_error(&tonic::Status::internal(
            "failed to decode Protobuf message: invalid wire type",
        ));
        assert!(
            matches!(&e, CallError::InvalidArgument(m) if m.contains("invalid wire type")),
            "{e:?}"
        );
    }
}
