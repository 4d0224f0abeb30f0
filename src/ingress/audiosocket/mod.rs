//! Asterisk AudioSocket front door: plain TCP, one connection per leg.
//!
//! `protocol` is the wire format; this file accepts connections (from the
//! allowed networks only: AudioSocket carries no credentials), reads each
//! leg, and joins the legs of one call by their UUIDs (see
//! [`protocol::Leg`]) into one stereo engine call on the shared session.
//!
//! A call starts with the first leg's first audio frame (its kind gives the
//! rate) and runs while any of its legs is connected; a leg that joins later
//! is placed at the time it joined, and a leg that never joins is silence.
//! AudioSocket has no back channel for results: they go to the sinks.

pub mod protocol;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Semaphore};
use tokio_tungstenite::tungstenite::http::StatusCode;

pub use protocol::{
    encode, read_frame, uuid_text, Frame, FrameError, Leg, KIND_HANGUP, KIND_SLIN, KIND_UUID,
};

use super::config::AudioSocketConfig;
use super::interleave::Interleaver;
use super::metrics::IngressMetrics;
use super::session::{self, Close, MediaStream, Out, Peer};
use crate::calls::{FieldError, NewCall, RATES_HZ};
use crate::proto::AudioEncoding;
use crate::server::EngineSlot;

/// A leg that joins its call within this of the first leg's first audio
/// starts with it (network and set-up jitter, not a late join).
const JOIN_TOGETHER: Duration = Duration::from_secs(1);
/// Messages queued from the legs to their call (backpressure beyond this).
const LEG_QUEUE: usize = 64;

/// An AudioSocket listener's settings.
pub struct AudioSocket {
    config: AudioSocketConfig,
    allowed: Vec<Network>,
    metrics: IngressMetrics,
    /// Calls with legs still connected, by the legs' shared key.
    calls: Mutex<HashMap<[u8; 15], Joinable>>,
}

/// A running call a leg can still join.
struct Joinable {
    tx: mpsc::WeakSender<LegMsg>,
    rate: u32,
    started: Instant,
    legs: [bool; 2],
}

/// What a leg tells its call.
#[derive(Debug)]
enum LegMsg {
    /// `pcm` for `leg`; `at`: its first audio's position in the call, in samples.
    Audio {
        leg: usize,
        at: Option<u64>,
        pcm: Bytes,
    },
}

/// One allowed network (`10.0.0.0/8`, `192.0.2.7`, `::1`).
#[derive(Debug, Clone, Copy)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    /// # Errors
    /// Not an address or `address/prefix`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let (a, p) = s.split_once('/').unwrap_or((s, ""));
        let addr: IpAddr = a
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not an IP address or network like 10.0.0.0/8"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = if p.is_empty() {
            max
        } else {
            p.trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: prefix must be 0–{max}"))?
        };
        Ok(Self { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let (a, b, bits) = match (self.addr, ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                (u128::from(u32::from(a)), u128::from(u32::from(b)), 32)
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
            _ => return false,
        };
        let shift = bits - u32::from(self.prefix);
        shift >= bits || (a >> shift) == (b >> shift)
    }
}

impl AudioSocket {
    /// # Errors
    /// An entry of `allow_from` that is not an address or network.
    pub fn new(config: &AudioSocketConfig, metrics: IngressMetrics) -> Result<Self, String> {
        let allowed = config
            .allow_from
            .iter()
            .map(|s| Network::parse(s).map_err(|e| format!("ingress.audiosocket.allow_from: {e}")))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            config: config.clone(),
            allowed,
            metrics,
            calls: Mutex::new(HashMap::new()),
        })
    }

    fn allows(&self, ip: IpAddr) -> bool {
        self.config.allow_any || self.allowed.iter().any(|n| n.contains(ip))
    }
}

/// Serves AudioSocket on `listener` until `stop` is cancelled; open legs end
/// when `sessions` is cancelled (their calls still finish).
pub async fn serve(
    listener: TcpListener,
    me: Arc<AudioSocket>,
    slot: EngineSlot,
    auth: Arc<crate::auth::Auth>,
    life: super::listener::Lifecycle,
) {
    let permits = Arc::new(Semaphore::new(me.config.max_connections));
    loop {
        let (mut tcp, peer) = tokio::select! {
            () = life.stop.cancelled() => break,
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(protocol = "audiosocket", error = %e, "Accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let refusal = if !me.allows(peer.ip()) {
            auth.denied(
                crate::auth::Door::AudioSocket,
                &crate::auth::AuthError::permission_denied(
                    "peer is not in ingress.audiosocket.allow_from",
                    "network",
                ),
                peer,
                "connect",
            );
            Some((
                StatusCode::FORBIDDEN,
                "peer is not in ingress.audiosocket.allow_from",
            ))
        } else if slot.get().is_none() {
            Some((StatusCode::SERVICE_UNAVAILABLE, "models are loading"))
        } else {
            None
        };
        let permit = Arc::clone(&permits).try_acquire_owned().ok();
        let refusal = refusal.or(permit.is_none().then_some((
            StatusCode::SERVICE_UNAVAILABLE,
            "listener is at its connection limit",
        )));
        if let Some((status, reason)) = refusal {
            me.metrics.refused(status);
            tracing::info!(protocol = "audiosocket", %peer, reason, "Connection refused");
            life.tracker.spawn(async move {
                let _ = tcp.shutdown().await;
            });
            continue;
        }
        let _ = tcp.set_nodelay(true);
        let (me, slot, life2) = (Arc::clone(&me), Arc::clone(&slot), life.clone());
        life.tracker.spawn(async move {
            let _permit = permit;
            let _open = me.metrics.open();
            if let Err(e) = leg(&me, tcp, peer, &slot, &life2).await {
                me.metrics.bad_streams.increment(1);
                tracing::info!(protocol = "audiosocket", %peer, error = %e, "Leg ended for bad input");
            }
        });
    }
}

/// Runs one connection (one leg) until it hangs up, fails or shutdown.
async fn leg(
    me: &Arc<AudioSocket>,
    tcp: TcpStream,
    peer: SocketAddr,
    slot: &EngineSlot,
    life: &super::listener::Lifecycle,
) -> Result<(), String> {
    let (mut rd, mut wr) = tcp.into_split();
    let max = me.config.max_frame_bytes;
    let timeout = Duration::from_secs(me.config.start_timeout_s);
    // The UUID, then the first audio (its kind is the rate), within the timeout.
    let opening = async {
        let uuid = match read_frame(&mut rd, max).await.map_err(|e| e.to_string())? {
            Some(Frame::Uuid(u)) => u,
            Some(Frame::Hangup) | None => return Ok(None),
            Some(other) => {
                return Err(format!(
                    "the first frame must be the UUID (0x01), not {other:?}"
                ))
            }
        };
        loop {
            match read_frame(&mut rd, max).await.map_err(|e| e.to_string())? {
                Some(Frame::Audio { rate, pcm }) => return Ok(Some((uuid, rate, pcm))),
                Some(Frame::Dtmf(_)) => {}
                Some(Frame::Hangup) | None => return Ok(None),
                Some(Frame::Error(code)) => {
                    tracing::info!(%peer, ?code, "Asterisk reported an error before any audio");
                    return Ok(None);
                }
                Some(Frame::Uuid(_)) => return Err("a second UUID frame".into()),
            }
        }
    };
    let (uuid, rate, first) = tokio::select! {
        r = tokio::time::timeout(timeout, opening) => match r {
            Ok(Ok(Some(o))) => o,
            Ok(Ok(None)) => return Ok(()),
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(format!("no UUID and audio within {} s", timeout.as_secs())),
        },
        () = life.sessions.cancelled() => return Ok(()),
    };
    if !RATES_HZ.contains(&rate) {
        return Err(format!(
            "audio at {rate} Hz; the engine takes {}–{} Hz (set the channel's format to slin … slin48)",
            RATES_HZ.start(),
            RATES_HZ.end()
        ));
    }
    let (tx, leg_no, at) = join(me, &uuid, rate, peer, slot, life)?;
    tracing::info!(%peer, uuid = %uuid_text(&uuid), leg = leg_no, rate, "AudioSocket leg joined");
    let mut at = Some(at);
    let mut pcm = first;
    loop {
        if !pcm.is_empty() {
            let msg = LegMsg::Audio {
                leg: leg_no,
                at: at.take(),
                pcm,
            };
            if tx.send(msg).await.is_err() {
                break; // the call ended
            }
        }
        let frame = tokio::select! {
            f = read_frame(&mut rd, max) => f,
            () = life.sessions.cancelled() => break,
            () = tx.closed() => break,
        };
        pcm = match frame {
            Ok(Some(Frame::Audio { rate: r, pcm })) if r == rate => pcm,
            Ok(Some(Frame::Audio { rate: r, .. })) => {
                return Err(format!(
                    "audio changed from {rate} Hz to {r} Hz within the leg"
                ))
            }
            Ok(Some(Frame::Dtmf(_))) => Bytes::new(),
            Ok(Some(Frame::Hangup) | None) => break,
            Ok(Some(Frame::Error(code))) => {
                tracing::info!(%peer, ?code, "Asterisk reported an error; the leg ends");
                break;
            }
            Ok(Some(Frame::Uuid(_))) => return Err("a second UUID frame".into()),
            Err(e) => return Err(e.to_string()),
        };
    }
    let _ = wr.shutdown().await;
    Ok(())
}

/// Joins the call `uuid` belongs to, or starts it. Returns the leg's sender,
/// its channel, and where its audio starts in the call (samples).
fn join(
    me: &Arc<AudioSocket>,
    uuid: &[u8; 16],
    rate: u32,
    from: SocketAddr,
    slot: &EngineSlot,
    life: &super::listener::Lifecycle,
) -> Result<(mpsc::Sender<LegMsg>, usize, u64), String> {
    let (key, leg_no, channels) = match Leg::of(uuid) {
        Leg::Paired { key, leg } => (Some(key), leg, 2),
        Leg::Single => (None, 0, 1),
    };
    let mut calls = me.calls.lock();
    if let Some(k) = key {
        if let Some(j) = calls.get_mut(&k) {
            if let Some(tx) = j.tx.upgrade() {
                if j.legs[leg_no] {
                    return Err(format!(
                        "leg {leg_no} of call {} is already connected",
                        uuid_text(uuid)
                    ));
                }
                if j.rate != rate {
                    return Err(format!(
                        "this leg is at {rate} Hz, the call's other leg at {} Hz",
                        j.rate
                    ));
                }
                j.legs[leg_no] = true;
                // Legs that start together (ARI snoops of one channel, say)
                // line up sample for sample; a leg that joins later is
                // placed where it joined, to the 20 ms frame.
                let frame = u64::from(rate / 50);
                let elapsed = j.started.elapsed();
                let at = if elapsed < JOIN_TOGETHER {
                    0
                } else {
                    let samples = (elapsed.as_secs_f64() * f64::from(rate)) as u64;
                    (samples + frame / 2) / frame * frame
                };
                return Ok((tx, leg_no, at));
            }
        }
    }
    let engine = slot.get().cloned().ok_or("models are loading")?;
    let (tx, rx) = mpsc::channel(LEG_QUEUE);
    let mut call_uuid = *uuid;
    if key.is_some() {
        call_uuid[15] = 0;
    }
    let cfg = &me.config;
    let roles = if channels == 2 {
        vec![cfg.caller.role(), cfg.callee.role()]
    } else {
        vec![cfg.caller.role()]
    };
    let call = NewCall {
        call_id: uuid_text(&call_uuid),
        tenant: cfg.tenant.clone(),
        encoding: Some(AudioEncoding::Linear16),
        sample_rate_hz: rate,
        channels,
        roles,
        language_code: cfg.language.to_string(),
        interim_results: cfg.interim_results,
        ..NewCall::default()
    };
    if let Some(k) = key {
        let mut legs = [false; 2];
        legs[leg_no] = true;
        calls.insert(
            k,
            Joinable {
                tx: tx.downgrade(),
                rate,
                started: Instant::now(),
                legs,
            },
        );
    }
    drop(calls);
    let max_lead = u64::from(cfg.max_lead_ms) * u64::from(rate) / 1000;
    // The network is AudioSocket's only credential: an allowed peer
    // stands for the listener's tenant.
    let principal = if cfg.allow_any || cfg.tenant.is_empty() {
        crate::auth::Principal::anonymous()
    } else {
        crate::auth::Principal::of_tenant(cfg.tenant.clone(), format!("network:{}", from.ip()))
    };
    let caller = crate::calls::Caller {
        principal,
        door: crate::auth::Door::AudioSocket,
        peer: from.to_string(),
    };
    let (me2, stop) = (Arc::clone(me), life.sessions.clone());
    life.tracker.spawn(async move {
        let call_id = call.call_id.clone();
        let mut peer = Legs { rx };
        let mut stream = Joined {
            join: Interleaver::new(channels, &[0, 0], max_lead),
            channels,
        };
        let end = session::run(
            &mut peer,
            &engine,
            &caller,
            call,
            words,
            &mut stream,
            &me2.metrics,
            &stop,
        )
        .await;
        me2.metrics
            .filled_samples
            .increment(stream.join.stats().filled);
        if let Some(k) = key {
            me2.calls.lock().remove(&k);
        }
        match end {
            Ok(()) => tracing::info!(%call_id, "AudioSocket call ended"),
            Err(Close(code, reason)) => {
                if code
                    == tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode::Policy
                {
                    me2.metrics.bad_streams.increment(1);
                }
                tracing::warn!(%call_id, %reason, "AudioSocket call ended early");
            }
        }
    });
    Ok((tx, leg_no, 0))
}

/// A refused field of the call, in this front door's words.
fn words(e: &FieldError) -> String {
    e.message_with(|f| format!("call {f} (from the AudioSocket UUID and ingress.audiosocket)"))
}

/// The call's side of its legs: their audio, until every leg is gone.
struct Legs {
    rx: mpsc::Receiver<LegMsg>,
}

impl Peer for Legs {
    type Msg = LegMsg;

    async fn recv(&mut self) -> Option<LegMsg> {
        self.rx.recv().await
    }

    async fn send_text(&mut self, _text: String) -> Result<(), ()> {
        Ok(()) // AudioSocket takes no results back
    }
}

/// The legs joined into the call's frames.
struct Joined {
    join: Interleaver,
    channels: usize,
}

impl MediaStream<LegMsg> for Joined {
    fn on_message(&mut self, msg: LegMsg, out: &mut Out) -> Result<bool, Close> {
        let LegMsg::Audio { leg, at, pcm } = msg;
        self.join
            .push(leg, at, &pcm)
            .map_err(|e| Close::policy(e.to_string()))?;
        self.join.drain(&mut out.audio);
        Ok(true)
    }

    fn finish(&mut self, audio: &mut Vec<u8>) {
        self.join.finish(audio);
    }

    fn frame_bytes(&self) -> usize {
        2 * self.channels
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_match_addresses() {
        let n = Network::parse("10.1.0.0/16").unwrap();
        assert!(n.contains("10.1.200.3".parse().unwrap()));
        assert!(!n.contains("10.2.0.1".parse().unwrap()));
        assert!(n.contains("::ffff:10.1.0.9".parse().unwrap()));
        let one = Network::parse("127.0.0.1").unwrap();
        assert!(one.contains("127.0.0.1".parse().unwrap()));
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        assert!(Network::parse("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        assert!(Network::parse("::1")
            .unwrap()
            .contains("::1".parse().unwrap()));
        assert!(Network::parse("10.0.0.0/33").is_err());
        assert!(Network::parse("localhost").is_err());
    }
}
