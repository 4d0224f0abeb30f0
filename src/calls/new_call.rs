//! What a front door knows about a new call, and its checks.
//!
//! Owns: [`NewCall`] (ingress-neutral: the gRPC `CallConfig`, a Twilio
//! `start` message or an AudioHook `open` all become one), the checks against
//! the engine's limits, and the validated [`ValidCall`] the call path runs.
//! Errors name the field as a [`Field`]; each front door says it in its own
//! protocol's words.

use std::fmt;
use std::sync::Arc;

use crate::audio::{EndpointParams, FrontendSetup};
use crate::config::{Config, MAX_VOCABULARY_CHARS};
use crate::connect::CallIdentity;
use crate::language::LanguageHint;
use crate::pipeline::CallSpec;
use crate::proto::{AudioEncoding, SpeakerRole};

/// Channels a call may have.
pub const MAX_CHANNELS: usize = 2;
/// Sample-rate range accepted, in Hz.
/// (Jambonz forks at up to 64 kHz; Asterisk's AudioSocket up to 192 kHz.)
pub const RATES_HZ: std::ops::RangeInclusive<u32> = 8000..=192_000;
/// Longest call id, tenant and customer id, in bytes.
pub const MAX_ID_LEN: usize = 128;
/// Longest caller number, in characters.
pub const MAX_CALLER_NUMBER: usize = 32;
/// Longest entry of a call's vocabulary, in characters.
pub const MAX_VOCABULARY_ENTRY: usize = 100;

/// A call as a front door received it, before any check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewCall {
    pub call_id: String,
    pub tenant: String,
    pub customer_id: String,
    /// Digits, `+`, `-` and spaces; "" when unknown.
    pub caller_number: String,
    /// Per-call score webhook (http or https).
    pub callback_url: Option<String>,
    /// Whose view of the CRM context comes back ("" for the configured default).
    pub view_role: String,
    /// The agent on the call, when the platform says ("" when not): shown
    /// on the supervisor board.
    pub agent_id: String,
    pub encoding: Option<AudioEncoding>,
    pub sample_rate_hz: u32,
    pub channels: usize,
    /// Speaker per channel; missing entries are `RoleUnknown`.
    pub roles: Vec<SpeakerRole>,
    /// BCP-47 code, "" or "auto" to detect.
    pub language_code: String,
    /// Words and names to favour in the transcript.
    pub vocabulary: Vec<String>,
    pub interim_results: bool,
}

/// A field of [`NewCall`], for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    CallId,
    Tenant,
    CustomerId,
    CallerNumber,
    CallbackUrl,
    AgentId,
    Encoding,
    SampleRate,
    Channels,
    Roles,
    Language,
    /// One entry of the vocabulary, by index.
    VocabularyEntry(usize),
    Vocabulary,
}

impl Field {
    /// The field's name in a [`NewCall`] (front doors with their own names
    /// map [`Field`] themselves).
    pub fn name(self) -> String {
        match self {
            Self::CallId => "call_id".into(),
            Self::Tenant => "tenant".into(),
            Self::CustomerId => "customer_id".into(),
            Self::CallerNumber => "caller_number".into(),
            Self::CallbackUrl => "callback_url".into(),
            Self::AgentId => "agent_id".into(),
            Self::Encoding => "encoding".into(),
            Self::SampleRate => "sample_rate_hz".into(),
            Self::Channels => "channels".into(),
            Self::Roles => "roles".into(),
            Self::Language => "language_code".into(),
            Self::VocabularyEntry(i) => format!("vocabulary[{i}]"),
            Self::Vocabulary => "vocabulary".into(),
        }
    }
}

/// Why a [`NewCall`] was refused: the field and what is wrong with it
/// (`problem` reads after the field's name: "is required").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} {problem}", field.name())]
pub struct FieldError {
    pub field: Field,
    pub problem: String,
}

impl FieldError {
    fn new(field: Field, problem: impl Into<String>) -> Self {
        Self {
            field,
            problem: problem.into(),
        }
    }

    /// The message with the field named by `name` (a front door's own word
    /// for it, e.g. `config.call_id`).
    pub fn message_with(&self, name: impl FnOnce(Field) -> String) -> String {
        format!("{} {}", name(self.field), self.problem)
    }
}

/// A call that passed every check: what the call path runs, and the limits
/// its audio is held to.
#[derive(Debug, Clone)]
pub struct ValidCall {
    pub spec: CallSpec,
    /// Bytes per sample frame (all channels).
    pub bytes_per_frame: usize,
    /// Most audio bytes the call may send (`server.max_call_seconds`).
    pub max_bytes: u64,
    pub caller_number: String,
    pub view_role: String,
    pub agent_id: String,
}

impl NewCall {
    /// Checks every field against the engine's limits and builds the call.
    ///
    /// # Errors
    /// The first field that is missing, malformed or over a limit.
    pub fn validate(&self, cfg: &Config) -> Result<ValidCall, FieldError> {
        self.check_ids()?;
        let encoding = self.encoding.ok_or_else(|| {
            FieldError::new(Field::Encoding, "is required: LINEAR16, MULAW or ALAW")
        })?;
        if !RATES_HZ.contains(&self.sample_rate_hz) {
            return Err(FieldError::new(
                Field::SampleRate,
                format!(
                    "{} is out of range: {}–{} Hz",
                    self.sample_rate_hz,
                    RATES_HZ.start(),
                    RATES_HZ.end()
                ),
            ));
        }
        if !(1..=MAX_CHANNELS).contains(&self.channels) {
            return Err(FieldError::new(
                Field::Channels,
                format!("must be 1 or {MAX_CHANNELS}, got {}", self.channels),
            ));
        }
        if self.roles.len() > self.channels {
            return Err(FieldError::new(
                Field::Roles,
                format!(
                    "has {} entries for {} channel(s)",
                    self.roles.len(),
                    self.channels
                ),
            ));
        }
        let mut roles = self.roles.clone();
        roles.resize(self.channels, SpeakerRole::RoleUnknown);
        let language = LanguageHint::parse(&self.language_code)
            .map_err(|e| FieldError::new(Field::Language, e.to_string()))?
            .fixed()
            .or(cfg.asr.language.fixed());
        let prompt = vocabulary_prompt(&cfg.asr.vocabulary, &self.vocabulary)?;
        let width = if encoding == AudioEncoding::Linear16 {
            2
        } else {
            1
        };
        let bytes_per_frame = width * self.channels;
        let max_bytes =
            cfg.server.max_call_seconds * u64::from(self.sample_rate_hz) * bytes_per_frame as u64;
        Ok(ValidCall {
            spec: CallSpec {
                call_id: self.call_id.clone(),
                identity: CallIdentity {
                    call_id: self.call_id.clone(),
                    tenant: self.tenant.clone(),
                    customer_id: self.customer_id.clone(),
                    callback_url: self.callback_url.clone(),
                },
                customer: serde_json::Value::Object(Default::default()),
                roles,
                language,
                prompt,
                interim: self.interim_results,
                setup: FrontendSetup {
                    encoding,
                    sample_rate_hz: self.sample_rate_hz,
                    channels: self.channels,
                    endpoint: EndpointParams::from_config(&cfg.audio, self.interim_results),
                },
            },
            bytes_per_frame,
            max_bytes,
            caller_number: self.caller_number.clone(),
            view_role: self.view_role.clone(),
            agent_id: self.agent_id.clone(),
        })
    }

    /// Call id, tenant, customer id, caller number and callback URL.
    fn check_ids(&self) -> Result<(), FieldError> {
        if self.call_id.is_empty() {
            return Err(FieldError::new(Field::CallId, "is required"));
        }
        if self.call_id.len() > MAX_ID_LEN
            || !self
                .call_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-_:".contains(&b))
        {
            return Err(FieldError::new(
                Field::CallId,
                format!("must be 1–{MAX_ID_LEN} characters of [A-Za-z0-9._:-]"),
            ));
        }
        for (field, value) in [
            (Field::Tenant, &self.tenant),
            (Field::CustomerId, &self.customer_id),
            (Field::AgentId, &self.agent_id),
        ] {
            if value.len() > MAX_ID_LEN {
                return Err(FieldError::new(
                    field,
                    format!("is limited to {MAX_ID_LEN} bytes"),
                ));
            }
        }
        if self.caller_number.len() > MAX_CALLER_NUMBER
            || !self
                .caller_number
                .chars()
                .all(|ch| ch.is_ascii_digit() || "+- ".contains(ch))
        {
            return Err(FieldError::new(
                Field::CallerNumber,
                format!("must be at most {MAX_CALLER_NUMBER} characters of [+0-9 -]"),
            ));
        }
        if let Some(url) = &self.callback_url {
            crate::config::check_http_url(url).map_err(|e| {
                FieldError::new(Field::CallbackUrl, format!("must be an http(s) URL: {e}"))
            })?;
        }
        Ok(())
    }
}

/// The server's and the call's vocabulary as one decoder prompt ("Acme
/// Fibre, Premium Plus, …"), or `None` when both are empty.
///
/// # Errors
/// An empty, over-long or control-character entry, or more than
/// [`MAX_VOCABULARY_CHARS`] in all.
fn vocabulary_prompt(server: &[String], call: &[String]) -> Result<Option<Arc<str>>, FieldError> {
    for (i, w) in call.iter().enumerate() {
        let n = w.trim().chars().count();
        if n == 0 || n > MAX_VOCABULARY_ENTRY || w.chars().any(char::is_control) {
            return Err(FieldError::new(
                Field::VocabularyEntry(i),
                format!(
                    "must be 1 to {MAX_VOCABULARY_ENTRY} characters without control characters"
                ),
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
        return Err(FieldError::new(
            Field::Vocabulary,
            format!(
                "with the server's asr.vocabulary comes to {n} characters; at most {MAX_VOCABULARY_CHARS}"
            ),
        ));
    }
    Ok(Some(Arc::from(prompt)))
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call() -> NewCall {
        NewCall {
            call_id: "call-1".into(),
            encoding: Some(AudioEncoding::Mulaw),
            sample_rate_hz: 8000,
            channels: 2,
            roles: vec![SpeakerRole::Agent, SpeakerRole::Customer],
            ..Default::default()
        }
    }

    fn field_of(c: NewCall) -> Field {
        c.validate(&Config::default()).unwrap_err().field
    }

    #[test]
    fn a_valid_call_carries_its_context_and_limits() {
        let mut c = call();
        c.tenant = "acme".into();
        c.customer_id = "C-9".into();
        c.callback_url = Some("https://hooks.example/x".into());
        c.roles.truncate(1);
        let v = c.validate(&Config::default()).unwrap();
        assert_eq!(v.bytes_per_frame, 2);
        assert_eq!(
            v.spec.roles,
            vec![SpeakerRole::Agent, SpeakerRole::RoleUnknown]
        );
        assert_eq!(v.spec.identity.tenant, "acme");
        assert_eq!(
            v.spec.identity.callback_url.as_deref(),
            Some("https://hooks.example/x")
        );
        assert_eq!(
            v.max_bytes,
            Config::default().server.max_call_seconds * 8000 * 2
        );
    }

    #[test]
    fn each_bad_field_is_named_by_its_field() {
        let cases: Vec<(NewCall, Field)> = vec![
            (
                NewCall {
                    call_id: "".into(),
                    ..call()
                },
                Field::CallId,
            ),
            (
                NewCall {
                    agent_id: "a".repeat(MAX_ID_LEN + 1),
                    ..call()
                },
                Field::AgentId,
            ),
            (
                NewCall {
                    call_id: "a b".into(),
                    ..call()
                },
                Field::CallId,
            ),
            (
                NewCall {
                    tenant: "t".repeat(129),
                    ..call()
                },
                Field::Tenant,
            ),
            (
                NewCall {
                    customer_id: "c".repeat(129),
                    ..call()
                },
                Field::CustomerId,
            ),
            (
                NewCall {
                    caller_number: "+1 555 CALL".into(),
                    ..call()
                },
                Field::CallerNumber,
            ),
            (
                NewCall {
                    callback_url: Some("ftp://x".into()),
                    ..call()
                },
                Field::CallbackUrl,
            ),
            (
                NewCall {
                    encoding: None,
                    ..call()
                },
                Field::Encoding,
            ),
            (
                NewCall {
                    sample_rate_hz: 4000,
                    ..call()
                },
                Field::SampleRate,
            ),
            (
                NewCall {
                    channels: 3,
                    ..call()
                },
                Field::Channels,
            ),
            (
                NewCall {
                    channels: 1,
                    ..call()
                },
                Field::Roles,
            ),
            (
                NewCall {
                    language_code: "xx-YY".into(),
                    ..call()
                },
                Field::Language,
            ),
            (
                NewCall {
                    vocabulary: vec!["ok".into(), " ".into()],
                    ..call()
                },
                Field::VocabularyEntry(1),
            ),
        ];
        for (c, want) in cases {
            assert_eq!(field_of(c), want);
        }
        let e = NewCall {
            sample_rate_hz: 4000,
            ..call()
        }
        .validate(&Config::default())
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "sample_rate_hz 4000 is out of range: 8000–192000 Hz"
        );
        assert_eq!(
            e.message_with(|f| format!("start.{f}")),
            "start.sample_rate_hz 4000 is out of range: 8000–192000 Hz"
        );
    }

    #[test]
    fn vocabulary_becomes_one_prompt_within_its_limit() {
        let mut server = Config::default();
        server.asr.vocabulary = vec!["Acme Fibre".into()];
        let mut c = call();
        c.vocabulary = vec!["Premium Plus".into(), " Zeta Mobile ".into()];
        let v = c.validate(&server).unwrap();
        assert_eq!(
            v.spec.prompt.as_deref(),
            Some("Acme Fibre, Premium Plus, Zeta Mobile")
        );
        assert_eq!(
            call().validate(&Config::default()).unwrap().spec.prompt,
            None
        );
        c.vocabulary = vec!["y".repeat(100); 7];
        let e = c.validate(&Config::default()).unwrap_err();
        assert_eq!(e.field, Field::Vocabulary);
        assert!(e.problem.contains("at most 600"), "{e}");
    }

    #[test]
    fn a_calls_language_wins_over_the_configured_default() {
        let lang = |code: &str, default: &str| {
            let mut cfg = Config::default();
            cfg.asr.language = LanguageHint::parse(default).unwrap();
            let mut c = call();
            c.language_code = code.into();
            c.validate(&cfg).unwrap().spec.language.map(|l| l.code())
        };
        assert_eq!(lang("en-US", "zh"), Some("en"));
        assert_eq!(lang("", "zh"), Some("zh"));
        assert_eq!(lang("auto", "zh"), Some("zh"), "auto defers to the server");
        assert_eq!(lang("", "auto"), None);
        assert_eq!(lang("zh_CN", "auto"), Some("zh"));
    }
}
