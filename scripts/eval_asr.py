#!/usr/bin/env python3
"""Transcription of REAL speech through the whole engine, against whisper.cpp's
`whisper-cli` and faster-whisper on the same telephone audio with the same
Whisper weights.

    python3 scripts/eval_asr.py --set dev|real_en|zh|zh_more [--model tiny|base|PATH] [--ct2 DIR]
        [--peers whisper-cli,faster-whisper] [--engine-only | --skip-engine]
        [--set-config asr.audio_ctx_margin=100 ...] [--seed N] [--json-out F] [--work-dir DIR]
    python3 scripts/eval_asr.py --self-test                   # the scorer on toy cases
    python3 scripts/eval_asr.py --set real_en --build-only    # write the calls only
    python3 scripts/eval_asr.py --rescore OLD.json --json-out NEW.json   # score stored transcripts again

e.g. /work/venv/bin/python scripts/eval_asr.py --set dev --model tiny --json-out /tmp/dev_tiny.json
Models: `tiny` = ggml-tiny.en.bin + CT2 dir `tiny`, `base` = ggml-base.bin
(multilingual) + CT2 `base`, from EVAL_ASR_GGML_DIR (default /work/cache/ggml)
and EVAL_ASR_CT2_DIR (default /work/cache/ct2); or a ggml file with --ct2 DIR.

Needs: a release build (target/release/callsense; this script waits for one
rather than building it), the runtime files of scripts/setup.sh
(.runtime/lib/libonnxruntime.so, Silero VAD), a Python with
scripts/eval_asr_requirements.txt, and for the peers a whisper-cli binary
(WHISPER_CLI or --whisper-cli) and the model in CTranslate2 form (--ct2).

What it does
1. Clips with reference text from CALLSENSE_ASSETS (default ../shared/assets):
   `dev`      the older clips: whisper.cpp jfk.wav, vosk test.wav (a digit
              string), the faster-whisper Harvard stereo clip (left and right
              are two clips), speechbrain spk*_snt* (the 10 with a label; 4
              labels replaced by the Harvard sentence spoken, DEV_REF_FIXES);
   `real_en`  audio/real_en (manifest.jsonl, 100 clips; per-source figures);
   `zh`       audio/zh (TRANSCRIPTS.txt, 2 clips);
   `zh_more`  audio/zh_more/fireredasr_zh (`text`, 4 clips).
   Choose settings on `dev` (and `zh`); report on `real_en` and `zh_more`.
2. Calls built from them, deterministic for a --seed: two-channel 8 kHz G.711
   mu-law WAV (channel 0 = customer, 1 = agent), clips as turns on
   alternating channels, 0.3-1.5 s apart, about 10 % barge-ins (the next turn
   starts 0.3-0.8 s, at most half the previous turn, before the previous one
   ends, on the other channel); each clip downmixed, resampled to 8 kHz,
   band-passed to 300-3400 Hz (4th-order Butterworth), set to an active
   speech level of -26..-18 dBFS (peak kept under -0.5 dBFS); white or pink
   line noise at -60..-50 dBFS on both channels; the mu-law encoding of the
   file is the codec round trip. A set longer than --max-call-s (180 s) is
   cut into several calls. CALL.wav + CALL.json (turns: channel, start_s,
   end_s, text, clip, language, source, kind) go to --work-dir.
3. Engine: one `callsense serve` on a free port with CALLSENSE__SERVER__LISTEN,
   CALLSENSE__ASR__MODEL=<ggml file> and every --set-config a.b=v as
   CALLSENSE__A__B=v; each call streamed with `callsense stream --as mulaw
   --rate 8000 --json --language en|zh --roles customer,agent --realtime`
   paced like a live call (--fast: as fast as the server takes it) (models/asr-synth/eval_engine.py's approach and helpers).
4. Peers, on the same turns: each turn cut (+-0.2 s) from the call's decoded
   mu-law channel, upsampled 2x to 16 kHz WAV. whisper-cli: its defaults (full
   30 s window, beam 5, best-of 5, temperature fallback), `-t 2`, `-l en|zh`,
   `-nt -otxt`. faster-whisper: WhisperModel(CT2 dir, cpu, compute_type int8,
   cpu_threads 2), transcribe() defaults (beam 5, temperature fallback,
   condition_on_previous_text), language fixed, no VAD filter.
5. Scoring, identical for all systems: per call and channel, the final
   transcripts in time order (engine: results by start_ms; peers: turns by
   start) concatenated against the references concatenated, so where the VAD
   cuts cannot hide or invent errors. English: WER after Whisper's
   EnglishTextNormalizer (per transcript/reference), then digit runs split
   into single digits on both sides (so "one zero zero..." and
   "1-0-0-0-1" compare digit by digit, and a lone "one", which the
   normaliser keeps as a word, counts as "1"; `wer_whisper_norm` in the
   JSON is the figure without these two steps). Mandarin: CER after BasicTextNormalizer,
   traditional->simplified (OpenCC t2s) on hypothesis AND reference, spaces
   removed; traditional characters in hypotheses are counted separately
   (`trad_chars`, `trad_units`). Each error of the alignment is attributed to
   the spoken turn it falls in (insertions to the turn before), giving
   per-turn and per-source figures that add up to the total.
   Loops: a transcript (engine result / peer turn) in which an n-gram (n >= 2
   words as normalised, digit runs not split, or >= 3 characters for
   Mandarin) repeats >= 3 times back to back,
   or which is >= 2x as long as the reference turns it overlaps (same
   channel, by time) and at least 4 tokens longer (so "five" -> "it is 5"
   is not a loop); an engine result overlapping no turn counts as a loop
   once it has 4+ tokens (`phantom` counts every such result).
Output: a markdown table on stdout (set, model, system, WER/CER, loops,
words, ...), per-source WER for sets with several sources, and a JSON report
(--json-out) with every call, turn, transcript and figure.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, asdict
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy import signal

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "models/asr-synth"))
from eval_engine import field, free_port  # noqa: E402
from make_test_call import RATE, read_mulaw_wav, write_mulaw_wav  # noqa: E402

ASSETS = Path(os.environ.get("CALLSENSE_ASSETS", REPO.parent / "shared/assets"))
GGML_DIR = Path(os.environ.get("EVAL_ASR_GGML_DIR", "/work/cache/ggml"))
CT2_DIR = Path(os.environ.get("EVAL_ASR_CT2_DIR", "/work/cache/ct2"))
WHISPER_CLI = os.environ.get("WHISPER_CLI", "/work/peers/whisper.cpp-build/bin/whisper-cli")
CHANNELS = ["customer", "agent"]
PEER_PAD_S = 0.2
SET_LANG = {"dev": "en", "real_en": "en", "zh": "zh", "zh_more": "zh"}
# a model name -> candidate ggml files (in GGML_DIR) and CTranslate2 dir (in CT2_DIR)
MODELS = {"tiny": (["ggml-tiny.en.bin", "ggml-tiny.bin"], "tiny"),
          "tiny.en": (["ggml-tiny.en.bin"], "tiny"),
          "base": (["ggml-base.bin", "ggml-base.en.bin"], "base"),
          "base.en": (["ggml-base.en.bin"], "base.en")}


# --- sets ---------------------------------------------------------------------------------

# speechbrain's test labels for these recordings of Harvard sentences are not
# what is spoken (misspelt, or another sentence: spk2_snt5 is labelled "ken
# pairs lack full flavor" but says "Jump the fence and hurry up the bank"); the
# dev set scores them against the Harvard sentence (IEEE 1969 lists) unless
# --raw-refs. The call JSON keeps the published label as `ref_published`.
DEV_REF_FIXES = {"spk1_snt2": "Drop the two when you add the figures.",
                 "spk2_snt1": "We are sure that one war is enough.",
                 "spk2_snt3": "Tear a thin sheet from the yellow pad.",
                 "spk2_snt5": "Jump the fence and hurry up the bank."}

@dataclass
class Clip:
    id: str
    path: str
    text: str
    lang: str
    source: str
    kind: str = "read"
    channel: int | None = None  # which channel of a multi-channel file; None: downmix
    ref_published: str | None = None  # the source's own text where `text` replaces it


def load_set(name: str, raw_refs: bool = False) -> list[Clip]:
    a = ASSETS / "audio"
    if name == "dev":
        clips = [Clip("jfk", str(a / "whisper_cpp/jfk.wav"), (a / "whisper_cpp/jfk.txt").read_text().strip(),
                      "en", "whisper_cpp")]
        # vosk TRANSCRIPTS.txt: `test.wav (8 kHz) and test16k.wav (16 kHz): CMU Sphinx sample ...: "digits"`
        m = re.search(r'^test\.wav.*?"([^"]+)"', (a / "vosk/TRANSCRIPTS.txt").read_text(), re.M)
        clips.append(Clip("vosk_test", str(a / "vosk/test.wav"), m.group(1), "en", "vosk"))
        for line in (a / "faster_whisper/TRANSCRIPTS.txt").read_text().splitlines():
            m = re.match(r"stereo_diarization\.wav (left|right): (.+)", line)
            if m:
                clips.append(Clip(f"stereo_diarization_{m.group(1)}", str(a / "faster_whisper/stereo_diarization.wav"),
                                  m.group(2), "en", "faster_whisper", channel=0 if m.group(1) == "left" else 1))
        sb = {}
        for f in ("ASR_train.json", "ASR_dev.json"):
            sb.update(json.loads((a / "speechbrain_asr" / f).read_text()))
        for k in sorted(sb):
            fix = None if raw_refs else DEV_REF_FIXES.get(k)
            clips.append(Clip(k, str(a / "speechbrain_asr" / f"{k}.wav"), fix or sb[k]["wrd"], "en",
                              "speechbrain_asr", ref_published=sb[k]["wrd"] if fix else None))
        return clips
    if name == "real_en":
        clips = []
        for line in (a / "real_en/manifest.jsonl").read_text().splitlines():
            if line.strip():
                d = json.loads(line)
                clips.append(Clip(Path(d["file"]).stem, str(a / "real_en" / d["file"]), d["text"], "en",
                                  d["file"].split("__")[0], d.get("kind", "read")))
        return clips
    if name in ("zh", "zh_more"):
        d = a / "zh" if name == "zh" else a / "zh_more/fireredasr_zh"
        listing = d / ("TRANSCRIPTS.txt" if name == "zh" else "text")
        clips = []
        for line in listing.read_text().splitlines():
            if line.strip():
                key, txt = line.split(None, 1)
                clips.append(Clip(key, str(d / f"{key}.wav"), txt.strip(), "zh",
                                  re.match(r"TEST_[A-Z]+|[A-Z]+", key).group(0)))
        return clips
    raise SystemExit(f"unknown set {name!r}")


# --- calls --------------------------------------------------------------------------------

def telephone_clip(c: Clip, rng: np.random.Generator) -> np.ndarray:
    """The clip as it would arrive on a phone line before the codec: mono,
    8 kHz, 300-3400 Hz, at a drawn speech level (float, full scale 1.0)."""
    x, sr = sf.read(c.path, dtype="float64", always_2d=True)
    x = x[:, c.channel] if c.channel is not None else x.mean(axis=1)
    g = math.gcd(int(sr), RATE)
    if sr != RATE:
        x = signal.resample_poly(x, RATE // g, int(sr) // g)
    sos = signal.butter(4, [300, 3400], btype="bandpass", fs=RATE, output="sos")
    x = signal.sosfilt(sos, x)
    frames = x[: len(x) // 160 * 160].reshape(-1, 160)
    e = (frames ** 2).mean(axis=1) + 1e-12
    active = e[e > e.max() * 1e-3]  # frames within 30 dB of the loudest
    rms = math.sqrt(active.mean())
    gain = 10 ** (rng.uniform(-26, -18) / 20) / rms
    gain = min(gain, 10 ** (-0.5 / 20) / (np.abs(x).max() + 1e-12))
    return x * gain


def line_noise(n: int, rng: np.random.Generator) -> tuple[np.ndarray, str, float]:
    kind = "pink" if rng.random() < 0.5 else "white"
    w = rng.standard_normal(n)
    if kind == "pink":
        spec = np.fft.rfft(w)
        spec /= np.sqrt(np.arange(len(spec)) + 1.0)
        w = np.fft.irfft(spec, n)
    level = float(rng.uniform(-60, -50))
    return w / (w.std() + 1e-12) * 10 ** (level / 20), kind, round(level, 1)


def build_calls(set_name: str, clips: list[Clip], out: Path, seed: int, max_call_s: float,
                barge_share: float = 0.1) -> list[Path]:
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    audio = [telephone_clip(c, rng) for c in clips]
    groups, cur, dur = [], [], 0.0
    for i, x in enumerate(audio):  # sets kept in their listed order, cut into calls of <= max_call_s
        d = len(x) / RATE + 1.0
        if cur and dur + d > max_call_s:
            groups.append(cur)
            cur, dur = [], 0.0
        cur.append(i)
        dur += d
    if cur:
        groups.append(cur)
    paths = []
    for n, idx in enumerate(groups):
        turns, t, last_end = [], 0.5, [-1.0, -1.0]
        for k, i in enumerate(idx):
            d = len(audio[i]) / RATE
            ch = k % 2
            if k:
                prev = turns[-1]
                if rng.random() < barge_share:
                    start = prev["end_s"] - min(rng.uniform(0.3, 0.8), 0.5 * (prev["end_s"] - prev["start_s"]))
                else:
                    start = prev["end_s"] + rng.uniform(0.3, 1.5)
                t = max(start, last_end[ch] + 0.3)
            turns.append(dict(channel=ch, role=CHANNELS[ch], start_s=round(t, 3), end_s=round(t + d, 3),
                              offset_ms=int(round(t * 1000)), text=clips[i].text, clip=clips[i].id,
                              language=clips[i].lang, source=clips[i].source, kind=clips[i].kind,
                              barge_in=bool(k and t < turns[-1]["end_s"])))
            if clips[i].ref_published:
                turns[-1]["ref_published"] = clips[i].ref_published
            last_end[ch] = t + d
        total = max(tt["end_s"] for tt in turns) + 1.0
        n_samp = int(math.ceil(total * RATE))
        chans, noise = [], []
        for ch in (0, 1):
            y, kind, level = line_noise(n_samp, rng)
            noise.append(dict(kind=kind, dbfs=level))
            chans.append(y)
        for tt, i in zip(turns, idx):
            s = int(round(tt["start_s"] * RATE))
            chans[tt["channel"]][s:s + len(audio[i])] += audio[i]
        name = f"{set_name}_call{n + 1:02d}"
        wav = out / f"{name}.wav"
        write_mulaw_wav(wav, [np.clip(c, -1, 1) for c in chans])
        meta = dict(call=name, set=set_name, seed=seed, rate=RATE, encoding="mulaw", channels=CHANNELS,
                    language=clips[idx[0]].lang, seconds=round(total, 2), noise=noise, turns=turns)
        wav.with_suffix(".json").write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n")
        paths.append(wav)
    return paths


def cut_turns(call: Path, meta: dict) -> list[Path]:
    """Each turn from the call's decoded mu-law channel, +-PEER_PAD_S, as 16 kHz WAV."""
    pcm = read_mulaw_wav(call).astype(np.float64) / 32768.0
    d = call.parent / f"{call.stem}_turns"
    d.mkdir(exist_ok=True)
    out = []
    for k, t in enumerate(meta["turns"]):
        a = max(0, int((t["start_s"] - PEER_PAD_S) * RATE))
        b = min(len(pcm), int((t["end_s"] + PEER_PAD_S) * RATE))
        y = signal.resample_poly(pcm[a:b, t["channel"]], 2, 1)
        p = d / f"{k:03d}_{t['clip']}.wav"
        sf.write(p, np.clip(y, -1, 1), 16000, subtype="PCM_16")
        out.append(p)
    return out


# --- systems --------------------------------------------------------------------------------

def wait_for_binary(path: Path, wait_s: float) -> None:
    t0 = time.time()
    while not path.exists():
        if time.time() - t0 > wait_s:
            raise SystemExit(f"{path} is missing (waited {wait_s:.0f} s); build it with cargo build --release")
        print(f"waiting for {path} (someone else builds it) ...", file=sys.stderr)
        time.sleep(30)


def config_overrides(pairs: list[str]) -> dict[str, str]:
    """`section.key=value` pairs as the engine's CALLSENSE__SECTION__KEY variables."""
    out = {}
    for kv in pairs:
        k, eq, v = kv.partition("=")
        if "." not in k or not eq:
            raise SystemExit(f"--set-config wants section.key=value, got {kv!r}")
        out["CALLSENSE__" + "__".join(p.upper() for p in k.split("."))] = v
    return out


@contextlib.contextmanager
def engine_server(binary: Path, model: Path, overrides: dict[str, str]):
    port = free_port()
    env = dict(os.environ, CALLSENSE__SERVER__LISTEN=f"127.0.0.1:{port}", CALLSENSE__ASR__MODEL=str(model))
    env.update(overrides)
    log_path = Path(tempfile.gettempdir()) / f"callsense-eval-asr-{port}.log"
    with open(log_path, "w") as log:
        srv = subprocess.Popen([str(binary), "serve"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(480):
            if "Models loaded; serving" in log_path.read_text(errors="replace"):
                break
            if srv.poll() is not None:
                raise RuntimeError(f"server exited:\n{log_path.read_text(errors='replace')[-4000:]}")
            time.sleep(0.5)
        else:
            raise RuntimeError(f"server not ready after 240 s:\n{log_path.read_text(errors='replace')[-4000:]}")
        yield f"http://127.0.0.1:{port}", log_path
    finally:
        srv.terminate()
        try:
            srv.wait(timeout=30)
        except subprocess.TimeoutExpired:
            srv.kill()


def engine_stream(binary: Path, server: str, call: Path, language: str, realtime: bool = True) -> list[dict]:
    pace = ["--realtime"] if realtime else []
    out = subprocess.run([str(binary), "stream", str(call), "--server", server, "--as", "mulaw", "--rate", str(RATE),
                          "--json", "--language", language, "--roles", "customer,agent", *pace],
                         cwd=REPO, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"callsense stream failed ({out.returncode}): {out.stderr[-2000:]}")
    finals = []
    for line in out.stdout.splitlines():
        if line.startswith("{"):
            r = field(json.loads(line), "result")
            if r and field(r, "is_final"):
                finals.append(dict(channel=int(field(r, "channel") or 0), start_ms=int(field(r, "start_ms") or 0),
                                   end_ms=int(field(r, "end_ms") or 0), text=field(r, "transcript") or "",
                                   language=field(r, "language_code") or ""))
    return finals


def whisper_cli(binary: str, model: Path, wavs: list[Path], language: str) -> list[str]:
    for w in wavs:
        Path(f"{w}.txt").unlink(missing_ok=True)
    cmd = [binary, "-m", str(model), "-t", "2", "-l", language, "-nt", "-np", "-otxt"]
    for w in wavs:
        cmd += ["-f", str(w)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"whisper-cli failed ({out.returncode}): {out.stderr[-2000:]}")
    return [" ".join(Path(f"{w}.txt").read_text().split()) for w in wavs]


class FasterWhisper:
    def __init__(self, ct2: Path, language: str):
        from faster_whisper import WhisperModel
        self.model = WhisperModel(str(ct2), device="cpu", compute_type="int8", cpu_threads=2)
        self.language = language

    def __call__(self, wavs: list[Path]) -> list[str]:
        out = []
        for w in wavs:
            segs, _ = self.model.transcribe(str(w), language=self.language, beam_size=5, vad_filter=False)
            out.append(" ".join(" ".join(s.text for s in segs).split()))
        return out


# --- scoring --------------------------------------------------------------------------------

_EN = _BASIC = _T2S = None


def t2s(s: str) -> str:
    global _T2S
    if _T2S is None:
        from opencc import OpenCC
        _T2S = OpenCC("t2s")
    return _T2S.convert(s)


def tokens(text: str, lang: str, split_digits: bool = True) -> list[str]:
    """Scoring units: English words after Whisper's EnglishTextNormalizer
    (digit runs split into digits unless split_digits is off); Mandarin
    characters after BasicTextNormalizer and traditional->simplified."""
    global _EN, _BASIC
    if lang == "zh":
        if _BASIC is None:
            from whisper_normalizer.basic import BasicTextNormalizer
            _BASIC = BasicTextNormalizer()
        return [ch for ch in t2s(_BASIC(text)) if not ch.isspace()]
    if _EN is None:
        from whisper_normalizer.english import EnglishTextNormalizer
        _EN = EnglishTextNormalizer()
    out = []
    for w in _EN(text).split():
        if split_digits and w.isdigit():
            out += list(w)
        else:  # the normaliser keeps a lone "one" (and turns "1-0" into "one 0")
            out.append("1" if split_digits and w == "one" else w)
    return out


def align(ref: list[str], hyp: list[str]) -> list[tuple[str, int]]:
    """Levenshtein alignment: (op, ref index) per non-match op: 'S' and 'D' at
    their ref word, 'I' at the ref word before it (-1 at the start)."""
    n, m = len(ref), len(hyp)
    d = np.zeros((n + 1, m + 1), dtype=np.int32)
    d[:, 0] = np.arange(n + 1)
    d[0, :] = np.arange(m + 1)
    for i in range(1, n + 1):
        r = ref[i - 1]
        row, prev = d[i], d[i - 1]
        sub = prev[:-1] + np.fromiter((h != r for h in hyp), dtype=np.int32, count=m)
        best = np.minimum(sub, prev[1:] + 1)
        for j in range(1, m + 1):  # insertions run along the row
            row[j] = min(best[j - 1], row[j - 1] + 1)
    ops, i, j = [], n, m
    while i or j:
        if i and j and d[i, j] == d[i - 1, j - 1] + (ref[i - 1] != hyp[j - 1]):
            if ref[i - 1] != hyp[j - 1]:
                ops.append(("S", i - 1))
            i, j = i - 1, j - 1
        elif i and d[i, j] == d[i - 1, j] + 1:
            ops.append(("D", i - 1))
            i -= 1
        else:
            ops.append(("I", i - 1))
            j -= 1
    return ops[::-1]


def loop_reason(words: list[str], toks: list[str], ref_len: int, lang: str) -> str | None:
    """words: the transcript's tokens as written (digit runs whole), for
    repeats; toks: as scored (digits split), against the reference's ref_len."""
    nmin = 3 if lang == "zh" else 2
    W = len(words)
    for n in range(nmin, W // 3 + 1):
        for i in range(W - 3 * n + 1):
            if words[i:i + n] == words[i + n:i + 2 * n] == words[i + 2 * n:i + 3 * n]:
                return f"{n}-gram x3: {' '.join(words[i:i + n]) if lang != 'zh' else ''.join(words[i:i + n])}"
    L = len(toks)
    if L >= 2 * ref_len and L >= ref_len + 4:
        return f"{L} tokens for {ref_len} in the reference"
    return None


def trad_chars(text: str) -> int:
    return sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff" and t2s(ch) != ch)


def score(meta: dict, units: list[dict], lang: str) -> dict:
    """units: {channel, start_s, end_s, text} (engine results or peer turns)."""
    turns = meta["turns"]
    ref_tok = [tokens(t["text"], lang) for t in turns]
    unit_tok = [tokens(u["text"], lang) for u in units]
    per_turn = [dict(errors=0, words=len(w)) for w in ref_tok]
    S = D = I = hyp_words = 0
    plain_e = plain_n = 0
    for ch in (0, 1):
        idx = sorted((i for i, t in enumerate(turns) if t["channel"] == ch), key=lambda i: turns[i]["start_s"])
        ref, owner = [], []
        for i in idx:
            ref += ref_tok[i]
            owner += [i] * len(ref_tok[i])
        uidx = sorted((k for k, u in enumerate(units) if u["channel"] == ch), key=lambda k: units[k]["start_s"])
        hyp = [w for k in uidx for w in unit_tok[k]]
        hyp_words += len(hyp)
        for op, r in align(ref, hyp):
            S += op == "S"
            D += op == "D"
            I += op == "I"
            if owner:
                o = owner[min(max(r, 0), len(owner) - 1)]
                per_turn[o]["errors"] += 1
        if lang == "en":
            pr = [w for i in idx for w in tokens(turns[i]["text"], lang, split_digits=False)]
            ph = [w for k in uidx for w in tokens(units[k]["text"], lang, split_digits=False)]
            plain_e += len(align(pr, ph))
            plain_n += len(pr)
    loops, phantom, trad_n, trad_u = [], 0, 0, 0
    for u, tk in zip(units, unit_tok):
        over = [i for i, t in enumerate(turns) if t["channel"] == u["channel"]
                and t["start_s"] < u["end_s"] and u["start_s"] < t["end_s"]]
        phantom += not over and bool(tk)
        # repeats in the words as written: "10 million" split into digits is "0 0" x3, not a loop
        why = loop_reason(tokens(u["text"], lang, split_digits=False), tk,
                          sum(len(ref_tok[i]) for i in over), lang)
        if why:
            loops.append(dict(channel=u["channel"], start_s=u["start_s"], reason=why, text=u["text"][:300]))
        if lang == "zh":
            n = trad_chars(u["text"])
            trad_n += n
            trad_u += n > 0
    words = sum(len(w) for w in ref_tok)
    rep = dict(words=words, errors=S + D + I, sub=S, dels=D, ins=I, hyp_words=hyp_words, units=len(units),
               wer=round((S + D + I) / max(1, words), 4), loops=len(loops), loop_list=loops, phantom=phantom,
               per_turn=[dict(clip=t["clip"], source=t["source"], channel=t["channel"], start_s=t["start_s"], **p)
                         for t, p in zip(turns, per_turn)])
    if lang == "en":
        rep.update(wer_whisper_norm=round(plain_e / max(1, plain_n), 4), words_whisper_norm=plain_n,
                   errors_whisper_norm=plain_e)
    else:
        rep.update(trad_chars=trad_n, trad_units=trad_u)
    return rep


def combine(reports: list[dict], lang: str) -> dict:
    keys = ["words", "errors", "sub", "dels", "ins", "hyp_words", "units", "loops", "phantom"]
    keys += ["words_whisper_norm", "errors_whisper_norm"] if lang == "en" else ["trad_chars", "trad_units"]
    tot = {k: sum(r[k] for r in reports) for k in keys}
    tot["wer"] = round(tot["errors"] / max(1, tot["words"]), 4)
    if lang == "en":
        tot["wer_whisper_norm"] = round(tot["errors_whisper_norm"] / max(1, tot["words_whisper_norm"]), 4)
    by_src: dict[str, list[int]] = {}
    for r in reports:
        for t in r["per_turn"]:
            g = by_src.setdefault(t["source"], [0, 0])
            g[0] += t["errors"]
            g[1] += t["words"]
    tot["by_source"] = {s: dict(words=n, errors=e, wer=round(e / max(1, n), 4)) for s, (e, n) in sorted(by_src.items())}
    return tot


# --- main -------------------------------------------------------------------------------------

def self_test() -> None:
    """The scorer on toy cases: ref == hyp scores 0, known edits score as counted."""
    meta = dict(turns=[dict(channel=0, start_s=0.0, end_s=2.0, text="Mr. Smith paid forty-two dollars.", clip="a",
                            source="t"),
                       dict(channel=1, start_s=1.5, end_s=3.0, text="one zero zero one", clip="b", source="t")])
    same = [dict(channel=t["channel"], start_s=t["start_s"], end_s=t["end_s"], text=t["text"]) for t in meta["turns"]]
    r = score(meta, same, "en")
    assert r["wer"] == 0 and r["loops"] == 0, r
    for digits in ("1001", "1-0-0-1", "1, 0, 0, 1.", "one zero zero one"):
        alt = [dict(same[0], text="Mister Smith paid $42."), dict(same[1], text=digits)]
        assert score(meta, alt, "en")["errors"] == 0, digits
    bad = [dict(same[0], text="Mister Smith paid the the the the the the 42 dollars"), dict(same[1], text="")]
    r = score(meta, bad, "en")
    assert r["loops"] == 1 and r["dels"] == 4 and r["ins"] == 6, r
    big = dict(turns=[dict(channel=0, start_s=0, end_s=2, text="over ten million people", clip="m", source="t")])
    r = score(big, [dict(channel=0, start_s=0, end_s=2, text="over 10 million people")], "en")
    assert r["loops"] == 0 and r["errors"] == 0, r
    zh = dict(turns=[dict(channel=0, start_s=0, end_s=2, text="换一首歌", clip="z", source="t")])
    r = score(zh, [dict(channel=0, start_s=0, end_s=2, text="換一首歌。")], "zh")
    assert r["wer"] == 0 and r["trad_chars"] == 1, r
    r = score(zh, [dict(channel=0, start_s=0, end_s=2, text="换一首歌换一首歌换一首歌")], "zh")
    assert r["loops"] == 1 and r["ins"] == 8, r
    print("scorer self-test ok")


def resolve_model(spec: str, ct2: str | None) -> tuple[Path, Path | None, str]:
    if spec in MODELS:
        files, ct2_name = MODELS[spec]
        ggml = next((GGML_DIR / f for f in files if (GGML_DIR / f).exists()), None)
        if ggml is None:
            raise SystemExit(f"no {' or '.join(files)} in {GGML_DIR} (EVAL_ASR_GGML_DIR)")
        ct2_path = Path(ct2) if ct2 else CT2_DIR / ct2_name
    else:
        ggml = Path(spec)
        ct2_path = Path(ct2) if ct2 else None
    name = ggml.name.removeprefix("ggml-").removesuffix(".bin")
    return ggml.resolve(), ct2_path if ct2_path and ct2_path.exists() else None, name


def english_only(ggml: Path) -> bool:
    with open(ggml, "rb") as f:
        return int.from_bytes(f.read(8)[4:8], "little") < 51865  # n_vocab: 51864 for *.en


def md_table(rows: list[dict], lang: str) -> str:
    metric = "CER" if lang == "zh" else "WER"
    head = f"| set | model | system | {metric} | loops | {'chars' if lang == 'zh' else 'words'} | results | sub/del/ins | "
    head += "trad. chars (results) | " if lang == "zh" else "WER (no digit split) | "
    head += "seconds |"
    lines = [head, "|" + "|".join(["---"] * (head.count("|") - 1)) + "|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['set']} | {r['model']} | {r['system']} | failed: {r['error'][:80]} |")
            continue
        extra = f"{r['trad_chars']} ({r['trad_units']})" if lang == "zh" else f"{100 * r['wer_whisper_norm']:.1f} %"
        lines.append(f"| {r['set']} | {r['model']} | {r['system']} | {100 * r['wer']:.1f} % | {r['loops']} | {r['words']} "
                     f"| {r['units']} | {r['sub']}/{r['dels']}/{r['ins']} | {extra} | {r['seconds']:.0f} |")
    return "\n".join(lines)


def md_sources(rows: list[dict]) -> str:
    ok = [r for r in rows if "by_source" in r]
    if not ok or len(ok[0]["by_source"]) < 2:
        return ""
    unit = "chars" if ok[0].get("trad_chars") is not None else "words"
    head = f"| source | {unit} | " + " | ".join(r["system"] for r in ok) + " |"
    lines = [head, "|" + "|".join(["---"] * (len(ok) + 2)) + "|"]
    for s, v in ok[0]["by_source"].items():
        lines.append(f"| {s} | {v['words']} | " + " | ".join(f"{100 * r['by_source'][s]['wer']:.1f} %" for r in ok) + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", dest="set_name", choices=list(SET_LANG))
    ap.add_argument("--model", default="base", help="tiny (tiny.en), base (multilingual), tiny.en, base.en, or a ggml file")
    ap.add_argument("--ct2", help="faster-whisper (CTranslate2) model dir (default: from --model, in EVAL_ASR_CT2_DIR)")
    ap.add_argument("--peers", default="whisper-cli,faster-whisper", help="comma list; empty for none")
    ap.add_argument("--engine-only", action="store_true", help="no peers")
    ap.add_argument("--fast", action="store_true",
                    help="stream calls as fast as the engine takes them instead of in real time (a channel's "
                         "utterances then overlap in recognition, so the previous-text context is mostly absent)")
    ap.add_argument("--skip-engine", action="store_true", help="peers only")
    ap.add_argument("--set-config", action="append", default=[], metavar="SECTION.KEY=VALUE",
                    help="engine config override, passed as CALLSENSE__SECTION__KEY=VALUE (repeatable)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-call-s", type=float, default=180.0)
    ap.add_argument("--json-out")
    ap.add_argument("--work-dir", help="where calls and turn WAVs go (default: a temp dir per set and seed)")
    ap.add_argument("--bin", default=os.environ.get("CALLSENSE_BIN", str(REPO / "target/release/callsense")))
    ap.add_argument("--wait-bin-s", type=float, default=1800, help="how long to wait for a missing engine binary")
    ap.add_argument("--whisper-cli", default=WHISPER_CLI)
    ap.add_argument("--raw-refs", action="store_true",
                    help="dev: score speechbrain clips against their published labels (see DEV_REF_FIXES)")
    ap.add_argument("--build-only", action="store_true", help="write the calls and exit")
    ap.add_argument("--rescore", metavar="REPORT.json",
                    help="score the transcripts of an earlier --json-out again (its calls must still exist); "
                         "writes --json-out if given")
    ap.add_argument("--self-test", action="store_true", help="check the scorer on toy cases and exit")
    a = ap.parse_args()
    if a.self_test:
        self_test()
        return
    if a.rescore:
        rescore(a.rescore, a.json_out)
        return
    if not a.set_name:
        ap.error("--set is required")
    lang = SET_LANG[a.set_name]
    ggml, ct2, model_name = resolve_model(a.model, a.ct2)
    if lang != "en" and english_only(ggml):
        raise SystemExit(f"{ggml} is an English-only model; the {a.set_name} set is Mandarin")
    overrides = config_overrides(a.set_config)
    peers = [] if a.engine_only else [p for p in a.peers.split(",") if p]
    work = Path(a.work_dir or Path(tempfile.gettempdir()) / f"callsense-eval-asr/{a.set_name}-seed{a.seed}")
    clips = load_set(a.set_name, a.raw_refs)
    calls = build_calls(a.set_name, clips, work, a.seed, a.max_call_s)
    metas = [json.loads(c.with_suffix(".json").read_text()) for c in calls]
    print(f"{a.set_name}: {len(clips)} clips -> {len(calls)} call(s), "
          f"{sum(m['seconds'] for m in metas):.0f} s, in {work}", file=sys.stderr)
    if a.build_only:
        return
    report = dict(set=a.set_name, language=lang, model=model_name, ggml=str(ggml), ct2=str(ct2) if ct2 else None,
                  seed=a.seed, config_overrides=overrides, assets=str(ASSETS), raw_refs=a.raw_refs,
                  work_dir=str(work),
                  calls=[dict(call=m["call"], path=str(c), seconds=m["seconds"], turns=len(m["turns"]),
                              noise=m["noise"], barge_ins=sum(t["barge_in"] for t in m["turns"]))
                         for c, m in zip(calls, metas)],
                  systems={})
    rows = []

    def run_system(name: str, units_fn, settings: str):
        t0 = time.time()
        try:
            per_call, units_all = [], []
            for call, meta in zip(calls, metas):
                units = units_fn(call, meta)
                units_all.append(units)
                per_call.append(score(meta, units, lang))
            tot = combine(per_call, lang)
            tot.update(set=a.set_name, model=model_name, system=name, settings=settings,
                       seconds=round(time.time() - t0, 1))
            report["systems"][name] = dict(total={k: v for k, v in tot.items()},
                                           calls=[dict(call=m["call"], score=s, transcripts=u)
                                                  for m, s, u in zip(metas, per_call, units_all)])
            rows.append(tot)
            print(f"  {name}: {100 * tot['wer']:.1f} % ({tot['loops']} loops, {tot['seconds']:.0f} s)", file=sys.stderr)
        except Exception as e:  # noqa: BLE001 -- one system failing must not lose the others
            print(f"  {name} failed: {e}", file=sys.stderr)
            report["systems"][name] = dict(error=str(e))
            rows.append(dict(set=a.set_name, model=model_name, system=name, error=str(e)))

    if not a.skip_engine:
        binary = Path(a.bin)
        wait_for_binary(binary, a.wait_bin_s)
        git = lambda *c: subprocess.run(["git", *c], cwd=REPO, capture_output=True, text=True).stdout  # noqa: E731
        report["engine_binary"] = dict(
            path=str(binary), built=time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(binary.stat().st_mtime)),
            repo_head=git("rev-parse", "--short", "HEAD").strip(),
            uncommitted_src=[ln[3:] for ln in git("status", "--porcelain", "--", "src", "Cargo.toml").splitlines()])
        for f in (".runtime/lib/libonnxruntime.so", ".runtime/models/silero_vad_16k_op15.onnx"):
            if not (REPO / f).exists():
                print(f"warning: {f} is missing (scripts/setup.sh, or `{binary} models fetch onnxruntime silero-vad`)",
                      file=sys.stderr)
        try:
            with engine_server(binary, ggml, overrides) as (server, log_path):
                report["engine_log"] = str(log_path)

                def engine_units(call, meta):
                    return [dict(channel=r["channel"], start_s=r["start_ms"] / 1000, end_s=r["end_ms"] / 1000,
                                 text=r["text"], language=r["language"])
                            for r in engine_stream(binary, server, call, lang, not a.fast)]
                run_system("callsense", engine_units,
                           "engine defaults" + "".join(f", {k}={v}" for k, v in overrides.items()))
        except RuntimeError as e:
            report["systems"]["callsense"] = dict(error=str(e))
            rows.append(dict(set=a.set_name, model=model_name, system="callsense", error=str(e)))
            print(f"  callsense failed: {e}", file=sys.stderr)

    turn_wavs = {}

    def peer_units(transcribe):
        def fn(call, meta):
            if call not in turn_wavs:
                turn_wavs[call] = cut_turns(call, meta)
            texts = transcribe(turn_wavs[call])
            return [dict(channel=t["channel"], start_s=t["start_s"], end_s=t["end_s"], text=x)
                    for t, x in zip(meta["turns"], texts)]
        return fn

    for p in peers:
        if p == "whisper-cli":
            if not shutil.which(a.whisper_cli) and not Path(a.whisper_cli).exists():
                rows.append(dict(set=a.set_name, model=model_name, system=p, error=f"no {a.whisper_cli}"))
                continue
            run_system(p, peer_units(lambda w: whisper_cli(a.whisper_cli, ggml, w, lang)),
                       f"{a.whisper_cli} -t 2 -l {lang} -nt: full 30 s window, beam 5, best-of 5, temperature fallback")
        elif p == "faster-whisper":
            if ct2 is None:
                rows.append(dict(set=a.set_name, model=model_name, system=p, error="no CTranslate2 model (--ct2)"))
                continue
            fw = FasterWhisper(ct2, lang)
            run_system(p, peer_units(fw), f"{ct2}: int8, cpu_threads 2, beam 5, temperature fallback, "
                                          f"language {lang}, no VAD filter")
        else:
            raise SystemExit(f"unknown peer {p!r} (whisper-cli, faster-whisper)")

    finish(report, rows, lang, a.json_out)


def finish(report: dict, rows: list[dict], lang: str, json_out: str | None) -> None:
    report["table"] = md_table(rows, lang)
    report["by_source_table"] = md_sources(rows)
    print(report["table"])
    if report["by_source_table"]:
        print(f"\n{'CER' if lang == 'zh' else 'WER'} by source:\n")
        print(report["by_source_table"])
    if json_out:
        Path(json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(json_out).write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n")


def rescore(path: str, json_out: str | None) -> None:
    """Scores the transcripts a JSON report holds again against its calls'
    JSON (after a change to the scorer), without running any system."""
    report = json.loads(Path(path).read_text())
    lang, rows = report["language"], []
    for name, sysrep in report["systems"].items():
        if "calls" not in sysrep:
            rows.append(dict(set=report["set"], model=report["model"], system=name, error=sysrep.get("error", "?")))
            continue
        per_call = []
        for c in sysrep["calls"]:
            meta = json.loads(Path(next(x["path"] for x in report["calls"] if x["call"] == c["call"]))
                              .with_suffix(".json").read_text())
            c["score"] = score(meta, c["transcripts"], lang)
            per_call.append(c["score"])
        old = sysrep["total"]
        tot = combine(per_call, lang)
        tot.update({k: old[k] for k in ("set", "model", "system", "settings", "seconds")})
        sysrep["total"] = tot
        rows.append(tot)
    finish(report, rows, lang, json_out)


if __name__ == "__main__":
    main()
