#!/usr/bin/env bash
# `abtool bisect` on a real regression, with abtool's default settings (DESIGN.md's goal: "the
# culprit is named exactly, in 4-5 probes"). A 16-commit repository: c0 holds a C loop of about
# 150 ms (`[build]` compiles it, a `command` workload times it), c11 makes the loop 5% longer, and
# every other commit changes only the README. For each seed (SEEDS, default "1 2"), on a fresh copy
# of that repository (so each bisect checks out and builds for itself), runs
#   abtool bisect --good c0 --bad c15 --seed S --json out.json
# and prints: whether the culprit is exactly c11, the probe count, the total wall time, and each
# probe's commit, share of the endpoint delta and verdict.
# Usage: bash bench/bisect_bench.sh [ABTOOL_BINARY]   (default build/src/abtool; use a Release build)
#        SEEDS="1 2 3" bash bench/bisect_bench.sh
#        KEEP=1 bash bench/bisect_bench.sh   (keeps the work directory, named on the first line)
# Like bench/common.sh's set-up, without hyperfine (abtool itself is what is timed here).
set -euo pipefail
cd "$(dirname "$0")/.."
abtool=$(realpath "${1:-build/src/abtool}")
[[ -x "$abtool" ]] || { echo "$(basename "$0"): no abtool binary at $abtool" >&2; exit 1; }
work=$(mktemp -d)
# KEEP=1 keeps the repositories, run directories and logs for a look afterwards.
if [[ -n "${KEEP:-}" ]]; then echo "keeping $work"; else trap 'rm -rf "$work"' EXIT; fi

steps=400000000      # about 150 ms at -O1 here (4 ms per 10^7 steps)
slow_steps=420000000 # +5%
culprit_index=11
program() { # program STEPS
  printf '#include <stdio.h>\nint main(void) {\n    volatile unsigned long x = 0;\n'
  printf '    for (long i = 0; i < %sL; ++i) x += (unsigned long)i * 2654435761UL;\n' "$1"
  printf '    printf("%%lu\\n", (unsigned long)x);\n    return 0;\n}\n'
}

# The template repository, copied for each seed.
repo=$work/template
mkdir -p "$repo"
git -C "$repo" init -q -b main
git -C "$repo" config user.name bench
git -C "$repo" config user.email bench@abtool.invalid
cat >"$repo/abtool.toml" <<'TOML'
[build]
command = ["cc", "-O1", "-o", "app", "app.c"]
[[workload]]
name = "loop"
kind = "command"
command = ["./app"]
TOML
printf 'app\nresults.csv\n' >"$repo/.gitignore"
program "$steps" >"$repo/app.c"
echo "c0" >"$repo/README"
git -C "$repo" add -A && git -C "$repo" commit -q -m "c0: the loop"
for i in $(seq 1 15); do
  if [[ $i -eq $culprit_index ]]; then
    program "$slow_steps" >"$repo/app.c"
    subject="c$i: 5% more steps"
  else
    echo "c$i" >>"$repo/README"
    subject="c$i: README"
  fi
  git -C "$repo" add -A && git -C "$repo" commit -q -m "$subject"
done
first=$(git -C "$repo" rev-list --max-parents=0 HEAD)
last=$(git -C "$repo" rev-parse HEAD)
culprit=$(git -C "$repo" rev-parse "HEAD~$((15 - culprit_index))")
echo "16 commits, c$culprit_index ($(git -C "$repo" rev-parse --short=12 "$culprit")) 5% slower;" \
  "$("$abtool" --version 2>/dev/null | head -1), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"

for seed in ${SEEDS:-1 2}; do
  copy=$work/repo-$seed
  cp -a "$repo" "$copy"
  start=$(date +%s.%N)
  status=0
  (cd "$copy" && CI=true "$abtool" bisect --good "$first" --bad "$last" --seed "$seed" \
    --json "$work/out-$seed.json" >"$work/out-$seed.txt" 2>&1) || status=$?
  end=$(date +%s.%N)
  echo
  echo "seed $seed: exit $status, $(python3 -c "print(f'{$end - $start:.0f}')") s wall"
  if [[ ! -f "$work/out-$seed.json" ]]; then
    echo "no --json output; abtool said:"
    tail -n 30 "$work/out-$seed.txt"
    continue
  fi
  python3 - "$work/out-$seed.json" "$culprit" <<'PY'
import json, sys
log = json.load(open(sys.argv[1]))
expected = sys.argv[2]
subjects = {c["commit"]: c["subject"] for c in log["commits"]}
index = {c["commit"]: i for i, c in enumerate(log["commits"])}
def pct(value):
    return "null" if value is None else f"{value:+.2f}%"
print(f"state {log['state']}, endpoint delta {pct(log['delta_pct'])} "
      f"({log['workload']}/{log['case'] or '-'}/{log['metric']})")
# The confirming run's gated rows, from its summary.json (the log names no row when none regressed).
run_dir = (log.get("confirmation") or {}).get("run_dir", "")
try:
    summary = json.load(open(f"{run_dir}/summary.json"))
    for row in summary.get("rows", []):
        if row.get("gated", row.get("metric") == "wall_ms"):
            print(f"  confirming run: {row['workload']}/{row['metric']} {pct(row['delta_pct'])}"
                  f" [{pct(row['ci_low_pct'])}, {pct(row['ci_high_pct'])}] in {row['n']} rounds"
                  f" -> {row['verdict']}")
except (OSError, ValueError, KeyError):
    pass
for probe in log["probes"]:
    print(f"  probe c{index[probe['commit']]:<2} {probe['commit'][:12]}  share {pct(probe['share_pct'])}"
          f" [{pct(probe['share_low_pct'])}, {pct(probe['share_high_pct'])}]"
          f"  threshold {probe['threshold_pct']:.2f}%  rounds {probe['rounds']}  -> {probe['verdict']}")
ran = [c for c in log["comparisons"] if c["ran"]]
print(f"probes: {len(log['probes'])}, comparisons run: {len(ran)}, "
      f"rounds in all: {sum(c['rounds'] or 0 for c in ran)}")
for step in log["steps"]:
    named = (f"{step['culprit'][:12]} {subjects[step['culprit']]}" if step["culprit"]
             else f"range {step['first'][:12]}..{step['last'][:12]}")
    print(f"  step {named}: own delta {pct(step['delta_pct'])}"
          f" [{pct(step['ci_low_pct'])}, {pct(step['ci_high_pct'])}]")
culprit = log.get("culprit") or {}
exact = culprit.get("culprit") == expected
print(f"culprit exact: {'yes' if exact else 'NO'}"
      f" (named {culprit.get('culprit', '')[:12] or 'none'}, expected {expected[:12]})")
PY
done
