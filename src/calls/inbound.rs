//! The checks every piece of a call's input passes, whatever door it came in by.
//!
//! Owns: chunk size, whole sample frames, the longest call, and one
//! disposition of bounded size per call. The call path applies them to the
//! stream a front door hands to [`super::start`].

use bytes::Bytes;

use super::ValidCall;
use crate::pipeline::CallError;
use crate::pipeline::Inbound;
use crate::proto::{AudioEncoding, CallDisposition};

/// Most tags on a disposition, and the longest tag in bytes.
const MAX_DISPOSITION_TAGS: (usize, usize) = (16, 64);

/// Per-call state of the input checks.
#[derive(Debug)]
pub struct InboundChecks {
    bytes_per_frame: usize,
    max_chunk: usize,
    max_bytes: u64,
    max_seconds: u64,
    received: u64,
    encoding: AudioEncoding,
    disposed: bool,
}

impl InboundChecks {
    /// Checks for `call`, with chunks of at most `max_chunk` bytes
    /// (`server.max_chunk_bytes`) and `max_seconds` of audio.
    pub fn new(call: &ValidCall, max_chunk: usize, max_seconds: u64) -> Self {
        Self {
            bytes_per_frame: call.bytes_per_frame,
            max_chunk,
            max_bytes: call.max_bytes,
            max_seconds,
            received: 0,
            encoding: call.spec.setup.encoding,
            disposed: false,
        }
    }

    /// Passes `item` on, or says why the call must end.
    ///
    /// # Errors
    /// An oversize or misaligned chunk, a call over its longest length, a
    /// second or oversize disposition.
    pub fn check(&mut self, item: Inbound) -> Result<Inbound, CallError> {
        match item {
            Inbound::Audio(bytes) => self.audio(bytes).map(Inbound::Audio),
            Inbound::Disposition(d) => {
                if std::mem::replace(&mut self.disposed, true) {
                    return Err(CallError::InvalidArgument(
                        "disposition may be sent only once per call".into(),
                    ));
                }
                check_disposition(&d).map_err(CallError::InvalidArgument)?;
                Ok(Inbound::Disposition(d))
            }
        }
    }

    fn audio(&mut self, bytes: Bytes) -> Result<Bytes, CallError> {
        if bytes.len() > self.max_chunk {
            return Err(CallError::InvalidArgument(format!(
                "audio_content chunk of {} bytes exceeds the limit of {} bytes (see CallAccepted.max_chunk_bytes)",
                bytes.len(),
                self.max_chunk
            )));
        }
        if !bytes.len().is_multiple_of(self.bytes_per_frame) {
            let (what, width) = if self.encoding == AudioEncoding::Linear16 {
                ("16-bit LINEAR16 samples", 2)
            } else {
                ("8-bit G.711 samples", 1)
            };
            return Err(CallError::InvalidArgument(format!(
                "audio_content chunk of {} bytes is not a whole number of {}-byte frames ({what}, {} channel(s))",
                bytes.len(),
                self.bytes_per_frame,
                self.bytes_per_frame / width
            )));
        }
        self.received += bytes.len() as u64;
        if self.received > self.max_bytes {
            return Err(CallError::InvalidArgument(format!(
                "call exceeds the longest call accepted ({} s of audio, server.max_call_seconds)",
                self.max_seconds
            )));
        }
        Ok(bytes)
    }
}

/// Checks a disposition's sizes.
fn check_disposition(d: &CallDisposition) -> Result<(), String> {
    if d.service_result.len() > 64 || d.transfer_reason.len() > 256 || d.agent_id.len() > 128 {
        return Err(
            "disposition: service_result ≤ 64 bytes, transfer_reason ≤ 256, agent_id ≤ 128".into(),
        );
    }
    let (most, longest) = MAX_DISPOSITION_TAGS;
    if d.tags.len() > most || d.tags.iter().any(|t| t.len() > longest) {
        return Err(format!(
            "disposition.tags: at most {most} tags of {longest} bytes"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calls::NewCall;
    use crate::config::Config;
    use crate::proto::SpeakerRole;

    fn checks() -> (InboundChecks, Config) {
        let c = Config::default();
        let call = NewCall {
            call_id: "c".into(),
            encoding: Some(AudioEncoding::Linear16),
            sample_rate_hz: 8000,
            channels: 2,
            roles: vec![SpeakerRole::Agent, SpeakerRole::Customer],
            ..Default::default()
        }
        .validate(&c)
        .unwrap();
        let checks = InboundChecks::new(&call, c.server.max_chunk_bytes, 2);
        (checks, c)
    }

    fn audio(n: usize) -> Inbound {
        Inbound::Audio(vec![0u8; n].into())
    }

    #[test]
    fn chunks_must_be_whole_frames_under_the_limit() {
        let (mut v, c) = checks();
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
    }

    #[test]
    fn the_longest_call_is_enforced() {
        let c = Config::default();
        let mut call = NewCall {
            call_id: "c".into(),
            encoding: Some(AudioEncoding::Mulaw),
            sample_rate_hz: 8000,
            channels: 1,
            ..Default::default()
        }
        .validate(&c)
        .unwrap();
        call.max_bytes = 16_000; // 2 s of 8 kHz μ-law
        let mut v = InboundChecks::new(&call, 8000, 2);
        assert!(v.check(audio(8000)).is_ok());
        assert!(v.check(audio(8000)).is_ok());
        let e = v.check(audio(1)).unwrap_err().to_string();
        assert!(e.contains("longest call accepted (2 s"), "{e}");
    }

    #[test]
    fn one_disposition_of_bounded_size() {
        let (mut v, _) = checks();
        let too_many = CallDisposition {
            tags: vec!["t".into(); 17],
            ..Default::default()
        };
        let e = v.check(Inbound::Disposition(too_many)).unwrap_err();
        assert!(e.to_string().contains("at most 16 tags"), "{e}");
        let (mut v, _) = checks();
        assert!(v
            .check(Inbound::Disposition(CallDisposition::default()))
            .is_ok());
        let e = v
            .check(Inbound::Disposition(CallDisposition::default()))
            .unwrap_err();
        assert!(e.to_string().contains("only once"), "{e}");
    }
}
