#!/usr/bin/env bash
# libFuzzer over everything that parses outside input (fuzz/fuzz_targets/):
# each target runs SECONDS (default 60) from the committed seed corpus
# (fuzz/corpus/<target>) plus what earlier runs found (fuzz/work/<target>,
# not committed), with AddressSanitizer. Prints runs, executions per second,
# coverage (edges) and features per target; a crash stops with its input in
# fuzz/artifacts/<target>/ (turn it into a regression test).
#   scripts/fuzz.sh [SECONDS] [TARGET…]
# Needs the nightly toolchain and cargo-fuzz (installed here if missing).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
SECONDS_EACH="${1:-60}"
shift || true
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
rustup toolchain list | grep -q nightly || rustup toolchain install nightly --profile minimal
cargo +nightly fuzz build -O >&2
targets=("$@")
[ ${#targets[@]} -eq 0 ] && mapfile -t targets < <(cargo +nightly fuzz list)
printf '%-22s %12s %10s %8s %8s %8s  %s\n' target runs exec/s cov ft corpus result
fail=0
for t in "${targets[@]}"; do
  mkdir -p "work/$t" "corpus/$t"
  log="work/$t.log"
  if cargo +nightly fuzz run -O "$t" "work/$t" "corpus/$t" -- \
      -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
    result=ok
  else
    result="CRASH: $(ls -t "artifacts/$t" 2>/dev/null | head -1)"
    fail=1
  fi
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)
  [ -z "$done_line" ] && done_line=$(grep -E '^#[0-9]+[[:space:]]' "$log" | tail -1 || true)
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
  eps=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
  cov=$(echo "$done_line" | grep -oE 'cov: [0-9]+' | grep -oE '[0-9]+' || echo "?")
  ft=$(echo "$done_line" | grep -oE 'ft: [0-9]+' | grep -oE '[0-9]+' || echo "?")
  corp=$(echo "$done_line" | grep -oE 'corp: [0-9]+' | grep -oE '[0-9]+' || echo "?")
  printf '%-22s %12s %10s %8s %8s %8s  %s\n' "$t" "$runs" "$eps" "$cov" "$ft" "$corp" "$result"
done
exit $fail
