#!/usr/bin/env bash
# scheduler::Mutex must stay visible to clang's thread-safety analysis:
# testdata/mutex_use.cc compiles as it is and is refused with each misuse
# switched on. Needs clang (tools/setup.sh installs it).
set -euo pipefail
src="$1"
include_root="$2"
clangxx=$(command -v clang++ || true)
if [ -z "$clangxx" ]; then
  echo "clang++ not found: run tools/setup.sh" >&2
  exit 1
fi
compile() {
  "$clangxx" -std=c++20 -fsyntax-only -Wthread-safety -Werror \
    -I "$include_root" "$@" "$src"
}
compile
echo "ok: correct use compiles"
for misuse in MISUSE_NO_LOCK MISUSE_AFTER_UNLOCK MISUSE_REQUIRES; do
  if out=$(compile -D"$misuse" 2>&1); then
    echo "FAIL: $misuse compiled; the thread-safety analysis is not checking scheduler::Mutex" >&2
    exit 1
  fi
  if ! grep -q 'thread-safety' <<<"$out"; then
    echo "FAIL: $misuse was refused, but not by the thread-safety analysis:" >&2
    echo "$out" >&2
    exit 1
  fi
  echo "ok: $misuse refused"
done
