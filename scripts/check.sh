#!/usr/bin/env bash
# Runs every check, installing nothing (scripts/test-deps.sh does that; a
# missing prerequisite stops here with what to run): formatting and clippy
# (warnings are errors, with and without the `mic` feature), that the engine
# binary carries no test code, the benchmarks and examples compile, then unit
# tests and integration tests (a real gRPC server on port 0 with real models).
# Starts NATS JetStream on 127.0.0.1:4222 for the run if none is listening.
set -euo pipefail
cd "$(dirname "$0")/.."
missing() {
  echo "error: $1 is missing; run scripts/test-deps.sh (or scripts/test.sh, which runs it first)" >&2
  exit 1
}
export ORT_DYLIB_PATH="${ORT_DYLIB_PATH:-$PWD/.runtime/lib/libonnxruntime.so}"
[ -f "$ORT_DYLIB_PATH" ] || missing "the ONNX Runtime library ($ORT_DYLIB_PATH)"
[ -f .runtime/models/ggml-base.bin ] || missing "OpenAI Whisper base (.runtime/models/ggml-base.bin)"
[ -n "${CALLSENSE_TANSU:-}" ] || [ -x .runtime/bin/tansu ] || missing "the Kafka-compatible test broker (.runtime/bin/tansu)"
dpkg -s libasound2-dev >/dev/null 2>&1 || missing "libasound2-dev (ALSA headers, for --features mic)"
export CALLSENSE_ASSETS="${CALLSENSE_ASSETS:-$(cd ../shared/assets 2>/dev/null && pwd || true)}"
if ! (echo > /dev/tcp/127.0.0.1/4222) 2>/dev/null; then
  command -v nats-server >/dev/null || missing "nats-server"
  echo "==> Starting NATS with JetStream on 127.0.0.1:4222 for the tests" >&2
  nats_dir="$(mktemp -d)"
  nats-server -js -a 127.0.0.1 -p 4222 -sd "$nats_dir" >/dev/null 2>&1 &
  nats_pid=$!
  trap 'kill "$nats_pid" 2>/dev/null; rm -rf "$nats_dir"' EXIT
  for _ in $(seq 50); do (echo > /dev/tcp/127.0.0.1/4222) 2>/dev/null && break; sleep 0.1; done
fi
echo "==> Checking formatting and lints (cargo fmt, clippy -D warnings)" >&2
cargo fmt --all --check
cargo clippy --release --locked --all-targets -- -D warnings
# The optional microphone client (feature `mic`, cpal) builds here too; only
# `cuda` needs what CI machines lack (the CUDA toolkit).
cargo clippy --release --locked --features mic --lib --bins -- -D warnings
echo "==> Checking that the engine binary carries no test code" >&2
# testkit (CRM doubles, fixtures, WER helpers) is dev-only: only the
# dev-dependency on the package itself may turn the feature on.
if cargo tree --locked -e normal,features -i callsense | grep -q 'feature "testkit"'; then
  echo "error: the testkit feature is on in the engine's own build (Cargo.toml [features] default or a normal dependency)" >&2
  exit 1
fi
echo "==> Compiling benchmarks and examples" >&2
cargo build --release --locked --benches --examples
echo "==> Running tests" >&2
cargo test --release --locked
echo "==> The supervisor board in a real browser (headless Chromium)" >&2
node tests/browser/board.test.mjs
