"""The telephone channel, applied to each clip every time training draws it,
and the feature pipeline the engine's path ends in.

clip (8 kHz, band-limited by synth.py)
  -> speed: 70 % of draws play 0.88-1.12x as fast (tempo, pitch and formants
     move together, as for a longer or shorter vocal tract): new speakers
  -> level: -20..+2 dB, sometimes a slow level change of up to 8 dB across the clip
  -> leading and trailing pause (what the engine's VAD keeps around speech)
  -> background noise (white, pink or brown, SNR 12..45 dB; sometimes none)
  -> G.711 round trip: mu-law (60 %), A-law (25 %) or linear PCM (15 %)
  -> 16 kHz (polyphase resampling, as the engine resamples 8 kHz calls)
  -> whisper.cpp log-mel over clip + silence, 2 frames per encoder position,
     positions = ceil(samples / 320) + margin, as the engine sizes audio_ctx.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from scipy import signal

import model as m

MIN_SAMPLES_16K = 16_000  # the engine pads shorter utterances to 1 s
SPEED_SHARE = 0.7  # share of draws played at another speed
SPEED_DOWN = (88, 113)  # resample_poly(x, 100, down): 100/down = 0.88..1.12x as fast


def mulaw_roundtrip(x: np.ndarray) -> np.ndarray:
    """G.711 mu-law encode/decode (the continuous law, quantised to 8 bits)."""
    mu = 255.0
    y = np.sign(x) * np.log1p(mu * np.minimum(np.abs(x), 1.0)) / math.log1p(mu)
    q = np.round(y * 127.0) / 127.0
    return np.sign(q) * (np.expm1(np.abs(q) * math.log1p(mu)) / mu)


def alaw_roundtrip(x: np.ndarray) -> np.ndarray:
    a = 87.6
    ax = np.minimum(np.abs(x), 1.0)
    y = np.where(ax < 1 / a, a * ax / (1 + math.log(a)), (1 + np.log(np.maximum(a * ax, 1e-12))) / (1 + math.log(a)))
    q = np.round(y * 127.0) / 127.0
    z = np.where(q < 1 / (1 + math.log(a)), q * (1 + math.log(a)) / a, np.exp(q * (1 + math.log(a)) - 1) / a)
    return np.sign(x) * z


def coloured_noise(n: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    w = rng.standard_normal(n)
    if kind == "white":
        return w
    spec = np.fft.rfft(w)
    f = np.arange(len(spec)) + 1.0
    spec /= np.sqrt(f) if kind == "pink" else f
    x = np.fft.irfft(spec, n)
    return x / (x.std() + 1e-9)


def telephone(clip8k: np.ndarray, rng: np.random.Generator, clean: bool = False) -> np.ndarray:
    """int16 8 kHz clip -> float32 16 kHz audio after the channel."""
    x = clip8k.astype(np.float64) / 32768.0
    if not clean and rng.random() < SPEED_SHARE:
        x = signal.resample_poly(x, 100, int(rng.integers(*SPEED_DOWN)))
    if not clean:
        x = x * 10 ** (rng.uniform(-20, 2) / 20)
        if rng.random() < 0.3:
            x = x * 10 ** (np.linspace(0, rng.uniform(-8, 8), len(x)) / 20)
    lead = int(8000 * rng.uniform(0.05, 0.5)) if not clean else 800
    tail = int(8000 * rng.uniform(0.05, 0.5)) if not clean else 800
    x = np.concatenate([np.zeros(lead), x, np.zeros(tail)])
    if not clean and rng.random() < 0.85:
        speech_rms = float(np.sqrt(np.mean(x[lead:len(x) - tail] ** 2))) + 1e-9
        snr = rng.uniform(12, 45)
        x = x + coloured_noise(len(x), rng.choice(["white", "pink", "brown"]), rng) * speech_rms * 10 ** (-snr / 20)
    x = np.clip(x, -1.0, 1.0)
    codec = 0.0 if clean else rng.random()
    if codec < 0.6:
        x = mulaw_roundtrip(x)
    elif codec < 0.85:
        x = alaw_roundtrip(x)
    else:
        x = np.round(x * 32767) / 32767
    return signal.resample_poly(x, 2, 1).astype(np.float32)


def noise_only(rng: np.random.Generator) -> np.ndarray:
    """A clip with no speech (line noise, hum, a tone): trained to end as [nosp]."""
    n = int(8000 * rng.uniform(0.5, 3.0))
    x = coloured_noise(n, rng.choice(["white", "pink", "brown"]), rng) * 10 ** (rng.uniform(-60, -25) / 20)
    if rng.random() < 0.3:
        t = np.arange(n) / 8000
        x = x + np.sin(2 * np.pi * rng.uniform(300, 1000) * t) * 10 ** (rng.uniform(-40, -15) / 20)
    return signal.resample_poly(mulaw_roundtrip(np.clip(x, -1, 1)), 2, 1).astype(np.float32)


def positions(samples16k: int, margin: int) -> int:
    """Encoder positions the engine gives whisper.cpp (audio_ctx)."""
    return min(math.ceil(max(samples16k, MIN_SAMPLES_16K) / 320) + margin, m.DIMS["n_audio_ctx"])


def features(audio16k: np.ndarray, margin: int) -> torch.Tensor:
    """[80, 2 * audio_ctx] log-mel, as whisper.cpp computes for the engine."""
    return m.log_mel(torch.from_numpy(audio16k), 2 * positions(len(audio16k), margin))
