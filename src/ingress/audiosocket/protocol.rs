//! Asterisk AudioSocket's wire format: type-length-value frames over TCP.
//!
//! Each frame is one byte of kind, two bytes of payload length (big
//! endian) and the payload. Asterisk sends the connection's UUID first
//! (0x01, 16 bytes), then audio (0x10: 16-bit signed little-endian linear
//! PCM, 8 kHz mono; 0x11–0x18: the same at 12, 16, 24, 32, 44.1, 48, 96 and
//! 192 kHz since Asterisk's 2025 releases), DTMF digits (0x03), a hangup
//! (0x00) or an error (0xff, with an optional code byte).

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Kind of the hangup frame (both directions).
pub const KIND_HANGUP: u8 = 0x00;
/// Kind of the UUID frame.
pub const KIND_UUID: u8 = 0x01;
/// Kind of a DTMF digit.
pub const KIND_DTMF: u8 = 0x03;
/// Kind of 8 kHz signed-linear audio.
pub const KIND_SLIN: u8 = 0x10;
/// Kind of an Asterisk-side error.
pub const KIND_ERROR: u8 = 0xff;

/// The sample rate of an audio kind, in Hz.
pub fn rate_of(kind: u8) -> Option<u32> {
    Some(match kind {
        0x10 => 8000,
        0x11 => 12_000,
        0x12 => 16_000,
        0x13 => 24_000,
        0x14 => 32_000,
        0x15 => 44_100,
        0x16 => 48_000,
        0x17 => 96_000,
        0x18 => 192_000,
        _ => return None,
    })
}

/// One frame from Asterisk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Hangup,
    Uuid([u8; 16]),
    Dtmf(char),
    /// Little-endian 16-bit mono samples at `rate` Hz.
    Audio {
        rate: u32,
        pcm: Bytes,
    },
    /// Asterisk's error code (1: hangup, 2: frame forwarding, 4: memory).
    Error(Option<u8>),
}

/// What [`read_frame`] refused.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("frame of kind 0x{kind:02x} has {len} payload bytes, more than the {max} allowed")]
    TooLong { kind: u8, len: usize, max: usize },
    #[error("UUID frame must carry 16 bytes, not {0}")]
    BadUuid(usize),
    #[error("DTMF frame must carry one ASCII digit")]
    BadDtmf,
    #[error("audio frame of {0} bytes is not a whole number of 16-bit samples")]
    PartialSample(usize),
    #[error("unknown frame kind 0x{0:02x}")]
    UnknownKind(u8),
    #[error("connection ended inside a frame")]
    Truncated,
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Reads one frame; `Ok(None)`: the connection ended cleanly between frames.
///
/// # Errors
/// A payload over `max_payload`, a malformed frame, an unknown kind, or the
/// connection ended (or failed) inside a frame.
pub async fn read_frame<R: AsyncRead + Unpin>(
    r: &mut R,
    max_payload: usize,
) -> Result<Option<Frame>, FrameError> {
    let mut head = [0u8; 3];
    let mut got = 0;
    while got < head.len() {
        match r.read(&mut head[got..]).await? {
            0 if got == 0 => return Ok(None),
            0 => return Err(FrameError::Truncated),
            n => got += n,
        }
    }
    let kind = head[0];
    let len = usize::from(u16::from_be_bytes([head[1], head[2]]));
    if len > max_payload {
        return Err(FrameError::TooLong {
            kind,
            len,
            max: max_payload,
        });
    }
    let mut payload = vec![0u8; len];
    r.read_exact(&mut payload).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            FrameError::Truncated
        } else {
            FrameError::Io(e)
        }
    })?;
    decode(kind, payload)
}

fn decode(kind: u8, payload: Vec<u8>) -> Result<Option<Frame>, FrameError> {
    Ok(Some(match kind {
        KIND_HANGUP => Frame::Hangup,
        KIND_UUID => Frame::Uuid(
            payload
                .as_slice()
                .try_into()
                .map_err(|_| FrameError::BadUuid(payload.len()))?,
        ),
        KIND_DTMF => match payload.as_slice() {
            [d] if d.is_ascii_graphic() => Frame::Dtmf(char::from(*d)),
            _ => return Err(FrameError::BadDtmf),
        },
        KIND_ERROR => Frame::Error(payload.first().copied()),
        k => {
            let rate = rate_of(k).ok_or(FrameError::UnknownKind(k))?;
            if !payload.len().is_multiple_of(2) {
                return Err(FrameError::PartialSample(payload.len()));
            }
            Frame::Audio {
                rate,
                pcm: Bytes::from(payload),
            }
        }
    }))
}

/// A frame as bytes (what Asterisk sends; the tests' client and the
/// server's hangup use it).
pub fn encode(kind: u8, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(payload.len()).unwrap_or(u16::MAX);
    let mut out = Vec::with_capacity(3 + payload.len());
    out.push(kind);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&payload[..usize::from(len)]);
    out
}

/// How a connection's UUID places it in a call (the documented dialplan
/// convention): the legs of one call share the UUID's first 15 bytes and
/// end in `00` (the caller) and `01` (the callee); any other UUID is a
/// call of its own with one leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leg {
    /// Leg 0 (caller) or 1 (callee) of the call keyed by the first 15 bytes.
    Paired { key: [u8; 15], leg: usize },
    /// A one-leg call.
    Single,
}

impl Leg {
    pub fn of(uuid: &[u8; 16]) -> Self {
        let mut key = [0u8; 15];
        key.copy_from_slice(&uuid[..15]);
        match uuid[15] {
            0 => Self::Paired { key, leg: 0 },
            1 => Self::Paired { key, leg: 1 },
            _ => Self::Single,
        }
    }
}

/// The UUID in its usual text form.
pub fn uuid_text(uuid: &[u8; 16]) -> String {
    uuid::Uuid::from_bytes(*uuid).hyphenated().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_all(bytes: &[u8]) -> Vec<Result<Option<Frame>, String>> {
        let mut r = bytes;
        let mut out = Vec::new();
        loop {
            let f = read_frame(&mut r, 4096).await.map_err(|e| e.to_string());
            let end = !matches!(f, Ok(Some(_)));
            out.push(f);
            if end {
                return out;
            }
        }
    }

    #[tokio::test]
    async fn reads_the_frames_asterisk_sends() {
        let uuid = *b"0123456789abcdef";
        let mut wire = encode(KIND_UUID, &uuid);
        wire.extend(encode(KIND_SLIN, &[1, 0, 2, 0]));
        wire.extend(encode(0x12, &[3, 0]));
        wire.extend(encode(KIND_DTMF, b"5"));
        wire.extend(encode(KIND_ERROR, &[2]));
        wire.extend(encode(KIND_HANGUP, &[]));
        let frames = read_all(&wire).await;
        assert_eq!(
            frames,
            vec![
                Ok(Some(Frame::Uuid(uuid))),
                Ok(Some(Frame::Audio {
                    rate: 8000,
                    pcm: Bytes::from_static(&[1, 0, 2, 0])
                })),
                Ok(Some(Frame::Audio {
                    rate: 16_000,
                    pcm: Bytes::from_static(&[3, 0])
                })),
                Ok(Some(Frame::Dtmf('5'))),
                Ok(Some(Frame::Error(Some(2)))),
                Ok(Some(Frame::Hangup)),
                Ok(None),
            ]
        );
    }

    #[tokio::test]
    async fn refuses_bad_frames_with_their_reason() {
        let first_err = |w: Vec<u8>| async move {
            read_all(&w)
                .await
                .into_iter()
                .find_map(Result::err)
                .unwrap()
        };
        assert!(first_err(encode(KIND_UUID, &[1; 15]))
            .await
            .contains("16 bytes"));
        assert!(first_err(encode(0x42, &[])).await.contains("0x42"));
        assert!(first_err(encode(KIND_SLIN, &[1, 2, 3]))
            .await
            .contains("16-bit"));
        assert!(first_err(encode(KIND_SLIN, &[0; 5000]))
            .await
            .contains("more than the 4096"));
        let mut cut = encode(KIND_SLIN, &[0; 10]);
        cut.truncate(8);
        assert!(first_err(cut).await.contains("inside a frame"));
        assert!(first_err(vec![0x10, 0]).await.contains("inside a frame"));
    }

    #[test]
    fn the_uuid_places_the_leg() {
        let with_last = |b: u8| {
            let mut u = [7u8; 16];
            u[15] = b;
            Leg::of(&u)
        };
        for leg in [0, 1] {
            assert_eq!(with_last(leg as u8), Leg::Paired { key: [7; 15], leg });
        }
        let mut u = [7u8; 16];
        u[15] = 2;
        assert_eq!(Leg::of(&u), Leg::Single);
        assert_eq!(uuid_text(&[0; 16]), "00000000-0000-0000-0000-000000000000");
    }
}
