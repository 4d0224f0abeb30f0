"""Re-quantise a shipped classifier without its training checkpoint.

The 8-bit MatMulNBits of the model are turned back into float32 MatMuls (the
exact quantised weights) and quantised again with `quantize_weight_only`'s
settings (here by default 4-bit feed-forward weights in blocks of 16 and 8-bit
attention projections: the experiment in MODEL_CARD.md).  Prints, for the old and the new file: size, batch-1
latency on one thread, the padding check, and accuracy on the spoken dev sets
(the labels the engine's eval uses, argmax of the logits), plus how often the
two agree.  Writes the new model.onnx only with --write.

    /work/mlvenv/bin/python models/requantize_e5.py [--model models/callsense-e5] [--write]
"""
import argparse
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

import train_classifier as tc

HERE = Path(__file__).resolve().parent


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(HERE / "callsense-e5"))
    ap.add_argument("--ffn-bits", type=int, choices=(4, 8), default=4)
    ap.add_argument("--ffn-block", type=int, default=16)
    ap.add_argument("--write", action="store_true", help="replace <model>/model.onnx")
    args = ap.parse_args()
    from tokenizers import Tokenizer

    model = Path(args.model)
    labels = json.loads((model / "labels.json").read_text())
    heads = {h["name"]: h for h in labels["heads"]}
    tok = Tokenizer.from_file(str(model / "tokenizer.json"))
    max_len = labels["max_length"]

    def enc(texts):
        return tc.encode(tok, texts, max_len)

    work = Path(tempfile.mkdtemp(prefix="requantize-"))
    fp32, new = work / "fp32.onnx", work / "model.onnx"
    tc.dequantize_weight_only(model / "model.onnx", fp32, print)
    tc.quantize_weight_only(fp32, new, print, ffn_bits=args.ffn_bits, ffn_block=args.ffn_block)

    pad_id = tok.token_to_id("<pad>") or 0
    rows = {lang: [json.loads(l) for l in open(HERE / "spoken" / f"{lang}_dev.jsonl", encoding="utf-8") if l.strip()]
            for lang in ("en", "zh")}
    logits = {}
    for name, path in (("old", model / "model.onnx"), ("new", new)):
        sess = tc.ort_session(path, threads=1)
        p50, p90, n = tc.latency(sess, tok, "where is my order it was supposed to arrive monday", runs=300)
        print(f"[{name}] {path.stat().st_size / 1e6:.1f} MB, batch 1 ({n} tokens): "
              f"p50 {p50:.2f} ms, p90 {p90:.2f} ms (python, 1 thread)")
        for lang, rs in rows.items():
            s, i = tc.ort_logits(sess, enc([r["text"] for r in rs]), pad_id=pad_id)
            logits[(name, lang)] = (s, i)
            for head, lg in (("sentiment", s), ("intent", i)):
                y = [r.get(head) for r in rs]
                pred = [heads[head]["labels"][k] for k in lg.argmax(1)]
                ok = [p == t for p, t in zip(pred, y) if t]
                print(f"[{name}] spoken dev {lang} {head}: {100 * np.mean(ok):.2f} % of {len(ok)} (argmax)")
    for lang in rows:
        for k, head in enumerate(("sentiment", "intent")):
            a = (logits[("old", lang)][k].argmax(1) == logits[("new", lang)][k].argmax(1)).mean()
            print(f"agreement {lang} {head}: {100 * a:.2f} %")
    if args.write:
        shutil.copy(new, model / "model.onnx")
        print(f"wrote {model / 'model.onnx'}")


if __name__ == "__main__":
    main()
