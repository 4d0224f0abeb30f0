#!/usr/bin/env bash
# How many real-time calls one NVIDIA GPU serves: callsense with Whisper on the
# GPU, at rising concurrency, reporting the largest number of concurrent
# two-channel real-time calls whose turn end -> final result p95 stays <= 1.0 s.
#
#   scripts/bench_gpu.sh [OUT_DIR]            (default OUT_DIR: bench-gpu-<date> in the repo root)
#
# Steps (each skipped when already done):
#   1. checks: nvidia-smi sees a GPU, the CUDA toolkit (nvcc) is present, cargo,
#      a Python with scripts/eval_asr_requirements.txt's scoring packages, the
#      speech clips (CALLSENSE_ASSETS, default ../shared/assets);
#   2. cargo build --release --locked --features cuda (whisper.cpp with CUDA);
#   3. runtime files: target/release/callsense models fetch onnxruntime silero-vad $MODEL;
#   4. scripts/bench_real_asr.py --systems callsense (no peers needed) with
#      CALLSENSE__ASR__USE_GPU=true, $WORKERS Whisper states and
#      $FRONTEND_THREADS front-end (decode + VAD) threads, N = $CALLS in turn,
#      stopping once p95 > $TARGET_P95_S s or a configuration overloads.
#      Each N is one pass over the 65 s development call (scripts/eval_asr.py
#      --set dev, seed 1; 14 real-speech turns) per client, clients started at
#      random 0-3 s offsets, paced in real time by `callsense stream --realtime`.
#      Latency = a turn's final result at the client - the turn's true end
#      (ground truth), so it includes the engine's 500 ms endpointing wait.
#
# Environment (defaults):
#   CALLS="8 16 32 64 128 256 384"   concurrency steps
#   WORKERS=8                        asr.workers (Whisper states sharing the GPU)
#   THREADS_PER_WORKER=1             asr.threads_per_worker
#   FRONTEND_THREADS=<nproc/2, >=2>  audio.frontend_threads (Silero VAD for every channel runs
#                                    there: at 1 thread it, not the GPU, caps a few hundred calls)
#   MODEL=whisper-base               `callsense models fetch` name; the ggml file it writes is used
#   TARGET_P95_S=1.0
#   PYTHON=python3                   needs numpy scipy soundfile whisper-normalizer
#                                    (pip install -r scripts/eval_asr_requirements.txt; faster-whisper not needed)
#   EXTRA_CONFIG="a.b=v ..."         more --set-config overrides
#   SKIP_BUILD=1                     use the existing target/release/callsense as is
#   MAX_TURNS=K                      smoke test: only the call's first K turns (a shorter call)
#
# Output: OUT_DIR/bench_gpu.md (table + the answer), OUT_DIR/bench_gpu.json (per-turn
# latencies, transcripts, client and server CPU use), OUT_DIR/bench_gpu.log, OUT_DIR/gpu_samples.csv
# (GPU utilisation and memory every 5 s), OUT_DIR/machine.txt.
# The clients are `callsense stream` processes on the same machine: the JSON's
# client_cpu_cores says how much CPU they took (if it nears the core count, the
# client side, not the GPU, is the limit; run the clients from a second machine).
set -euo pipefail
cd "$(dirname "$0")/.."

CALLS="${CALLS:-8 16 32 64 128 256 384}"
WORKERS="${WORKERS:-8}"
THREADS_PER_WORKER="${THREADS_PER_WORKER:-1}"
ncpu="$(nproc)"
FRONTEND_THREADS="${FRONTEND_THREADS:-$(( ncpu / 2 > 2 ? ncpu / 2 : 2 ))}"
MODEL="${MODEL:-whisper-base}"
TARGET_P95_S="${TARGET_P95_S:-1.0}"
PYTHON="${PYTHON:-python3}"
OUT="${1:-bench-gpu-$(date +%Y%m%d-%H%M%S)}"
BIN=target/release/callsense

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# --- 1. checks ------------------------------------------------------------------------------
command -v nvidia-smi >/dev/null || die "nvidia-smi not found: this benchmark needs an NVIDIA GPU and its driver"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >/dev/null 2>&1 \
  || die "nvidia-smi finds no usable GPU"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  command -v cargo >/dev/null || die "cargo not found (https://rustup.rs)"
  if ! command -v nvcc >/dev/null; then
    for d in "${CUDA_PATH:-}" /usr/local/cuda; do
      if [ -n "$d" ] && [ -x "$d/bin/nvcc" ]; then export PATH="$d/bin:$PATH"; break; fi
    done
  fi
  command -v nvcc >/dev/null || die "nvcc not found: the CUDA toolkit is needed to build --features cuda (set CUDA_PATH)"
fi
"$PYTHON" -c 'import numpy, scipy, soundfile, whisper_normalizer' 2>/dev/null \
  || die "$PYTHON lacks numpy/scipy/soundfile/whisper-normalizer: pip install -r scripts/eval_asr_requirements.txt (faster-whisper is not needed)"
assets="${CALLSENSE_ASSETS:-../shared/assets}"
[ -f "$assets/audio/whisper_cpp/jfk.wav" ] \
  || die "speech clips not found under $assets (set CALLSENSE_ASSETS to the assets folder with audio/whisper_cpp, audio/vosk, ...)"
export CALLSENSE_ASSETS="$(cd "$assets" && pwd)"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
{
  echo "date: $(date -Is)"; echo "host: $(hostname)"; echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo ?)"
  echo "cpu: $(lscpu | sed -n 's/^Model name:\s*//p') x $ncpu"; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  if command -v nvcc >/dev/null; then nvcc --version | tail -1; fi
} | tee "$OUT/machine.txt" >&2

# --- 2. build ---------------------------------------------------------------------------------
if [ "${SKIP_BUILD:-0}" = 1 ]; then
  [ -x "$BIN" ] || die "SKIP_BUILD=1 but $BIN is missing"
  log "Using the existing $BIN (SKIP_BUILD=1; it must have been built with --features cuda)"
else
  log "Building callsense with CUDA (cargo build --release --locked --features cuda; whisper.cpp's CUDA kernels take a while)"
  cargo build --release --locked --features cuda
fi

# --- 3. runtime files ---------------------------------------------------------------------------
log "Fetching runtime files: onnxruntime silero-vad $MODEL"
"$BIN" models fetch onnxruntime silero-vad "$MODEL"
ggml=".runtime/models/ggml-${MODEL#whisper-}.bin"
[ -s "$ggml" ] || die "$ggml is missing after 'models fetch $MODEL'"

# --- 4. the sweep ---------------------------------------------------------------------------------
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" -ge 2048 ] || log "warning: ulimit -n is $(ulimit -n); several hundred clients need ~3 descriptors each"
calls_csv="$(echo $CALLS | tr ' ' ',')"
cfg=(--set-config asr.use_gpu=true --set-config "asr.workers=$WORKERS"
     --set-config "asr.threads_per_worker=$THREADS_PER_WORKER" --set-config "audio.frontend_threads=$FRONTEND_THREADS")
for kv in ${EXTRA_CONFIG:-}; do cfg+=(--set-config "$kv"); done
[ -n "${MAX_TURNS:-}" ] && cfg+=(--max-turns "$MAX_TURNS")
log "Sweep: calls $calls_csv, model $ggml, ${cfg[*]}"
# GPU use, sampled every 5 s while the sweep runs (utilisation %, memory MiB, processes on the GPU)
( while sleep 5; do
    printf '%s,%s,%s\n' "$(date +%T)" \
      "$(nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader,nounits 2>/dev/null | head -1)" \
      "$(nvidia-smi --query-compute-apps=process_name --format=csv,noheader 2>/dev/null | xargs -r -n1 basename | tr '\n' ' ')"
  done ) > "$OUT/gpu_samples.csv" &
monitor=$!
trap 'kill "$monitor" 2>/dev/null || true' EXIT
rc=0
CALLSENSE_BIN="$BIN" "$PYTHON" scripts/bench_real_asr.py --systems callsense --models "$ggml" \
  --calls "$calls_csv" "${cfg[@]}" --target-p95-s "$TARGET_P95_S" --stop-above-target \
  --work-dir "$OUT/work" --json-out "$OUT/bench_gpu.json" --md-out "$OUT/bench_gpu.md" 2>&1 \
  | tee "$OUT/bench_gpu.log" || rc=$?
kill "$monitor" 2>/dev/null || true
[ "$rc" = 0 ] || log "warning: bench_real_asr.py exited with status $rc (see $OUT/bench_gpu.log); what it saved follows"
[ -s "$OUT/bench_gpu.json" ] || die "no results in $OUT/bench_gpu.json"

# did Whisper run on the GPU? (the engine process must show up among nvidia-smi's compute processes)
if grep -q callsense "$OUT/gpu_samples.csv"; then
  log "callsense ran on the GPU; peak utilisation $(cut -d, -f2 "$OUT/gpu_samples.csv" | sort -n | tail -1) % (samples: $OUT/gpu_samples.csv)"
else
  log "warning: callsense never showed up among the GPU's processes ($OUT/gpu_samples.csv): was it built with --features cuda?"
fi
log "Answer (also in $OUT/bench_gpu.md):"
"$PYTHON" - "$OUT/bench_gpu.json" "$TARGET_P95_S" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1])); t = float(sys.argv[2])
for k, v in r.get("capacity", {}).items():
    print(f"{k}: largest number of concurrent real-time calls with p95 <= {t} s: {v if v else 'none of those tried'}")
for x in r["rows"]:
    l = x.get("lat") or {}
    print(f"  N={x['calls']:>4}  p50 {l.get('p50')}  p95 {l.get('p95')}  turns {l.get('measured')}/{l.get('n')}  "
          f"WER {x.get('wer', {}).get('wer')}  client CPU {x.get('client_cpu_cores')} cores  {x.get('status', x.get('error'))}")
EOF
