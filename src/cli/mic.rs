//! `callsense stream --mic`: the default microphone as a live call
//! (LINEAR16 mono at the device's rate) until Ctrl-C, then the summary.

use anyhow::Context;
use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use tokio::sync::mpsc;

use super::stream::{call_config, stream_channel, Print, StreamArgs};
use crate::proto::stream_call_request::StreamingRequest;
use crate::proto::{AudioEncoding, StreamCallRequest};

/// Audio chunks buffered between the capture callback and the sender.
const CAPTURE_QUEUE: usize = 256;

pub async fn run(mut args: StreamArgs) -> anyhow::Result<()> {
    let host = cpal::default_host();
    let device = host
        .default_input_device()
        .context("no default input device (microphone)")?;
    let supported = device
        .default_input_config()
        .context("cannot read the microphone's configuration")?;
    let config = supported.config();
    let (rate, channels) = (config.sample_rate, usize::from(config.channels));
    args.encoding = super::stream::Encoding::Linear16;
    let mut cfg = call_config(&args, rate, 1);
    cfg.encoding = AudioEncoding::Linear16 as i32;

    let (tx, rx) = mpsc::channel::<StreamCallRequest>(CAPTURE_QUEUE);
    tx.send(StreamCallRequest {
        streaming_request: Some(StreamingRequest::Config(cfg)),
    })
    .await?;
    let chunk_frames = (rate as usize * args.chunk_ms as usize / 1000).max(1);
    let mut pending: Vec<u8> = Vec::with_capacity(chunk_frames * 2);
    let audio_tx = tx.clone();
    let stream = device.build_input_stream::<f32, _, _>(
        config,
        move |data: &[f32], _| {
            for frame in data.chunks(channels) {
                let mono = frame.iter().sum::<f32>() / channels as f32;
                let s = (mono.clamp(-1.0, 1.0) * 32767.0) as i16;
                pending.extend_from_slice(&s.to_le_bytes());
                if pending.len() >= chunk_frames * 2 {
                    let bytes = bytes::Bytes::from(std::mem::take(&mut pending));
                    // Full queue: the network is behind; drop rather than block the audio thread.
                    let _ = audio_tx.try_send(StreamCallRequest {
                        streaming_request: Some(StreamingRequest::AudioContent(bytes)),
                    });
                }
            }
        },
        |e| eprintln!("microphone error: {e}"),
        None,
    )?;
    stream.play()?;
    eprintln!(
        "Streaming the microphone ({rate} Hz) to {}; Ctrl-C ends the call",
        args.server
    );
    let stop = async move {
        let _ = tokio::signal::ctrl_c().await;
        drop(stream);
        drop(tx);
    };
    tokio::spawn(stop);
    stream_channel(
        &args.server,
        args.api_key.as_deref(),
        rx,
        Print::from(&args),
    )
    .await
}
