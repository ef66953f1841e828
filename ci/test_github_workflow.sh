#!/usr/bin/env bash
# The GitHub Actions gate, run here without GitHub: the composite action's own run: steps
# (ci/action/action.yml, read by ci/github/run_action_locally.py and run in order as a runner
# runs them: per-step $GITHUB_OUTPUT and $GITHUB_ENV files, $GITHUB_ACTION_PATH, $RUNNER_TEMP,
# the final exit step) on a temporary repository whose head commit is slower than its base, with
# GITHUB_ACTIONS=true and a $GITHUB_STEP_SUMMARY file. Checks the exit code, the annotations,
# the action's outputs, the summary, the sticky comment and the artifact's files; then an A/A
# comparison that must pass and an unknown ref that must exit 2. .ci/run calls it after the
# test suites.
# Not run here: the action's uses: steps (actions/cache, upload-artifact, the sticky comment
# action) need GitHub, and are listed as skipped in each log; the build step's cmake branch (the
# test passes the given binary as the action's `abtool` input, as a user with a cached abtool
# would) is the README's build command, which .ci/run runs.
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

# The workflow's use of the action is the documented form, not a bare placeholder.
check "the workflow uses the composite action" \
  grep -Eq '^ +uses: (OWNER/abtool/ci/action@|\./ci/action)' "$here/github/abtool-gate.yml"
check "no \${{ github.action_path }} in the action (host path in a container job)" \
  bash -c "! grep -v '^ *#' '$here/action/action.yml' | grep -q 'github.action_path'"

gate() { # gate NAME REF_A REF_B [ARGS [INPUT=VALUE...]]: the composite action's run: steps, as
  # a runner runs them
  local name=$1 ref_a=$2 ref_b=$3 args=${4:-} more=()
  shift $(($# < 4 ? $# : 4))
  for input in "$@"; do more+=(--input "$input"); done
  export GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY=$work/$name-summary.md
  unset GITHUB_OUTPUT GITHUB_ENV
  : >"$GITHUB_STEP_SUMMARY"
  set +e
  CI=true python3 "$here/github/run_action_locally.py" "$here/action/action.yml" \
    --workspace "$work" --runner-temp "$work/$name-temp" --outputs "$work/$name-output.txt" \
    --input "ref-a=$ref_a" --input "ref-b=$ref_b" --input "args=$args" \
    --input working-directory=repo --input "abtool=$abtool" "${more[@]}" \
    >"$work/$name-log.txt" 2>&1
  echo $? >"$work/$name-code"
  set -e
}

gate slower "$base" "$head"
out=$work/slower-temp/abtool-out
check "a slower head fails the action with exit 1 (its last step)" grep -qx 1 "$work/slower-code"
check "the exit step ran and failed" grep -q '^\[7\] exit 1: Fail the check' "$work/slower-log.txt"
check "the uses: steps are reported as skipped" \
  grep -q 'skipped, needs GitHub (uses: actions/upload-artifact@v4)' "$work/slower-log.txt"
check "an ::error annotation names the regression" grep -q '^::error title=abtool%3A spin wall_ms regressed::' "$work/slower-log.txt"
check "one annotation per case" test "$(grep -c '^::error title=abtool%3A spin ' "$work/slower-log.txt")" -eq 1
check "output verdict=fail" grep -qx 'verdict=fail' "$work/slower-output.txt"
check "output regressed counted" grep -qx 'regressed=[1-9]' "$work/slower-output.txt"
check "output exit-code=1" grep -qx 'exit-code=1' "$work/slower-output.txt"
check "the step summary holds the verdict table" grep -q '| spin | - | wall_ms |' "$work/slower-summary.md"
check "comment.md carries the sticky-comment marker" grep -q '<!-- abtool-report -->' "$out/comment.md"
for file in report.md report.html report.json junit.xml run/plan.json run/samples.jsonl; do
  check "the artifact has $file" test -s "$out/$file"
done
check "junit.xml has a failure for the regression" grep -q '<failure' "$out/junit.xml"

# The pass path's plumbing; a wide threshold so that a burst of load elsewhere cannot fail it.
gate same "$base" "$base" "--threshold 50%"
check "A/A passes: the action exits 0" grep -qx 0 "$work/same-code"
check "A/A: the exit step ran" grep -q '^\[7\] exit 0: Fail the check' "$work/same-log.txt"
check "output verdict=pass" grep -qx 'verdict=pass' "$work/same-output.txt"
check "no ::error annotation on a pass" bash -c "! grep -q '^::error' '$work/same-log.txt'"

# --strict reaches every report. An A/A run whose verdict is inconclusive: a threshold of
# 0.0001% that no timing interval fits inside (so never unchanged), at 99.9% confidence (a false
# significance needs p < 0.001: about 1 run in 1000). Too few rounds are no longer the way:
# --strict refuses a plan that cannot reach significance (exit 2), so 12 rounds, the fewest
# that can at that level. The exit code, the outputs, the comment and the JUnit file must all
# say so.
sed -e 's/^threshold = .*/confidence = 0.999/' "$repo/abtool.toml" >"$work/strict.toml"
gate strict "$base" "$base" "--strict --rounds 12 --schedule alternate --threshold 0.0001% --config $work/strict.toml"
check "--strict: inconclusive fails with exit 1" grep -qx 1 "$work/strict-code"
check "--strict: output verdict=fail" grep -qx 'verdict=fail' "$work/strict-output.txt"
check "--strict: output strict=true" grep -qx 'strict=true' "$work/strict-output.txt"
check "--strict: output inconclusive=1" grep -qx 'inconclusive=1' "$work/strict-output.txt"
check "A/A: output strict=false" grep -qx 'strict=false' "$work/same-output.txt"
check "--strict: the comment says why it failed" \
  grep -q '❌ failed: 1 inconclusive under --strict' "$work/strict-temp/abtool-out/comment.md"
check "--strict: junit counts the failure" \
  grep -q 'failures="1"' "$work/strict-temp/abtool-out/junit.xml"

gate badref "$base" no-such-ref
check "an unknown ref exits 2" grep -qx 2 "$work/badref-code"
check "the comment says the comparison could not run" grep -q 'could not compare' "$work/badref-temp/abtool-out/comment.md"

# The sharded workflow (ci/github/abtool-gate-sharded.yml): three shard jobs, in sequence here,
# each uploading its run directory; the merge job downloads them (copied here as
# actions/download-artifact lays them out: one directory per artifact) and gates. Three units:
# the slower spin, and two cases of a {filter} hotpath printing the same value on both refs.
check "the sharded workflow's jobs use the composite action" \
  test "$(grep -Ec '^ +uses: (OWNER/abtool/ci/action@|\./ci/action)' "$here/github/abtool-gate-sharded.yml")" -eq 2
cat "$repo/abtool.toml" >"$work/shards.toml"
cat >>"$work/shards.toml" <<'TOML'
[[workload]]
name = "fixed"
kind = "hotpath"
format = "jsonl"
shell = "for c in one two; do echo $c | grep -Eq {filter} && printf '{\"case\": \"%s\", \"metric\": \"m\", \"value\": 5}\\n' $c; done; true"
cases = ["one", "two"]
TOML
mkdir -p "$work/downloaded"
for k in 1 2 3; do
  gate "shard$k" "$base" "$head" "--config $work/shards.toml" "shard=$k/3"
  check "shard $k/3 is not a gate: exit 0" grep -qx 0 "$work/shard$k-code"
  check "shard $k/3 names its artifact" grep -qx "artifact=abtool-shard-$k-of-3" "$work/shard$k-output.txt"
  check "shard $k/3: its run directory is in the artifact" test -s "$work/shard$k-temp/abtool-out/run/plan.json"
  check "shard $k/3: no annotation" bash -c "! grep -q '^::error' '$work/shard$k-log.txt'"
  cp -r "$work/shard$k-temp/abtool-out" "$work/downloaded/abtool-shard-$k-of-3"
done
gate merged "" "" "" "merge=$work/downloaded"
check "merged: the regression fails the action with exit 1" grep -qx 1 "$work/merged-code"
check "merged: output regressed=1" grep -qx 'regressed=1' "$work/merged-output.txt"
check "merged: output unchanged=2 (both cases of the split hotpath)" grep -qx 'unchanged=2' "$work/merged-output.txt"
check "merged: an ::error annotation names the regression" grep -q '^::error title=abtool%3A spin wall_ms regressed::' "$work/merged-log.txt"
check "merged: the step summary holds every shard's rows" grep -q '| fixed | two | m |' "$work/merged-summary.md"
check "merged: comment.md carries the sticky-comment marker" grep -q '<!-- abtool-report -->' "$work/merged-temp/abtool-out/comment.md"
check "merged: the artifact has the merged run" grep -q '"merged_from"' "$work/merged-temp/abtool-out/run/plan.json"
rm -rf "$work/downloaded/abtool-shard-2-of-3"
gate incomplete "" "" "" "merge=$work/downloaded"
check "a missing shard exits 2" grep -qx 2 "$work/incomplete-code"
check "the comment says the merge could not run" grep -q 'could not merge the shards' "$work/incomplete-temp/abtool-out/comment.md"

if [[ $failed -gt 0 ]]; then
  for log in "$work"/*-log.txt; do
    echo "---- $log"
    tail -n 30 "$log"
  done
fi
echo "github workflow: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
