#!/usr/bin/env bash
# How faithful and how cheap abtool's own measurement is (issue 5's goals):
#  1. accuracy: the median wall time abtool records for a fixed-work program (~50 ms) against
#     hyperfine's median on the same binary, in back-to-back pairs (goal: within 2%);
#  2. overhead: abtool's whole wall time for a 20-round run (builds skipped) against the sum of
#     the wall times of every run it made, the warm-up runs (round 0) included: they are run and
#     take their time like the others, so leaving them out would charge their time to the
#     harness (goal <= 1.1x);
#  3. per-run harness cost: with `true` as the workload, the extra wall time per run, from the
#     difference between a 10-round and a 60-round run (goal < 2 ms).
# Usage: bench/accuracy_bench.sh [ABTOOL_BINARY]   (default build/src/abtool; use a Release build)
source "$(dirname "$0")/common.sh"
repo=$work/repo
new_repo "$repo"
cat >"$repo/spin.c" <<'C'
#include <stdio.h>
int main(void) {
    volatile unsigned long x = 0;
    for (long i = 0; i < 120000000L; ++i) x += (unsigned long)i * 2654435761UL;
    printf("%lu\n", (unsigned long)x);
    return 0;
}
C
config() { # config ROUNDS COMMAND
  printf '[build]\ncommand = ["cc", "-O1", "-o", "spin", "spin.c"]\n[run]\nrounds = %s\nwarmup = 1\n' "$1"
  printf '[[workload]]\nname = "w"\nkind = "command"\ncommand = %s\n' "$2"
}
config 20 '["./spin"]' >"$repo/abtool.toml"
printf 'spin\nresults.csv\n' >"$repo/.gitignore"
git -C "$repo" add -A && git -C "$repo" commit -q -m spin

now_ms() { date +%s%3N; }
# run: one abtool run; prints "<whole wall ms> <sum of wall_ms over all runs, warm-up included>
# <A median wall_ms of the measured rounds>"
run() {
  local start end
  start=$(now_ms)
  (cd "$repo" && CI=true "$abtool" --ref-a HEAD --ref-b HEAD --results "$work/results.csv" "$@" \
    >"$work/out.txt" 2>&1) || true
  end=$(now_ms)
  local dir
  dir=$(ls -td "$repo"/.abtool/runs/* | head -n 1)
  python3 - "$dir/samples.jsonl" "$((end - start))" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
wall = [r for r in rows if r.get("metric") == "wall_ms"]
a = [r["value"] for r in wall if r["ref"] == "a" and r["round"] > 0]
everything_run = sum(r["value"] for r in wall)  # round 0 (warm-up) too: see the header
print(sys.argv[2], round(everything_run, 1), round(statistics.median(a), 3))
PY
}

run >/dev/null # builds the checkout once
worktree=$(ls -d "$repo"/.abtool/wt/* | head -n 1)
# Accuracy, paired: 40 alternations of an abtool run (2 rounds: 4 measured runs) and 4 hyperfine
# runs of the same binary, back to back. This machine is a shared VM whose speed moves by tens of
# percent within a minute (hyperfine alone, three times in a row: 47, 49, 40 ms), so pools taken
# minutes apart compare the machine, not the tools; each alternation's ratio of medians is one
# paired observation and the figure is their median. A second hyperfine batch in each pair gives
# the same figure for hyperfine against itself: the floor this machine allows.
config 2 '["./spin"]' >"$repo/abtool.toml"
: >"$work/ratios" && : >"$work/control" && : >"$work/abtool-times" && : >"$work/hyperfine-times"
for _ in $(seq 40); do
  run >/dev/null
  dir=$(ls -td "$repo"/.abtool/runs/* | head -n 1)
  hyperfine -N --runs 4 --export-json "$work/h.json" "$worktree/spin" >/dev/null 2>&1
  hyperfine -N --runs 4 --export-json "$work/h2.json" "$worktree/spin" >/dev/null 2>&1
  python3 - "$dir/samples.jsonl" "$work/h.json" "$work" "$work/h2.json" <<'PY'
import json, statistics, sys
a = [r["value"] for r in map(json.loads, open(sys.argv[1]))
     if r.get("metric") == "wall_ms" and r["round"] > 0]
h = [t * 1000 for t in json.load(open(sys.argv[2]))["results"][0]["times"]]
h2 = [t * 1000 for t in json.load(open(sys.argv[4]))["results"][0]["times"]]
work = sys.argv[3]
open(f"{work}/ratios", "a").write(f"{statistics.median(a) / statistics.median(h)}\n")
# The method's own noise: hyperfine against itself, the next batch, the same way.
open(f"{work}/control", "a").write(f"{statistics.median(h2) / statistics.median(h)}\n")
open(f"{work}/abtool-times", "a").write("".join(f"{v}\n" for v in a))
open(f"{work}/hyperfine-times", "a").write("".join(f"{v}\n" for v in h))
PY
done
python3 - "$work" <<'PY'
import statistics, sys
work = sys.argv[1]
ratios = sorted(float(l) for l in open(f"{work}/ratios"))
a = [float(l) for l in open(f"{work}/abtool-times")]
h = [float(l) for l in open(f"{work}/hyperfine-times")]
print(f"accuracy: abtool median wall {statistics.median(a):.3f} ms ({len(a)} runs), hyperfine "
      f"median {statistics.median(h):.3f} ms ({len(h)} runs), in 40 back-to-back pairs")
print(f"  median of the pairs' ratios {(statistics.median(ratios) - 1) * 100:+.2f}% (goal within 2%); "
      f"pairs from {(ratios[0] - 1) * 100:+.1f}% to {(ratios[-1] - 1) * 100:+.1f}%")
control = sorted(float(l) for l in open(f"{work}/control"))
print(f"  control, hyperfine against its own next batch: median {(statistics.median(control) - 1) * 100:+.2f}%, "
      f"pairs from {(control[0] - 1) * 100:+.1f}% to {(control[-1] - 1) * 100:+.1f}% (the machine's noise)")
PY

config 20 '["./spin"]' >"$repo/abtool.toml"
read -r whole measured _ <<<"$(run)"
echo "overhead: whole run $whole ms for $measured ms of workload in all 2 x (20 + 1 warm-up) runs"
awk -v w="$whole" -v m="$measured" 'BEGIN { printf "  ratio %.3f (goal <= 1.1)\n", w / m }'

config 10 '["true"]' >"$repo/abtool.toml"
read -r whole10 measured10 _ <<<"$(run)"
read -r whole10 measured10 _ <<<"$(run)"
config 60 '["true"]' >"$repo/abtool.toml"
read -r whole60 measured60 _ <<<"$(run)"
awk -v w1="$whole10" -v m1="$measured10" -v w6="$whole60" -v m6="$measured60" 'BEGIN {
  printf "per-run harness cost: %.2f ms a run (10 vs 60 rounds, %d extra runs; goal < 2 ms)\n",
    ((w6 - m6) - (w1 - m1)) / 100, 100 }'
