#!/usr/bin/env bash
# How faithful and how cheap abtool's own measurement is (issue 5's goals):
#  1. accuracy: the median wall time abtool records for a fixed-work program (~50 ms) against
#     hyperfine's median on the same binary (goal: within 2%);
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
# Accuracy, interleaved: five times an abtool run (20 rounds) then 20 hyperfine runs of the same
# binary, so that both pools of samples span the same stretch of this machine's drifting speed.
: >"$work/abtool-times" && : >"$work/hyperfine-times"
for _ in 1 2 3 4 5; do
  read -r whole measured _ <<<"$(run)"
  dir=$(ls -td "$repo"/.abtool/runs/* | head -n 1)
  python3 -c "
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get('metric') == 'wall_ms' and r['round'] > 0:
        print(r['value'])" "$dir/samples.jsonl" >>"$work/abtool-times"
  hyperfine -N --warmup 1 --runs 20 --export-json "$work/h.json" "$worktree/spin" >/dev/null 2>&1
  python3 -c "
import json
for t in json.load(open('$work/h.json'))['results'][0]['times']:
    print(t * 1000)" >>"$work/hyperfine-times"
done
pooled_median() { python3 -c "import statistics, sys; print(round(statistics.median(float(l) for l in open(sys.argv[1])), 3))" "$1"; }
abtool_median=$(pooled_median "$work/abtool-times")
hyperfine_median=$(pooled_median "$work/hyperfine-times")
echo "accuracy: abtool median wall $abtool_median ms ($(wc -l <"$work/abtool-times") runs), hyperfine median $hyperfine_median ms ($(wc -l <"$work/hyperfine-times") runs), interleaved"
awk -v a="$abtool_median" -v h="$hyperfine_median" 'BEGIN { printf "  difference %+.2f%% (goal within 2%%)\n", (a / h - 1) * 100 }'
echo "overhead: whole run $whole ms for $measured ms of workload in all 2 x (20 + 1 warm-up) runs (the last run)"
awk -v w="$whole" -v m="$measured" 'BEGIN { printf "  ratio %.3f (goal <= 1.1)\n", w / m }'

config 10 '["true"]' >"$repo/abtool.toml"
read -r whole10 measured10 _ <<<"$(run)"
read -r whole10 measured10 _ <<<"$(run)"
config 60 '["true"]' >"$repo/abtool.toml"
read -r whole60 measured60 _ <<<"$(run)"
awk -v w1="$whole10" -v m1="$measured10" -v w6="$whole60" -v m6="$measured60" 'BEGIN {
  printf "per-run harness cost: %.2f ms a run (10 vs 60 rounds, %d extra runs; goal < 2 ms)\n",
    ((w6 - m6) - (w1 - m1)) / 100, 100 }'
