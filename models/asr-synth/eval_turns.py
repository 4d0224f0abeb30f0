"""Word error rate of the model alone (PyTorch, greedy) on each turn of a test
call: the same audio the engine gets, cut at the positions CALL.json records.
Set beside `eval_engine.py`'s figure for the same call, it splits the model's
own errors from what the engine path (VAD cuts, resampling, whisper.cpp's
features and decoding) adds.

    python models/asr-synth/eval_turns.py CALL.wav [--model FILE] [--pad-s 0.1] [--json-out F]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from scipy import signal

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import channel  # noqa: E402
import export  # noqa: E402
import model as m  # noqa: E402
from make_test_call import RATE, read_mulaw_wav  # noqa: E402
from tokenizer import Bpe  # noqa: E402
from wer import cer, wer  # noqa: E402

MARGIN = 8  # encoder positions past the audio, as the engine gives them


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("call")
    ap.add_argument("--model", default=str(HERE / "ggml-callsense-synth-en-q8_0.bin"),
                    help="an exported model file (.bin) or a training checkpoint (.pt)")
    ap.add_argument("--pad-s", type=float, default=0.1, help="audio kept either side of each turn")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json-out", help="write every turn's reference and transcript here")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    call = Path(a.call)
    meta = json.loads(call.with_suffix(".json").read_text())
    pcm = read_mulaw_wav(call)
    bpe = Bpe()
    net = m.Whisper(m.DIMS, bpe.n_text)
    net.load_state_dict(export.load_weights(Path(a.model), bpe.n_text), strict=False)
    net.eval()
    rows = []
    for t in sorted(meta["turns"], key=lambda t: t["offset_ms"]):
        lo = max(0, int((t["offset_ms"] / 1000 - a.pad_s) * RATE))
        hi = int(((t["offset_ms"] + t["duration_ms"]) / 1000 + a.pad_s) * RATE)
        # the decoded samples as they are (no second codec pass, no added pauses), 8 -> 16 kHz
        audio = signal.resample_poly(pcm[lo:hi, t["channel"]] / 32768.0, 2, 1).astype(np.float32)
        with torch.no_grad():
            ids = net.greedy(channel.features(audio, MARGIN)[None])[0]
        rows.append(dict(channel=meta["channels"][t["channel"]], ref=t["text"], hyp=bpe.decode(ids)))
    report = {}
    for ch in meta["channels"] + ["all"]:
        sel = [r for r in rows if ch in ("all", r["channel"])]
        refs, hyps = [r["ref"] for r in sel], [r["hyp"] for r in sel]
        report[ch] = dict(turns=len(sel), wer=round(wer(refs, hyps), 4), cer=round(cer(refs, hyps), 4))
        print(f"{ch:>9}: {len(sel)} turns, WER {report[ch]['wer'] * 100:.1f} %, CER {report[ch]['cer'] * 100:.1f} %")
    if a.json_out:
        Path(a.json_out).write_text(json.dumps(dict(model=a.model, report=report, turns=rows), indent=1) + "\n")


if __name__ == "__main__":
    main()
