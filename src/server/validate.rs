//! Checking what a client sends before any of it reaches the engine.
//!
//! Owns: `CallConfig` validation (every message names the field and the
//! allowed values) and the per-request audio checks (framing, size caps,
//! ordering). Nothing a client sends reaches an `unwrap`.

use crate::connect::CallContext;

use crate::audio::{EndpointParams, FrontendSetup};
use std::sync::Arc;

use crate::config::{Config, MAX_VOCABULARY_CHARS};
use crate::pipeline::call::Inbound;
use crate::pipeline::{CallError, CallSpec};
use crate::proto::CallDisposition;
use crate::proto::{
    stream_call_request::StreamingRequest, AudioEncoding, CallConfig, SpeakerRole,
    StreamCallRequest,
};

/// Channels a call may have.
pub const MAX_CHANNELS: i32 = 2;
/// Sample-rate range accepted.
pub const RATES_HZ: std::ops::RangeInclusive<i32> = 8000..=48_000;
const MAX_ID_LEN: usize = 128;
const MAX_METADATA_ENTRIES: usize = 64;
const MAX_METADATA_BYTES: usize = 1024;
/// Metadata key of a per-call callback URL for score webhooks.
pub const CALLBACK_URL_KEY: &str = "callsense.callback_url";
/// Metadata key naming whose view of the customer context is returned.
pub const VIEW_ROLE_KEY: &str = "callsense.view_role";

/// A validated config plus what the audio checks need.
#[derive(Debug, Clone)]
pub struct ValidCall {
    pub spec: CallSpec,
    pub bytes_per_frame: usize,
    pub max_bytes: u64,
}

/// Checks the first request's config.
///
/// # Errors
/// A message naming the offending field.
pub fn validate_config(c: &CallConfig, cfg: &Config) -> Result<ValidCall, String> {
    if c.call_id.is_empty() {
        return Err("config.call_id is required".into());
    }
    if c.call_id.len() > MAX_ID_LEN
        || !c
            .call_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_:".contains(&b))
    {
        return Err(format!(
            "config.call_id must be 1–{MAX_ID_LEN} characters of [A-Za-z0-9._:-]"
        ));
    }
    if c.tenant.len() > MAX_ID_LEN || c.customer_id.len() > MAX_ID_LEN {
        return Err(format!(
            "config.tenant and config.customer_id are limited to {MAX_ID_LEN} bytes"
        ));
    }
    let encoding = match AudioEncoding::try_from(c.encoding) {
        Ok(AudioEncoding::EncodingUnspecified) => {
            return Err("config.encoding is required: LINEAR16, MULAW or ALAW".into());
        }
        Ok(e) => e,
        Err(_) => {
            return Err(format!(
                "config.encoding {} is not a known encoding (LINEAR16=1, MULAW=2, ALAW=3)",
                c.encoding
            ))
        }
    };
    if !RATES_HZ.contains(&c.sample_rate_hz) {
        return Err(format!(
            "config.sample_rate_hz {} is out of range: {}–{} Hz",
            c.sample_rate_hz,
            RATES_HZ.start(),
            RATES_HZ.end()
        ));
    }
    let channels = if c.audio_channel_count == 0 {
        1
    } else {
        c.audio_channel_count
    };
    if !(1..=MAX_CHANNELS).contains(&channels) {
        return Err(format!(
            "config.audio_channel_count must be 1 or 2, got {}",
            c.audio_channel_count
        ));
    }
    if c.channel_roles.len() > channels as usize {
        return Err(format!(
            "config.channel_roles has {} entries for {} channel(s)",
            c.channel_roles.len(),
            channels
        ));
    }
    let mut roles = Vec::with_capacity(channels as usize);
    for i in 0..channels as usize {
        let r = c.channel_roles.get(i).copied().unwrap_or(0);
        roles.push(SpeakerRole::try_from(r).map_err(|_| {
            format!("config.channel_roles[{i}] = {r} is not a role (ROLE_UNKNOWN=0, AGENT=1, CUSTOMER=2)")
        })?);
    }
    let language = parse_language(&c.language_code)?
        .or_else(|| parse_language(&cfg.asr.language).ok().flatten());
    if c.metadata.len() > MAX_METADATA_ENTRIES
        || c.metadata
            .iter()
            .any(|(k, v)| k.len() > MAX_ID_LEN || v.len() > MAX_METADATA_BYTES)
    {
        return Err(format!(
            "config.metadata is limited to {MAX_METADATA_ENTRIES} entries, keys of {MAX_ID_LEN} bytes, values of {MAX_METADATA_BYTES} bytes"
        ));
    }
    if c.caller_number.len() > 32
        || !c
            .caller_number
            .chars()
            .all(|ch| ch.is_ascii_digit() || "+- ".contains(ch))
    {
        return Err("config.caller_number must be at most 32 characters of [+0-9 -]".into());
    }
    if let Some(url) = c.metadata.get(CALLBACK_URL_KEY) {
        crate::config::check_http_url(url).map_err(|e| {
            format!("config.metadata[\"{CALLBACK_URL_KEY}\"] must be an http(s) URL: {e}")
        })?;
    }
    let prompt = vocabulary_prompt(&cfg.asr.vocabulary, &c.vocabulary)?;
    let width = if encoding == AudioEncoding::Linear16 {
        2
    } else {
        1
    };
    let bytes_per_frame = width * channels as usize;
    let max_bytes = cfg.server.max_call_seconds * c.sample_rate_hz as u64 * bytes_per_frame as u64;
    Ok(ValidCall {
        spec: CallSpec {
            call_id: c.call_id.clone(),
            context: CallContext {
                call_id: c.call_id.clone(),
                tenant: c.tenant.clone(),
                customer_id: c.customer_id.clone(),
                callback_url: c.metadata.get(CALLBACK_URL_KEY).cloned(),
            },
            customer: serde_json::Value::Object(Default::default()),
            roles,
            language,
            prompt,
            interim: c.interim_results,
            setup: FrontendSetup {
                encoding,
                sample_rate_hz: c.sample_rate_hz as u32,
                channels: channels as usize,
                endpoint: EndpointParams::from_config(&cfg.audio, c.interim_results),
            },
        },
        bytes_per_frame,
        max_bytes,
    })
}

/// Longest entry of `CallConfig.vocabulary`, in characters.
const MAX_VOCABULARY_ENTRY: usize = 100;

/// The server's and the call's vocabulary as one decoder prompt ("Acme
/// Fibre, Premium Plus, …"), or `None` when both are empty.
///
/// # Errors
/// An empty, over-long or control-character entry, or more than
/// [`MAX_VOCABULARY_CHARS`] in all.
fn vocabulary_prompt(server: &[String], call: &[String]) -> Result<Option<Arc<str>>, String> {
    for (i, w) in call.iter().enumerate() {
        let n = w.trim().chars().count();
        if n == 0 || n > MAX_VOCABULARY_ENTRY || w.chars().any(char::is_control) {
            return Err(format!(
                "config.vocabulary[{i}] must be 1 to {MAX_VOCABULARY_ENTRY} characters without control characters"
            ));
        }
    }
    let words: Vec<&str> = server
        .iter()
        .chain(call)
        .map(|w| w.trim())
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return Ok(None);
    }
    let prompt = words.join(", ");
    let n = prompt.chars().count();
    if n > MAX_VOCABULARY_CHARS {
        return Err(format!(
            "config.vocabulary with the server's asr.vocabulary comes to {n} characters; at most {MAX_VOCABULARY_CHARS}"
        ));
    }
    Ok(Some(Arc::from(prompt)))
}

/// "" / "auto" → `None`; "en-US" → `Some("en")`.
///
/// # Errors
/// Not a language Whisper knows.
pub fn parse_language(code: &str) -> Result<Option<String>, String> {
    let code = code.trim();
    if code.is_empty() || code.eq_ignore_ascii_case("auto") {
        return Ok(None);
    }
    let primary = code
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if whisper_rs::get_lang_id(&primary).is_none() {
        return Err(format!("config.language_code \"{code}\" is not a language the recogniser knows (e.g. \"en\", \"zh\", or \"auto\")"));
    }
    Ok(Some(primary))
}

/// Checks every request after the first.
/// Checks a disposition's sizes.
fn check_disposition(d: &CallDisposition) -> Result<(), String> {
    if d.service_result.len() > 64 || d.transfer_reason.len() > 256 || d.agent_id.len() > 128 {
        return Err(
            "disposition: service_result ≤ 64 bytes, transfer_reason ≤ 256, agent_id ≤ 128".into(),
        );
    }
    if d.tags.len() > 16 || d.tags.iter().any(|t| t.len() > 64) {
        return Err("disposition.tags: at most 16 tags of 64 bytes".into());
    }
    Ok(())
}

pub struct AudioValidator {
    bytes_per_frame: usize,
    max_chunk: usize,
    max_bytes: u64,
    max_seconds: u64,
    received: u64,
    encoding: AudioEncoding,
    disposed: bool,
}

impl AudioValidator {
    pub fn new(call: &ValidCall, cfg: &Config) -> Self {
        Self {
            bytes_per_frame: call.bytes_per_frame,
            max_chunk: cfg.server.max_chunk_bytes,
            max_bytes: call.max_bytes,
            disposed: false,
            max_seconds: cfg.server.max_call_seconds,
            received: 0,
            encoding: call.spec.setup.encoding,
        }
    }

    /// Audio bytes of one request, or why the call must end.
    ///
    /// # Errors
    /// Misplaced config, empty request, oversize or misaligned chunk, call too long.
    pub fn check(&mut self, req: StreamCallRequest) -> Result<Inbound, CallError> {
        let bytes = match req.streaming_request {
            Some(StreamingRequest::AudioContent(b)) => b,
            Some(StreamingRequest::Disposition(d)) => {
                if std::mem::replace(&mut self.disposed, true) {
                    return Err(CallError::InvalidArgument(
                        "disposition may be sent only once per call".into(),
                    ));
                }
                check_disposition(&d).map_err(CallError::InvalidArgument)?;
                return Ok(Inbound::Disposition(d));
            }
            Some(StreamingRequest::Config(_)) => {
                return Err(CallError::InvalidArgument(
                    "config may only be sent in the first request of a stream".into(),
                ));
            }
            None => {
                return Err(CallError::InvalidArgument(
                    "request carries neither config nor audio_content".into(),
                ))
            }
        };
        if bytes.len() > self.max_chunk {
            return Err(CallError::InvalidArgument(format!(
                "audio_content chunk of {} bytes exceeds the limit of {} bytes (see CallAccepted.max_chunk_bytes)",
                bytes.len(),
                self.max_chunk
            )));
        }
        if bytes.len() % self.bytes_per_frame != 0 {
            let what = if self.encoding == AudioEncoding::Linear16 {
                "16-bit LINEAR16 samples"
            } else {
                "8-bit G.711 samples"
            };
            return Err(CallError::InvalidArgument(format!(
                "audio_content chunk of {} bytes is not a whole number of {}-byte frames ({what}, {} channel(s))",
                bytes.len(),
                self.bytes_per_frame,
                self.bytes_per_frame / if self.encoding == AudioEncoding::Linear16 { 2 } else { 1 }
            )));
        }
        self.received += bytes.len() as u64;
        if self.received > self.max_bytes {
            return Err(CallError::InvalidArgument(format!(
                "call exceeds the longest call accepted ({} s of audio, server.max_call_seconds)",
                self.max_seconds
            )));
        }
        Ok(Inbound::Audio(bytes))
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

    #[test]
    fn vocabulary_becomes_one_prompt_and_bad_entries_are_named() {
        let mut server = Config::default();
        server.asr.vocabulary = vec!["Acme Fibre".into()];
        let mut c = cfg();
        c.vocabulary = vec!["Premium Plus".into(), " Zeta Mobile ".into()];
        let v = validate_config(&c, &server).unwrap();
        assert_eq!(
            v.spec.prompt.as_deref(),
            Some("Acme Fibre, Premium Plus, Zeta Mobile")
        );
        assert_eq!(
            validate_config(&cfg(), &Config::default())
                .unwrap()
                .spec
                .prompt,
            None
        );
        for (bad, words) in [
            ("config.vocabulary[1]", vec!["ok".to_string(), "  ".into()]),
            ("config.vocabulary[0]", vec!["x".repeat(101)]),
            ("config.vocabulary[0]", vec!["new\nline".into()]),
            ("at most 600", vec!["y".repeat(100); 7]),
        ] {
            let mut c = cfg();
            c.vocabulary = words;
            let e = err(c);
            assert!(e.contains(bad), "{e}");
        }
    }

    #[test]
    fn valid_stereo_mulaw() {
        let v = validate_config(&cfg(), &Config::default()).unwrap();
        assert_eq!(v.bytes_per_frame, 2);
        assert_eq!(
            v.spec.roles,
            vec![SpeakerRole::Agent, SpeakerRole::Customer]
        );
        assert_eq!(v.spec.language, None);
    }

    #[test]
    fn each_bad_field_is_named() {
        assert!(err(CallConfig {
            call_id: "".into(),
            ..cfg()
        })
        .contains("call_id"));
        assert!(err(CallConfig {
            call_id: "a b".into(),
            ..cfg()
        })
        .contains("call_id"));
        assert!(err(CallConfig {
            encoding: 0,
            ..cfg()
        })
        .contains("encoding is required"));
        assert!(err(CallConfig {
            encoding: 9,
            ..cfg()
        })
        .contains("encoding 9"));
        assert!(err(CallConfig {
            sample_rate_hz: 4000,
            ..cfg()
        })
        .contains("sample_rate_hz 4000"));
        assert!(err(CallConfig {
            audio_channel_count: 3,
            ..cfg()
        })
        .contains("audio_channel_count"));
        assert!(err(CallConfig {
            channel_roles: vec![1, 7],
            ..cfg()
        })
        .contains("channel_roles[1]"));
        assert!(err(CallConfig {
            language_code: "xx-YY".into(),
            ..cfg()
        })
        .contains("language_code"));
    }

    #[test]
    fn language_codes() {
        assert_eq!(parse_language("en-US").unwrap().as_deref(), Some("en"));
        assert_eq!(parse_language("zh_CN").unwrap().as_deref(), Some("zh"));
        assert_eq!(parse_language("AUTO").unwrap(), None);
    }

    #[test]
    fn audio_checks() {
        let c = Config::default();
        let call = validate_config(
            &CallConfig {
                encoding: AudioEncoding::Linear16 as i32,
                ..cfg()
            },
            &c,
        )
        .unwrap();
        let mut v = AudioValidator::new(&call, &c);
        let audio = |n: usize| StreamCallRequest {
            streaming_request: Some(StreamingRequest::AudioContent(vec![0u8; n].into())),
        };
        assert!(v.check(audio(640)).is_ok());
        let e = v.check(audio(642)).unwrap_err().to_string();
        assert!(
            e.contains("642 bytes") && e.contains("4-byte frames"),
            "{e}"
        );
        let e = v
            .check(audio(c.server.max_chunk_bytes + 4))
            .unwrap_err()
            .to_string();
        assert!(e.contains("exceeds the limit"), "{e}");
        let again = StreamCallRequest {
            streaming_request: Some(StreamingRequest::Config(cfg())),
        };
        assert!(v
            .check(again)
            .unwrap_err()
            .to_string()
            .contains("first request"));
    }
}
