#!/usr/bin/env bash
# Packs this machine's espeak-ng (Debian/Ubuntu package) into a folder that
# runs on another x86-64 Linux machine without the package or a network (a
# GPU machine for run_gpu.sh): the binary, libespeak-ng and libsonic, the
# English and Mandarin (cmn, for --lang zh) dictionaries only, and a stand-in libpcaudio (audio output is never
# used: synth.py reads --stdout), so no PulseAudio/ALSA libraries are needed.
#
#   bash models/asr-synth/bundle_espeak.sh DIR        # about 5 MB
#   # there:
#   export ESPEAK_NG=DIR/bin/espeak-ng LD_LIBRARY_PATH=DIR/lib ESPEAK_DATA_PATH=DIR/share
set -euo pipefail
out="${1:?usage: bundle_espeak.sh DIR}"
bin="$(command -v espeak-ng)" || { echo "espeak-ng is not installed (apt-get install espeak-ng)" >&2; exit 1; }
lib="$(ldd "$bin" | awk '/libespeak-ng.so/ {print $3}')"
data="$(dirname "$lib")/espeak-ng-data"
[ -d "$data" ] || { echo "no espeak-ng-data beside $lib" >&2; exit 1; }
mkdir -p "$out/bin" "$out/lib" "$out/share/espeak-ng-data"
cp "$bin" "$out/bin/"
cp -L "$lib" "$(ldd "$bin" | awk '/libsonic.so/ {print $3}')" "$out/lib/"
for f in en_dict cmn_dict intonations lang phondata phondata-manifest phonindex phontab voices; do
  cp -r "$data/$f" "$out/share/espeak-ng-data/"
done
stub="$(mktemp --suffix=.c)"
cat >"$stub" <<'EOF'
#include <stddef.h>
struct audio_object;
struct audio_object *create_audio_device_object(const char *d, const char *a, const char *b) { return NULL; }
int audio_object_open(struct audio_object *o, int f, unsigned r, unsigned char c) { return -1; }
void audio_object_close(struct audio_object *o) {}
void audio_object_destroy(struct audio_object *o) {}
int audio_object_write(struct audio_object *o, const void *d, size_t n) { return -1; }
int audio_object_drain(struct audio_object *o) { return 0; }
int audio_object_flush(struct audio_object *o) { return 0; }
const char *audio_object_strerror(struct audio_object *o, int e) { return "no audio output"; }
EOF
cc -shared -fPIC -Wl,-soname,libpcaudio.so.0 -o "$out/lib/libpcaudio.so.0" "$stub"
rm -f "$stub"
# check it speaks from the bundle alone
n="$(ESPEAK_DATA_PATH="$out/share" LD_LIBRARY_PATH="$out/lib" "$out/bin/espeak-ng" -v en-us+f3 --stdout "bundle check" | wc -c)"
[ "$n" -gt 10000 ] || { echo "the bundled espeak-ng produced no audio" >&2; exit 1; }
echo "espeak-ng bundled in $out ($(du -sh "$out" | cut -f1))"
