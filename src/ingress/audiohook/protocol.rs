//! Genesys AudioHook's messages (protocol version 2) as a server reads and
//! writes them.
//!
//! Owns: the envelope checks in the order the reference server makes them
//! (size, JSON, shape, `seq`, `serverseq`, session id, parameters), the
//! sequence numbers of both sides, server messages, choosing one of the
//! offered media, and turning `open` into a [`NewCall`].

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::calls::{Field, FieldError, NewCall};
use crate::ingress::config::Side;
use crate::proto::{AudioEncoding, SpeakerRole};

/// Longest text message accepted, in characters.
pub const MAX_TEXT_CHARS: usize = 65_535;
/// The id of a connection probe's conversation and participant.
pub const NULL_UUID: &str = "00000000-0000-0000-0000-000000000000";

/// One offered (or chosen) media format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Media {
    #[serde(rename = "type")]
    pub kind: String,
    pub format: String,
    pub channels: Vec<String>,
    pub rate: u32,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Participant {
    pub id: String,
    #[serde(default)]
    pub ani: String,
    #[serde(default)]
    pub ani_name: String,
    #[serde(default)]
    pub dnis: String,
}

/// `open`'s parameters.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Open {
    pub organization_id: String,
    pub conversation_id: String,
    pub participant: Participant,
    pub media: Vec<Media>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub supported_languages: Option<bool>,
    #[serde(default)]
    pub custom_config: Option<Map<String, Value>>,
}

impl Open {
    /// A connection probe (Genesys checking the endpoint, no call behind it).
    pub fn is_probe(&self) -> bool {
        self.conversation_id == NULL_UUID
    }
}

/// A client message, checked.
#[derive(Debug, Clone)]
pub enum ClientMessage {
    Open(Box<Open>),
    Close { reason: String },
    Ping,
    Paused,
    Resumed,
    Update,
    Discarded,
    Error { code: i64, message: String },
}

#[derive(Deserialize)]
struct Envelope {
    version: String,
    id: String,
    #[serde(rename = "type")]
    kind: String,
    seq: u64,
    serverseq: u64,
    position: String,
    parameters: Map<String, Value>,
}

/// Both sides' sequence numbers and the session id: what every message is
/// checked against and numbered with.
#[derive(Debug)]
pub struct Sequence {
    session_id: String,
    /// The last client `seq` received.
    client: u64,
    /// The last server `seq` sent.
    server: u64,
}

impl Sequence {
    pub fn new(session_id: &str) -> Self {
        Self {
            session_id: session_id.to_ascii_lowercase(),
            client: 0,
            server: 0,
        }
    }

    /// Reads one client text message.
    ///
    /// # Errors
    /// The `info` of the `disconnect` the reference server sends for it.
    pub fn receive(&mut self, text: &str) -> Result<ClientMessage, String> {
        let chars = text.chars().count();
        if chars > MAX_TEXT_CHARS {
            return Err(format!(
                "Client Error: Text message too large (>64K). Length: {chars}"
            ));
        }
        let v: Value = serde_json::from_str(text)
            .map_err(|_| "Client Error: Text message not valid JSON".to_string())?;
        let env: Envelope = serde_json::from_value(v)
            .ok()
            .filter(|e: &Envelope| {
                e.version == "2" && is_uuid(&e.id) && parse_duration(&e.position).is_some()
            })
            .ok_or("Client Error: Message not a well-formed client message")?;
        if env.seq != self.client + 1 {
            return Err("Client Error: Invalid seq value (not monotonically increasing)".into());
        }
        self.client = env.seq;
        if env.serverseq > self.server {
            return Err("Client Error: Invalid serverseq value".into());
        }
        if env.id.to_ascii_lowercase() != self.session_id {
            return Err("Client Error: Session identifier mismatch".into());
        }
        let bad = || "Client Error: Invalid Message: Invalid/missing parameters".to_string();
        let p = Value::Object(env.parameters);
        let text_of = |k: &str| p.get(k).and_then(Value::as_str).map(str::to_owned);
        Ok(match env.kind.as_str() {
            "open" => {
                let open: Open = serde_json::from_value(p.clone()).map_err(|_| bad())?;
                if !is_uuid(&open.organization_id)
                    || !is_uuid(&open.conversation_id)
                    || !is_uuid(&open.participant.id)
                {
                    return Err(bad());
                }
                ClientMessage::Open(Box::new(open))
            }
            "close" => ClientMessage::Close {
                reason: text_of("reason").ok_or_else(bad)?,
            },
            "ping" => ClientMessage::Ping,
            "paused" => ClientMessage::Paused,
            "resumed" => ClientMessage::Resumed,
            "update" => ClientMessage::Update,
            "discarded" => ClientMessage::Discarded,
            "error" => ClientMessage::Error {
                code: p.get("code").and_then(Value::as_i64).ok_or_else(bad)?,
                message: text_of("message").unwrap_or_default(),
            },
            other => {
                return Err(format!(
                    "Client Error: Invalid Message: '{other}' is not a supported client message"
                ))
            }
        })
    }

    /// After a `disconnect`: whether `text` is the client's `close`, read
    /// leniently (its numbers may be what the error was about); its `seq`
    /// becomes the last seen, so `closed` answers it.
    pub fn is_close(&mut self, text: &str) -> bool {
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            return false;
        };
        if v.get("type").and_then(Value::as_str) != Some("close") {
            return false;
        }
        if let Some(seq) = v.get("seq").and_then(Value::as_u64) {
            self.client = seq;
        }
        true
    }

    /// A server message of `kind` with `parameters`, numbered.
    pub fn reply(&mut self, kind: &str, parameters: Value) -> String {
        self.server += 1;
        json!({
            "version": "2",
            "type": kind,
            "seq": self.server,
            "clientseq": self.client,
            "id": self.session_id,
            "parameters": parameters,
        })
        .to_string()
    }
}

/// A UUID in its text form (the null UUID included).
pub fn is_uuid(s: &str) -> bool {
    uuid::Uuid::try_parse(s).is_ok() && s.len() == 36
}

/// Seconds of an ISO 8601 duration as AudioHook writes them (`PT1.5S`).
pub fn parse_duration(s: &str) -> Option<f64> {
    let n = s.strip_prefix("PT")?.strip_suffix('S')?;
    if n.is_empty() || !n.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    n.parse().ok()
}

/// `ms` as an AudioHook duration.
pub fn duration(ms: u64) -> String {
    let s = format!("{:.3}", ms as f64 / 1000.0);
    format!("PT{}S", s.trim_end_matches('0').trim_end_matches('.'))
}

/// The listener's choices for a call.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// Side of Genesys' `external` channel (the customer's line).
    pub external: Side,
    /// Side of `internal` (the agent).
    pub internal: Side,
    /// Tenant of the credentials' calls; empty: the organization id.
    pub tenant: String,
    pub language: String,
    pub interim_results: bool,
}

/// The media to take from an `open`: the first stereo offer the engine can
/// decode, else the first mono one. `None`: nothing usable was offered.
pub fn choose_media(offered: &[Media]) -> Option<Media> {
    let usable = |m: &&Media| {
        m.kind == "audio"
            && (m.format == "PCMU" || m.format == "L16")
            && crate::calls::RATES_HZ.contains(&m.rate)
            && !m.channels.is_empty()
            && m.channels.len() <= 2
            && m.channels
                .iter()
                .all(|c| c == "external" || c == "internal")
    };
    offered
        .iter()
        .filter(usable)
        .find(|m| m.channels.len() == 2)
        .or_else(|| offered.iter().find(usable))
        .cloned()
}

/// The call an `open` describes, with `media` chosen from it.
pub fn new_call(open: &Open, media: &Media, map: &Mapping) -> NewCall {
    let custom = open.custom_config.clone().unwrap_or_default();
    let get = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| custom.get(*k))
            .and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .filter(|s| !s.is_empty())
    };
    let roles = media
        .channels
        .iter()
        .map(|c| match c.as_str() {
            "external" => map.external.role(),
            "internal" => map.internal.role(),
            _ => SpeakerRole::RoleUnknown,
        })
        .collect::<Vec<_>>();
    let vocabulary = match custom.get("vocabulary") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Some(Value::String(s)) => s
            .split(',')
            .map(|w| w.trim().to_string())
            .filter(|w| !w.is_empty())
            .collect(),
        _ => Vec::new(),
    };
    NewCall {
        call_id: get(&["call_id", "callId"]).unwrap_or_else(|| open.conversation_id.clone()),
        tenant: if map.tenant.is_empty() {
            open.organization_id.clone()
        } else {
            map.tenant.clone()
        },
        customer_id: get(&["customer_id", "customerId"]).unwrap_or_default(),
        caller_number: phone_number(&open.participant.ani),
        callback_url: get(&["callback_url", "callbackUrl"]),
        view_role: get(&["view_role", "viewRole"]).unwrap_or_default(),
        agent_id: get(&["agent_id", "agentId"]).unwrap_or_default(),
        encoding: Some(if media.format == "L16" {
            AudioEncoding::Linear16
        } else {
            AudioEncoding::Mulaw
        }),
        sample_rate_hz: media.rate,
        channels: roles.len(),
        roles,
        language_code: open
            .language
            .clone()
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| map.language.clone()),
        vocabulary,
        interim_results: map.interim_results,
    }
}

/// Genesys' ANI (`tel:+13175550123`, or a SIP URI for internal calls) as a
/// caller number; "" when it is not a phone number.
fn phone_number(ani: &str) -> String {
    let n = ani.strip_prefix("tel:").unwrap_or(ani).trim();
    let ok = !n.is_empty()
        && n.chars().any(|c| c.is_ascii_digit())
        && n.chars().all(|c| c.is_ascii_digit() || "+- ".contains(c));
    if ok {
        n.chars().take(crate::calls::MAX_CALLER_NUMBER).collect()
    } else {
        String::new()
    }
}

/// A refused field of the call in AudioHook's words.
pub fn field_message(e: &FieldError) -> String {
    e.message_with(|f| match f {
        Field::CallId => "open.conversationId (or customConfig.call_id)".into(),
        Field::Tenant => "the tenant (credentials' tenant or organizationId)".into(),
        Field::CustomerId => "customConfig.customer_id".into(),
        Field::CallerNumber => "participant.ani".into(),
        Field::CallbackUrl => "customConfig.callback_url".into(),
        Field::AgentId => "customConfig.agent_id".into(),
        Field::Encoding | Field::SampleRate | Field::Channels | Field::Roles => {
            "the chosen media".into()
        }
        Field::Language => "open.language".into(),
        Field::VocabularyEntry(i) => format!("customConfig.vocabulary[{i}]"),
        Field::Vocabulary => "customConfig.vocabulary".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SID: &str = "16ef329a-1c2b-4b5c-9d8e-0123456789ab";

    fn msg(kind: &str, seq: u64, serverseq: u64, params: Value) -> String {
        json!({"version":"2","type":kind,"id":SID,"seq":seq,"serverseq":serverseq,
               "position":"PT0S","parameters":params})
        .to_string()
    }

    fn open_params() -> Value {
        json!({"organizationId":"56e6a4b1-1c2b-4b5c-9d8e-0123456789ab",
               "conversationId":"009b3c4d-1c2b-4b5c-9d8e-0123456789ab",
               "participant":{"id":"e625a1b2-1c2b-4b5c-9d8e-0123456789ab","ani":"+1-555-555-1234",
                              "aniName":"John Doe","dnis":"+1-800-555-6789"},
               "media":[{"type":"audio","format":"PCMU","channels":["external","internal"],"rate":8000},
                        {"type":"audio","format":"PCMU","channels":["external"],"rate":8000}],
               "customConfig":{"customer_id":"C-1042"},"language":"en-US","supportedLanguages":false})
    }

    #[test]
    fn messages_are_checked_in_the_reference_order() {
        let mut s = Sequence::new(SID);
        assert!(matches!(
            s.receive(&msg("open", 1, 0, open_params())),
            Ok(ClientMessage::Open(_))
        ));
        let opened = s.reply("opened", json!({}));
        let v: Value = serde_json::from_str(&opened).unwrap();
        assert_eq!(
            (v["seq"].as_u64(), v["clientseq"].as_u64()),
            (Some(1), Some(1))
        );
        assert!(matches!(
            s.receive(&msg("ping", 2, 1, json!({}))),
            Ok(ClientMessage::Ping)
        ));
        let e = |s: &mut Sequence, t: &str| s.receive(t).unwrap_err();
        assert_eq!(
            e(&mut s, &msg("ping", 4, 1, json!({}))),
            "Client Error: Invalid seq value (not monotonically increasing)"
        );
        let mut s = Sequence::new(SID);
        assert_eq!(e(&mut s, "{"), "Client Error: Text message not valid JSON");
        assert_eq!(
            e(&mut s, r#"{"version":"1","type":"open"}"#),
            "Client Error: Message not a well-formed client message"
        );
        assert_eq!(
            e(&mut s, &msg("ping", 1, 5, json!({}))),
            "Client Error: Invalid serverseq value"
        );
        let other = msg("ping", 2, 0, json!({})).replace(SID, NULL_UUID);
        assert_eq!(
            e(&mut s, &other),
            "Client Error: Session identifier mismatch"
        );
        assert_eq!(
            e(&mut s, &msg("dance", 3, 0, json!({}))),
            "Client Error: Invalid Message: 'dance' is not a supported client message"
        );
        assert_eq!(
            e(&mut s, &msg("close", 4, 0, json!({}))),
            "Client Error: Invalid Message: Invalid/missing parameters"
        );
        let big = "x".repeat(MAX_TEXT_CHARS + 1);
        assert!(e(&mut s, &big).contains("Text message too large"));
    }

    #[test]
    fn open_becomes_a_stereo_call_with_the_external_side_first() {
        let open: Open = serde_json::from_value(open_params()).unwrap();
        let media = choose_media(&open.media).unwrap();
        assert_eq!(media.channels, ["external", "internal"]);
        let map = Mapping {
            external: Side::Customer,
            internal: Side::Agent,
            tenant: String::new(),
            language: "auto".into(),
            interim_results: false,
        };
        let call = new_call(&open, &media, &map);
        assert_eq!(call.call_id, "009b3c4d-1c2b-4b5c-9d8e-0123456789ab");
        assert_eq!(call.tenant, "56e6a4b1-1c2b-4b5c-9d8e-0123456789ab");
        assert_eq!(call.roles, [SpeakerRole::Customer, SpeakerRole::Agent]);
        assert_eq!(
            (call.encoding, call.sample_rate_hz),
            (Some(AudioEncoding::Mulaw), 8000)
        );
        assert_eq!(
            (call.customer_id.as_str(), call.caller_number.as_str()),
            ("C-1042", "+1-555-555-1234")
        );
        assert_eq!(call.language_code, "en-US");
        // An inverted offer keeps its order; a mono one is taken when alone.
        let inv = Media {
            kind: "audio".into(),
            format: "PCMU".into(),
            channels: vec!["internal".into(), "external".into()],
            rate: 8000,
        };
        assert_eq!(
            new_call(&open, &inv, &map).roles,
            [SpeakerRole::Agent, SpeakerRole::Customer]
        );
        let mono = Media {
            channels: vec!["internal".into()],
            ..inv.clone()
        };
        assert_eq!(choose_media(std::slice::from_ref(&mono)), Some(mono));
        let opus = Media {
            format: "OPUS".into(),
            ..inv
        };
        assert_eq!(choose_media(&[opus]), None);
        assert_eq!(phone_number("tel:+13175550123"), "+13175550123");
        assert_eq!(phone_number("sip:agent@example.com"), "");
    }

    #[test]
    fn durations_read_and_write_as_audiohook_does() {
        assert_eq!(parse_duration("PT0S"), Some(0.0));
        assert_eq!(parse_duration("PT0.001002791S"), Some(0.001_002_791));
        assert_eq!(parse_duration("PT10S"), Some(10.0));
        assert_eq!(parse_duration("P1D"), None);
        assert_eq!(parse_duration("PT-1S"), None);
        assert_eq!(duration(1230), "PT1.23S");
        assert_eq!(duration(2000), "PT2S");
        assert_eq!(duration(0), "PT0S");
    }
}
