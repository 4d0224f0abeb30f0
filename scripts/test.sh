#!/usr/bin/env bash
# Runs every test: unit tests, integration tests (real gRPC server on port 0
# with real models), and compiles the benchmarks and examples.
# Installs what it needs first (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# The tests use the synthetic-speech Whisper stand-in: no real weights are needed.
WHISPER_MODEL=synth-spike-en bash scripts/setup.sh
export CALLSENSE_ASSETS="${CALLSENSE_ASSETS:-$(cd ../shared/assets 2>/dev/null && pwd || true)}"
echo "==> Compiling benchmarks and examples" >&2
cargo build --release --locked --benches --examples
echo "==> Running tests" >&2
cargo test --release --locked
