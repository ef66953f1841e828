#!/usr/bin/env bash
# Fuzzes every reader of untrusted text (issue 18): abtool.toml, Google Benchmark / hyperfine /
# JSON-lines / Catch2 / criterion / JMH / BenchmarkDotNet / go / pytest-benchmark / BMF output,
# results.csv and samples.jsonl, each with its libFuzzer target in tests/fuzz/ for a fixed time,
# under AddressSanitizer and UndefinedBehaviorSanitizer. Fails on any crash, sanitizer report,
# undocumented exception, >2 GB of memory or a 10 s input.
#   bash ci/fuzz.sh [seconds per target, default 10]
# Needs clang and libFuzzer's runtime (bash ci/install-deps.sh --tests). The targets run on a
# copy of tests/fuzz/corpus, which CI never grows; a failing input is kept in
# build-fuzz/artifacts/ (add it to the corpus and to a unit test once fixed).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-10}"
targets=(config gbench hyperfine jsonl go pytest_benchmark bmf jmh benchmarkdotnet catch2 criterion
  results_csv samples_jsonl)

# A build directory of its own: the fuzzers need clang, the rest of the project builds with g++.
# Only the fuzz targets are built, by name (tests/fuzz/CMakeLists.txt compiles just the readers).
cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
  -DABTOOL_ENABLE_FUZZING=ON -DABTOOL_BUILD_TESTS=OFF >/dev/null
cmake --build build-fuzz -j2 --target "${targets[@]/#/fuzz_}"

work=$(mktemp -d "${TMPDIR:-/tmp}/abtool-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
artifacts="$PWD/build-fuzz/artifacts"
mkdir -p "$artifacts"

# A UBSan report names its call stack, as a crash does.
export UBSAN_OPTIONS="print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
failed=()
for target in "${targets[@]}"; do
  cp -r "tests/fuzz/corpus/$target" "$work/$target"
  log="$work/$target.log"
  if build-fuzz/tests/fuzz/fuzz_"$target" "$work/$target" -max_total_time="$seconds" \
      -rss_limit_mb=2048 -timeout=10 -dict="tests/fuzz/dict/$target.dict" \
      -artifact_prefix="$artifacts/$target-" >"$log" 2>&1; then
    echo "fuzz_$target: $(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$log" || echo done)"
  else
    echo "fuzz_$target: FAILED; its log ends:"
    grep -v -e '^#[0-9]' -e 'NEW_FUNC' "$log" | tail -40
    failed+=("$target")
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz: failures in ${failed[*]}; inputs in $artifacts" >&2
  exit 1
fi
