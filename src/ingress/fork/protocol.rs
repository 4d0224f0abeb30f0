//! The audio-fork wire format: FreeSWITCH `mod_audio_fork` /
//! `mod_audio_stream` and Jambonz `listen`.
//!
//! Owns: reading the one JSON text frame of metadata the fork sends first
//! (free-form: FreeSWITCH sends what `uuid_audio_fork … <metadata>` was given,
//! Jambonz its call fields plus the verb's `metadata`) into a [`NewCall`],
//! with the mix type and rate from the metadata or the listener's config;
//! the mix types (mono: the caller; mixed: both in one channel; stereo:
//! caller and callee per channel); and the text frames sent back
//! (`{"type": "transcription", "data": …}`, which `mod_audio_fork` raises as
//! its `mod_audio_fork::transcription` event).

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::calls::{Field, FieldError, NewCall};
use crate::ingress::Side;
use crate::proto::{AudioEncoding, SpeakerRole};

/// How the fork mixes the call's legs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mix {
    /// One channel: the caller.
    Mono,
    /// One channel: caller and callee mixed.
    Mixed,
    /// Two channels: caller, then callee.
    Stereo,
}

impl Mix {
    fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "mono" => Some(Self::Mono),
            "mixed" => Some(Self::Mixed),
            "stereo" => Some(Self::Stereo),
            _ => None,
        }
    }
}

/// What the listener supplies where the metadata is silent.
#[derive(Debug, Clone)]
pub struct ForkDefaults {
    pub sample_rate: u32,
    pub mix: Mix,
    pub caller: Side,
    pub callee: Side,
    pub tenant: String,
    pub language: String,
    pub interim_results: bool,
}

/// The metadata frame → the engine's call.
///
/// # Errors
/// Not a JSON object, or a mix type or rate that cannot be read (the
/// engine's own checks follow in [`NewCall::validate`]).
pub fn new_call(text: &str, d: &ForkDefaults) -> Result<NewCall, String> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| format!("the first text frame must be the call's JSON metadata: {e}"))?;
    let top = v
        .as_object()
        .ok_or("the call's metadata must be a JSON object")?;
    // Jambonz nests the verb's own metadata; FreeSWITCH sends one object.
    let nested = top.get("metadata").and_then(Value::as_object);
    let get = |keys: &[&str]| -> Option<String> {
        [Some(top), nested].into_iter().flatten().find_map(|m| {
            keys.iter()
                .find_map(|k| m.get(*k))
                .and_then(text_of)
                .filter(|s| !s.is_empty())
        })
    };
    let mix = match get(&["mixType", "mix_type", "mix"]) {
        Some(m) => Mix::parse(&m)
            .ok_or_else(|| format!("metadata mixType {m:?} is not mono, mixed or stereo"))?,
        None => d.mix,
    };
    let sample_rate = match get(&["sampleRate", "sample_rate", "samplingRate"]) {
        Some(r) => parse_rate(&r).ok_or_else(|| {
            format!("metadata sampleRate {r:?} is not a rate in Hz (or 8k, 16k, …)")
        })?,
        None => d.sample_rate,
    };
    let roles = match mix {
        Mix::Mono => vec![d.caller.role()],
        Mix::Mixed => vec![SpeakerRole::RoleUnknown],
        Mix::Stereo => vec![d.caller.role(), d.callee.role()],
    };
    let vocabulary = [Some(top), nested]
        .into_iter()
        .flatten()
        .find_map(|m| m.get("vocabulary"))
        .map(|v| match v {
            Value::Array(a) => a.iter().filter_map(text_of).collect(),
            other => text_of(other)
                .unwrap_or_default()
                .split(',')
                .map(|w| w.trim().to_string())
                .filter(|w| !w.is_empty())
                .collect(),
        })
        .unwrap_or_default();
    Ok(NewCall {
        call_id: get(&["call_id", "callSid", "call_sid", "uuid", "callId", "callid"])
            .unwrap_or_default(),
        tenant: get(&["tenant"])
            .or_else(|| (!d.tenant.is_empty()).then(|| d.tenant.clone()))
            .or_else(|| get(&["accountSid", "account_sid"]))
            .unwrap_or_default(),
        customer_id: get(&["customer_id", "customerId"]).unwrap_or_default(),
        caller_number: get(&["caller_number", "from"]).unwrap_or_default(),
        callback_url: get(&["callback_url"]),
        view_role: get(&["view_role"]).unwrap_or_default(),
        agent_id: get(&["agent_id", "agentId"]).unwrap_or_default(),
        encoding: Some(AudioEncoding::Linear16),
        sample_rate_hz: sample_rate,
        channels: roles.len(),
        roles,
        language_code: get(&["language", "language_code"]).unwrap_or_else(|| d.language.clone()),
        vocabulary,
        interim_results: d.interim_results,
    })
}

/// A JSON string or number as text.
fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// "8000", "8k", "16K" → Hz.
fn parse_rate(s: &str) -> Option<u32> {
    let s = s.trim().to_ascii_lowercase();
    match s.strip_suffix('k') {
        Some(k) => k.parse::<u32>().ok()?.checked_mul(1000),
        None => s.parse().ok(),
    }
}

/// A refused field in the fork's words (its metadata keys).
pub fn field_message(e: &FieldError) -> String {
    e.message_with(|f| match f {
        Field::CallId => "metadata call_id (or callSid / uuid)".into(),
        Field::Tenant => "metadata tenant".into(),
        Field::CustomerId => "metadata customer_id".into(),
        Field::CallerNumber => "metadata caller_number (or from)".into(),
        Field::CallbackUrl => "metadata callback_url".into(),
        Field::AgentId => "metadata agent_id".into(),
        Field::Encoding => "audio encoding".into(),
        Field::SampleRate => "metadata sampleRate (or the listener's sample_rate)".into(),
        Field::Channels | Field::Roles => "metadata mixType".into(),
        Field::Language => "metadata language".into(),
        Field::VocabularyEntry(i) => format!("metadata vocabulary[{i}]"),
        Field::Vocabulary => "metadata vocabulary".into(),
    })
}

/// A result as the text frame sent back: `{"type": "transcription",
/// "data": <the StreamCallResponse as proto3 JSON>}`.
pub fn back_frame(response_json: &str) -> Option<String> {
    let data: Value = serde_json::from_str(response_json).ok()?;
    let mut m = Map::new();
    m.insert("type".into(), Value::String("transcription".into()));
    m.insert("data".into(), data);
    Some(Value::Object(m).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> ForkDefaults {
        ForkDefaults {
            sample_rate: 8000,
            mix: Mix::Stereo,
            caller: Side::Customer,
            callee: Side::Agent,
            tenant: String::new(),
            language: "auto".into(),
            interim_results: false,
        }
    }

    #[test]
    fn freeswitch_metadata_becomes_a_call_with_the_listeners_defaults() {
        // As in `uuid_audio_fork <uuid> start <url> stereo 16k {...}`.
        let c = new_call(
            r#"{"uuid":"8d1b3c0e-2f5a-4c1e-9d7b-0a6f5e4d3c2b","from":"+861381234","customer_id":"C-7","tenant":"acme"}"#,
            &defaults(),
        )
        .unwrap();
        assert_eq!(c.call_id, "8d1b3c0e-2f5a-4c1e-9d7b-0a6f5e4d3c2b");
        assert_eq!((c.tenant.as_str(), c.customer_id.as_str()), ("acme", "C-7"));
        assert_eq!(c.caller_number, "+861381234");
        assert_eq!((c.sample_rate_hz, c.channels), (8000, 2));
        assert_eq!(c.roles, [SpeakerRole::Customer, SpeakerRole::Agent]);
        assert_eq!(c.encoding, Some(AudioEncoding::Linear16));
        c.validate(&crate::config::Config::default()).unwrap();
    }

    #[test]
    fn jambonz_metadata_names_its_rate_mix_and_nested_fields() {
        let c = new_call(
            r#"{"callSid":"b6a1-42","accountSid":"acct-1","from":"15083084809","sampleRate":16000,"mixType":"mono","metadata":{"customer_id":"C-9","language":"zh-CN","vocabulary":["Platinum Plus"]}}"#,
            &defaults(),
        )
        .unwrap();
        assert_eq!(c.call_id, "b6a1-42");
        assert_eq!(
            c.tenant, "acct-1",
            "the account when nothing names a tenant"
        );
        assert_eq!((c.sample_rate_hz, c.channels), (16000, 1));
        assert_eq!(c.roles, [SpeakerRole::Customer]);
        assert_eq!(
            (c.customer_id.as_str(), c.language_code.as_str()),
            ("C-9", "zh-CN")
        );
        assert_eq!(c.vocabulary, ["Platinum Plus"]);
        let mixed = new_call(
            r#"{"uuid":"x","mixType":"MIXED","sampleRate":"16k"}"#,
            &defaults(),
        )
        .unwrap();
        assert_eq!(
            (mixed.roles.as_slice(), mixed.sample_rate_hz),
            (&[SpeakerRole::RoleUnknown][..], 16000)
        );
    }

    #[test]
    fn bad_metadata_says_what_is_wrong() {
        let e = new_call("not json", &defaults()).unwrap_err();
        assert!(e.contains("must be the call's JSON metadata"), "{e}");
        let e = new_call("[1, 2]", &defaults()).unwrap_err();
        assert!(e.contains("must be a JSON object"), "{e}");
        let e = new_call(r#"{"uuid":"x","mixType":"quad"}"#, &defaults()).unwrap_err();
        assert!(e.contains("mixType \"quad\""), "{e}");
        let e = new_call(r#"{"uuid":"x","sampleRate":"fast"}"#, &defaults()).unwrap_err();
        assert!(e.contains("sampleRate \"fast\""), "{e}");
        let c = new_call(r#"{"from":"1"}"#, &defaults()).unwrap();
        let e = field_message(&c.validate(&crate::config::Config::default()).unwrap_err());
        assert!(
            e.starts_with("metadata call_id (or callSid / uuid) "),
            "{e}"
        );
        let c = new_call(r#"{"uuid":"x","sampleRate":"64k"}"#, &defaults()).unwrap();
        assert_eq!(c.sample_rate_hz, 64_000, "Jambonz forks at up to 64 kHz");
        c.validate(&crate::config::Config::default()).unwrap();
        let c = new_call(r#"{"uuid":"x","sampleRate":4000}"#, &defaults()).unwrap();
        let e = field_message(&c.validate(&crate::config::Config::default()).unwrap_err());
        assert!(e.starts_with("metadata sampleRate"), "{e}");
    }

    #[test]
    fn results_go_back_as_transcription_frames() {
        let f = back_frame(r#"{"result":{"transcript":"hello"}}"#).unwrap();
        let v: Value = serde_json::from_str(&f).unwrap();
        assert_eq!(v["type"], "transcription");
        assert_eq!(v["data"]["result"]["transcript"], "hello");
    }
}
