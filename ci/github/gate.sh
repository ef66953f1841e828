#!/usr/bin/env bash
# The regression gate's one step: compare two refs with abtool, publish the verdicts to GitHub
# Actions (annotations, step summary, outputs; abtool does that itself when GITHUB_ACTIONS=true),
# gather the reports and the run directory for the artifact and the sticky PR comment, and exit
# as abtool did (0 pass, 1 regression or SLO violation, 2 usage/config, 3 build/workload failure).
# ci/action/action.yml runs it; ci/test_github_workflow.sh runs that action's steps here.
#   gate.sh ABTOOL REF_A REF_B OUT_DIR [more abtool options...]
# Two more modes, for a matrix of shard jobs and one merge job (ci/github/abtool-gate-sharded.yml):
#   ABTOOL_SHARD=K/N   run shard K of N (exit 0 unless it could not run; its run directory goes
#                      into OUT_DIR/run for the artifact; no comment, no gate)
#   ABTOOL_MERGE=DIR   no comparison: `abtool merge` of every run directory below DIR (the shard
#                      jobs' downloaded artifacts), then the gate as above (REF_A, REF_B unused)
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
shard=${ABTOOL_SHARD:-} merge=${ABTOOL_MERGE:-}
reports=(--markdown "$out/report.md" --html "$out/report.html" --json "$out/report.json"
  --export "junit=$out/junit.xml")

if [[ -n $merge ]]; then
  mapfile -t shard_dirs < <(find "$merge" -name plan.json -printf '%h\n' | sort)
  echo "artifact=abtool-report" >>"$outputs"
  "$abtool" merge "${shard_dirs[@]}" "${reports[@]}" "$@" | tee "$out/abtool.log"
  code=${PIPESTATUS[0]}
  what="merge the shards in $merge"
elif [[ -n $shard ]]; then
  echo "artifact=abtool-shard-${shard/\//-of-}" >>"$outputs"
  "$abtool" --ref-a "$ref_a" --ref-b "$ref_b" --shard "$shard" "${reports[@]}" "$@" |
    tee "$out/abtool.log"
  code=${PIPESTATUS[0]}
  what="run shard $shard of \`$ref_a\` and \`$ref_b\`"
else
  echo "artifact=abtool-report" >>"$outputs"
  "$abtool" --ref-a "$ref_a" --ref-b "$ref_b" "${reports[@]}" "$@" | tee "$out/abtool.log"
  code=${PIPESTATUS[0]}
  what="compare \`$ref_a\` and \`$ref_b\`"
fi
echo "exit_code=$code" >>"$outputs"

# The run directory: abtool's run_dir output, or (a shard publishes nothing) its "run:" line.
run_dir=$(sed -n 's/^run_dir=//p' "$outputs" | tail -n 1)
[[ -z $run_dir ]] && run_dir=$(sed -n 's/^run: //p' "$out/abtool.log" | tail -n 1)
if [[ -n $run_dir && -d $run_dir ]]; then
  cp -r "$run_dir" "$out/run"
  [[ -f $run_dir/comment.md ]] && cp "$run_dir/comment.md" "$out/comment.md"
  exit "$code"
fi
# No run to report (bad config, a ref that does not build): the comment says so, the log why.
{
  echo "<!-- abtool-report -->"
  echo "## abtool: could not $what (exit $code)"
  echo
  echo "See the job log: exit 2 is a usage or config error, exit 3 a build or workload failure."
} >"$out/comment.md"
[[ -n ${GITHUB_STEP_SUMMARY:-} ]] && cat "$out/comment.md" >>"$GITHUB_STEP_SUMMARY"
exit "$code"
