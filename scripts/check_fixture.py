#!/usr/bin/env python3
"""Sanity-check a call fixture JSON and print its regions.

usage: scripts/check_fixture.py FIXTURE.json [--wav CALL.wav]

Renders the call (from its clips, or reads --wav for fixtures that ship their own audio, e.g.
demo_call.json + demo_call.wav), mu-law round-trips it, re-detects speech per channel with the same
energy method on the whole channel, and compares with the JSON regions. Also prints per-channel
turn gaps and overlaps, and checks for clipping. Exit status 1 on a hard failure.
"""
import argparse
import math
import os
import sys

import numpy as np
import soundfile as sf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixturelib as fl  # noqa: E402

TOL_MS = 100  # the re-detected bounds must agree with the JSON this closely
MERGE_MS = 600  # pauses < 500 ms inside a turn are not separate regions (fixture rule); >= 700 ms would be


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("fixture")
    ap.add_argument("--wav")
    a = ap.parse_args()
    spec = fl.load_json(a.fixture)
    sr = spec["sample_rate_hz"]
    roles = {c["index"]: c["role"] for c in spec["channels"]}
    fail = []
    if a.wav:
        call, wsr = sf.read(a.wav, dtype="float64", always_2d=True)
        info = sf.info(a.wav)
        print(f"{a.wav}: {info.format} {info.subtype} {wsr} Hz {info.channels} ch {info.duration:.2f} s")
        if wsr != sr or info.subtype != "ULAW" or info.channels != len(roles):
            fail.append("wav format does not match the JSON")
        if abs(info.duration * 1000 - spec["duration_ms"]) > 1:
            fail.append(f"wav duration {info.duration * 1000:.0f} ms != duration_ms {spec['duration_ms']}")
    else:
        call = fl.render_call(spec)
        peak = np.abs(call).max()
        print(f"rendered {spec['duration_ms']} ms, peak {20 * math.log10(peak):.1f} dBFS")
        if peak >= 1.0:
            fail.append("clipping")
        tmp = "/tmp/check_fixture_roundtrip.wav"
        fl.write_mulaw_wav(tmp, call, sr)
        call, _ = sf.read(tmp, dtype="float64", always_2d=True)
    regs = spec["regions"]
    print(f"{'#':>2} {'ch':>2} {'role':<8} {'start':>7} {'end':>7} {'dur':>6} {'detected':>15}  text")
    det = {ch: fl.speech_runs(call[:, ch], sr, merge_ms=MERGE_MS)[0] for ch in roles}
    for i, r in enumerate(regs):
        ch = r["channel"]
        # detected run(s) overlapping this region
        hits = [d for d in det[ch] if d[1] > r["start_ms"] - 300 and d[0] < r["end_ms"] + 300]
        if len(hits) != 1:
            fail.append(f"region {i}: {len(hits)} detected runs overlap it")
            dtxt = str(hits)
        else:
            ds, de = hits[0]
            dtxt = f"{ds:7.0f}-{de:7.0f}"
            if abs(ds - r["start_ms"]) > TOL_MS or abs(de - r["end_ms"]) > TOL_MS:
                fail.append(f"region {i}: detected {ds:.0f}-{de:.0f} vs {r['start_ms']}-{r['end_ms']}")
        print(f"{i:2d} {ch:2d} {roles[ch]:<8} {r['start_ms']:7d} {r['end_ms']:7d} "
              f"{r['end_ms'] - r['start_ms']:6d} {dtxt:>15}  {r['text']}")
    n_det = sum(len(v) for v in det.values())
    if n_det != len(regs):
        fail.append(f"{n_det} detected runs vs {len(regs)} regions")
    order = sorted(regs, key=lambda r: r["start_ms"])
    print("transitions (previous speech end -> next speech start):")
    for p, q in zip(order, order[1:]):
        kind = "same channel" if p["channel"] == q["channel"] else "turn change"
        print(f"  {roles[p['channel']]:>8} -> {roles[q['channel']]:<8} {q['start_ms'] - p['end_ms']:6d} ms  ({kind})")
    if spec["duration_ms"] < max(r["end_ms"] for r in regs):
        fail.append("region past duration_ms")
    if fail:
        print("FAIL:\n  " + "\n  ".join(fail))
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()
