#!/usr/bin/env bash
# Runs a benchmark binary with --smoke and checks it printed BENCH lines, so
# no benchmark can rot unnoticed.
set -euo pipefail
out=$("$1" --smoke "${@:2}")
echo "$out"
n=$(grep -c '^BENCH scenario=[a-z_]* impl=[a-z0-9_]* metric=[a-z_]* value=[0-9.e+-]*$' <<<"$out" || true)
if [ "$n" -lt 1 ]; then
  echo "smoke: no well-formed BENCH lines" >&2
  exit 1
fi
echo "smoke: $n BENCH lines"
