//! Twilio Media Streams (and the same messages from Telnyx and Exotel).
//!
//! Owns: the protocol's JSON messages (`connected`, `start`, `media`,
//! `dtmf`, `mark`, `stop`; Twilio's camelCase and the snake_case of Telnyx
//! and Exotel alike), `X-Twilio-Signature` checking, turning `start` into a
//! [`NewCall`] (call id, tracks → channels and roles, custom parameters →
//! tenant, customer, caller number, callback URL, language), and a call's
//! media: each track is placed by its timestamp and the two tracks of
//! `both_tracks` are interleaved into one stereo stream (see
//! [`crate::ingress::interleave`]). Twilio takes nothing back on a one-way stream and
//! only `mark` / `clear` on a two-way one, so results go out through the
//! sinks and the per-call callback, never on the socket.

use std::collections::BTreeMap;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha1::Sha1;

use crate::calls::{Field, FieldError, NewCall};
use crate::ingress::interleave::{InterleaveError, Interleaver};
use crate::ingress::Side;
use crate::proto::AudioEncoding;

/// One message from the platform.
#[derive(Debug, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum Message {
    Connected {},
    Start {
        #[serde(alias = "stream_sid", alias = "stream_id", default)]
        #[serde(rename = "streamSid")]
        stream_sid: Option<String>,
        start: Start,
    },
    Media {
        media: Media,
    },
    Dtmf {},
    Mark {},
    Stop {},
}

/// `start`: who the call is and what its audio is.
#[derive(Debug, Default, Deserialize)]
pub struct Start {
    #[serde(
        rename = "callSid",
        alias = "call_sid",
        alias = "call_control_id",
        default
    )]
    pub call_sid: String,
    #[serde(rename = "accountSid", alias = "account_sid", default)]
    pub account_sid: String,
    #[serde(rename = "streamSid", alias = "stream_sid", default)]
    pub stream_sid: String,
    /// "inbound", "outbound" (Twilio: the tracks of `track=both_tracks`).
    #[serde(default)]
    pub tracks: Vec<String>,
    #[serde(rename = "mediaFormat", alias = "media_format", default)]
    pub media_format: MediaFormat,
    #[serde(rename = "customParameters", alias = "custom_parameters", default)]
    pub custom_parameters: BTreeMap<String, String>,
    /// Exotel and Telnyx name the caller here.
    #[serde(default)]
    pub from: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct MediaFormat {
    #[serde(default)]
    pub encoding: String,
    #[serde(rename = "sampleRate", alias = "sample_rate", default)]
    pub sample_rate: u32,
    #[serde(default)]
    pub channels: Option<u32>,
}

/// `media`: 20 ms (Twilio) of one track.
#[derive(Debug, Deserialize)]
pub struct Media {
    /// Absent with one-track streams.
    #[serde(default)]
    pub track: Option<String>,
    /// Milliseconds from the start of the stream (a string from Twilio, a
    /// number from some others).
    #[serde(default, deserialize_with = "number_or_string")]
    pub timestamp: Option<u64>,
    pub payload: String,
}

fn number_or_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    match v {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom("timestamp is not a whole number of ms")),
        Some(serde_json::Value::String(s)) => s.parse().map(Some).map_err(|_| {
            serde::de::Error::custom(format!("timestamp {s:?} is not a number of ms"))
        }),
        Some(_) => Err(serde::de::Error::custom("timestamp is not a number")),
    }
}

/// How a listener maps Twilio's calls onto the engine's.
#[derive(Debug, Clone)]
pub struct CallMapping {
    /// Side of the `inbound` track (the party that called in to Twilio's number, or was called).
    pub inbound: Side,
    /// Side of the `outbound` track.
    pub outbound: Side,
    /// Tenant when the stream does not name one (custom parameter `tenant`).
    pub tenant: String,
    /// Language hint when the stream gives none ("auto" or a code).
    pub language: String,
    pub interim_results: bool,
}

/// What `start` decided about the call's media.
#[derive(Debug)]
pub struct StreamMedia {
    pub encoding: AudioEncoding,
    pub sample_rate: u32,
    /// Track names, in channel order.
    pub tracks: Vec<String>,
}

/// Why a stream was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    #[error("message is not valid JSON for this protocol: {0}")]
    Malformed(String),
    #[error("{0} before the stream's start message")]
    BeforeStart(&'static str),
    #[error("a second start message")]
    SecondStart,
    #[error("{0}")]
    Call(String),
    #[error("media payload is not base64: {0}")]
    Payload(String),
    #[error("media of track {0:?}, which the start message did not announce")]
    UnknownTrack(String),
    #[error("media: {0}")]
    Audio(#[from] InterleaveError),
}

/// Parses one text frame.
///
/// # Errors
/// Not JSON, or not one of the protocol's messages.
pub fn parse(text: &str) -> Result<Message, StreamError> {
    serde_json::from_str(text).map_err(|e| StreamError::Malformed(e.to_string()))
}

/// `start` → the engine's call, and how its media will arrive.
///
/// # Errors
/// A field the engine refuses, in Twilio's words (`start.callSid …`).
pub fn new_call(start: &Start, map: &CallMapping) -> Result<(NewCall, StreamMedia), StreamError> {
    let encoding = match start.media_format.encoding.to_ascii_lowercase().as_str() {
        "audio/x-mulaw" | "pcmu" | "mulaw" => AudioEncoding::Mulaw,
        "audio/x-alaw" | "pcma" | "alaw" => AudioEncoding::Alaw,
        "raw/slin" | "audio/l16" | "audio/x-l16" | "l16" | "linear16" => AudioEncoding::Linear16,
        other => {
            return Err(StreamError::Call(format!(
                "start.mediaFormat.encoding {other:?} is not supported (audio/x-mulaw, audio/x-alaw or raw/slin)"
            )))
        }
    };
    let tracks: Vec<String> = if start.tracks.is_empty() {
        vec!["inbound".into()]
    } else {
        start
            .tracks
            .iter()
            .map(|t| t.to_ascii_lowercase())
            .collect()
    };
    let mut roles = Vec::with_capacity(tracks.len());
    for t in &tracks {
        roles.push(match t.as_str() {
            "inbound" => map.inbound.role(),
            "outbound" => map.outbound.role(),
            other => {
                return Err(StreamError::Call(format!(
                    "start.tracks has {other:?}: only \"inbound\" and \"outbound\" exist"
                )))
            }
        });
    }
    if tracks.len() == 2 && tracks[0] == tracks[1] {
        return Err(StreamError::Call(
            "start.tracks names one track twice".into(),
        ));
    }
    let p = &start.custom_parameters;
    let param = |k: &str| {
        p.get(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let call = NewCall {
        call_id: param("call_id").unwrap_or_else(|| start.call_sid.clone()),
        tenant: param("tenant").unwrap_or_else(|| {
            if map.tenant.is_empty() {
                start.account_sid.clone()
            } else {
                map.tenant.clone()
            }
        }),
        customer_id: param("customer_id").unwrap_or_default(),
        caller_number: param("caller_number")
            .or_else(|| start.from.clone())
            .unwrap_or_default(),
        callback_url: param("callback_url"),
        view_role: param("view_role").unwrap_or_default(),
        agent_id: param("agent_id").unwrap_or_default(),
        encoding: Some(encoding),
        sample_rate_hz: if start.media_format.sample_rate == 0 {
            8000
        } else {
            start.media_format.sample_rate
        },
        channels: tracks.len(),
        roles,
        language_code: param("language").unwrap_or_else(|| map.language.clone()),
        vocabulary: param("vocabulary")
            .map(|v| {
                v.split(',')
                    .map(|w| w.trim().to_string())
                    .filter(|w| !w.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        interim_results: map.interim_results,
    };
    let media = StreamMedia {
        encoding,
        sample_rate: call.sample_rate_hz,
        tracks,
    };
    Ok((call, media))
}

/// A refused field in the protocol's words.
pub fn field_message(e: &FieldError) -> String {
    e.message_with(|f| match f {
        Field::CallId => "start.callSid (or customParameters.call_id)".into(),
        Field::Tenant => "customParameters.tenant".into(),
        Field::CustomerId => "customParameters.customer_id".into(),
        Field::CallerNumber => "customParameters.caller_number".into(),
        Field::CallbackUrl => "customParameters.callback_url".into(),
        Field::AgentId => "customParameters.agent_id".into(),
        Field::Encoding => "start.mediaFormat.encoding".into(),
        Field::SampleRate => "start.mediaFormat.sampleRate".into(),
        Field::Channels | Field::Roles => "start.tracks".into(),
        Field::Language => "customParameters.language".into(),
        Field::VocabularyEntry(i) => format!("customParameters.vocabulary[{i}]"),
        Field::Vocabulary => "customParameters.vocabulary".into(),
    })
}

/// A call's media in flight: tracks placed by timestamp and interleaved.
#[derive(Debug)]
pub struct MediaJoin {
    tracks: Vec<String>,
    rate: u32,
    width: usize,
    join: Interleaver,
}

impl MediaJoin {
    /// `max_lead_ms`: how far one track may run ahead of a silent one.
    pub fn new(media: &StreamMedia, max_lead_ms: u32) -> Self {
        let silence: &[u8] = match media.encoding {
            AudioEncoding::Mulaw => &[0xFF],
            AudioEncoding::Alaw => &[0xD5],
            _ => &[0, 0],
        };
        Self {
            tracks: media.tracks.clone(),
            rate: media.sample_rate,
            width: silence.len(),
            join: Interleaver::new(
                media.tracks.len(),
                silence,
                u64::from(max_lead_ms) * u64::from(media.sample_rate) / 1000,
            ),
        }
    }

    /// Adds one `media` message; appends to `out` the interleaved audio it
    /// completes.
    ///
    /// # Errors
    /// A payload that is not base64, an unannounced track, or audio the
    /// interleaver refuses.
    pub fn push(&mut self, m: &Media, out: &mut Vec<u8>) -> Result<(), StreamError> {
        let leg = match &m.track {
            None => 0,
            Some(t) => self
                .tracks
                .iter()
                .position(|x| x.eq_ignore_ascii_case(t))
                .ok_or_else(|| StreamError::UnknownTrack(t.clone()))?,
        };
        let audio = base64::engine::general_purpose::STANDARD
            .decode(m.payload.as_bytes())
            .map_err(|e| StreamError::Payload(e.to_string()))?;
        let at = m.timestamp.map(|ms| ms * u64::from(self.rate) / 1000);
        self.join.push(leg, at, &audio)?;
        self.join.drain(out);
        Ok(())
    }

    /// The rest, shorter tracks padded with silence.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        self.join.finish(out);
    }

    /// Bytes of one interleaved frame.
    pub fn frame_bytes(&self) -> usize {
        self.width * self.tracks.len()
    }

    pub fn interleaver(&self) -> &Interleaver {
        &self.join
    }
}

/// Twilio's request signature: base64 of HMAC-SHA1 over the URL it
/// connected to (a WebSocket upgrade is a GET with no body parameters).
pub fn signature(auth_token: &str, url: &str) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()).expect("any key length");
    mac.update(url.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether `header` is the signature of `url` under any of `tokens` (two
/// during a rotation), compared in constant time.
pub fn signature_matches(tokens: &[String], url: &str, header: &str) -> bool {
    signing_token(tokens, url, header).is_some()
}

/// Which of `tokens` signed `url` with `header`, if any.
pub fn signing_token(tokens: &[String], url: &str, header: &str) -> Option<usize> {
    let given = base64::engine::general_purpose::STANDARD
        .decode(header.trim())
        .ok()?;
    tokens.iter().position(|t| {
        let mut mac = Hmac::<Sha1>::new_from_slice(t.as_bytes()).expect("any key length");
        mac.update(url.as_bytes());
        mac.verify_slice(&given).is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::SpeakerRole;

    fn mapping() -> CallMapping {
        CallMapping {
            inbound: Side::Customer,
            outbound: Side::Agent,
            tenant: String::new(),
            language: "auto".into(),
            interim_results: false,
        }
    }

    /// Twilio's documented `start` message (both tracks, custom parameters).
    const TWILIO_START: &str = r#"{"event":"start","sequenceNumber":"1","start":{"accountSid":"AC00000000000000000000000000000000","streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0","callSid":"CA00000000000000000000000000000000","tracks":["inbound","outbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1},"customParameters":{"tenant":"acme","customer_id":"C-9","language":"en-US"}},"streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0"}"#;

    #[test]
    fn twilio_start_becomes_a_stereo_call_with_roles_per_track() {
        let Message::Start { start, stream_sid } = parse(TWILIO_START).unwrap() else {
            panic!("not a start");
        };
        assert_eq!(
            stream_sid.as_deref(),
            Some("MZ18ad3ab5a668481ce02b83e7395059f0")
        );
        let (call, media) = new_call(&start, &mapping()).unwrap();
        assert_eq!(call.call_id, "CA00000000000000000000000000000000");
        assert_eq!(
            (call.tenant.as_str(), call.customer_id.as_str()),
            ("acme", "C-9")
        );
        assert_eq!(call.language_code, "en-US");
        assert_eq!(call.channels, 2);
        assert_eq!(call.roles, [SpeakerRole::Customer, SpeakerRole::Agent]);
        assert_eq!(media.encoding, AudioEncoding::Mulaw);
        assert_eq!(media.tracks, ["inbound", "outbound"]);
        call.validate(&crate::config::Config::default()).unwrap();
    }

    #[test]
    fn the_snake_case_variant_reads_the_same() {
        let exotel = r#"{"event":"start","sequence_number":1,"stream_sid":"s1","start":{"stream_sid":"s1","call_sid":"c-1","account_sid":"acct","from":"+4420123","media_format":{"encoding":"raw/slin","sample_rate":8000,"bit_rate":"128kbps"},"custom_parameters":{}}}"#;
        let Message::Start { start, .. } = parse(exotel).unwrap() else {
            panic!("not a start");
        };
        let (call, media) = new_call(&start, &mapping()).unwrap();
        assert_eq!(call.call_id, "c-1");
        assert_eq!(
            call.tenant, "acct",
            "the account when nothing names a tenant"
        );
        assert_eq!(call.caller_number, "+4420123");
        assert_eq!(
            (call.channels, media.encoding),
            (1, AudioEncoding::Linear16)
        );
        let media =
            parse(r#"{"event":"media","media":{"timestamp":40,"payload":"AAA="}}"#).unwrap();
        assert!(matches!(
            media,
            Message::Media {
                media: Media {
                    timestamp: Some(40),
                    ..
                }
            }
        ));
    }

    #[test]
    fn bad_starts_say_what_is_wrong_in_twilios_words() {
        let mut start: Start = serde_json::from_str(
            r#"{"callSid":"CA1","tracks":["inbound"],"mediaFormat":{"encoding":"audio/ogg","sampleRate":8000}}"#,
        )
        .unwrap();
        let e = new_call(&start, &mapping()).unwrap_err().to_string();
        assert!(
            e.contains("start.mediaFormat.encoding \"audio/ogg\" is not supported"),
            "{e}"
        );
        start.media_format.encoding = "audio/x-mulaw".into();
        start.tracks = vec!["sideways".into()];
        let e = new_call(&start, &mapping()).unwrap_err().to_string();
        assert!(e.contains("start.tracks has \"sideways\""), "{e}");
        start.tracks = vec!["inbound".into()];
        start.call_sid = "bad id with spaces".into();
        let (call, _) = new_call(&start, &mapping()).unwrap();
        let e = field_message(
            &call
                .validate(&crate::config::Config::default())
                .unwrap_err(),
        );
        assert!(
            e.starts_with("start.callSid (or customParameters.call_id) "),
            "{e}"
        );
        assert!(matches!(
            parse("{\"event\":\"media\"}"),
            Err(StreamError::Malformed(_))
        ));
        assert!(matches!(parse("not json"), Err(StreamError::Malformed(_))));
    }

    #[test]
    fn tracks_are_joined_by_timestamp_into_stereo() {
        let start: Start = serde_json::from_str(
            r#"{"callSid":"CA1","tracks":["inbound","outbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000}}"#,
        )
        .unwrap();
        let (_, media) = new_call(&start, &mapping()).unwrap();
        let mut join = MediaJoin::new(&media, 500);
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let m = |track: &str, ts: u64, b: &[u8]| Media {
            track: Some(track.into()),
            timestamp: Some(ts),
            payload: b64(b),
        };
        let mut out = Vec::new();
        join.push(&m("outbound", 0, &[10; 8]), &mut out).unwrap();
        assert!(out.is_empty());
        join.push(&m("inbound", 0, &[20; 8]), &mut out).unwrap();
        assert_eq!(out, [20, 10].repeat(8), "channel 0 = inbound");
        // 1 ms = 8 samples at 8 kHz: inbound's next packet starts at 2 ms.
        join.push(&m("inbound", 2, &[21; 8]), &mut out).unwrap();
        join.finish(&mut out);
        assert_eq!(out.len(), 2 * 24);
        assert_eq!(
            &out[16..18],
            &[0xFF, 0xFF],
            "inbound's 1 ms gap is μ-law silence"
        );
        assert_eq!(join.frame_bytes(), 2);
        let e = join.push(&m("dtmf", 0, &[1]), &mut out).unwrap_err();
        assert_eq!(e, StreamError::UnknownTrack("dtmf".into()));
        let bad = Media {
            track: None,
            timestamp: None,
            payload: "%%%".into(),
        };
        assert!(matches!(
            join.push(&bad, &mut out),
            Err(StreamError::Payload(_))
        ));
    }

    #[test]
    fn signatures_follow_twilios_scheme_and_accept_rotated_tokens() {
        // HMAC-SHA1 of the URL, base64 (checked against Python's hmac module).
        let url = "wss://callsense.example.com/twilio";
        let sig = signature("12345", url);
        assert_eq!(sig, "EMsXju3bgcRI/6ET0TIQcdLoqE0=");
        let tokens = vec!["old-token".to_string(), "12345".to_string()];
        assert!(signature_matches(&tokens, url, &sig));
        assert!(!signature_matches(
            &tokens,
            "wss://callsense.example.com/other",
            &sig
        ));
        assert!(!signature_matches(&["nope".into()], url, &sig));
        assert!(!signature_matches(&tokens, url, "not base64!"));
    }
}
