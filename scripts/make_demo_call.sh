#!/bin/bash
# Regenerate tests/fixtures/demo_call.wav + tests/fixtures/demo_call.json (synthesized, ours to commit).
#   scripts/make_demo_call.sh            (from anywhere; needs espeak-ng, sox, python3 with numpy scipy soundfile)
# Turns come from scripts/demo_call_script.tsv. Each sentence: espeak-ng -> 16 kHz 16-bit wav -> sox 8 kHz;
# scripts/make_demo_call.py places the turns at exact offsets (stereo, ch0 AGENT, ch1 CUSTOMER), measures
# speech regions and writes the JSON; sox converts the result to G.711 mu-law WAV (format tag 7).
# Deterministic: fixed voices/rates/gaps, sox dither disabled (-D).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
out_dir=${1:-$repo/tests/fixtures}
py=python3
[ -x "$repo/.venv/bin/python" ] && py="$repo/.venv/bin/python"
AGENT_VOICE=en-us+m3;    AGENT_RATE=160
CUSTOMER_VOICE=en-us+f2; CUSTOMER_RATE=140

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
i=0
grep -v '^#' "$here/demo_call_script.tsv" | while IFS=$'\t' read -r role text; do
  [ -z "$role" ] && continue
  case $role in
    AGENT) v=$AGENT_VOICE; s=$AGENT_RATE ;;
    CUSTOMER) v=$CUSTOMER_VOICE; s=$CUSTOMER_RATE ;;
    *) echo "bad role $role" >&2; exit 1 ;;
  esac
  n=$(printf '%02d' $i)
  espeak-ng -v "$v" -s "$s" -w "$work/raw_$n.wav" "$text"
  sox -D -q "$work/raw_$n.wav" -r 16000 -c 1 -b 16 "$work/t16_$n.wav"
  sox -D -q "$work/t16_$n.wav" -r 8000 -c 1 -b 16 "$work/turn_$n.wav"
  printf '%s\t%s\t%s\t%s\t%s\n' "$n" "$role" "$v@$s" "$work/turn_$n.wav" "$text" >> "$work/turns.tsv"
  i=$((i+1))
done
"$py" "$here/make_demo_call.py" "$work/turns.tsv" "$work/call_pcm.wav" "$out_dir/demo_call.json"
sox -D -q "$work/call_pcm.wav" -e mu-law -r 8000 -c 2 "$out_dir/demo_call.wav"
soxi "$out_dir/demo_call.wav" | grep -E 'Channels|Sample Rate|Duration|Encoding'
ls -l "$out_dir/demo_call.wav" "$out_dir/demo_call.json"
