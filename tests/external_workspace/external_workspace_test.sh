#!/usr/bin/env bash
# Builds and runs a separate Bazel workspace that depends on ringactor the
# way the README tells users to (local_repository + ringactor_proto_library +
# @ringactor//actors), so those instructions cannot rot.
set -euo pipefail
root=$(dirname "$(readlink -f "$1")")  # $1: ringactor's WORKSPACE file
src="$root/tests/external_workspace"
work="${TEST_TMPDIR:-$(mktemp -d)}/hello_ringactor"
rm -rf "$work"
mkdir -p "$work"
sed "s|@RINGACTOR@|$root|g" "$src/WORKSPACE.in" >"$work/WORKSPACE"
cp "$src/BUILD.in" "$work/BUILD.bazel"
cp "$src/bazelrc.in" "$work/.bazelrc"
cp "$src/hello.proto" "$src/hello.cc" "$work/"
home=$(getent passwd "$(id -u)" | cut -d: -f6)
cd "$work"
out=$(bazel --batch --output_user_root="${TEST_TMPDIR:-/tmp}/ringactor_external_out" \
  run --disk_cache="$home/.cache/ringactor-bazel-disk" //:hello 2>&1) || {
  echo "$out"
  exit 1
}
echo "$out" | tail -5
grep -q '^OK' <<<"$out"
