#!/usr/bin/env bash
# Installs everything the test suite needs, and nothing else; safe to re-run
# (each step is skipped when its result is already there):
# - scripts/setup.sh: apt packages (cmake, libclang), the release build, the
#   checksum-verified runtime files (ONNX Runtime, Silero VAD) and OpenAI's
#   Whisper base (the real-speech tests in tests/integration/asr_real.rs);
# - tansu, the Kafka-compatible broker for the Kafka sink's test, built from
#   crates.io into .runtime/bin (once; about 10 minutes on 2 cores);
# - nats-server (Debian package) for the broker tests, when no NATS runs on
#   127.0.0.1:4222;
# - Chromium (Debian), Node.js and playwright-core (npm) for the supervisor
#   board's browser test (tests/browser/);
# - libasound2-dev, so the optional microphone client (feature `mic`) builds.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
apt_install() {
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}
WHISPER_MODEL=whisper-base bash scripts/setup.sh
if [ -z "${CALLSENSE_TANSU:-}" ] && [ ! -x .runtime/bin/tansu ]; then
  echo "==> Installing the Kafka-compatible test broker (tansu 0.6.0)" >&2
  cargo install --locked --quiet tansu --version 0.6.0 --features dynostore --root .runtime
fi
if ! (echo > /dev/tcp/127.0.0.1/4222) 2>/dev/null && ! command -v nats-server >/dev/null; then
  echo "==> Installing nats-server (Debian package)" >&2
  apt_install nats-server
fi
if ! command -v chromium >/dev/null; then
  echo "==> Installing Chromium (Debian package) for the supervisor board's browser test" >&2
  apt_install chromium
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "==> Installing Node.js and npm (Debian packages) for the browser test" >&2
  apt_install nodejs npm
fi
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  echo "==> Installing playwright-core (npm, pinned in tests/browser/package-lock.json)" >&2
  (cd tests/browser && npm ci --no-audit --no-fund --silent)
fi
if ! dpkg -s libasound2-dev >/dev/null 2>&1; then
  echo "==> Installing ALSA headers for the mic feature (libasound2-dev)" >&2
  apt_install libasound2-dev
fi
