#!/usr/bin/env bash
# End of speech → UtteranceResult latency for 1, 4 and 8 concurrent real-time
# stereo calls (the 45 s sample call as 8 kHz μ-law), with random-weight
# Whisper tiny.en and base.en models (real compute cost; output is noise, so
# decoding runs to the token budget: a pessimistic bound).
#   MODELS="tiny base" CALLS="1 4 8" scripts/bench_latency.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/release/callsense
[ -x $bin ] || cargo build --release --locked
PY=python3; [ -x .venv/bin/python ] && PY=.venv/bin/python
PORT="${PORT:-50071}"
for size in ${MODELS:-tiny base}; do
  model=.runtime/models/random-$size.en.bin
  if [ ! -f "$model" ]; then
    echo "==> Writing random-weight $size.en model (numpy)" >&2
    $PY ../shared/tools/make_random_whisper.py "$model" --en --size "$size"
  fi
  for calls in ${CALLS:-1 4 8}; do
    log=$(mktemp)
    CALLSENSE__ASR__MODEL="$model" $bin serve --listen "127.0.0.1:$PORT" >"$log" 2>&1 &
    srv=$!
    for _ in $(seq 1 120); do grep -q "Models loaded" "$log" && break; sleep 0.5; done
    echo "### whisper $size.en (random weights), $calls call(s)"
    $bin loadgen tests/fixtures/demo_call.wav --server "http://127.0.0.1:$PORT" --calls "$calls" --as mulaw --rate 8000
    kill $srv; wait $srv 2>/dev/null || true
    rm -f "$log"
  done
done
