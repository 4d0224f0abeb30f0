#!/usr/bin/env python3
"""Print the ground-truth speech bounds of audio clips, with the evidence.

usage: scripts/measure_speech.py [--envelope] [--source-channel N] CLIP...   (paths absolute or relative
       to CALLSENSE_ASSETS)

For each clip: speech start/end (ms, inside the clip) measured on the 8 kHz version, the same at
threshold offsets 30 / 40 dB below speech level and at 16 kHz (the spread is the uncertainty), internal
pauses, and optionally the 10 ms dB envelope (20 frames = 200 ms per row; '|' marks detected bounds).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixturelib as fl  # noqa: E402
import soundfile as sf  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("clips", nargs="+")
    ap.add_argument("--envelope", action="store_true")
    ap.add_argument("--source-channel", type=int, default=None)
    a = ap.parse_args()
    for p in a.clips:
        full = p if os.path.isabs(p) else os.path.join(fl.assets_dir(), p)
        x8 = fl.load_clip(full, a.source_channel, 8000)
        s, e, runs, d = fl.speech_bounds(x8, 8000)
        alt = []
        for rel in (30.0, 40.0):
            s2, e2, _, _ = fl.speech_bounds(x8, 8000, rel_db=rel)
            alt.append((s2, e2))
        info = sf.info(full)
        x16 = fl.load_clip(full, a.source_channel, info.samplerate)
        s16, e16, _, _ = fl.speech_bounds(x16, info.samplerate)
        pauses = fl.internal_pauses(runs)
        longest = max([b - a_ for a_, b in pauses], default=0)
        print(f"{p}: dur {len(x8)/8:.0f} ms  speech {s:.0f}-{e:.0f} ms  "
              f"(level {d['level_db']:.1f} dB, floor {d['floor_db']:.1f} dB, thr {d['thr_db']:.1f} dB; "
              f"-30dB: {alt[0][0]:.0f}-{alt[0][1]:.0f}, -40dB: {alt[1][0]:.0f}-{alt[1][1]:.0f}, "
              f"16k: {s16:.0f}-{e16:.0f}); runs {[(int(r0), int(r1)) for r0, r1 in runs]}; "
              f"longest internal pause {longest:.0f} ms")
        if a.envelope:
            db = d["frame_db"]
            row = ""
            for i, v in enumerate(db):
                mark = "|" if (i * 10 == s or i * 10 == e) else " "
                row += f"{mark}{round(v):4d}"
                if i % 20 == 19:
                    print(f"  {(i - 19) / 100:5.2f}:{row}")
                    row = ""
            if row:
                print(f"  {(len(db) // 20 * 20) / 100:5.2f}:{row}")


if __name__ == "__main__":
    main()
