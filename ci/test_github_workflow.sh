#!/usr/bin/env bash
# The GitHub Actions gate, run here without GitHub: the shell step the composite action runs
# (ci/github/gate.sh) on a temporary repository whose head commit is slower than its base, with
# the variables a runner sets (GITHUB_ACTIONS, GITHUB_STEP_SUMMARY, GITHUB_OUTPUT). Checks the
# exit code, the annotations, the outputs, the summary, the sticky comment and the artifact's
# files; then an A/A comparison that must pass. .ci/run calls it after the test suites.
#   ci/test_github_workflow.sh ABTOOL_BINARY
set -euo pipefail
abtool=$(realpath "${1:?usage: test_github_workflow.sh ABTOOL_BINARY}")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
passed=0 failed=0
cleanup() { if [[ $failed -eq 0 ]]; then rm -rf "$work"; else echo "kept: $work"; fi; }
trap cleanup EXIT
check() { # check "what" command...
  local what=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAILED: $what" >&2
  fi
}

repo=$work/repo
mkdir -p "$repo"
git -C "$repo" init -q -b main
git -C "$repo" config user.name "abtool ci" && git -C "$repo" config user.email ci@abtool.invalid
program() {
  printf '#include <stdio.h>\nint main(void) { volatile unsigned long x = 0;\n'
  printf '  for (long i = 0; i < %sL; ++i) x += (unsigned long)i * 2654435761UL;\n' "$1"
  printf '  printf("%%lu\\n", (unsigned long)x); return 0; }\n'
}
program 30000000 >"$repo/app.c"
printf 'app\nresults.csv\n' >"$repo/.gitignore"
cat >"$repo/abtool.toml" <<'TOML'
[build]
command = ["cc", "-O1", "-o", "app", "app.c"]
[run]
rounds = 8
threshold = "5%"
[[workload]]
name = "spin"
kind = "command"
command = ["./app"]
TOML
git -C "$repo" add -A && git -C "$repo" commit -q -m base
base=$(git -C "$repo" rev-parse HEAD)
program 90000000 >"$repo/app.c"
git -C "$repo" commit -q -am "head: three times the work"
head=$(git -C "$repo" rev-parse HEAD)

gate() { # gate NAME REF_A REF_B [abtool options]: runs the step as the runner would
  export GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY=$work/$1-summary.md GITHUB_OUTPUT=$work/$1-output.txt
  : >"$GITHUB_STEP_SUMMARY"
  : >"$GITHUB_OUTPUT"
  set +e
  (cd "$repo" && CI=true bash "$here/github/gate.sh" "$abtool" "$2" "$3" "$work/$1-out" "${@:4}") \
    >"$work/$1-log.txt" 2>&1
  echo $? >"$work/$1-code"
  set -e
}

gate slower "$base" "$head"
out=$work/slower-out
check "a slower head fails the gate with exit 1" grep -qx 1 "$work/slower-code"
check "an ::error annotation names the regression" grep -q '^::error title=abtool%3A spin wall_ms regressed::' "$work/slower-log.txt"
check "verdict=fail in GITHUB_OUTPUT" grep -qx 'verdict=fail' "$work/slower-output.txt"
check "regressed counted in GITHUB_OUTPUT" grep -qx 'regressed=[1-9]' "$work/slower-output.txt"
check "exit_code=1 in GITHUB_OUTPUT" grep -qx 'exit_code=1' "$work/slower-output.txt"
check "the step summary holds the verdict table" grep -q '| spin | - | wall_ms |' "$work/slower-summary.md"
check "comment.md carries the sticky-comment marker" grep -q '<!-- abtool-report -->' "$out/comment.md"
for file in report.md report.html report.json junit.xml run/plan.json run/samples.jsonl; do
  check "the artifact has $file" test -s "$out/$file"
done
check "junit.xml has a failure for the regression" grep -q '<failure' "$out/junit.xml"

# The pass path's plumbing; a wide threshold so that a burst of load elsewhere cannot fail it.
gate same "$base" "$base" --threshold 50%
check "A/A passes the gate with exit 0" grep -qx 0 "$work/same-code"
check "verdict=pass in GITHUB_OUTPUT" grep -qx 'verdict=pass' "$work/same-output.txt"
check "no ::error annotation on a pass" bash -c "! grep -q '^::error' '$work/same-log.txt'"

gate badref "$base" no-such-ref
check "an unknown ref exits 2" grep -qx 2 "$work/badref-code"
check "the comment says the comparison could not run" grep -q 'could not compare' "$work/badref-out/comment.md"

if [[ $failed -gt 0 ]]; then
  for log in "$work"/*-log.txt; do
    echo "---- $log"
    tail -n 30 "$log"
  done
fi
echo "github workflow: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
