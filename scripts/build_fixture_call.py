#!/usr/bin/env python3
"""Render a fixture JSON (tests/fixtures/stereo_call.json format) into an 8 kHz mu-law stereo WAV to listen to.

usage: scripts/build_fixture_call.py tests/fixtures/stereo_call.json out.wav

Same recipe as the Rust test: duration_ms of silence on every channel; each clip decoded to mono float
(or its 'source_channel' if given), resampled to 8 kHz, gain_db applied, ADDED at offset_ms on its
channel; mu-law encoded (G.711, WAV format tag 7), channels interleaved. Clip paths are relative to
CALLSENSE_ASSETS (default ../shared/assets). Writes nothing into the repository unless told to.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixturelib as fl  # noqa: E402


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    spec = fl.load_json(sys.argv[1])
    if spec.get("encoding") != "MULAW" or spec.get("sample_rate_hz") != 8000:
        sys.exit("only 8 kHz MULAW fixtures are supported")
    if not spec["clips"]:
        sys.exit("fixture has no clips (its audio is a file, not a placement list)")
    call = fl.render_call(spec)
    fl.write_mulaw_wav(sys.argv[2], call, spec["sample_rate_hz"])
    peak = abs(call).max()
    print(f"wrote {sys.argv[2]}: {call.shape[1]} ch, {call.shape[0] / spec['sample_rate_hz']:.2f} s, "
          f"peak {20 * __import__('math').log10(peak):.1f} dBFS")


if __name__ == "__main__":
    main()
