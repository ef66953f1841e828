#!/usr/bin/env bash
# The regression gate's one step: compare two refs with abtool, publish the verdicts to GitHub
# Actions (annotations, step summary, outputs; abtool does that itself when GITHUB_ACTIONS=true),
# gather the reports and the run directory for the artifact and the sticky PR comment, and exit
# as abtool did (0 pass, 1 regression or SLO violation, 2 usage/config, 3 build/workload failure).
# ci/action/action.yml runs it; ci/test_github_workflow.sh runs that action's steps here.
#   gate.sh ABTOOL REF_A REF_B OUT_DIR [more abtool options...]
set -uo pipefail
if [[ $# -lt 4 ]]; then
  echo "usage: gate.sh ABTOOL REF_A REF_B OUT_DIR [abtool options...]" >&2
  exit 2
fi
abtool=$1 ref_a=$2 ref_b=$3 out=$4
shift 4
mkdir -p "$out"
outputs=${GITHUB_OUTPUT:-$out/github-output.txt}
export GITHUB_OUTPUT=$outputs

"$abtool" --ref-a "$ref_a" --ref-b "$ref_b" \
  --markdown "$out/report.md" --html "$out/report.html" --json "$out/report.json" \
  --export "junit=$out/junit.xml" "$@"
code=$?
echo "exit_code=$code" >>"$outputs"

run_dir=$(sed -n 's/^run_dir=//p' "$outputs" | tail -n 1)
if [[ -n $run_dir && -d $run_dir ]]; then
  cp -r "$run_dir" "$out/run"
  cp "$run_dir/comment.md" "$out/comment.md"
else
  # No run to report (bad config, a ref that does not build): the comment says so, the log why.
  {
    echo "<!-- abtool-report -->"
    echo "## abtool: could not compare \`$ref_a\` and \`$ref_b\` (exit $code)"
    echo
    echo "See the job log: exit 2 is a usage or config error, exit 3 a build or workload failure."
  } >"$out/comment.md"
  [[ -n ${GITHUB_STEP_SUMMARY:-} ]] && cat "$out/comment.md" >>"$GITHUB_STEP_SUMMARY"
fi
exit "$code"
