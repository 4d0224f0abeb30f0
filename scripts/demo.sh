#!/usr/bin/env bash
# One command: set up, start the engine, stream the bundled sample call
# through it as 8 kHz μ-law stereo (agent and customer channels) in real time,
# show the results, stop the engine.
#   FAST=1 scripts/demo.sh   — send the call as fast as possible instead of in real time
#   PORT=50051               — port to serve on
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PORT="${PORT:-50051}"
LOG="$(mktemp -t callsense-serve.XXXXXX.log)"
bin=target/release/callsense
# No real Whisper model installed (and none configured): the engine runs the
# project's synthetic-speech model, with the decoding settings chosen for it.
profile=()
if [ -z "${CALLSENSE__ASR__MODEL:-}${CALLSENSE_CONFIG:-}" ] &&
  [ ! -s .runtime/models/ggml-base.bin ] && [ ! -s .runtime/models/ggml-base.en.bin ] && [ ! -s .runtime/models/ggml-tiny.en.bin ]; then
  profile=(--config config/synth-asr.toml)
  echo "==> No real Whisper model installed: serving with config/synth-asr.toml" >&2
fi
$bin serve "${profile[@]}" --listen "127.0.0.1:$PORT" >"$LOG" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  grep -q "Models loaded; serving" "$LOG" && break
  kill -0 $SERVER 2>/dev/null || { cat "$LOG" >&2; echo "error: the server exited" >&2; exit 1; }
  sleep 0.5
done
grep -q "Models loaded; serving" "$LOG" || { cat "$LOG" >&2; echo "error: models did not load in 60 s" >&2; exit 1; }
grep -E "Whisper model loaded|Classifier loaded" "$LOG" | sed -E 's/^.*INFO //' >&2
if grep -q "Whisper model loaded.*synth" "$LOG"; then
  echo "NOTE: using a synthetic-speech model (models/asr-synth/MODEL_CARD.md): it" >&2
  echo "      transcribes espeak-ng voices like this sample call's, not real speech." >&2
fi
pace="--realtime"; [ "${FAST:-0}" = 1 ] && pace=""
$bin stream tests/fixtures/demo_call.wav --server "http://127.0.0.1:$PORT" --as mulaw --rate 8000 $pace --call-id demo-call
