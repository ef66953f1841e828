#!/usr/bin/env bash
# Installs what abtool needs on Debian 12, only what is missing, quietly when all is there.
#   bash ci/install-deps.sh           build + demo
#   bash ci/install-deps.sh --tests   also what the test suites use (hyperfine, Chromium, clang)
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git meson
  libgit2-dev libboost-dev libboost-filesystem-dev nlohmann-json3-dev libeigen3-dev
  libfmt-dev libcli11-dev libtomlplusplus-dev libgtest-dev libbenchmark-dev
  valgrind  # counts instructions (cachegrind) where the CPU's own counters are not available
)
if [[ "${1:-}" == "--tests" ]]; then
  # hyperfine: its JSON is a hotpath input format; chromium: renders the HTML report in a test;
  # wrk: the publish benchmark's reference load generator; clang + libclang-rt-14-dev: the
  # fuzz targets (ci/fuzz.sh), whose libFuzzer runtime Debian ships apart from clang, as a
  # recommendation that --no-install-recommends skips. golang-go, python3-pytest and
  # python3-pytest-benchmark: the go and pytest-benchmark hotpath formats, run for real; catch2:
  # the header-only Catch2 v2 that tests/integration/formats_catch2_test.cpp builds a benchmark
  # with. openssh-server and openssh-client: the sshd that tests/integration/ssh_target_test.cpp
  # starts on 127.0.0.1 as an ssh target.
  packages+=(hyperfine chromium wrk clang libclang-rt-14-dev golang-go python3-pytest
             python3-pytest-benchmark catch2 openssh-server openssh-client)
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo for: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
