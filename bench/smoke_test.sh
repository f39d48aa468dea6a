#!/usr/bin/env bash
# Runs a benchmark binary with --smoke and checks that it printed BENCH lines
# and that every one is well formed (a finite number: no nan or inf), so no
# benchmark can rot unnoticed.
set -euo pipefail
out=$("$1" --smoke "${@:2}")
echo "$out"
all=$(grep -c '^BENCH ' <<<"$out" || true)
good=$(grep -cE '^BENCH scenario=[a-z0-9_]+ impl=[a-z0-9_]+ metric=[a-z0-9_]+ value=-?[0-9][0-9.]*(e[+-]?[0-9]+)?$' <<<"$out" || true)
if [ "$all" -lt 1 ] || [ "$good" -ne "$all" ]; then
  echo "smoke: $good of $all BENCH lines well formed" >&2
  exit 1
fi
echo "smoke: $all BENCH lines"
