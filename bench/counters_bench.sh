#!/usr/bin/env bash
# Instruction counts against wall time on this machine (issue 12's goals), for a CPU-bound C loop
# of about 25 ms, measured in the same abtool runs two ways: workload "count" gates its
# instructions (perf where a PMU exists, else cachegrind), workload "time" gates the same
# program's native wall time.
#  1. A/A (v1 against a docs-only commit): the spread of both, as the largest |B/A - 1| over the
#     paired rounds and the run's interval; goal: instructions `unchanged`;
#  2. v2, whose loop runs 0.5% more steps, in 6 rounds: goal: instructions `regressed`, where the
#     wall time cannot tell;
#  3. cachegrind's slowdown: the counted runs' median wall time over the native runs'.
# Usage: bench/counters_bench.sh [ABTOOL_BINARY]   (default build/src/abtool; use a Release build)
source "$(dirname "$0")/common.sh"
repo=$work/repo
new_repo "$repo"
program() { # program STEPS
  printf '#include <stdio.h>\nint main(void) {\n    volatile unsigned long x = 0;\n'
  printf '    for (long i = 0; i < %sL; ++i) x += (unsigned long)i * 2654435761UL;\n' "$1"
  printf '    printf("%%lu\\n", (unsigned long)x);\n    return 0;\n}\n'
}
cat >"$repo/abtool.toml" <<'TOML'
[build]
command = ["cc", "-O1", "-o", "loop", "loop.c"]
[run]
rounds = 6
warmup = 1
threshold = "2%"
[[workload]]
name = "count"
kind = "command"
command = ["./loop"]
metric = "instructions"
threshold = "0.2%"
[[workload]]
name = "time"
kind = "command"
command = ["./loop"]
schedule = "alternate"
TOML
printf 'loop\nresults.csv\n' >"$repo/.gitignore"
program 60000000 >"$repo/loop.c"
git -C "$repo" add -A && git -C "$repo" commit -q -m v1 && git -C "$repo" tag v1
echo docs >"$repo/README" && git -C "$repo" add -A && git -C "$repo" commit -q -m docs &&
  git -C "$repo" tag v1-docs
program 60300000 >"$repo/loop.c"
git -C "$repo" add -A && git -C "$repo" commit -q -m "v2: 0.5% more steps" && git -C "$repo" tag v2

run() { # run LABEL REF_B: one abtool run, v1 against REF_B; prints its figures
  local name=${2}
  (cd "$repo" && CI=true "$abtool" --ref-a v1 --ref-b "$2" --results "$work/results.csv" \
    --json "$work/$name.json" >"$work/$name.txt" 2>&1) || true
  python3 - "$work/$name.json" "$1" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
for workload, metric in (("count", "instructions"), ("time", "wall_ms")):
    row = next(r for r in report["rows"] if r["workload"] == workload and r["metric"] == metric)
    spread = max(abs(b / a - 1) for a, b in zip(row["a_values"], row["b_values"])) * 100
    print(f"{sys.argv[2]:5} {workload}/{metric:12} delta {row['delta_pct']:+8.4f}%  interval "
          f"[{row['ci_low_pct']:+.4f}%, {row['ci_high_pct']:+.4f}%]  max |B/A-1| {spread:.4f}%  "
          f"-> {row['verdict']}")
design = next(d for d in report["designs"] if d["workload"] == "count")
if sys.argv[2] == "A/A":
    print(f"counted by {design['counter_backend']}: {design['counter_reason']}")
    if design["counter_slowdown"] is not None:
        print(f"cachegrind slowdown: {design['counter_slowdown']:.1f}x a native run")
PY
}
run A/A v1-docs
run +0.5% v2
