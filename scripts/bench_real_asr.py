#!/usr/bin/env python3
"""Turn end -> final result latency with REAL Whisper weights, for N concurrent
real-time two-channel calls: callsense against faster-whisper and whisper.cpp's
whisper-server, on the same turns and the same weights, side by side in one run.

    /work/venv/bin/python scripts/bench_real_asr.py [--models tiny,base] [--calls 1,2,4,8]
        [--systems callsense,faster-whisper,whisper-server] [--fw-beams 5,1]
        [--set dev] [--seed 1] [--stagger-s 3] [--max-wait-s 60]
        [--set-config asr.workers=8 ...] [--target-p95-s 1.0] [--stop-above-target] [--max-turns K]
        [--wait-quiet-s 600 --quiet-cores 0.3] [--json-out F] [--md-out F] [--work-dir DIR]

e.g. the full CPU matrix:
    /work/venv/bin/python scripts/bench_real_asr.py --json-out /tmp/b.json --md-out /tmp/b.md
the engine alone on a GPU (what scripts/bench_gpu.sh runs; no peers needed):
    python3 scripts/bench_real_asr.py --systems callsense --models .runtime/models/ggml-base.bin \
        --calls 8,16,32,64 --set-config asr.use_gpu=true --set-config asr.workers=8 --target-p95-s 1.0

Models: `tiny` = ggml-tiny.en.bin + CT2 dir `tiny`, `base` = ggml-base.bin
(multilingual) + CT2 dir `base` (scripts/eval_asr.py's EVAL_ASR_GGML_DIR,
default /work/cache/ggml, and EVAL_ASR_CT2_DIR, default /work/cache/ct2), or a
ggml file path (callsense and whisper-server only, unless --ct2 DIR). Language en.

What it measures
  For every turn of the call (ground truth from the call's JSON), the time from
  the turn's TRUE end (its `end_s` in the call, i.e. the end of the spoken clip,
  on the wall clock of the client that streams that call) to the moment the
  client has the final transcript covering that turn. p50 / p95 / max use the
  nearest-rank rule over all turns of all N calls; a turn with no result within
  --max-wait-s (60 s) counts as infinitely late (shown "> 60 s") and the row is
  marked overloaded. `from speech end` is the same measured from the last
  speech sample inside the turn (scripts/fixturelib.py's energy bounds; the
  clips carry 0-0.85 s of trailing near-silence), so it is >= the main figure.
  WER beside every row: all N copies of the call scored with
  scripts/eval_asr.py's scorer (Whisper's English normaliser, digit runs split;
  per channel, results concatenated in time order; loops counted). A turn a
  peer did not finish within the cap scores as deleted (WER marked *).

How
  The call: scripts/eval_asr.py's builder (`--set dev`, seed 1: one 65 s
  two-channel 8 kHz G.711 mu-law call, 14 real-speech turns on alternating
  channels, one barge-in). N concurrent calls are N copies of it, started at
  seeded random offsets in [0, --stagger-s) (the same offsets for every system
  at a given N) so turns do not align exactly. Each configuration is one pass
  over the call per client, then at most --max-wait-s for late results.
  Before each configuration: the load average, and afterwards how many cores
  other processes used during it (from /proc/stat minus this script's own
  process tree), because the machine may be shared; --wait-quiet-s waits
  (bounded) for the other processes to calm down before each configuration.

  callsense: one fresh `callsense serve` per configuration (CALLSENSE_BIN,
    default target/release/callsense; waited for, never built) with
    CALLSENSE__ASR__MODEL=<ggml> and otherwise default settings (plus
    --set-config), warmed with the call's first 12 s streamed once as fast as
    possible; then N `callsense stream CALL --as mulaw --rate 8000 --json
    --language en --roles customer,agent --realtime` clients (asyncio
    subprocesses; each line time-stamped as it arrives). A client's clock
    zero is when its process has been spawned (its sender starts after it has
    read the WAV, so the engine's latency is if anything overstated by a few
    ms; the JSON keeps each client's `accepted_s`, the arrival of the server's
    Accepted message, as an upper bound on that skew). Each final result is
    matched to the turn it overlaps most (same channel, by start_ms/end_ms),
    and also to any other turn it covers half of (merged turns); a turn's
    latency is the arrival of the LAST final matched to it minus its true
    end. This includes the engine's own endpointing wait (audio.end_silence_ms,
    500 ms by default) and all queueing. `callsense loadgen` is not used: it
    reports end-of-speech -> result from the engine's own VAD end (not the
    true turn end) and keeps no transcripts.
  Peers get an oracle endpointer: each turn cut from the call's decoded mu-law
    channel with 0.2 s before and --peer-post-pad-s (0.2 s) after, upsampled
    2x to 16 kHz (as eval_asr.py does), handed over on the real-time clock at
    true end + post-pad (when that audio exists; the N calls' turns
    interleaved as they would arrive); latency = completion - true end (so it
    includes the 0.2 s pad but no endpointing wait). One warm-up turn before
    the clock starts.
  faster-whisper (in this script's own interpreter, which must import
    faster_whisper: run it with /work/venv/bin/python): WhisperModel(CT2 dir,
    device cpu, compute_type int8, num_workers 2, cpu_threads 1) and a thread
    pool of 2, i.e. a 2-core server; transcribe(float32 audio, language en, vad_filter False) with the
    library defaults (temperature fallback, 30 s window) and beam_size from
    --fw-beams: 5 (faster-whisper's default) and 1 (greedy, callsense's
    default) as two rows.
  whisper-server (WHISPER_SERVER or --whisper-server, default
    /work/peers/whisper.cpp-build/bin/whisper-server): one fresh server per
    configuration, `-m <same ggml> -t 2 -l en`, otherwise its defaults (greedy
    with best-of 2, temperature fallback, full 30 s window); each turn POSTed
    to /inference as a 16 kHz PCM WAV (response_format json), one HTTP
    connection per turn, the client waiting at most --max-wait-s. It runs
    one request at a time.

Output: a markdown table per model (rows: system x concurrency) on stdout and
in --md-out, and everything (machine, loads, per-turn latencies, transcripts)
in --json-out. --target-p95-s T adds the largest N whose p95 <= T per system;
--stop-above-target stops raising N for a system once its p95 exceeds T (or it
overloads).

Driving many streams: the clients are `callsense stream` processes (Rust,
paced by tokio); this script only reads their stdout lines from one asyncio
loop, so it is not the bottleneck at hundreds of streams. Each client is a
process of its own: measured on a 2-core Xeon, about 0.005-0.01 core and
22 MB resident per real-time stream (Python included), so 256 streams take
some 2-3 cores and 6 GB, and several hundred need `ulimit -n` above 1024
(3 descriptors each). The JSON reports the clients' CPU use
(client_cpu_cores) so an overloaded client side can be told apart from an
overloaded engine.
"""
from __future__ import annotations

import argparse
import asyncio
import concurrent.futures as cf
import contextlib
import http.client
import io
import json
import math
import os
import platform
import re
import resource
import shutil
import signal as os_signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy import signal

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import eval_asr as ea  # noqa: E402  (also puts models/asr-synth on sys.path)
import fixturelib as fl  # noqa: E402
from eval_asr import RATE, read_mulaw_wav, write_mulaw_wav  # noqa: E402

REPO = ea.REPO
WHISPER_SERVER = os.environ.get("WHISPER_SERVER", "/work/peers/whisper.cpp-build/bin/whisper-server")
LANG = "en"
WARMUP_S = 12.0


# --- machine and load ---------------------------------------------------------------------

def machine_info() -> dict:
    info = dict(hostname=platform.node(), cpu_count=os.cpu_count(), python=sys.version.split()[0])
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for key in ("Model name", "CPU(s)", "Thread(s) per core", "Core(s) per socket"):
            m = re.search(rf"^{re.escape(key)}:\s*(.+)$", out, re.M)
            if m:
                info[key.lower().replace("(s)", "s").replace(" ", "_")] = m.group(1).strip()
    except OSError:
        pass
    with contextlib.suppress(OSError):
        m = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
        info["mem_gib"] = round(int(m.group(1)) / 2 ** 20, 1)
    if shutil.which("nvidia-smi"):
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True).stdout.strip()
        info["gpus"] = [g.strip() for g in out.splitlines() if g.strip()]
    return info


def top_processes(n: int = 4) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pcpu,comm", "--sort=-pcpu", "--no-headers"], capture_output=True,
                         text=True).stdout
    return [" ".join(line.split()) for line in out.splitlines()[:n]]


def cpu_busy_s() -> float:
    """Machine-wide busy CPU seconds so far (all cores), from /proc/stat."""
    try:
        f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return float("nan")
    idle = f[3] + (f[4] if len(f) > 4 else 0)
    return (sum(f[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def own_cpu_s() -> float:
    """CPU seconds of this process and its reaped children."""
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def wait_quiet(max_wait_s: float, cores: float, window_s: float = 5.0) -> dict:
    """Between configurations (nothing of ours running): waits, up to max_wait_s, until other processes
    use under `cores` cores over a window_s window. Returns what it saw."""
    t0 = time.monotonic()
    while True:
        b0, w0 = cpu_busy_s(), time.monotonic()
        time.sleep(window_s)
        busy = (cpu_busy_s() - b0) / (time.monotonic() - w0)
        waited = time.monotonic() - t0
        if busy < cores or waited >= max_wait_s:
            return dict(waited_s=round(waited, 1), busy_cores=round(busy, 2), quiet=busy < cores)


class LoadMeter:
    """Load before a configuration; cores used by OTHER processes during it."""

    def __init__(self):
        self.load_before = [round(x, 2) for x in os.getloadavg()]
        self.top_before = top_processes()
        self.t0, self.busy0, self.own0 = time.monotonic(), cpu_busy_s(), own_cpu_s()

    def done(self) -> dict:
        wall = time.monotonic() - self.t0
        busy, own = cpu_busy_s() - self.busy0, own_cpu_s() - self.own0
        return dict(load_before=self.load_before, top_before=self.top_before,
                    load_after=[round(x, 2) for x in os.getloadavg()], wall_s=round(wall, 1),
                    own_cores=round(own / max(wall, 1e-9), 2),
                    others_cores=round(max(0.0, busy - own) / max(wall, 1e-9), 2))


# --- the call and its turns -----------------------------------------------------------------

def build_call(set_name: str, seed: int, work: Path, max_turns: int | None = None) -> tuple[Path, dict]:
    clips = ea.load_set(set_name)
    calls = ea.build_calls(set_name, clips, work, seed, max_call_s=180.0)
    if len(calls) > 1:
        print(f"note: the {set_name} set makes {len(calls)} calls; using the first", file=sys.stderr)
    call = calls[0]
    meta = json.loads(call.with_suffix(".json").read_text())
    pcm = read_mulaw_wav(call).astype(np.float64) / 32768.0
    if max_turns and max_turns < len(meta["turns"]):  # a shorter call for smoke tests: the first turns + 1 s
        meta["turns"] = meta["turns"][:max_turns]
        meta["seconds"] = round(max(t["end_s"] for t in meta["turns"]) + 1.0, 2)
        pcm = pcm[: int(meta["seconds"] * RATE)]
        call = call.with_name(f"{call.stem}_first{max_turns}.wav")
        write_mulaw_wav(call, [pcm[:, ch] for ch in range(pcm.shape[1])])
        meta["call"] += f"_first{max_turns}"
        call.with_suffix(".json").write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n")
    for t in meta["turns"]:  # last speech sample inside each turn (energy bounds), for the secondary figure
        a, b = int(round(t["start_s"] * RATE)), int(round(t["end_s"] * RATE))
        _, e, _, _ = fl.speech_bounds(pcm[a:b, t["channel"]], RATE)
        t["speech_end_s"] = round(t["start_s"] + (e / 1000 if e is not None else t["end_s"] - t["start_s"]), 3)
    return call, meta


def peer_turn_audio(call: Path, meta: dict, post_pad_s: float) -> list[np.ndarray]:
    """Each turn from the decoded mu-law channel, 0.2 s before and post_pad_s after, at 16 kHz (float32)."""
    pcm = read_mulaw_wav(call).astype(np.float64) / 32768.0
    out = []
    for t in meta["turns"]:
        a = max(0, int((t["start_s"] - ea.PEER_PAD_S) * RATE))
        b = min(len(pcm), int((t["end_s"] + post_pad_s) * RATE))
        out.append(np.clip(signal.resample_poly(pcm[a:b, t["channel"]], 2, 1), -1, 1).astype(np.float32))
    return out


def wav_bytes(x: np.ndarray) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, x, 16000, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def warmup_call(call: Path, work: Path) -> Path:
    pcm = read_mulaw_wav(call).astype(np.float64) / 32768.0
    p = work / f"{call.stem}_warmup.wav"
    write_mulaw_wav(p, [pcm[: int(WARMUP_S * RATE), ch] for ch in range(pcm.shape[1])])
    return p


def offsets_for(n: int, seed: int, stagger_s: float) -> list[float]:
    return [round(float(x), 3) for x in np.random.default_rng([seed, n]).uniform(0, stagger_s, n)]


# --- statistics -------------------------------------------------------------------------------

def nearest_rank(sorted_vals: list[float], q: float) -> float:
    if not sorted_vals:
        return float("nan")
    return sorted_vals[max(0, math.ceil(q * len(sorted_vals)) - 1)]


def lat_stats(lats: list[float | None]) -> dict:
    """None = no result within the cap: infinitely late (p50/p95/max then None, shown "> cap")."""
    v = sorted(math.inf if x is None else x for x in lats)
    finite = [x for x in v if math.isfinite(x)]
    r = dict(n=len(v), measured=len(finite), late=len(v) - len(finite),
             mean_measured=sum(finite) / len(finite) if finite else None)
    for k, q in (("p50", 0.5), ("p95", 0.95), ("max", 1.0)):
        r[k] = nearest_rank(v, q) if v else None
    for k in ("p50", "p95", "max", "mean_measured"):
        x = r[k]
        r[k] = round(x, 3) if x is not None and math.isfinite(x) else None
    return r


def fmt_s(x: float | None, cap: float) -> str:
    return f"> {cap:.0f}" if x is None else f"{x:.2f}"


def score_copies(meta: dict, copies: list[list[dict]]) -> dict:
    reps = [ea.score(meta, units, LANG) for units in copies]
    tot = ea.combine(reps, LANG)
    return {k: tot[k] for k in ("wer", "words", "errors", "sub", "dels", "ins", "loops", "phantom", "units",
                                "wer_whisper_norm")}


# --- callsense ----------------------------------------------------------------------------------

def match_finals(meta: dict, finals: list[dict]) -> list[list[int]]:
    """For each final (channel, start_s, end_s): the turn indices it answers."""
    turns = meta["turns"]
    out = []
    for f in finals:
        ov = []
        for i, t in enumerate(turns):
            if t["channel"] == f["channel"]:
                o = min(t["end_s"], f["end_s"]) - max(t["start_s"], f["start_s"])
                if o > 0:
                    ov.append((o, i))
        if not ov:
            out.append([])
            continue
        best = max(ov)[1]
        out.append(sorted({best} | {i for o, i in ov if o >= 0.5 * (turns[i]["end_s"] - turns[i]["start_s"])}))
    return out


async def _stream_client(binary: Path, server: str, call: Path, start_at: float, deadline_after: float,
                         call_s: float) -> dict:
    loop = asyncio.get_running_loop()
    await asyncio.sleep(max(0.0, start_at - loop.time()))
    proc = await asyncio.create_subprocess_exec(
        str(binary), "stream", str(call), "--server", server, "--as", "mulaw", "--rate", str(RATE), "--json",
        "--language", LANG, "--roles", "customer,agent", "--realtime", "--call-id", f"bench-{uuid.uuid4()}",
        cwd=str(REPO), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, limit=1 << 22)
    anchor = loop.time()
    err_task = asyncio.create_task(proc.stderr.read())
    deadline = anchor + call_s + deadline_after
    finals, accepted_s, killed = [], None, False
    while True:
        try:
            line = await asyncio.wait_for(proc.stdout.readline(), timeout=max(0.01, deadline - loop.time()))
        except asyncio.TimeoutError:
            killed = True
            proc.kill()
            break
        if not line:
            break
        now = loop.time() - anchor
        if not line.startswith(b"{"):
            continue
        d = json.loads(line)
        if ea.field(d, "accepted") is not None and accepted_s is None:
            accepted_s = round(now, 4)
        r = ea.field(d, "result")
        if r and ea.field(r, "is_final"):
            finals.append(dict(channel=int(ea.field(r, "channel") or 0),
                               start_s=int(ea.field(r, "start_ms") or 0) / 1000,
                               end_s=int(ea.field(r, "end_ms") or 0) / 1000,
                               text=ea.field(r, "transcript") or "", arrival_s=round(now, 4),
                               timings=ea.field(r, "timings") or {}))  # the engine's own: queued, asr, ...
    rc = await proc.wait()
    err = (await err_task).decode(errors="replace")
    return dict(finals=finals, accepted_s=accepted_s, killed=killed, rc=rc, stderr=err[-1000:] if rc and not killed
                else "")


async def _run_clients(binary, server, call, offsets, max_wait_s, call_s):
    loop = asyncio.get_running_loop()
    t0 = loop.time() + 0.5
    return await asyncio.gather(*(_stream_client(binary, server, call, t0 + o, max_wait_s, call_s)
                                  for o in offsets))


def run_callsense(binary: Path, ggml: Path, overrides: dict, call: Path, warm: Path, meta: dict,
                  offsets: list[float], max_wait_s: float) -> dict:
    call_s = meta["seconds"]
    built = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(binary.stat().st_mtime))  # it may be rebuilt mid-run
    with ea.engine_server(binary, ggml, overrides) as (server, log_path):
        subprocess.run([str(binary), "stream", str(warm), "--server", server, "--as", "mulaw", "--rate", str(RATE),
                        "--json", "--language", LANG, "--roles", "customer,agent"], cwd=REPO,
                       capture_output=True, timeout=300)
        cpu0 = own_cpu_s()
        t0 = time.monotonic()
        clients = asyncio.run(_run_clients(binary, server, call, offsets, max_wait_s, call_s))
        client_cpu = own_cpu_s() - cpu0  # the clients are reaped; the server is not yet
        wall = time.monotonic() - t0
        cpu1 = own_cpu_s()
    server_cpu = own_cpu_s() - cpu1
    lats, lats_speech, copies, per_client = [], [], [], []
    for c in clients:
        turn_done: dict[int, float] = {}
        for f, idx in zip(c["finals"], match_finals(meta, c["finals"])):
            for i in idx:
                turn_done[i] = max(turn_done.get(i, -math.inf), f["arrival_s"])
        tl = []
        for i, t in enumerate(meta["turns"]):
            got = turn_done.get(i)
            tl.append(None if got is None else round(got - t["end_s"], 3))
            lats_speech.append(None if got is None else got - t["speech_end_s"])
        lats += tl
        copies.append([dict(channel=f["channel"], start_s=f["start_s"], end_s=f["end_s"], text=f["text"])
                       for f in c["finals"]])
        per_client.append(dict(accepted_s=c["accepted_s"], killed=c["killed"], rc=c["rc"], stderr=c["stderr"],
                               turn_latency_s=tl, finals=c["finals"]))
    failed = [c for c in clients if c["rc"] and not c["killed"]]
    note = []
    if any(c["killed"] for c in clients):
        note.append(f"overloaded: {sum(c['killed'] for c in clients)} client(s) cut {max_wait_s:.0f} s after the call")
    if failed:
        note.append(f"{len(failed)} client(s) failed: {failed[0]['stderr'][-200:]}")
    unmatched = sum(1 for c in clients for idx in match_finals(meta, c["finals"]) if not idx)
    return dict(lat=lat_stats(lats), lat_from_speech_end=lat_stats(lats_speech),
                wer=score_copies(meta, copies), clients=per_client, engine_log=str(log_path), binary_built=built,
                client_cpu_cores=round(client_cpu / max(wall, 1e-9), 3),
                server_cpu_cores=round(server_cpu / max(wall, 1e-9), 3),
                accepted_s_max=max((c["accepted_s"] or 0) for c in clients),
                finals_over_no_turn=unmatched, status="; ".join(note) or "ok")


# --- peers --------------------------------------------------------------------------------------

def run_scheduled(meta: dict, offsets: list[float], post_pad_s: float, max_wait_s: float, submit,
                  on_deadline=None) -> dict:
    """Hands each (client, turn) to `submit(i, k, due_abs)` at its true end + post-pad on the real-time
    clock; submit returns a Future resolving to (done_monotonic, text). Returns the latencies and texts."""
    turns = meta["turns"]
    events = sorted((o + t["end_s"] + post_pad_s, i, k) for i, o in enumerate(offsets) for k, t in enumerate(turns))
    t0 = time.monotonic() + 0.5
    futs = {}
    for at, i, k in events:
        delay = t0 + at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        futs[(i, k)] = submit(i, k)
    deadline = t0 + events[-1][0] + max_wait_s
    _, pending = cf.wait(list(futs.values()), timeout=max(0.0, deadline - time.monotonic()))
    stopped = bool(pending and on_deadline)
    if stopped:
        on_deadline()  # e.g. stop the server so requests still waiting on it fail now (counted as late)
    for f in futs.values():
        f.cancel()  # those not started; a running one finishes (and counts as late if past the cap)
    cf.wait([f for f in futs.values() if not f.cancelled()])
    lats, lats_speech, copies, errors = [], [], [[] for _ in offsets], []
    for i, o in enumerate(offsets):
        for k, t in enumerate(turns):
            f = futs[(i, k)]
            done, text = None, ""
            if not f.cancelled():
                try:
                    done, text = f.result()
                except Exception as e:  # noqa: BLE001 -- counted, not fatal
                    errors.append(str(e)[:200])
            true_end = t0 + o + t["end_s"]
            lat = None if done is None or done - true_end > max_wait_s else done - true_end
            lats.append(None if lat is None else round(lat, 3))
            lats_speech.append(None if lat is None else done - (t0 + o + t["speech_end_s"]))
            copies[i].append(dict(channel=t["channel"], start_s=t["start_s"], end_s=t["end_s"],
                                  text=text if lat is not None else ""))
    late = sum(x is None for x in lats)
    status = "ok" if not late else f"overloaded: {late} turn(s) without a result within {max_wait_s:.0f} s"
    if errors and not stopped:
        status += f"; {len(errors)} error(s): {errors[0]}"
    elif stopped:
        status += "; server stopped at the cap"
    return dict(lat=lat_stats(lats), lat_from_speech_end=lat_stats(lats_speech), wer=score_copies(meta, copies),
                turn_latency_s=lats, transcripts=[[u["text"] for u in c] for c in copies[:1]],
                status=status, wer_note="*" if late else "", request_errors=errors[:20], n_request_errors=len(errors))


class FasterWhisperServer:
    """A 2-core faster-whisper server: num_workers 2 x cpu_threads 1, a pool of 2."""

    def __init__(self, ct2: Path, beam: int):
        from faster_whisper import WhisperModel
        self.model = WhisperModel(str(ct2), device="cpu", compute_type="int8", num_workers=2, cpu_threads=1)
        self.beam = beam
        self.pool = cf.ThreadPoolExecutor(2)

    def transcribe(self, audio: np.ndarray) -> tuple[float, str]:
        segs, _ = self.model.transcribe(audio, language=LANG, beam_size=self.beam, vad_filter=False)
        text = " ".join(" ".join(s.text for s in segs).split())
        return time.monotonic(), text

    def close(self):
        self.pool.shutdown(wait=True)


@contextlib.contextmanager
def whisper_server(binary: str, ggml: Path, threads: int):
    port = ea.free_port()
    log_path = Path(tempfile.gettempdir()) / f"bench-whisper-server-{port}.log"
    with open(log_path, "w") as log:
        srv = subprocess.Popen([binary, "-m", str(ggml), "-t", str(threads), "-l", LANG, "--host", "127.0.0.1",
                                "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def kill():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(srv.pid, os_signal.SIGKILL)  # drops its backlog of abandoned requests
    try:
        for _ in range(600):
            if srv.poll() is not None:
                raise RuntimeError(f"whisper-server exited:\n{log_path.read_text(errors='replace')[-3000:]}")
            with contextlib.suppress(OSError):
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/")
                c.getresponse().read()
                break
            time.sleep(0.2)
        else:
            raise RuntimeError("whisper-server not up after 120 s")
        yield port, log_path, kill
    finally:
        kill()
        srv.wait()


def post_inference(port: int, wav: bytes, timeout: float) -> tuple[float, str]:
    boundary = uuid.uuid4().hex
    parts = [(b'Content-Disposition: form-data; name="file"; filename="turn.wav"\r\n'
              b"Content-Type: audio/wav\r\n\r\n" + wav),
             b'Content-Disposition: form-data; name="response_format"\r\n\r\njson']
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + p + b"\r\n" for p in parts) + \
        b"--" + boundary.encode() + b"--\r\n"
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("POST", "/inference", body=body,
                  headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        resp = c.getresponse()
        data = resp.read()
        done = time.monotonic()
        if resp.status != 200:
            raise RuntimeError(f"HTTP {resp.status}: {data[:200]!r}")
        return done, " ".join(json.loads(data).get("text", "").split())
    finally:
        c.close()


# --- report -------------------------------------------------------------------------------------

def md_tables(report: dict) -> str:
    out = []
    cap = report["max_wait_s"]
    m = report["machine"]
    out.append(f"Machine: {m.get('model_name', '?')}, {m.get('cpus', m.get('cpu_count'))} CPUs"
               f"{', GPU ' + '; '.join(m['gpus']) if m.get('gpus') else ''}; call {report['call']['name']} "
               f"({report['call']['seconds']:.0f} s, {report['call']['turns']} turns) x N, starts staggered "
               f"0-{report['stagger_s']:.0f} s; latency = final result at the client - true turn end "
               f"(nearest-rank percentiles over all turns of all calls; '> {cap:.0f}' = no result within {cap:.0f} s).")
    for model in report["models"]:
        rows = [r for r in report["rows"] if r["model"] == model]
        if not rows:
            continue
        out.append(f"\n### {model} ({rows[0].get('ggml', '')})\n")
        out.append("| system | calls | p50 s | p95 s | max s | turns measured | WER | p50 / p95 from speech end | "
                   "load before (1 min) | other procs' cores | status |")
        out.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            if "error" in r:
                out.append(f"| {r['system']} | {r['calls']} | failed: {r['error'][:100]} |||||||||")
                continue
            lt, ls = r["lat"], r["lat_from_speech_end"]
            wer = f"{100 * r['wer']['wer']:.1f} %{r.get('wer_note', '')}"
            out.append(f"| {r['system']} | {r['calls']} | {fmt_s(lt['p50'], cap)} | {fmt_s(lt['p95'], cap)} | "
                       f"{fmt_s(lt['max'], cap)} | {lt['measured']}/{lt['n']} | {wer} | "
                       f"{fmt_s(ls['p50'], cap)} / {fmt_s(ls['p95'], cap)} | {r['load']['load_before'][0]:.2f} | "
                       f"{r['load']['others_cores']:.2f} | {r['status']} |")
    if report.get("capacity"):
        out.append(f"\nLargest N with p95 <= {report['target_p95_s']} s (of the N tried):\n")
        for k, v in report["capacity"].items():
            out.append(f"- {k}: {v if v else 'none of those tried'}")
    out.append("\nSettings:\n")
    for k, v in report["settings"].items():
        out.append(f"- {k}: {v}")
    out.append("\n* peer turns without a result within the cap are scored as deleted.")
    return "\n".join(out) + "\n"


def jsonable(x):
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    return x


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="tiny,base", help="comma list: tiny, base, tiny.en, base.en or ggml paths")
    ap.add_argument("--ct2", help="CTranslate2 dir for a ggml-path model (faster-whisper)")
    ap.add_argument("--calls", default="1,2,4,8", help="comma list of concurrent call counts")
    ap.add_argument("--systems", default="callsense,faster-whisper,whisper-server")
    ap.add_argument("--fw-beams", default="5,1", help="faster-whisper beam sizes, one row each (5 = its default)")
    ap.add_argument("--set", dest="set_name", default="dev", choices=["dev", "real_en"])
    ap.add_argument("--seed", type=int, default=1, help="call builder seed (and the stagger offsets)")
    ap.add_argument("--stagger-s", type=float, default=3.0)
    ap.add_argument("--max-wait-s", type=float, default=60.0, help="cap on any turn's wait for its result")
    ap.add_argument("--peer-post-pad-s", type=float, default=ea.PEER_PAD_S,
                    help="audio after the true end a peer gets (handed over this long after the true end)")
    ap.add_argument("--set-config", action="append", default=[], metavar="SECTION.KEY=VALUE",
                    help="callsense config override, as CALLSENSE__SECTION__KEY=VALUE (repeatable)")
    ap.add_argument("--target-p95-s", type=float, help="report the largest N with p95 <= this")
    ap.add_argument("--stop-above-target", action="store_true",
                    help="stop raising N for a system once p95 > --target-p95-s or it overloads")
    ap.add_argument("--bin", default=os.environ.get("CALLSENSE_BIN", str(REPO / "target/release/callsense")))
    ap.add_argument("--wait-bin-s", type=float, default=3600)
    ap.add_argument("--whisper-server", default=WHISPER_SERVER)
    ap.add_argument("--whisper-threads", type=int, default=2)
    ap.add_argument("--wait-quiet-s", type=float, default=0,
                    help="on a shared machine: before each configuration wait up to this long until other "
                         "processes use under --quiet-cores cores (5 s windows)")
    ap.add_argument("--quiet-cores", type=float, default=0.3)
    ap.add_argument("--max-turns", type=int, help="smoke tests: only the call's first K turns (a shorter call)")
    ap.add_argument("--work-dir", help="where the call goes (default: a temp dir)")
    ap.add_argument("--json-out")
    ap.add_argument("--md-out")
    a = ap.parse_args()

    systems = [s for s in a.systems.split(",") if s]
    for s in systems:
        if s not in ("callsense", "faster-whisper", "whisper-server"):
            raise SystemExit(f"unknown system {s!r}")
    calls_n = [int(x) for x in a.calls.split(",") if x]
    beams = [int(x) for x in a.fw_beams.split(",") if x]
    overrides = ea.config_overrides(a.set_config)
    env_cfg = {k: v for k, v in os.environ.items() if k.startswith("CALLSENSE__")}
    if "faster-whisper" in systems:
        try:
            import faster_whisper  # noqa: F401
        except ImportError:
            raise SystemExit(f"{sys.executable} has no faster_whisper (use /work/venv/bin/python, or drop the system)")
    if "whisper-server" in systems and not Path(a.whisper_server).exists():
        raise SystemExit(f"no whisper-server at {a.whisper_server} (WHISPER_SERVER or --whisper-server)")

    work = Path(a.work_dir or Path(tempfile.gettempdir()) / f"callsense-bench-real-asr/{a.set_name}-seed{a.seed}")
    call, meta = build_call(a.set_name, a.seed, work, a.max_turns)
    warm = warmup_call(call, work)
    print(f"call {call} ({meta['seconds']} s, {len(meta['turns'])} turns); concurrency {calls_n}; "
          f"systems {systems}", file=sys.stderr)
    binary = Path(a.bin)
    engine_info = None
    if "callsense" in systems:
        ea.wait_for_binary(binary, a.wait_bin_s)
        git = lambda *c: subprocess.run(["git", *c], cwd=REPO, capture_output=True, text=True).stdout  # noqa: E731
        engine_info = dict(path=str(binary), built=time.strftime("%Y-%m-%dT%H:%M:%S",
                                                                 time.localtime(binary.stat().st_mtime)),
                           repo_head=git("rev-parse", "--short", "HEAD").strip(),
                           uncommitted_src=[ln[3:] for ln in git("status", "--porcelain", "--", "src",
                                                                  "Cargo.toml").splitlines()])

    settings = {}
    if "callsense" in systems:
        extra = {**env_cfg, **overrides}
        settings["callsense"] = ("`callsense serve`, CALLSENSE__ASR__MODEL=<ggml>; engine defaults: asr 2 workers x "
                                 "1 thread, beam 1, dynamic audio context, audio.end_silence_ms 500"
                                 + ("; overridden: " + ", ".join(f"{k}={v}" for k, v in extra.items()) if extra else "")
                                 + "; clients `callsense stream --realtime --json`, 20 ms chunks")
    if "faster-whisper" in systems:
        settings["faster-whisper"] = ("faster-whisper (CT2 dir), cpu int8, num_workers 2 x cpu_threads 1, pool of 2; "
                                      "transcribe defaults (temperature fallback, 30 s window), language en, no VAD; "
                                      "beam as in the row name; turn handed over at true end + "
                                      f"{a.peer_post_pad_s} s")
    if "whisper-server" in systems:
        settings["whisper-server"] = (f"{a.whisper_server} -t {a.whisper_threads} -l en, defaults otherwise (greedy, "
                                      "best-of 2, temperature fallback, 30 s window); one POST /inference per turn "
                                      f"(16 kHz WAV) at true end + {a.peer_post_pad_s} s; requests run one at a time")
    report = dict(set=a.set_name, seed=a.seed, stagger_s=a.stagger_s, max_wait_s=a.max_wait_s,
                  peer_post_pad_s=a.peer_post_pad_s, machine=machine_info(), engine_binary=engine_info,
                  started=time.strftime("%Y-%m-%dT%H:%M:%S"), models=[], settings=settings,
                  call=dict(name=meta["call"], path=str(call), seconds=meta["seconds"], turns=len(meta["turns"]),
                            turn_bounds=[dict(channel=t["channel"], start_s=t["start_s"], end_s=t["end_s"],
                                              speech_end_s=t["speech_end_s"], clip=t["clip"]) for t in meta["turns"]]),
                  offsets={n: offsets_for(n, a.seed, a.stagger_s) for n in calls_n}, rows=[],
                  target_p95_s=a.target_p95_s, capacity={})

    def save():
        if a.json_out:
            Path(a.json_out).parent.mkdir(parents=True, exist_ok=True)
            Path(a.json_out).write_text(json.dumps(jsonable(report), indent=1, ensure_ascii=False) + "\n")
        if a.md_out:
            Path(a.md_out).parent.mkdir(parents=True, exist_ok=True)
            Path(a.md_out).write_text(md_tables(report))

    for spec in [m for m in a.models.split(",") if m]:
        ggml, ct2, model_name = ea.resolve_model(spec, a.ct2)
        report["models"].append(model_name)
        peer_audio = peer_turn_audio(call, meta, a.peer_post_pad_s) if set(systems) - {"callsense"} else []

        def run_config(system: str, n: int, fn) -> dict | None:
            offsets = report["offsets"][n]
            quiet = wait_quiet(a.wait_quiet_s, a.quiet_cores) if a.wait_quiet_s > 0 else None
            meter = LoadMeter()
            print(f"[{time.strftime('%H:%M:%S')}] {model_name} {system} x{n} (load {meter.load_before[0]:.2f}) ...",
                  file=sys.stderr, flush=True)
            row = dict(model=model_name, ggml=str(ggml), system=system, calls=n, offsets=offsets)
            try:
                row.update(fn(offsets))
            except Exception as e:  # noqa: BLE001 -- one configuration failing must not lose the others
                row["error"] = f"{type(e).__name__}: {e}"
            row["load"] = meter.done()
            if quiet:
                row["load"]["quiet_wait"] = quiet
            report["rows"].append(row)
            if "error" in row:
                print(f"    failed: {row['error'][:300]}", file=sys.stderr)
            else:
                lt = row["lat"]
                print(f"    p50 {fmt_s(lt['p50'], a.max_wait_s)} s  p95 {fmt_s(lt['p95'], a.max_wait_s)} s  max "
                      f"{fmt_s(lt['max'], a.max_wait_s)} s  {lt['measured']}/{lt['n']} turns  WER "
                      f"{100 * row['wer']['wer']:.1f} %  others {row['load']['others_cores']:.2f} cores  "
                      f"[{row['status']}]", file=sys.stderr, flush=True)
            save()
            return row

        def sweep(system: str, fn):
            best = None
            for n in calls_n:
                row = run_config(system, n, fn)
                ok = row and "error" not in row and row["lat"]["p95"] is not None and row["lat"]["late"] == 0
                if a.target_p95_s is not None:
                    if ok and row["lat"]["p95"] <= a.target_p95_s:
                        best = n
                    elif a.stop_above_target:
                        print(f"    p95 above {a.target_p95_s} s: not raising N further for {system}", file=sys.stderr)
                        break
            if a.target_p95_s is not None:
                report["capacity"][f"{model_name} {system}"] = best

        if "callsense" in systems:
            sweep("callsense", lambda off: run_callsense(binary, ggml, overrides, call, warm, meta, off,
                                                         a.max_wait_s))
        if "faster-whisper" in systems:
            if ct2 is None:
                report["rows"].append(dict(model=model_name, system="faster-whisper", calls=0,
                                           error="no CTranslate2 model dir (--ct2)", load=LoadMeter().done()))
            for beam in beams if ct2 else []:
                fw = FasterWhisperServer(ct2, beam)
                fw.transcribe(peer_audio[0])  # warm-up
                sweep(f"faster-whisper beam {beam}",
                      lambda off, fw=fw: run_scheduled(meta, off, a.peer_post_pad_s, a.max_wait_s,
                                                       lambda i, k: fw.pool.submit(fw.transcribe, peer_audio[k])))
                fw.close()
                del fw
        if "whisper-server" in systems:
            wavs = [wav_bytes(x) for x in peer_audio]

            def ws_run(off):
                with whisper_server(a.whisper_server, ggml, a.whisper_threads) as (port, log_path, kill):
                    post_inference(port, wavs[0], 300)  # warm-up
                    pool = cf.ThreadPoolExecutor(max(16, 4 * len(off)))
                    try:
                        r = run_scheduled(meta, off, a.peer_post_pad_s, a.max_wait_s,
                                          lambda i, k: pool.submit(post_inference, port, wavs[k], a.max_wait_s),
                                          on_deadline=kill)
                    finally:
                        pool.shutdown(wait=False, cancel_futures=True)
                    r["server_log"] = str(log_path)
                    return r
            sweep("whisper-server", ws_run)

    report["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    save()
    print(md_tables(report))


if __name__ == "__main__":
    main()
