#!/usr/bin/env bash
# Runs an example with small flags; it must exit 0 and say OK.
set -euo pipefail
out=$("$@")
echo "$out"
grep -q '^OK' <<<"$out"
