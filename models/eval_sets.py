#!/usr/bin/env python3
"""Write the held-out evaluation sets as labelled JSONL for `callsense eval`.

Standard library only (no PyTorch): it rebuilds, from the shared assets
(CALLSENSE_ASSETS, default ../shared/assets), exactly the dev splits the
trainers held out (`corpus.is_dev`, a hash of each text), so anyone can
reproduce the README's accuracy figures with the Rust runtime:

    python3 models/eval_sets.py --out target/eval-sets
    scripts/eval.sh            # does both, for every shipped model

Files written (one JSON object per line: text, sentiment?, intent?, lang, source):
  en_callcentre_dev.jsonl   English 3-class sentiment + 16 intents (callsense-en dev split)
  en_templates_dev.jsonl    its self-written spoken-style part (unseen core wordings)
  zh_callcentre_dev.jsonl   Mandarin 3-class sentiment + 16 intents (callsense-zh dev split)
  zh_templates_dev.jsonl    its self-written spoken-style part (unseen core wordings)
  chnsenticorp_dev.jsonl    ChnSentiCorp hotel reviews, held out (binary sentiment)
  banking77_dev.jsonl       banking77, held out from train.csv (77 intents)
  banking77_test.jsonl      the public banking77 test split (77 intents; report only)
  chnsenticorp_test.jsonl   the public ChnSentiCorp hotel test split (binary; report only)
SST-2 dev and test are read directly from the assets (datasets/sst2/dev.tsv,
datasets/test_splits/sst2_test.tsv). The public test splits are for reporting:
nothing is trained, tuned or chosen on them.
No dataset text is stored in the repository; these files go to --out only.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402


def default_assets() -> Path:
    env = os.environ.get("CALLSENSE_ASSETS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "shared/assets"


def write(path: Path, rows) -> int:
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            obj = {"text": r["text"], "lang": r.get("lang", "en"), "source": r.get("source", "")}
            for k in ("sentiment", "intent"):
                if r.get(k):
                    obj[k] = r[k]
            if "sentiment" not in obj and "intent" not in obj:
                continue
            f.write(json.dumps(obj, ensure_ascii=False) + "\n")
            n += 1
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--assets", type=Path, default=default_assets())
    ap.add_argument("--out", type=Path, default=Path("target/eval-sets"))
    args = ap.parse_args()
    if not (args.assets / "datasets").is_dir():
        sys.exit(f"eval_sets: {args.assets} has no datasets/ (set CALLSENSE_ASSETS to the shared assets)")
    args.out.mkdir(parents=True, exist_ok=True)
    d = corpus.DEFAULTS
    _, en_dev, _, _ = corpus.english_sets(args.assets, **d)
    print(f"en_callcentre_dev.jsonl: {write(args.out / 'en_callcentre_dev.jsonl', en_dev)} lines")
    en_tp = [e for e in en_dev if e["source"] == "callsense_templates"]
    print(f"en_templates_dev.jsonl: {write(args.out / 'en_templates_dev.jsonl', en_tp)} lines")
    b77 = [{"text": t, "intent": c, "lang": "en", "source": "banking77"}
           for t, c in corpus.load_banking77_raw(args.assets)
           if corpus.is_dev(t, corpus.DEV_FRAC, salt="banking77")]
    print(f"banking77_dev.jsonl: {write(args.out / 'banking77_dev.jsonl', b77)} lines")
    if hasattr(corpus, "chinese_sets"):
        _, zh_dev, _, _ = corpus.chinese_sets(args.assets)
        print(f"zh_callcentre_dev.jsonl: {write(args.out / 'zh_callcentre_dev.jsonl', zh_dev)} lines")
        zh_tp = [e for e in zh_dev if e["source"] == "callsense_templates_zh"]
        print(f"zh_templates_dev.jsonl: {write(args.out / 'zh_templates_dev.jsonl', zh_tp)} lines")
    if hasattr(corpus, "chnsenticorp_dev"):
        rows = [{"text": t, "sentiment": "positive" if y else "negative", "lang": "zh",
                 "source": "chnsenticorp"} for t, y in corpus.chnsenticorp_dev(args.assets)]
        print(f"chnsenticorp_dev.jsonl: {write(args.out / 'chnsenticorp_dev.jsonl', rows)} lines")
    tests = args.assets / "datasets/test_splits"
    if tests.is_dir():
        import csv
        with open(tests / "banking77_test.csv", newline="", encoding="utf-8") as f:
            rows = [{"text": r["text"].strip(), "intent": r["category"], "lang": "en", "source": "banking77_test"}
                    for r in csv.DictReader(f)]
        print(f"banking77_test.jsonl: {write(args.out / 'banking77_test.jsonl', rows)} lines")
        with open(tests / "chnsenticorp_htl_test.csv", newline="", encoding="utf-8") as f:
            rows = [{"text": r["review"].strip(), "lang": "zh", "source": "chnsenticorp_test",
                     "sentiment": "positive" if r["label"].strip() == "1" else "negative"}
                    for r in csv.DictReader(f) if r["review"] and r["review"].strip()]
        print(f"chnsenticorp_test.jsonl: {write(args.out / 'chnsenticorp_test.jsonl', rows)} lines")


if __name__ == "__main__":
    main()
