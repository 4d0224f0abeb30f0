"""Writes the synthesized two-channel calls the engine's end-to-end ASR tests
stream (tests/fixtures/asr_call.wav + asr_call.json, the mission sentences;
tests/fixtures/asr_heldout_call.wav, the per-role WER test's held-out call),
and longer held-out calls for `eval_engine.py`.

    python models/asr-synth/make_test_call.py                       # the short mission call
    python models/asr-synth/make_test_call.py --heldout 400 OUT.wav # held-out evaluation call
    python models/asr-synth/make_test_call.py --heldout 192 --kind variant --seed 17 --e2e \
        --exclude /tmp/heldout_variant.json --exclude /tmp/dev_variant.json tests/fixtures/asr_heldout_call.wav
                                                                    # the per-role WER test's call
    python models/asr-synth/make_test_call.py --real OUT.wav        # the shared real-speech clips
    python models/asr-synth/make_test_call.py --lang zh [--heldout 300 --kind variant] OUT.wav   # Mandarin

The fixture speaks `text.E2E_SENTENCES` (never in training) with voice
settings training never used (synth.HELDOUT_VOICES / HELDOUT_VARIANTS): agent
on channel 0, customer on channel 1, one turn at a time, 0.9-1.4 s apart,
with faint line noise on both channels. The file is 8 kHz G.711 mu-law
stereo (WAV format tag 7), as a telephony platform would send it.
Deterministic for a given espeak-ng version.

`--e2e` with `--heldout N` opens a held-out call with the fixture's eight
sentences (agent first, alternating) before the N drawn ones, every turn in
a held-out voice setting of `--kind`: the call the end-to-end per-role WER
test streams (tests/fixtures/asr_heldout_call.wav), a sample of the same
target set as the held-out evaluation call, disjoint from it and from the
development call by `--exclude`.
"""
from __future__ import annotations

import argparse
import json
import random
import struct
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import synth  # noqa: E402
import text  # noqa: E402

REPO = HERE.parents[1]
RATE = 8000
AGENT_VOICE = dict(voice="en-gb-x-gbcwmd+m5", rate=165, pitch=45, gap=0, lo=300, hi=3400)
CUSTOMER_VOICE = dict(voice="en-us+f3", rate=150, pitch=60, gap=0, lo=300, hi=3400)
# the Mandarin call (--lang zh): espeak-ng's one Mandarin voice with held-out variants
ZH_AGENT_VOICE = dict(voice="cmn-latn-pinyin+m5", rate=200, pitch=45, gap=0, lo=300, hi=3400, lang="zh")
ZH_CUSTOMER_VOICE = dict(voice="cmn-latn-pinyin+f3", rate=190, pitch=60, gap=0, lo=300, hi=3400, lang="zh")


def mulaw_encode(x: np.ndarray) -> bytes:
    """ITU-T G.711 mu-law (segment/mantissa code with bias 0x84)."""
    s = np.clip(np.round(x * 32767), -32768, 32767).astype(np.int32) >> 2  # 14-bit
    sign = np.where(s < 0, 0x80, 0x00)
    mag = np.minimum(np.abs(s), 8159) + 33
    seg = np.clip(np.floor(np.log2(mag)).astype(np.int32) - 5, 0, 7)
    mant = (mag >> (seg + 1)) & 0x0F
    return (~(sign | (seg << 4) | mant) & 0xFF).astype(np.uint8).tobytes()


def write_mulaw_wav(path: Path, channels: list[np.ndarray]):
    n = max(len(c) for c in channels)
    inter = np.zeros((n, len(channels)))
    for i, c in enumerate(channels):
        inter[:len(c), i] = c
    data = mulaw_encode(inter.reshape(-1))
    nch = len(channels)
    fmt = struct.pack("<HHIIHHH", 7, nch, RATE, RATE * nch, nch, 8, 0)
    fact = struct.pack("<I", n)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"fact" + struct.pack("<I", 4) + fact \
        + b"data" + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b"")
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


def read_mulaw_wav(path: Path) -> np.ndarray:
    """A WAV written by `write_mulaw_wav` -> int16 samples [frames, channels]."""
    data = path.read_bytes()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise SystemExit(f"{path}: not a WAV file")
    pos, fmt, body = 12, None, None
    while pos + 8 <= len(data):
        tag, size = data[pos:pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        if tag == b"fmt ":
            fmt = struct.unpack_from("<HHI", data, pos + 8)
        elif tag == b"data":
            body = data[pos + 8:pos + 8 + size]
        pos += 8 + size + (size & 1)
    if fmt is None or body is None or fmt[0] != 7 or fmt[2] != RATE:
        raise SystemExit(f"{path}: expected {RATE} Hz G.711 mu-law (format 7), found format/rate {fmt}")
    u = ~np.frombuffer(body, np.uint8)
    seg, mant = (u >> 4) & 0x07, u & 0x0F
    mag = (((mant.astype(np.int32) << 3) + 0x84) << seg) - 0x84
    return np.where(u & 0x80, -mag, mag).astype(np.int16).reshape(-1, fmt[1])


def read_wav(path: Path) -> np.ndarray:
    """16-bit PCM WAV (mono) -> float at 8 kHz."""
    import wave
    from math import gcd

    from scipy import signal
    with wave.open(str(path)) as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1, path
        rate = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768.0
    g = gcd(rate, RATE)
    return signal.resample_poly(x, RATE // g, rate // g) if rate != RATE else x


def real_turns(assets: Path):
    """The shared real-speech clips that come with transcripts (read in place, never copied)."""
    import json as _json
    sb = assets / "audio/speechbrain_asr"
    ann = {}
    for f in ("ASR_train.json", "ASR_dev.json"):
        ann.update(_json.loads((sb / f).read_text()))
    turns = []
    for i, name in enumerate(sorted(ann)):
        if (sb / f"{name}.wav").exists():
            turns.append((i % 2, ann[name]["wrd"].lower(), sb / f"{name}.wav"))
    jfk = (assets / "audio/whisper_cpp/jfk.txt").read_text().strip()
    turns.append((len(turns) % 2, jfk, assets / "audio/whisper_cpp/jfk.wav"))
    turns.append((len(turns) % 2, "one zero zero zero one nine oh two one oh zero one eight zero three",
                  assets / "audio/vosk/test.wav"))
    return turns


def build_call(turns, seed: int):
    """turns: [(channel, sentence, settings or a WAV path)] -> (channels, placements)."""
    rng = np.random.default_rng(seed)
    t = int(0.6 * RATE)
    pieces, placed = [], []
    for ch, sentence, s in turns:
        if isinstance(s, Path):
            a = read_wav(s)
            a *= 0.35 / (np.abs(a).max() + 1e-9)
            s = dict(voice=str(s.relative_to(s.parents[2])), rate=0)
        else:
            a = synth.speak(sentence, s).astype(np.float64) / 32768.0
        a *= 10 ** (rng.uniform(-9, -3) / 20)
        pieces.append((ch, t, a))
        placed.append(dict(channel=ch, text=sentence, offset_ms=round(t * 1000 / RATE),
                           duration_ms=round(len(a) * 1000 / RATE), voice=s["voice"], rate=s["rate"]))
        t += len(a) + int(RATE * rng.uniform(0.9, 1.4))
    n = t + int(0.6 * RATE)
    chans = [rng.standard_normal(n) * 10 ** (-62 / 20) for _ in range(2)]
    for ch, off, a in pieces:
        chans[ch][off:off + len(a)] += a
    return chans, placed


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", nargs="?", default=str(REPO / "tests/fixtures/asr_call.wav"))
    ap.add_argument("--heldout", type=int, default=0,
                    help="speak this many held-out corpus sentences (alternating channels, held-out voices)")
    ap.add_argument("--kind", choices=synth.HELDOUT_KINDS, default="mixed",
                    help="with --heldout: 'variant' (training accents, held-out variants: the model's target "
                         "set), 'accent' (the held-out accent) or 'mixed' (half each, the calls of runs G-K)")
    ap.add_argument("--real", action="store_true", help="place the shared real-speech clips instead")
    ap.add_argument("--lang", choices=("en", "zh"), default="en",
                    help="zh: Mandarin (text_zh.py sentences, espeak-ng's pinyin voice; held-out calls are "
                         "of kind 'variant', the only held-out kind Mandarin has)")
    ap.add_argument("--e2e", action="store_true",
                    help="with --heldout: open the call with the end-to-end test's sentences (E2E_SENTENCES), "
                         "spoken in held-out voice settings like the drawn ones")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--exclude", action="append", default=[], metavar="CALL.json",
                    help="with --heldout: leave out the sentences spoken in this call (repeatable), e.g. "
                         "for a development call disjoint from the evaluation call")
    a = ap.parse_args()
    import os
    assets = Path(os.environ.get("CALLSENSE_ASSETS", REPO.parent / "shared/assets"))
    tx = text
    if a.lang == "zh":
        import text_zh as tx
        if a.real or (a.heldout and a.kind != "variant"):
            ap.error("--lang zh: held-out calls are --kind variant, and there is no --real Mandarin call")
    if a.e2e and not a.heldout:
        ap.error("--e2e goes with --heldout N")
    e2e = [s for _, s in interleave(tx.E2E_SENTENCES_ZH if a.lang == "zh" else text.E2E_SENTENCES)]
    if a.real:
        turns = real_turns(assets)
    elif a.heldout:
        _, held = tx.build(assets)
        spoken = {t["text"] for f in a.exclude for t in json.loads(Path(f).read_text())["turns"]}
        held = [s for s in held if s not in spoken and not (a.e2e and s in e2e)]
        if a.exclude and not held:
            raise SystemExit("--exclude leaves no held-out sentences")
        if a.heldout > len(held):
            raise SystemExit(f"--heldout {a.heldout}: only {len(held)} held-out sentences are left to draw")
        r = random.Random(a.seed)
        sents = (e2e if a.e2e else []) + r.sample(held, a.heldout)
        turns = [(i % 2, s, synth.settings(r, heldout=True, kind=a.kind, lang=a.lang))
                 for i, s in enumerate(sents)]
    elif a.lang == "zh":
        turns = [(0 if role == "agent" else 1, s, ZH_AGENT_VOICE if role == "agent" else ZH_CUSTOMER_VOICE)
                 for role, s in interleave(tx.E2E_SENTENCES_ZH)]
    else:
        turns = [(0 if role == "agent" else 1, s, AGENT_VOICE if role == "agent" else CUSTOMER_VOICE)
                 for role, s in interleave(text.E2E_SENTENCES)]
    chans, placed = build_call(turns, a.seed)
    out = Path(a.out)
    write_mulaw_wav(out, chans)
    meta = dict(rate=RATE, channels=["agent", "customer"], encoding="mulaw", language=a.lang,
                generator="models/asr-synth/make_test_call.py"
                + (f" --lang {a.lang}" if a.lang != "en" else "")
                + (f" --heldout {a.heldout} --kind {a.kind} --seed {a.seed}" if a.heldout else "")
                + (" --e2e" if a.e2e else "")
                + "".join(f" --exclude {Path(f).name}" for f in a.exclude)
                + (" --real" if a.real else ""),
                turns=placed)
    out.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"wrote {out} ({len(chans[0]) / RATE:.1f} s, {len(placed)} turns)")


def interleave(rows):
    agent = [r for r in rows if r[0] == "agent"]
    cust = [r for r in rows if r[0] == "customer"]
    out = []
    for i in range(max(len(agent), len(cust))):
        out += agent[i:i + 1] + cust[i:i + 1]
    return out


if __name__ == "__main__":
    main()
