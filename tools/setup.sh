#!/usr/bin/env bash
# Installs the Debian 12 packages ringactor builds against, if any are missing.
# Idempotent, and quick when everything is present (one dpkg-query). Run it
# as root or with sudo available.
set -euo pipefail

packages=(
  bazel-bootstrap      # Bazel 4.2.3
  bazel-rules-java     # @rules_java for Bazel's own tooling
  g++
  clang                # bazel --config=clang: -Wthread-safety, layering_check
  liburing-dev
  libabsl-dev
  libprotobuf-dev
  protobuf-compiler
  libgtest-dev
  libgmock-dev
  libbenchmark-dev
  libcaf-dev           # peer framework, linked into benchmarks only
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq "${missing[@]}" >&2
