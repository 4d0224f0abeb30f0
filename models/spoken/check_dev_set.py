#!/usr/bin/env python3
"""Validate a hand-written spoken-style dev set (models/spoken/*_dev.jsonl).

Checks: every line is a JSON object with text, lang, category, sentiment and
intent; intent and sentiment come from the fixed lists (a category
outside the shared list is reported, not an error); no empty or duplicate texts. Prints
counts per intent, sentiment and category as Markdown tables (for the README).
Stdlib only.

    python3 models/spoken/check_dev_set.py models/spoken/en_dev.jsonl [--lang en]
"""
import argparse
import collections
import json
import re
import sys

INTENTS = [
    "cancel_service", "refund_request", "complaint", "product_defect",
    "repair_request", "order_status", "delivery_problem", "billing_question",
    "payment_problem", "account_access", "plan_change", "promotion_inquiry",
    "product_inquiry", "request_human", "gratitude", "other",
]
SENTIMENTS = ["negative", "neutral", "positive"]
CATEGORIES = [
    "calm_complaint", "grievance_request", "thanks_in_complaint", "sarcasm",
    "rambling", "plain_request", "neutral_negative_words", "positive", "short",
    "asr_noisy", "backchannel", "identity", "out_of_scope",
]
FIELDS = {"text", "lang", "category", "sentiment", "intent"}


def norm(t):
    return re.sub(r"[\W_]+", " ", t.lower()).strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--lang", help="expected value of every line's lang")
    args = ap.parse_args()
    errors, rows, seen = [], [], {}
    with open(args.file, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                errors.append(f"line {n}: empty")
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError as e:
                errors.append(f"line {n}: bad JSON ({e})")
                continue
            if not isinstance(r, dict) or set(r) != FIELDS:
                errors.append(f"line {n}: fields {sorted(r) if isinstance(r, dict) else r!r}, want {sorted(FIELDS)}")
                continue
            if not isinstance(r["text"], str) or not r["text"].strip():
                errors.append(f"line {n}: empty text")
            if args.lang and r["lang"] != args.lang:
                errors.append(f"line {n}: lang {r['lang']!r}")
            for key, allowed in (("intent", INTENTS), ("sentiment", SENTIMENTS)):
                if r[key] not in allowed:
                    errors.append(f"line {n}: {key} {r[key]!r} not in the list")
            if not isinstance(r["category"], str) or not r["category"]:
                errors.append(f"line {n}: empty category")
            k = norm(r["text"])
            if k in seen:
                errors.append(f"line {n}: duplicate of line {seen[k]}")
            seen.setdefault(k, n)
            rows.append(r)
    total = len(rows)

    def table(key, order):
        c = collections.Counter(r[key] for r in rows)
        print(f"| {key} | rows | % |\n|---|---:|---:|")
        for k in order:
            print(f"| {k} | {c[k]} | {100 * c[k] / max(total, 1):.1f} |")
        print()

    print(f"{args.file}: {total} rows\n")
    table("sentiment", SENTIMENTS)
    # intent × sentiment
    print("| intent | rows | negative | neutral | positive |\n|---|---:|---:|---:|---:|")
    by = collections.defaultdict(collections.Counter)
    for r in rows:
        by[r["intent"]][r["sentiment"]] += 1
    for i in INTENTS:
        c = by[i]
        print(f"| {i} | {sum(c.values())} | {c['negative']} | {c['neutral']} | {c['positive']} |")
    print(f"| **total** | {total} | " + " | ".join(str(sum(by[i][s] for i in INTENTS)) for s in SENTIMENTS) + " |\n")
    # category × sentiment
    print("| category | rows | negative | neutral | positive |\n|---|---:|---:|---:|---:|")
    bc = collections.defaultdict(collections.Counter)
    for r in rows:
        bc[r["category"]][r["sentiment"]] += 1
    extra = sorted(k for k in bc if k not in CATEGORIES)
    for k in CATEGORIES + extra:
        c = bc[k]
        print(f"| {k} | {sum(c.values())} | {c['negative']} | {c['neutral']} | {c['positive']} |")
    print()
    if extra:
        print(f"note: categories outside the shared list: {', '.join(extra)}\n")
    for e in errors:
        print("ERROR", e, file=sys.stderr)
    if errors:
        sys.exit(1)
    print("OK: no errors")


if __name__ == "__main__":
    main()
