#!/usr/bin/env bash
# Soak (examples/soak.rs): CALLS concurrent real-time calls for MINUTES
# against the release server with the CRM flapping; samples every 10 s to
# benches/soak/soak.csv, plotted to benches/soak/soak.png (matplotlib in a
# venv under .runtime/). Loopback only.
#   [MODEL=.runtime/models/ggml-tiny.en.bin] scripts/soak.sh [CALLS=2] [MINUTES=60]
set -euo pipefail
cd "$(dirname "$0")/.."
CALLS="${1:-2}"
MINUTES="${2:-60}"
OUT="${OUT:-benches/soak}"
export ORT_DYLIB_PATH="${ORT_DYLIB_PATH:-$PWD/.runtime/lib/libonnxruntime.so}"
cargo build --release --locked --bin callsense --example soak >&2
status=0
target/release/examples/soak --calls "$CALLS" --minutes "$MINUTES" --out "$OUT" --model "${MODEL:-auto}" | tee "$OUT/soak.txt" || status=$?
venv=.runtime/plotvenv
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q "matplotlib==3.10.*"; }
"$venv/bin/python" - "$OUT/soak.csv" "$OUT/soak.png" "$CALLS" <<'PY'
import csv, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
rows = list(csv.DictReader(open(sys.argv[1])))
t = [float(r["t_s"]) / 60 for r in rows]
series = [("rss_mib", "resident memory (MiB)"), ("threads", "threads"), ("open_files", "open files"),
          ("outbox_mib", "outbox file (MiB)"), ("pending", "deliveries pending"), ("p95_ms", "turn end → final p95 (ms)")]
fig, axes = plt.subplots(len(series), 1, figsize=(9, 12), sharex=True)
for ax, (key, label) in zip(axes, series):
    ys = [float(r[key]) if r[key] not in ("", "NaN", "nan") else float("nan") for r in rows]
    ax.plot(t, ys, lw=1.2)
    ax.set_ylabel(label, fontsize=8)
    ax.grid(alpha=0.3)
    if key != "p95_ms":
        ax.set_ylim(bottom=0)
axes[-1].set_xlabel("minutes")
fig.suptitle(f"callsense soak: {sys.argv[3]} real-time calls, CRM down/up every 30 s (sampled every 10 s)", fontsize=10)
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=90)
print("plot:", sys.argv[2])
PY
exit $status
