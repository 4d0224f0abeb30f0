#!/usr/bin/env bash
# The one-machine run that made run E (the start of the committed model): synthesis on all cores,
# training on the GPU as soon as the first shards exist (it takes later
# shards in at each evaluation; synthesis still running when training ends
# is stopped), then q8_0 exports of the best weights and of the
# mean of the last 4 checkpoints.
#
#   ASR_WORK=/tmp/asr bash models/asr-synth/run_gpu.sh MINUTES [SENTENCES_DIR]
#
# MINUTES is the training time (the learning rate's cosine follows it).
# SENTENCES_DIR holds sentences-{train,novel,heldout}.txt from an earlier
# synth.py run, for a machine without the datasets under $CALLSENSE_ASSETS.
# espeak-ng is taken from $ESPEAK_NG (default: espeak-ng on PATH).
# Environment knobs: JOBS (synthesis processes, default nproc-2), WORKERS
# (batch-building processes, default nproc-2), DEVICE (default cuda),
# MIN_SHARDS (training shards to wait for, default 4; with SYNTH_ARGS="--shard-size 500"
# training starts sooner), SYNTH_ARGS (more
# synth.py flags, e.g. "--accents 60 --vowel-shifts 4"), TRAIN_ARGS (more train.py flags),
# ASR_LANG (en, default, or zh: the Mandarin model, from scratch unless TRAIN_ARGS
# gives --init-ggml; its exports are named -zh-; needs pypinyin).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="${ASR_WORK:-/tmp/asr-synth}"
export ASR_WORK="$work"
minutes="${1:?usage: run_gpu.sh MINUTES [SENTENCES_DIR]}"
sentences="${2:-}"
cores="$(nproc)"
jobs="${JOBS:-$((cores > 2 ? cores - 2 : 1))}"
workers="${WORKERS:-$((cores > 2 ? cores - 2 : 1))}"
py="${PYTHON:-python3}"
lang="${ASR_LANG:-en}"
case "$lang" in
  en) lang_args=() ;;
  zh) lang_args=(--lang zh) ;;
  *) echo "ASR_LANG must be en or zh, not $lang" >&2; exit 2 ;;
esac
mkdir -p "$work"

synth_args=(--jobs "$jobs" "${lang_args[@]}")
# Mandarin has no generated sentences (synth.py refuses them)
[ "$lang" = zh ] && synth_args+=(--novel 0 --word-strings 0)
[ -n "$sentences" ] && synth_args+=(--sentences "$sentences")
# shellcheck disable=SC2206
synth_args+=(${SYNTH_ARGS:-})
# in a session of its own, so that it and its worker processes can be stopped together
setsid "$py" "$here/synth.py" "${synth_args[@]}" >"$work/synth.log" 2>&1 &
synth=$!

# training starts once the held-out shard and a few training shards are done
ready() {
  [ -f "$work/heldout-0000.npz" ] && [ "$(ls "$work"/train-*.npz 2>/dev/null | grep -vc "\.tmp\.npz$")" -ge "${MIN_SHARDS:-4}" ]
}
synth_failed() { echo "synthesis failed:"; tail "$work/synth.log"; exit 1; }
synth_done=0
until ready; do
  if ! kill -0 "$synth" 2>/dev/null; then
    wait "$synth" || synth_failed
    synth_done=1
    ready || synth_failed
    break
  fi
  sleep 2
done
echo "synthesis under way ($(ls "$work"/train-*.npz | grep -vc "\.tmp\.npz$") training shards); training starts"
# shellcheck disable=SC2086
"$py" "$here/train.py" --device "${DEVICE:-cuda}" --workers "$workers" --minutes "$minutes" --lr-by-time \
  --eval-min 3 --ckpt-min 3 --keep-ckpts 4 "${lang_args[@]}" ${TRAIN_ARGS:-} 2>&1 | tee -a "$work/train.log"
# training has its time: clips not yet written would not be heard, so synthesis stops here
if [ "$synth_done" = 0 ] && kill -0 "$synth" 2>/dev/null; then
  kill -TERM -- "-$synth" 2>/dev/null || true
  wait "$synth" 2>/dev/null || true
  echo "synthesis stopped when training ended ($(ls "$work"/train-*.npz | grep -vc "\.tmp\.npz$") training shards written)"
elif [ "$synth_done" = 0 ]; then
  wait "$synth" || synth_failed
fi
"$py" "$here/export.py" "$work/best.pt" "$work/ggml-callsense-synth-$lang-q8_0.bin" --ftype q8_0
# the mean of the last checkpoints (run I: 2 to 2.5 points better through the engine than the last or the best
# single one; run J: 1 point worse); choose between the two files with eval_engine.py on a held-out call
mapfile -t kept < <(ls "$work"/ckpt-*.pt | sort)
if [ "${#kept[@]}" -gt 1 ]; then
  "$py" "$here/export.py" "${kept[-1]}" "$work/ggml-callsense-synth-$lang-q8_0-avg.bin" --ftype q8_0 --average "${kept[@]:0:${#kept[@]}-1}"
fi
