#!/usr/bin/env bash
# How well each round design (DESIGN.md "Rounds") resolves a small, known change on this machine,
# and what it costs: the same two commits, measured once per design in one invocation, so the
# designs face the same binaries and, as nearly as a shared VM allows, the same noise.
#  - commit A: `spin`, a C program doing a fixed chain of integer work (~200 ms; the amount is
#    calibrated on this machine at start, then compiled in), and `gb`, a Google Benchmark program
#    with BM_Cpu (a chain of integer work) and two memory-bound cases, BM_Memcpy64K and
#    BM_Memcpy1M;
#  - commit B: spin and BM_Cpu do exactly 3% more work (truth +3%; --change sets it, 0 for an
#    A/A comparison), the memcpy cases are the same code (truth 0). spin's wall time includes process start-up (~1 ms), which dilutes its
#    +3% by under 0.02 points: below what any design here can see.
# Designs: alternate (A then B or B then A, one run a side), repeat3 (alternate with 3 runs a side
# a round, summarised by their min), duet (A and B started at once, each pinned to its own CPU)
# and auto (a recorded pilot picks per workload). Every design runs the same rounds and seed at a
# 1.5% threshold. Per workload/case and design the table gives the estimate, its interval and
# width, how far the estimate is from the truth, whether the interval covers it, the verdict,
# and the machine time: the whole abtool run (timed here, builds excluded: a first short run
# builds both refs) and the workload's own busy time (the union of its runs' [start, start +
# run_ms] in samples.jsonl, warm-up and pilot runs included; concurrent duet runs count once).
# n is the rounds analysed (abtool may raise a count too small to reach significance). Then
# duet's launch skew, abtool's run warnings (load...) and auto's choice per workload, its reason
# and the pilot's figures. --repeat N runs it all N times (same seed: the same schedules, so the
# spread is the machine's) and ends with each figure's mean and the verdicts counted.
# --spin-ms sets spin's length (default 200): a short program shows what launching costs a
# design (a duet's launch skew is a larger share of it). --spin-only leaves gb out.
# Usage: bench/noise_bench.sh [--designs alternate,repeat3,duet,auto] [--repeat N] [--rounds N]
#                             [--seed N] [--change PCT] [--spin-ms MS] [--spin-only] [--keep]
#                             [ABTOOL_BINARY]   (default build/src/abtool; use a Release build)
set -euo pipefail

usage() { sed -n '/^# Usage:/,/^[^#]/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
designs=alternate,repeat3,duet,auto
repeat=1
rounds=20
seed=1
keep=no
change=3
spin_target_ms=200
spin_only=no
abtool_arg=
while (($#)); do
  case $1 in
  --designs) designs=$2 && shift 2 ;;
  --repeat) repeat=$2 && shift 2 ;;
  --rounds) rounds=$2 && shift 2 ;;
  --seed) seed=$2 && shift 2 ;;
  --keep) keep=yes && shift ;;
  --change) change=$2 && shift 2 ;;
  --spin-ms) spin_target_ms=$2 && shift 2 ;;
  --spin-only) spin_only=yes && shift ;;
  -h | --help) usage && exit 0 ;;
  -*) echo "noise_bench.sh: unknown option $1" >&2 && usage >&2 && exit 2 ;;
  *) abtool_arg=$1 && shift ;;
  esac
done
for number in "$change" "$spin_target_ms" "$repeat" "$rounds"; do
  [[ $number =~ ^[0-9]+$ ]] || { echo "noise_bench.sh: '$number' is not a whole number" >&2 && exit 2; }
done
IFS=, read -r -a design_list <<<"$designs"
for design in "${design_list[@]}"; do
  case $design in
  alternate | repeat3 | duet | auto) ;;
  *)
    echo "noise_bench.sh: unknown design '$design' (alternate, repeat3, duet, auto)" >&2
    exit 2
    ;;
  esac
done

cd "$(dirname "$0")/.."
abtool=$(realpath "${abtool_arg:-build/src/abtool}")
[[ -x $abtool ]] || { echo "noise_bench.sh: no abtool binary at $abtool" >&2 && exit 2; }
for tool in python3 cc c++ git; do
  command -v "$tool" >/dev/null || { echo "noise_bench.sh: needs $tool" >&2 && exit 2; }
done
# An abtool from before the round designs has one: alternate. It runs without the flag.
if "$abtool" run --help 2>&1 | grep -q -- --schedule; then
  has_schedule=yes
else
  has_schedule=no
  for design in "${design_list[@]}"; do
    [[ $design == alternate ]] || {
      echo "noise_bench.sh: $abtool has no --schedule; only --designs alternate can run" >&2
      exit 2
    }
  done
fi

work=$(mktemp -d)
if [[ $keep == yes ]]; then
  trap 'echo "scratch directory kept: $work"' EXIT
else
  trap 'rm -rf "$work"' EXIT
fi
repo=$work/repo
mkdir -p "$repo" "$work/probe"

# The sources. work.h is the only file that differs between A and B.
cat >"$repo/spin.c" <<'C'
#include <stdio.h>
#include "work.h"
/* A dependency chain: each step needs the previous one, so the time is proportional to
   SPIN_WORK and the compiler can neither vectorise nor fold it. */
int main(void) {
    unsigned long x = 1;
    for (long i = 0; i < SPIN_WORK; ++i) x = x * 6364136223846793005UL + (unsigned long)i;
    printf("%lu\n", x);
    return 0;
}
C
cat >"$repo/gb.cpp" <<'CPP'
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "work.h"

// CPU-bound: the same dependency chain as spin, CPU_WORK steps an iteration.
static void BM_Cpu(benchmark::State& state) {
    unsigned long x = 1;
    for (auto _ : state) {
        for (long i = 0; i < CPU_WORK; ++i) x = x * 6364136223846793005UL + (unsigned long)i;
        benchmark::DoNotOptimize(x);
    }
}
BENCHMARK(BM_Cpu);

// Memory-bound: 64 KiB stays in L2, 1 MiB goes to the shared cache and memory.
static void copy(benchmark::State& state, std::size_t bytes) {
    std::vector<char> from(bytes, 1), to(bytes);
    for (auto _ : state) {
        std::memcpy(to.data(), from.data(), bytes);
        benchmark::DoNotOptimize(to.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<long>(state.iterations() * bytes));
}
static void BM_Memcpy64K(benchmark::State& state) { copy(state, 64 << 10); }
static void BM_Memcpy1M(benchmark::State& state) { copy(state, 1 << 20); }
BENCHMARK(BM_Memcpy64K);
BENCHMARK(BM_Memcpy1M);

BENCHMARK_MAIN();
CPP
build_shell='cc -O2 -o spin spin.c && c++ -O2 -o gb gb.cpp -lbenchmark -lpthread'
gb_args='"--benchmark_format=json", "--benchmark_min_time=0.1"'
cpu_work_a=100000

now_ms() { date +%s%3N; }
# best_ms COMMAND...: the fastest of 3 runs, in ms.
best_ms() {
  local best=999999999 start elapsed
  for _ in 1 2 3; do
    start=$(now_ms)
    "$@" >/dev/null
    elapsed=$(($(now_ms) - start))
    ((elapsed < best)) && best=$elapsed
  done
  echo "$best"
}

# Calibrate spin to ~--spin-ms here, a multiple of 100 steps so that B's change is exact. This
# VM's speed wanders, so a measurement over 20% off is corrected (at most twice).
cp "$repo/spin.c" "$repo/gb.cpp" "$work/probe/"
spin_work_a=50000000
for pass in 1 2 3; do
  printf '#define SPIN_WORK %sL\n#define CPU_WORK %sL\n' "$spin_work_a" "$cpu_work_a" \
    >"$work/probe/work.h"
  (cd "$work/probe" && cc -O2 -o spin spin.c)
  spin_ms=$(best_ms "$work/probe/spin")
  ((spin_ms * 5 >= spin_target_ms * 4 && spin_ms * 5 <= spin_target_ms * 6 || pass == 3)) && break
  spin_work_a=$((spin_work_a * spin_target_ms / (spin_ms > 0 ? spin_ms : 1) / 100 * 100))
done
(cd "$work/probe" && sh -c "$build_shell")
gb_ms=$(best_ms "$work/probe/gb" --benchmark_format=json --benchmark_min_time=0.1)

git -C "$repo" init -q -b main
git -C "$repo" config user.name bench
git -C "$repo" config user.email bench@abtool.invalid
printf 'spin\ngb\n' >"$repo/.gitignore"
printf '#define SPIN_WORK %sL\n#define CPU_WORK %sL\n' "$spin_work_a" "$cpu_work_a" >"$repo/work.h"
git -C "$repo" add -A && git -C "$repo" commit -q -m "A: the baseline" && git -C "$repo" tag a
printf '#define SPIN_WORK %sL\n#define CPU_WORK %sL\n' \
  $((spin_work_a * (100 + change) / 100)) $((cpu_work_a * (100 + change) / 100)) >"$repo/work.h"
printf '// B\n' >>"$repo/work.h" # a commit even when --change is 0
git -C "$repo" commit -q -am "B: spin and BM_Cpu do ${change}% more work" && git -C "$repo" tag b

# config DESIGN: the abtool.toml of one design (outside the repository: the refs are commits).
# config prep: the same build and a workload that costs nothing, to build both refs once.
config() {
  printf '[build]\nshell = "%s"\n[run]\nwarmup = 1\nthreshold = "1.5%%"\n' "$build_shell"
  if [[ $1 == prep ]]; then
    printf '[[workload]]\nname = "prep"\nkind = "command"\ncommand = ["true"]\n'
    return
  fi
  [[ $1 == repeat3 ]] && printf 'repeat = 3\nsummary = "min"\n'
  printf '[[workload]]\nname = "spin"\nkind = "command"\ncommand = ["./spin"]\n'
  [[ $spin_only == yes ]] && return
  printf '[[workload]]\nname = "gb"\nkind = "hotpath"\nformat = "gbench"\nmetric = "real_time"\n'
  printf 'command = ["./gb", %s]\n' "$gb_args"
}
schedule_of() { case $1 in repeat3) echo alternate ;; *) echo "$1" ;; esac; }

# Expected time: (rounds + warm-up) x 2 sides x one run of each workload for alternate, three
# times that for repeat3, one side's worth (plus a fifth for contention) for duet; auto is
# counted as its pilot (6 rounds each of alternate x3 and duet) plus repeat3, the dearest choice.
per_round_ms=$spin_ms
[[ $spin_only == yes ]] || per_round_ms=$((spin_ms + gb_ms))
estimate_ms=20000 # the two builds
for design in "${design_list[@]}"; do
  case $design in
  alternate) estimate_ms=$((estimate_ms + (rounds + 1) * 2 * per_round_ms)) ;;
  repeat3) estimate_ms=$((estimate_ms + (rounds + 1) * 6 * per_round_ms)) ;;
  duet) estimate_ms=$((estimate_ms + (rounds + 1) * per_round_ms * 6 / 5)) ;;
  auto) estimate_ms=$((estimate_ms + 6 * 7 * per_round_ms + (rounds + 1) * 6 * per_round_ms)) ;;
  esac
done
estimate_ms=$((estimate_ms * repeat))
echo "noise_bench: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, abtool $abtool"
echo "  spin: ${spin_ms} ms a run ($spin_work_a steps in A, +${change}% in B); gb: ${gb_ms} ms a run"
echo "  designs ${designs}; ${rounds} rounds, seed ${seed}, threshold 1.5%, x${repeat}:" \
  "expect about $(((estimate_ms + 59999) / 60000)) min"

# One short run builds both refs; the measured runs then reuse the worktrees and builds.
config prep >"$work/prep.toml"
schedule_flag=()
[[ $has_schedule == yes ]] && schedule_flag=(--schedule alternate)
(cd "$repo" && CI=true "$abtool" run --ref-a a --ref-b b --config "$work/prep.toml" --rounds 2 \
  "${schedule_flag[@]}" --results "$work/prep.csv" >"$work/prep.log" 2>&1) || {
  rc=$?
  if ((rc != 0 && rc != 1)); then
    echo "noise_bench: the build run failed (exit $rc):" >&2 && tail -n 30 "$work/prep.log" >&2
    exit 1
  fi
}

# collect JSON DESIGN ITERATION RUN_MS: one line per row of interest into results.jsonl.
collect() {
  python3 - "$@" "$work/results.jsonl" "$change" <<'PY'
import json, sys
path, design, iteration, run_ms, out, change = sys.argv[1:7]
report = json.load(open(path))
truth = {"spin": float(change), "gb/BM_Cpu": float(change)}
wanted = {"spin": "wall_ms", "gb": "real_time"}

def busy_seconds(run_dir):
    """Per workload: the union of its runs' [start, start + run_ms], warm-up and pilot runs in."""
    runs, pilot = {}, {}
    try:
        lines = open(f"{run_dir}/samples.jsonl")
    except OSError:
        return {}, {}
    for line in lines:
        r = json.loads(line)
        ms = r.get("run_ms") or (r["value"] if r.get("metric") == "wall_ms" else 0)
        if not ms or not r.get("start_ns"):
            continue
        key = (r["workload"], r["round"], r["ref"], r.get("rep", 0), r.get("pilot"))
        start = r["start_ns"] / 1e9
        runs.setdefault(r["workload"], {})[key] = (start, start + ms / 1000)
        if r.get("pilot"):
            pilot.setdefault(r["workload"], {})[key] = (start, start + ms / 1000)

    def union(intervals):
        total, end = 0.0, float("-inf")
        for lo, hi in sorted(intervals):
            if hi > end:
                total += hi - max(lo, end)
                end = hi
        return total

    return ({w: union(v.values()) for w, v in runs.items()},
            {w: union(v.values()) for w, v in pilot.items()})

busy, pilot = busy_seconds(report.get("run_dir", ""))
with open(out, "a") as f:
    for row in report["rows"]:
        if wanted.get(row["workload"]) != row["metric"]:
            continue
        key = row["workload"] + (f"/{row['case']}" if row["case"] else "")
        f.write(json.dumps({"iteration": int(iteration), "design": design, "key": key,
                            "truth": truth.get(key, 0.0), "delta": row["delta_pct"],
                            "lo": row["ci_low_pct"], "hi": row["ci_high_pct"],
                            "verdict": row["verdict"], "n": row.get("n"),
                            "run_s": int(run_ms) / 1000,
                            "busy_s": busy.get(row["workload"])}) + "\n")
    f.write(json.dumps({"iteration": int(iteration), "design": design,
                        "warnings": report.get("warnings", [])}) + "\n")
    for d in report.get("designs", []):
        f.write(json.dumps({"iteration": int(iteration), "design": design, "choice": d,
                            "pilot_s": pilot.get(d["workload"])}) + "\n")
PY
}

# table ITERATION|all: the rows of one iteration, or, over all iterations, each figure's mean.
table() {
  python3 - "$work/results.jsonl" "$1" "$designs" <<'PY'
import json, statistics, sys
from collections import Counter
path, which, designs = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
records = [json.loads(l) for l in open(path)]
rows = [r for r in records if "key" in r and (which == "all" or r["iteration"] == int(which))]
order = ["spin", "gb/BM_Cpu", "gb/BM_Memcpy64K", "gb/BM_Memcpy1M"]
keys = sorted(dict.fromkeys(r["key"] for r in rows),
              key=lambda k: (order.index(k) if k in order else len(order), k))

def fmt(value, spec, none="-"):
    return none if value is None else format(value, spec)

if which != "all":
    print(f"{'workload/case':<17} {'design':<9} {'n':>3} {'delta %':>8}"
          f"  {'interval [lo, hi] %':<19}"
          f" {'width':>6} {'|err|':>6} {'covers':>6}  {'verdict':<12} {'run s':>6} {'wl s':>6}")
    for key in keys:
        for design in designs:
            for r in (r for r in rows if r["key"] == key and r["design"] == design):
                lo, hi, delta = r["lo"], r["hi"], r["delta"]
                have = lo is not None and hi is not None
                interval = f"[{lo:+.2f}, {hi:+.2f}]" if have else "none"
                covers = ("yes" if lo <= r["truth"] <= hi else "no") if have else "-"
                err = None if delta is None else abs(delta - r["truth"])
                print(f"{key:<17} {design:<9} {fmt(r['n'], '3d'):>3} {fmt(delta, '+8.2f'):>8}"
                      f"  {interval:<19}"
                      f" {fmt(hi - lo if have else None, '6.2f'):>6} {fmt(err, '6.2f'):>6}"
                      f" {covers:>6}  {r['verdict']:<12} {r['run_s']:6.1f}"
                      f" {fmt(r['busy_s'], '6.1f'):>6}")
    truth = {r["key"]: r["truth"] for r in rows}
    truths = ", ".join(f"{k} {truth[k]:+g}%" for k in keys)
    print(f"truth: {truths}")
    for c in (r for r in records if "choice" in r and r["iteration"] == int(which)):
        d = c["choice"]
        if d.get("launch_skew_median_us") is not None:
            print(f"{c['design']} launch skew for {d['workload']}: median"
                  f" {d['launch_skew_median_us'] / 1000:.1f} ms, max"
                  f" {d['launch_skew_max_us'] / 1000:.1f} ms")
    for w in (r for r in records if "warnings" in r and r["iteration"] == int(which)):
        for line in w["warnings"]:
            print(f"{w['design']} run warning: {line}")
    for c in (r for r in records if "choice" in r and r["iteration"] == int(which)
              and r["design"] == "auto"):
        d = c["choice"]
        label = d["schedule"] + (f" x{d['repeat']} ({d['summary']})" if d["repeat"] > 1 else "")
        pilot = f", pilot {c['pilot_s']:.1f} s" if c.get("pilot_s") else ""
        print(f"auto chose for {d['workload']}: {label} (by {d['chosen_by']}{pilot}):"
              f" {d['reason']}")
        for line in d.get("evidence", []):
            print(f"    {line}")
    sys.exit(0)

iterations = len({r["iteration"] for r in rows})
print(f"over {iterations} repetitions (means; verdicts counted):")
print(f"{'workload/case':<17} {'design':<9} {'delta %':>8} {'width':>6} {'|err|':>6} {'covers':>7}"
      f"  {'run s':>6} {'wl s':>6}  verdicts")
for key in keys:
    for design in designs:
        mine = [r for r in rows if r["key"] == key and r["design"] == design]
        if not mine:
            continue
        tested = [r for r in mine if r["lo"] is not None and r["hi"] is not None]
        deltas = [r["delta"] for r in mine if r["delta"] is not None]
        mean = lambda xs: statistics.mean(xs) if xs else None
        busy = [r["busy_s"] for r in mine if r["busy_s"] is not None]
        covers = f"{sum(r['lo'] <= r['truth'] <= r['hi'] for r in tested)}/{len(tested)}"
        verdicts = ", ".join(f"{v} {n}" for v, n in Counter(r["verdict"] for r in mine).items())
        print(f"{key:<17} {design:<9} {fmt(mean(deltas), '+8.2f'):>8}"
              f" {fmt(mean([r['hi'] - r['lo'] for r in tested]), '6.2f'):>6}"
              f" {fmt(mean([abs(d - mine[0]['truth']) for d in deltas]), '6.2f'):>6}"
              f" {covers:>7}  {mean([r['run_s'] for r in mine]):6.1f} {fmt(mean(busy), '6.1f'):>6}"
              f"  {verdicts}")
choices = Counter()
for c in (r for r in records if "choice" in r and r["design"] == "auto"):
    d = c["choice"]
    choices[(d["workload"], d["schedule"] + (f" x{d['repeat']}" if d["repeat"] > 1 else ""))] += 1
for (workload, label), n in sorted(choices.items()):
    print(f"auto chose for {workload}: {label} in {n} of {iterations}")
PY
}

for iteration in $(seq "$repeat"); do
  ((repeat > 1)) && echo && echo "repetition $iteration of $repeat"
  for design in "${design_list[@]}"; do
    config "$design" >"$work/$design.toml"
    flag=()
    [[ $has_schedule == yes ]] && flag=(--schedule "$(schedule_of "$design")")
    json=$work/$design-$iteration.json
    start=$(now_ms)
    rc=0
    (cd "$repo" && CI=true "$abtool" run --ref-a a --ref-b b --config "$work/$design.toml" \
      --rounds "$rounds" --seed "$seed" "${flag[@]}" --json "$json" \
      --results "$work/results.csv" >"$work/$design-$iteration.log" 2>&1) || rc=$?
    elapsed=$(($(now_ms) - start))
    # 1 is the gate failing on B's regression: the expected outcome here.
    if ((rc != 0 && rc != 1)) || [[ ! -s $json ]]; then
      echo "noise_bench: abtool failed for design $design (exit $rc):" >&2
      tail -n 30 "$work/$design-$iteration.log" >&2
      exit 1
    fi
    echo "  $design: $((elapsed / 1000)) s"
    collect "$json" "$design" "$iteration" "$elapsed"
  done
  echo
  table "$iteration"
done
if ((repeat > 1)); then
  echo
  table all
fi
