//! HTTP Message Signatures as Genesys AudioHook signs its upgrade requests
//! (draft-ietf-httpbis-message-signatures-11, `hmac-sha256` only).
//!
//! Owns: parsing `Signature-Input` / `Signature` (the subset of RFC 8941
//! structured fields they use), building the signature base from the
//! request, checking the MAC in constant time, the time window and the
//! nonce, and signing (the tests' client signs as Genesys does).

use std::collections::HashMap;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Components every AudioHook signature must cover.
pub const REQUIRED: [&str; 6] = [
    "@request-target",
    "@authority",
    "audiohook-organization-id",
    "audiohook-session-id",
    "audiohook-correlation-id",
    "x-api-key",
];
/// Shortest nonce accepted.
const MIN_NONCE_CHARS: usize = 22;

/// Why a signature was not accepted (said in the 401's body).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("Signature-Input and Signature headers are required")]
    Missing,
    #[error("Signature-Input is malformed: {0}")]
    Malformed(String),
    #[error("the signature must cover {0}")]
    Uncovered(&'static str),
    #[error("unsupported signature algorithm {0:?} (hmac-sha256 only)")]
    Algorithm(String),
    #[error("keyid does not match X-API-KEY")]
    KeyId,
    #[error("the signature has no nonce of at least {MIN_NONCE_CHARS} characters")]
    Nonce,
    #[error("the nonce was already used")]
    Replayed,
    #[error("the signature has no created time")]
    NoCreated,
    #[error("the signature was created in the future (check the clocks)")]
    Future,
    #[error("the signature has expired")]
    Expired,
    #[error("a covered component is missing from the request: {0}")]
    Component(String),
    #[error("the signature does not match")]
    Mismatch,
}

/// A parameter value in `Signature-Input`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Str(String),
    Int(i64),
    Token(String),
}

/// One parsed signature: its label, covered components and parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureInput {
    pub label: String,
    pub components: Vec<String>,
    params: Vec<(String, Value)>,
}

impl SignatureInput {
    fn param(&self, key: &str) -> Option<&Value> {
        self.params.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    fn str_param(&self, key: &str) -> Option<&str> {
        match self.param(key)? {
            Value::Str(s) | Value::Token(s) => Some(s),
            Value::Int(_) => None,
        }
    }

    fn int_param(&self, key: &str) -> Option<i64> {
        match self.param(key)? {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The inner list serialised as RFC 8941 does (the `@signature-params` value).
    pub fn serialized(&self) -> String {
        let mut s = String::from("(");
        for (i, c) in self.components.iter().enumerate() {
            if i > 0 {
                s.push(' ');
            }
            s.push('"');
            s.push_str(c);
            s.push('"');
        }
        s.push(')');
        for (k, v) in &self.params {
            s.push(';');
            s.push_str(k);
            s.push('=');
            match v {
                Value::Str(x) => {
                    s.push('"');
                    s.push_str(&x.replace('\\', "\\\\").replace('"', "\\\""));
                    s.push('"');
                }
                Value::Int(i) => s.push_str(&i.to_string()),
                Value::Token(t) => s.push_str(t),
            }
        }
        s
    }
}

/// Parses the first member of a `Signature-Input` dictionary.
///
/// # Errors
/// Not a `label=("component" …);param=value…` member.
pub fn parse_input(header: &str) -> Result<SignatureInput, SignatureError> {
    let bad = |m: &str| SignatureError::Malformed(m.into());
    let mut p = Parser(header.trim().as_bytes(), 0);
    let label = p.key().ok_or_else(|| bad("no label"))?;
    p.expect(b'=')
        .ok_or_else(|| bad("no '=' after the label"))?;
    p.expect(b'(')
        .ok_or_else(|| bad("the components must be an inner list"))?;
    let mut components = Vec::new();
    loop {
        p.spaces();
        if p.expect(b')').is_some() {
            break;
        }
        components.push(
            p.string()
                .ok_or_else(|| bad("a component is not a quoted string"))?,
        );
    }
    let mut params = Vec::new();
    while p.expect(b';').is_some() {
        p.spaces();
        let k = p.key().ok_or_else(|| bad("a parameter has no name"))?;
        p.expect(b'=')
            .ok_or_else(|| bad("a parameter has no value"))?;
        let v = if let Some(s) = p.string() {
            Value::Str(s)
        } else if let Some(i) = p.integer() {
            Value::Int(i)
        } else {
            Value::Token(
                p.key()
                    .ok_or_else(|| bad("a parameter value is not a string, integer or token"))?,
            )
        };
        params.push((k, v));
    }
    Ok(SignatureInput {
        label,
        components,
        params,
    })
}

/// The MAC in a `Signature` dictionary under `label` (`label=:base64:`).
///
/// # Errors
/// No member with that label, or not a byte sequence.
pub fn parse_signature(header: &str, label: &str) -> Result<Vec<u8>, SignatureError> {
    header
        .split(',')
        .filter_map(|m| m.trim().split_once('='))
        .find(|(k, _)| k.trim() == label)
        .and_then(|(_, v)| {
            v.trim()
                .strip_prefix(':')?
                .strip_suffix(':')
                .map(str::to_owned)
        })
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .ok_or_else(|| {
            SignatureError::Malformed(format!("Signature has no byte sequence for {label:?}"))
        })
}

/// The signature base for `input` over a request: `value(component)` gives
/// each covered component's value (`None`: the request lacks it).
///
/// # Errors
/// A covered component the request lacks.
pub fn base(
    input: &SignatureInput,
    value: impl Fn(&str) -> Option<String>,
) -> Result<String, SignatureError> {
    let mut out = String::new();
    for c in &input.components {
        let v = value(c).ok_or_else(|| SignatureError::Component(c.clone()))?;
        out.push_str(&format!("\"{c}\": {v}\n"));
    }
    out.push_str("\"@signature-params\": ");
    out.push_str(&input.serialized());
    Ok(out)
}

/// HMAC-SHA256 of `base` under `key`.
pub fn mac(key: &[u8], base: &str) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(base.as_bytes());
    m.finalize().into_bytes().to_vec()
}

/// The time and replay rules a signature is held to.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// Clock difference tolerated, in seconds.
    pub skew_s: i64,
    /// Oldest `created` accepted, in seconds before now.
    pub max_age_s: i64,
}

/// Nonces seen within the window (a replayed signed request is refused).
#[derive(Debug, Default)]
pub struct Nonces {
    seen: HashMap<String, i64>,
}

/// Most nonces remembered; past it the oldest are forgotten first.
const MAX_NONCES: usize = 100_000;

impl Nonces {
    /// Records `nonce` (created at `created`); false if it was already seen.
    fn fresh(&mut self, nonce: &str, created: i64, now: i64, window: Window) -> bool {
        let horizon = now - window.max_age_s - window.skew_s;
        if self.seen.len() >= MAX_NONCES {
            self.seen.retain(|_, c| *c >= horizon);
        }
        if self.seen.len() >= MAX_NONCES {
            if let Some(oldest) = self
                .seen
                .iter()
                .min_by_key(|(_, c)| **c)
                .map(|(n, _)| n.clone())
            {
                self.seen.remove(&oldest);
            }
        }
        self.seen.insert(nonce.to_owned(), created).is_none()
    }
}

/// Checks a signed request: `input` and `signature` are its headers,
/// `api_key` its X-API-KEY, `key` the decoded client secret, `now` Unix
/// seconds; `value` gives the request's components.
///
/// # Errors
/// What is wrong with the signature, for the 401's body.
#[allow(clippy::too_many_arguments)]
pub fn verify(
    input: &str,
    signature: &str,
    api_key: &str,
    key: &[u8],
    value: impl Fn(&str) -> Option<String>,
    now: i64,
    window: Window,
    nonces: &parking_lot::Mutex<Nonces>,
) -> Result<(), SignatureError> {
    let parsed = parse_input(input)?;
    for r in REQUIRED {
        if !parsed.components.iter().any(|c| c == r) {
            return Err(SignatureError::Uncovered(r));
        }
    }
    for (k, _) in &parsed.params {
        if !matches!(
            k.as_str(),
            "alg" | "created" | "expires" | "keyid" | "nonce"
        ) {
            return Err(SignatureError::Malformed(format!(
                "unknown parameter {k:?}"
            )));
        }
    }
    if let Some(alg) = parsed.str_param("alg") {
        if alg != "hmac-sha256" {
            return Err(SignatureError::Algorithm(alg.into()));
        }
    }
    if parsed.str_param("keyid") != Some(api_key) {
        return Err(SignatureError::KeyId);
    }
    let nonce = parsed
        .str_param("nonce")
        .filter(|n| n.chars().count() >= MIN_NONCE_CHARS)
        .ok_or(SignatureError::Nonce)?;
    let created = parsed
        .int_param("created")
        .ok_or(SignatureError::NoCreated)?;
    if created > now + window.skew_s {
        return Err(SignatureError::Future);
    }
    if created + window.max_age_s < now - window.skew_s
        || parsed
            .int_param("expires")
            .is_some_and(|e| e < now - window.skew_s)
    {
        return Err(SignatureError::Expired);
    }
    let given = parse_signature(signature, &parsed.label)?;
    let want = mac(key, &base(&parsed, value)?);
    if !crate::secret::constant_time_eq(&given, &want) {
        return Err(SignatureError::Mismatch);
    }
    // Only a valid signature spends its nonce.
    if !nonces.lock().fresh(nonce, created, now, window) {
        return Err(SignatureError::Replayed);
    }
    Ok(())
}

/// `Signature-Input` and `Signature` values for a request, signed as
/// Genesys does (components [`REQUIRED`], `created` now, `expires` +30 s).
pub fn sign(
    api_key: &str,
    key: &[u8],
    nonce: &str,
    created: i64,
    value: impl Fn(&str) -> Option<String>,
) -> (String, String) {
    let input = SignatureInput {
        label: "sig1".into(),
        components: REQUIRED.iter().map(|c| (*c).to_string()).collect(),
        params: vec![
            ("keyid".into(), Value::Str(api_key.into())),
            ("nonce".into(), Value::Str(nonce.into())),
            ("alg".into(), Value::Str("hmac-sha256".into())),
            ("created".into(), Value::Int(created)),
            ("expires".into(), Value::Int(created + 30)),
        ],
    };
    let b = base(&input, value).unwrap_or_default();
    let sig = base64::engine::general_purpose::STANDARD.encode(mac(key, &b));
    (
        format!("sig1={}", input.serialized()),
        format!("sig1=:{sig}:"),
    )
}

/// A cursor over a structured-field header.
struct Parser<'a>(&'a [u8], usize);

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.0.get(self.1).copied()
    }

    fn expect(&mut self, b: u8) -> Option<()> {
        (self.peek() == Some(b)).then(|| self.1 += 1)
    }

    fn spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.1 += 1;
        }
    }

    fn key(&mut self) -> Option<String> {
        let start = self.1;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || b"_-.*:/%+".contains(&c) {
                self.1 += 1;
            } else {
                break;
            }
        }
        (self.1 > start).then(|| String::from_utf8_lossy(&self.0[start..self.1]).into_owned())
    }

    fn string(&mut self) -> Option<String> {
        self.expect(b'"')?;
        let mut s = Vec::new();
        loop {
            match self.peek()? {
                b'"' => {
                    self.1 += 1;
                    return String::from_utf8(s).ok();
                }
                b'\\' => {
                    s.push(*self.0.get(self.1 + 1)?);
                    self.1 += 2;
                }
                c => {
                    s.push(c);
                    self.1 += 1;
                }
            }
        }
    }

    fn integer(&mut self) -> Option<i64> {
        let start = self.1;
        if self.peek() == Some(b'-') {
            self.1 += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.1 += 1;
        }
        let n = std::str::from_utf8(&self.0[start..self.1])
            .ok()?
            .parse()
            .ok();
        if n.is_none() {
            self.1 = start;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example in Genesys' AudioHook documentation (and its reference
    // implementation's tests).
    const SECRET_B64: &str = "TXlTdXBlclNlY3JldEtleVRlbGxOby0xITJAMyM0JDU=";
    const API_KEY: &str = "SGVsbG8sIEkgYW0gdGhlIEFQSSBrZXkh";
    const INPUT: &str = r#"sig1=("@request-target" "@authority" "audiohook-organization-id" "audiohook-session-id" "audiohook-correlation-id" "x-api-key");keyid="SGVsbG8sIEkgYW0gdGhlIEFQSSBrZXkh";nonce="VGhpc0lzQVVuaXF1ZU5vbmNl";alg="hmac-sha256";created=1641013200;expires=3282026430"#;
    const SIGNATURE: &str = "sig1=:NZBwyBHRRyRoeLqy1IzOa9VYBuI8TgMFt2GRDkDuJh4=:";

    fn example(c: &str) -> Option<String> {
        Some(
            match c {
                "@request-target" => "/api/v1/voicebiometrics/ws",
                "@authority" => "audiohook.example.com",
                "audiohook-organization-id" => "d7934305-0972-4844-938e-9060eef73d05",
                "audiohook-session-id" => "30b0e395-84d3-4570-ac13-9a62d8f514c0",
                "audiohook-correlation-id" => "e160e428-53e2-487c-977d-96989bf5c99d",
                "x-api-key" => API_KEY,
                _ => return None,
            }
            .to_string(),
        )
    }

    fn key() -> Vec<u8> {
        base64::engine::general_purpose::STANDARD
            .decode(SECRET_B64)
            .unwrap()
    }

    const WINDOW: Window = Window {
        skew_s: 3,
        max_age_s: 10,
    };

    #[test]
    fn the_genesys_example_verifies_and_signs_the_same() {
        let nonces = parking_lot::Mutex::new(Nonces::default());
        let check = || {
            let now = 1_641_013_201;
            verify(
                INPUT,
                SIGNATURE,
                API_KEY,
                &key(),
                example,
                now,
                WINDOW,
                &nonces,
            )
        };
        check().unwrap();
        // The same request again is a replay.
        assert_eq!(check(), Err(SignatureError::Replayed));
        let input = parse_input(INPUT).unwrap();
        assert_eq!(format!("sig1={}", input.serialized()), INPUT);
        let b = base(&input, example).unwrap();
        assert!(b.starts_with("\"@request-target\": /api/v1/voicebiometrics/ws\n\"@authority\": audiohook.example.com\n"));
        // Signing with expires = created + 30 gives the documented base with
        // that expiry (value computed independently with Node's crypto).
        let (i, s) = sign(
            API_KEY,
            &key(),
            "VGhpc0lzQVVuaXF1ZU5vbmNl",
            1_641_013_200,
            example,
        );
        assert!(i.ends_with("created=1641013200;expires=1641013230"), "{i}");
        assert_eq!(s, "sig1=:13MrOmtEIFb8cH00czAZWdEkgJr9QlnAQABRRF1A2gE=:");
    }

    #[test]
    fn bad_signatures_say_why() {
        let nonces = parking_lot::Mutex::new(Nonces::default());
        let now = 1_641_013_201;
        let check = |input: &str, sig: &str, now: i64| {
            verify(input, sig, API_KEY, &key(), example, now, WINDOW, &nonces)
        };
        let bad = SIGNATURE.replace("NZB", "NZC");
        assert_eq!(check(INPUT, &bad, now), Err(SignatureError::Mismatch));
        assert_eq!(
            check(INPUT, SIGNATURE, 1_641_013_300),
            Err(SignatureError::Expired)
        );
        assert_eq!(
            check(INPUT, SIGNATURE, 1_641_013_190),
            Err(SignatureError::Future)
        );
        let uncovered = INPUT.replace(" \"x-api-key\"", "");
        assert_eq!(
            check(&uncovered, SIGNATURE, now),
            Err(SignatureError::Uncovered("x-api-key"))
        );
        let alg = INPUT.replace("hmac-sha256", "rsa-pss-sha512");
        assert!(matches!(
            check(&alg, SIGNATURE, now),
            Err(SignatureError::Algorithm(_))
        ));
        let short = INPUT.replace("VGhpc0lzQVVuaXF1ZU5vbmNl", "abc");
        assert_eq!(check(&short, SIGNATURE, now), Err(SignatureError::Nonce));
        let other_key = INPUT.replace("keyid=\"SGVs", "keyid=\"XGVs");
        assert_eq!(
            check(&other_key, SIGNATURE, now),
            Err(SignatureError::KeyId)
        );
        assert!(matches!(
            check("sig1=", SIGNATURE, now),
            Err(SignatureError::Malformed(_))
        ));
        assert!(matches!(
            check(INPUT, "sig2=:AAAA:", now),
            Err(SignatureError::Malformed(_))
        ));
        // A request that lacks a covered header.
        let lacking = |c: &str| {
            (c != "audiohook-correlation-id")
                .then(|| example(c))
                .flatten()
        };
        assert!(matches!(
            verify(
                INPUT,
                SIGNATURE,
                API_KEY,
                &key(),
                lacking,
                now,
                WINDOW,
                &nonces
            ),
            Err(SignatureError::Component(_))
        ));
    }
}
