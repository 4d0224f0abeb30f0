#!/usr/bin/env bash
# Hostile clients against the real server (examples/hostile.rs): N malformed
# or adversarial gRPC streams, TCP garbage and idle connections beside a
# real-time good call, with the server's memory, threads and open files
# sampled every second. Loopback only, bounded in count and time.
#   [ROUNDS=1] scripts/hostile.sh [STREAMS=10000]
set -euo pipefail
cd "$(dirname "$0")/.."
STREAMS="${1:-10000}"
PORT="${PORT:-50071}"
export ORT_DYLIB_PATH="${ORT_DYLIB_PATH:-$PWD/.runtime/lib/libonnxruntime.so}"
cargo build --release --locked --bin callsense --example hostile >&2
dir="$(mktemp -d -t callsense-hostile.XXXXXX)"
cat >"$dir/hostile.toml" <<TOML
# The synthetic-speech model (the good call is synthetic speech) with its
# decoding settings; a short idle timeout so silent streams end within the run.
[server]
listen = "127.0.0.1:$PORT"
idle_timeout_s = 5
max_concurrent_calls = 64
[asr]
model = "models/asr-synth/ggml-callsense-synth-en-q8_0.bin"
beam_size = 8
[audio]
max_utterance_ms = 8000
TOML
target/release/callsense serve --config "$dir/hostile.toml" >"$dir/serve.log" 2>&1 &
SERVER=$!
trap 'kill -INT $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  grep -q "Models loaded; serving" "$dir/serve.log" && break
  kill -0 $SERVER 2>/dev/null || { cat "$dir/serve.log" >&2; exit 1; }
  sleep 0.5
done
# ROUNDS > 1 runs the whole storm again against the same server: memory
# that is the allocator's high-water mark stays level from round to round,
# a leak grows with each.
status=0
for round in $(seq 1 "${ROUNDS:-1}"); do
  [ "${ROUNDS:-1}" -gt 1 ] && echo "== round $round of $ROUNDS"
  target/release/examples/hostile --server "http://127.0.0.1:$PORT" --pid "$SERVER" --streams "$STREAMS" || status=$?
done
kill -0 $SERVER 2>/dev/null || { echo "FAIL: the server exited" >&2; tail -50 "$dir/serve.log" >&2; exit 1; }
echo "server log: $dir/serve.log ($(grep -c ' ERROR ' "$dir/serve.log" || true) ERROR lines, $(grep -c 'panicked' "$dir/serve.log" || true) panics)"
exit $status
