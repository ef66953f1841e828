#!/usr/bin/env bash
# Worktree provisioning against git itself (issue 3's goals), on a generated repository of 5,000
# files, timed with hyperfine (median of 5 runs each):
#  1. first provisioning: abtool checking a ref out, against `git worktree add` (goal <= 1.2x);
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

git_add=$(run git "rm -rf $work/gitwt; git -C $repo worktree prune" \
  "git -C $repo worktree add -q --detach $work/gitwt HEAD")
first=$(run first "rm -rf $repo/.abtool" "sh -c '$ab'")
again=$(run again "true" "sh -c '$ab'")
for f in $(git -C "$repo" ls-files 'src/d0/*' 'src/d1/*' | head -n 100); do echo changed >>"$repo/$f"; done
sh -c "$in_repo CI=true $abtool --ref-a HEAD --ref-b CURRENT --results $work/results.csv" >/dev/null 2>&1
current=$(run current "true" "sh -c '$in_repo CI=true $abtool --ref-a HEAD --ref-b CURRENT --results $work/results.csv'")

echo "git worktree add:                       $git_add ms"
echo "abtool first run (checkout + 2 rounds): $first ms"
echo "abtool second run (all reused):         $again ms   (goal < 100 ms)"
awk -v f="$first" -v a="$again" -v g="$git_add" 'BEGIN {
  printf "first provisioning alone (first - second): %.1f ms = %.2fx git worktree add (goal <= 1.2x)\n", f - a, (f - a) / g }'
echo "abtool run with CURRENT, 100 files modified (snapshot + reuse): $current ms"
awk -v c="$current" -v a="$again" 'BEGIN { printf "CURRENT snapshot alone (that - second run): %.1f ms (goal < 1000 ms)\n", c - a }'
