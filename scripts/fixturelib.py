"""Shared helpers for the callsense audio test fixtures (Python side).

Used by:
  scripts/make_stereo_call_fixture.py  - writes tests/fixtures/stereo_call.json (+ stereo_diarization.json)
  scripts/build_fixture_call.py        - renders a fixture JSON into a listenable 8 kHz mu-law stereo WAV
  scripts/check_fixture.py             - sanity check / region printout
  scripts/make_demo_call.py            - the espeak-ng demo call

Needs numpy, scipy, soundfile (pip install numpy scipy soundfile).

Ground-truth speech detection (`speech_bounds`) is deliberately simple and independent of any VAD model:
10 ms frame energy in dBFS, measured on the 8 kHz (telephone band) version of the signal, thresholded
relative to the clip's own speech level (95th percentile frame energy) and its own noise floor
(5th percentile of non-digital-silence frames), with active stretches merged across pauses < 300 ms.
"""
import json
import os
from math import gcd

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

FRAME_MS = 10
MERGE_GAP_MS = 300        # pauses shorter than this do not split a region
MIN_REGION_MS = 50        # isolated blips shorter than this (after merging) are ignored
REL_TO_LEVEL_DB = 35.0    # threshold = speech level - 35 dB ...
ABOVE_FLOOR_DB = 8.0      # ... but at least noise floor + 8 dB


def repo_root():
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def assets_dir():
    """CALLSENSE_ASSETS, default ../shared/assets relative to the repository root."""
    env = os.environ.get("CALLSENSE_ASSETS")
    if env:
        return env
    return os.path.normpath(os.path.join(repo_root(), "..", "shared", "assets"))


def load_clip(path, source_channel=None, sr_out=8000):
    """Decode to mono float64, optionally pick one source channel (else average channels), resample."""
    x, sr = sf.read(path, dtype="float64", always_2d=True)
    if source_channel is not None:
        x = x[:, source_channel]
    else:
        x = x.mean(axis=1)
    return resample(x, sr, sr_out)


def resample(x, sr_in, sr_out):
    if sr_in == sr_out:
        return x
    g = gcd(int(sr_in), int(sr_out))
    return resample_poly(x, sr_out // g, sr_in // g)


def frame_db(x, sr, frame_ms=FRAME_MS):
    n = sr * frame_ms // 1000
    m = len(x) // n
    fr = x[: m * n].reshape(m, n)
    if len(x) > m * n:  # partial last frame
        last = x[m * n:]
        e = np.concatenate([np.mean(fr ** 2, axis=1), [np.mean(last ** 2)]])
    else:
        e = np.mean(fr ** 2, axis=1)
    return 10.0 * np.log10(e + 1e-12)


def level_and_floor(db):
    live = db[db > -100.0]  # ignore digital silence
    level = float(np.percentile(live, 95))
    floor = float(np.percentile(live, 5))
    return level, floor


def speech_runs(x, sr, rel_db=REL_TO_LEVEL_DB, floor_db=ABOVE_FLOOR_DB, merge_ms=MERGE_GAP_MS,
                min_ms=MIN_REGION_MS, frame_ms=FRAME_MS):
    """List of (start_ms, end_ms) speech stretches (pauses < merge_ms merged). Also returns diagnostics."""
    db = frame_db(x, sr, frame_ms)
    level, floor = level_and_floor(db)
    thr = max(level - rel_db, floor + floor_db)
    act = db >= thr
    runs = []
    i = 0
    while i < len(act):
        if act[i]:
            j = i
            while j < len(act) and act[j]:
                j += 1
            runs.append([i, j])
            i = j
        else:
            i += 1
    merged = []
    gap = merge_ms // frame_ms
    for r in runs:
        if merged and r[0] - merged[-1][1] < gap:
            merged[-1][1] = r[1]
        else:
            merged.append(r)
    dur_ms = len(x) * 1000.0 / sr
    out = [(a * frame_ms, min(b * frame_ms, dur_ms)) for a, b in merged if (b - a) * frame_ms >= min_ms]
    return out, dict(level_db=level, floor_db=floor, thr_db=thr, frame_db=db)


def speech_bounds(x, sr, **kw):
    """(start_ms, end_ms, runs, diag): first speech start / last speech end inside a clip."""
    runs, diag = speech_runs(x, sr, **kw)
    if not runs:
        return None, None, runs, diag
    return runs[0][0], runs[-1][1], runs, diag


def internal_pauses(runs):
    return [(runs[k][1], runs[k + 1][0]) for k in range(len(runs) - 1)]


def render_call(spec, assets=None):
    """Render a fixture JSON dict to float64 array (n, channels) at spec['sample_rate_hz']."""
    assets = assets or assets_dir()
    sr = spec["sample_rate_hz"]
    nch = len(spec["channels"])
    n = spec["duration_ms"] * sr // 1000
    out = np.zeros((n, nch))
    for c in spec["clips"]:
        y = load_clip(os.path.join(assets, c["path"]), c.get("source_channel"), sr)
        y = y * 10.0 ** (c.get("gain_db", 0.0) / 20.0)
        o = c["offset_ms"] * sr // 1000
        if o + len(y) > n:
            raise ValueError(f"clip {c['path']} at {c['offset_ms']} ms runs past duration_ms")
        out[o:o + len(y), c["channel"]] += y
    return out


def write_mulaw_wav(path, data, sr):
    """G.711 mu-law WAV (format tag 7) via libsndfile; no dither, so digital silence stays 0xFF."""
    peak = np.abs(data).max()
    if peak >= 1.0:
        raise ValueError(f"signal clips (peak {peak:.3f})")
    sf.write(path, data, sr, format="WAV", subtype="ULAW")


def load_json(path):
    with open(path) as f:
        return json.load(f)


def dump_json(obj, path):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
