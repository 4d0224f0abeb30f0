#!/usr/bin/env bash
# Reproduces the README's accuracy table with the Rust runtime (no Python ML
# stack: models/eval_sets.py is standard-library Python).
#   1. rebuilds the held-out dev splits from the shared assets (CALLSENSE_ASSETS,
#      default ../shared/assets) into target/eval-sets/,
#   2. runs `callsense eval` on every set with the shipped models,
#   3. prints a summary table (FULL=1 also prints every confusion matrix and
#      reliability table; PER_CLASS=1 lists per-class F1 under the table).
set -euo pipefail
cd "$(dirname "$0")/.."

assets="${CALLSENSE_ASSETS:-../shared/assets}"
[ -d "$assets/datasets" ] || { echo "error: $assets/datasets not found; set CALLSENSE_ASSETS" >&2; exit 1; }
bin=target/release/callsense
[ -x "$bin" ] || cargo build --release --locked
export ORT_DYLIB_PATH="${ORT_DYLIB_PATH:-$PWD/.runtime/lib/libonnxruntime.so}"
[ -f "$ORT_DYLIB_PATH" ] || { echo "error: ONNX Runtime missing at $ORT_DYLIB_PATH; run scripts/setup.sh" >&2; exit 1; }

sets=target/eval-sets
python3 models/eval_sets.py --assets "$assets" --out "$sets" >&2

# name | file | extra args
tests="$assets/datasets/test_splits"
runs=(
  "spoken call-centre dev (en)|models/spoken/en_dev.jsonl|--model models/callsense-e5"
  "spoken call-centre dev (zh)|models/spoken/zh_dev.jsonl|--model models/callsense-e5"
  "robustness (en)|models/robustness/en.jsonl|--model models/callsense-e5"
  "robustness (zh)|models/robustness/zh.jsonl|--model models/callsense-e5"
  "SST-2 test (en, binary)|$tests/sst2_test.tsv|--model models/callsense-e5 --sentiment-binary"
  "ChnSentiCorp test (zh, binary)|$sets/chnsenticorp_test.jsonl|--model models/callsense-e5 --sentiment-binary"
  "banking77 test|$sets/banking77_test.jsonl|--model models/banking77"
  "per-language models: spoken dev (en)|models/spoken/en_dev.jsonl|--model models/callsense-en"
  "per-language models: spoken dev (zh)|models/spoken/zh_dev.jsonl|--model models/callsense-zh"
  "per-language models: SST-2 test|$tests/sst2_test.tsv|--model models/callsense-en --sentiment-binary"
  "per-language models: ChnSentiCorp test|$sets/chnsenticorp_test.jsonl|--model models/callsense-zh --sentiment-binary"
  "SST-2 dev (en, binary)|$assets/datasets/sst2/dev.tsv|--model models/callsense-e5 --sentiment-binary"
  "call-centre dev split (en; e5 fits its temperatures here)|$sets/en_callcentre_dev.jsonl|--model models/callsense-e5"
  "  of which templates, unseen core wordings (en)|$sets/en_templates_dev.jsonl|--model models/callsense-e5"
  "ChnSentiCorp held-out (zh, binary)|$sets/chnsenticorp_dev.jsonl|--model models/callsense-e5 --sentiment-binary"
  "call-centre dev split (zh; e5 fits its temperatures here)|$sets/zh_callcentre_dev.jsonl|--model models/callsense-e5"
  "  of which templates, unseen core wordings (zh)|$sets/zh_templates_dev.jsonl|--model models/callsense-e5"
  "banking77 held-out|$sets/banking77_dev.jsonl|--model models/banking77"
)
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT
for r in "${runs[@]}"; do
  IFS='|' read -r name file extra <<<"$r"
  if [ ! -f "$file" ]; then echo "skip $name: $file missing" >&2; continue; fi
  # shellcheck disable=SC2086
  if [ "${FULL:-0}" = 1 ]; then echo "### $name"; $bin eval "$file" $extra; fi
  # shellcheck disable=SC2086
  printf '%s\t%s\n' "$name" "$($bin eval "$file" $extra --json)" >>"$summary"
done
python3 - "$summary" <<'EOF'
import json, sys
print(f"\n| set | head | n | accuracy | macro-F1 | ECE | negative recall | neg→neu / neu→neg | model |")
print("|---|---|---:|---:|---:|---:|---:|---:|---|")
for line in open(sys.argv[1], encoding="utf-8"):
    name, js = line.rstrip("\n").split("\t", 1)
    for r in json.loads(js)["results"]:
        models = ", ".join(r["models"]) if r.get("models") else ""
        neg = next((c for c in r.get("per_class", []) if c["label"] == "negative"), None)
        recall = f"{100 * neg['recall']:.1f} %" if r["head"] == "sentiment" and neg else ""
        conf = (f"{r['negative_as_neutral']} / {r['neutral_as_negative']}"
                if "negative_as_neutral" in r else "")
        print(f"| {name} | {r['head']} | {r['n']} | {100 * r['accuracy']:.2f} % | {100 * r['macro_f1']:.2f} % "
              f"| {100 * r['ece']:.1f} % | {recall} | {conf} | {models} |")
if __import__("os").environ.get("PER_CLASS") == "1":
    for line in open(sys.argv[1], encoding="utf-8"):
        name, js = line.rstrip("\n").split("\t", 1)
        for r in json.loads(js)["results"]:
            f1 = ", ".join(f"{c['label']} {100 * c['f1']:.0f}" for c in r.get("per_class", []))
            print(f"- {name}, {r['head']}: per-class F1 {f1}")
EOF
