#!/usr/bin/env bash
# Worktree provisioning against git itself (issue 3's goals), on a generated repository of 5,000
# files, timed with hyperfine (median of 5 runs each):
#  1. first provisioning: abtool checking a ref out, against `git worktree add` (goal <= 1.2x),
#     in pairs timed back to back;
#  2. re-provisioning: a second abtool run on the same ref (goal < 100 ms);
#  3. CURRENT with 100 modified files: snapshotting the working tree (goal < 1 s).
# abtool is timed as a whole run with a trivial workload (2 rounds of `true`); the figures that
# isolate provisioning subtract the whole run with everything reused.
# Usage: bench/worktrees_bench.sh [ABTOOL_BINARY]   (default build/src/abtool)
source "$(dirname "$0")/common.sh"
repo=$work/repo
new_repo "$repo"
for d in $(seq 0 49); do
  mkdir -p "$repo/src/d$d"
  for f in $(seq 0 99); do
    head -c 1024 /dev/urandom | base64 >"$repo/src/d$d/f$f.txt"
  done
done
printf '[run]\nrounds = 2\nwarmup = 0\n[[workload]]\nname = "noop"\nkind = "command"\ncommand = ["true"]\n' \
  >"$repo/abtool.toml"
printf 'results.csv\n' >"$repo/.gitignore"
git -C "$repo" add -A && git -C "$repo" commit -q -m "5,000 files"
echo "repository: $(git -C "$repo" ls-files | wc -l) files, $(du -sh "$repo/src" | cut -f1)"

median_ms() { python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['results'][0]['median']*1000, 1))" "$1"; }
run() { # run NAME PREPARE COMMAND
  hyperfine -N --runs 5 --warmup 1 --prepare "$2" --export-json "$work/$1.json" "$3" >/dev/null 2>&1 ||
    hyperfine --runs 5 --warmup 1 --prepare "$2" --export-json "$work/$1.json" "$3" >/dev/null
  median_ms "$work/$1.json"
}
in_repo="cd $repo &&"
ab="$in_repo CI=true $abtool --ref-a HEAD --ref-b HEAD --results $work/results.csv"

# First provisioning against git, paired: each repetition times one `git worktree add` and one
# first abtool run back to back, so both see the same machine (file creation here varies by 3x
# over minutes); the ratio is the median of the pairs'.
now_ms() { date +%s%3N; }
pairs=()
for _ in 1 2 3 4 5 6 7; do
  rm -rf "$work/gitwt" "$repo/.abtool" && git -C "$repo" worktree prune && sync
  start=$(now_ms)
  git -C "$repo" worktree add -q --detach "$work/gitwt" HEAD
  middle=$(now_ms)
  (cd "$repo" && CI=true "$abtool" --ref-a HEAD --ref-b HEAD --results "$work/results.csv" >/dev/null 2>&1)
  end=$(now_ms)
  pairs+=("$((middle - start)) $((end - middle))")
done
again=$(run again "true" "sh -c '$ab'")
read -r git_add first ratio <<<"$(printf '%s\n' "${pairs[@]}" | python3 -c "
import statistics, sys
pairs = [tuple(map(float, line.split())) for line in sys.stdin if line.strip()]
again = float(sys.argv[1])
print(statistics.median(g for g, _ in pairs), statistics.median(f for _, f in pairs),
      round(statistics.median((f - again) / g for g, f in pairs), 2))" "$again")"
for f in $(git -C "$repo" ls-files 'src/d0/*' 'src/d1/*' | head -n 100); do echo changed >>"$repo/$f"; done
sh -c "$in_repo CI=true $abtool --ref-a HEAD --ref-b CURRENT --results $work/results.csv" >/dev/null 2>&1
current=$(run current "true" "sh -c '$in_repo CI=true $abtool --ref-a HEAD --ref-b CURRENT --results $work/results.csv'")

echo "git worktree add:                       $git_add ms (median of 7, paired with the next line)"
echo "abtool first run (checkout + 2 rounds): $first ms"
echo "abtool second run (all reused):         $again ms   (goal < 100 ms)"
echo "first provisioning alone (first run - second run) / git worktree add: ${ratio}x, median of 7 pairs (goal <= 1.2x)"
echo "abtool run with CURRENT, 100 files modified (snapshot + reuse): $current ms"
awk -v c="$current" -v a="$again" 'BEGIN { printf "CURRENT snapshot alone (that - second run): %.1f ms (goal < 1000 ms)\n", c - a }'
