#!/usr/bin/env bash
# The one command that runs the tests on a fresh machine: installs what they
# need (scripts/test-deps.sh, skipped step by step when already there), then
# runs every check (scripts/check.sh, which installs nothing).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/test-deps.sh
exec bash scripts/check.sh
