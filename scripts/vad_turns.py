#!/usr/bin/env python3
"""Turns the VAD loses on the real-speech calls of scripts/eval_asr.py.

    python3 scripts/vad_turns.py [--sets dev,zh,real_en,zh_more] [--seeds 1,2,3]
        [--set-config audio.vad_watch_refresh_ms=0 ...]

Builds the calls (eval_asr.py --build-only; needs its Python requirements),
runs the engine's front end over them (`cargo run --release --example
vad_segments`, μ-law in 20 ms chunks as a live call streams) and counts, per
set, the spoken turns that no final utterance covers for at least 30 % of
the turn (`missed`) and the utterances that overlap no turn (`phantom`).
Needs ORT_DYLIB_PATH (scripts/setup.sh's .runtime/lib/libonnxruntime.so).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="dev,zh,real_en,zh_more")
    ap.add_argument("--seeds", default="1")
    ap.add_argument("--set-config", action="append", default=[], metavar="SECTION.KEY=VALUE")
    ap.add_argument("--work-root", default="/tmp/callsense-vad-turns")
    args = ap.parse_args()
    env = dict(os.environ)
    env.setdefault("ORT_DYLIB_PATH", str(REPO / ".runtime/lib/libonnxruntime.so"))
    for kv in args.set_config:
        key, value = kv.split("=", 1)
        env["CALLSENSE__" + "__".join(p.upper() for p in key.split("."))] = value
    subprocess.run(["cargo", "build", "--release", "--quiet", "--example", "vad_segments"], cwd=REPO, check=True)
    calls: dict[str, list[Path]] = {}
    for name in args.sets.split(","):
        for seed in args.seeds.split(","):
            work = Path(args.work_root) / f"{name}-seed{seed}"
            subprocess.run([sys.executable, str(REPO / "scripts/eval_asr.py"), "--set", name, "--seed", seed,
                            "--build-only", "--work-dir", str(work)], check=True, stdout=subprocess.DEVNULL)
            calls.setdefault(name, []).extend(sorted(work.glob("*.wav")))
    print(f"| set | turns | missed | phantom | utterances |  ({' '.join(args.set_config) or 'defaults'})")
    print("|---|---|---|---|---|")
    lost = []
    for name, wavs in calls.items():
        out = subprocess.run([str(REPO / "target/release/examples/vad_segments"), *map(str, wavs)],
                             cwd=REPO, env=env, check=True, capture_output=True, text=True).stdout
        segs: dict[tuple[str, int], list[tuple[float, float]]] = {}
        for line in out.splitlines():
            d = json.loads(line)
            segs.setdefault((d["file"], d["ch"]), []).append((d["start_ms"] / 1000, d["end_ms"] / 1000))
        turns = missed = phantom = n = 0
        for wav in wavs:
            meta = json.loads(wav.with_suffix(".json").read_text())
            for ch in (0, 1):
                ss = segs.get((str(wav), ch), [])
                n += len(ss)
                mine = [t for t in meta["turns"] if t["channel"] == ch]
                for t in mine:
                    turns += 1
                    over = sum(max(0.0, min(e, t["end_s"]) - max(s, t["start_s"])) for s, e in ss)
                    if over < 0.3 * (t["end_s"] - t["start_s"]):
                        missed += 1
                        lost.append(f"{wav.name} ch{ch} {t['start_s']:.1f} s {t.get('clip')}: {t['text'][:60]}")
                phantom += sum(1 for s, e in ss if not any(min(e, t["end_s"]) > max(s, t["start_s"]) for t in mine))
        print(f"| {name} | {turns} | {missed} | {phantom} | {n} |")
    for line in lost:
        print("missed:", line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
