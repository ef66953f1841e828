#!/usr/bin/env bash
# Publish load generator against wrk (issue 6's goals), on the example's keep-alive HTTP server:
#  1. burst: abtool's requests/s (timing every message) as a share of wrk's, same connections;
#     goal >= 0.8.
#  2. paced at 1,000 msg/s: the p99 of how late messages left after their due time; goal < 200 us,
#     read against bench/timer_floor.c run right after each: how late a bare thread sleeping to
#     1 kHz deadlines wakes on this machine now (a shared VM's floor can be above the goal).
# Usage: bench/publish_bench.sh [BUILD_DIR]   (a Release build with -DABTOOL_BUILD_BENCHMARKS=ON;
# made here when missing). Runs each measurement 5 times and reports medians.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-bench}
if [[ ! -x $build/bench/publish_load ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DABTOOL_BUILD_BENCHMARKS=ON \
    -DABTOOL_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build" --target publish_load >/dev/null
fi
command -v wrk >/dev/null || { echo "publish_bench: needs wrk (apt-get install wrk)" >&2; exit 1; }

work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
cp examples/pubsub/{bus.hpp,server.cpp,Makefile} "$work/"
make -s -C "$work" pubsub_server
port=$((20000 + RANDOM % 20000))
"$work/pubsub_server" --port "$port" >/dev/null &
server=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.05; done

connections=4
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
lua="$work/post.lua"
printf 'wrk.method = "POST"\nwrk.body = "{\\"seq\\": 1}"\nwrk.headers["Content-Type"] = "application/json"\n' >"$lua"

cc -O2 -o "$work/timer_floor" bench/timer_floor.c
wrk_rps=() abtool_rps=() lag=() floor=()
for _ in 1 2 3 4 5; do
  wrk_rps+=("$(wrk -t1 -c$connections -d2s -s "$lua" "http://127.0.0.1:$port/publish" |
    awk '/Requests\/sec/ {print $2}')")
  abtool_rps+=("$("$build/bench/publish_load" "$port" burst 40000 $connections | json rps)")
  lag+=("$("$build/bench/publish_load" "$port" paced 2000 $connections 1000 | json send_lag_p99_us)")
  floor+=("$("$work/timer_floor" | json p99_us)")
done
w=$(printf '%s\n' "${wrk_rps[@]}" | median)
a=$(printf '%s\n' "${abtool_rps[@]}" | median)
l=$(printf '%s\n' "${lag[@]}" | median)
f=$(printf '%s\n' "${floor[@]}" | median)
echo "wrk burst, $connections connections:    $w requests/s (runs: ${wrk_rps[*]})"
echo "abtool burst, $connections connections: $a requests/s (runs: ${abtool_rps[*]})"
awk -v a="$a" -v w="$w" 'BEGIN {printf "ratio abtool/wrk: %.2f (goal >= 0.80)\n", a / w}'
echo "paced 1000 msg/s, send-time error p99: $l us (runs: ${lag[*]}; goal < 200 us)"
echo "floor: a bare 1 kHz clock_nanosleep loop's wake-up error p99, right after each: $f us (runs: ${floor[*]})"
