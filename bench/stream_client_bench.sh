#!/usr/bin/env bash
# What abtool's stream client adds to what it measures (issue 13's goal: overhead <= 0.2 ms at a
# 20 ms period). The server is tests' stream_server_fixture, which emits on an absolute schedule
# (chunk i at start + i * 20 ms), so the true interval is exactly 20 ms and the true overhead 0.
#  1. abtool: an A/A run of a `stream` workload (http-ndjson, 100 chunks a session, 3 sessions a
#     run, 6 rounds), reporting A's and B's median overhead_ms, interval_p50_ms and jitter_p95_ms.
#  2. the reference, right after: a plain blocking Python client on the same server, timing each
#     recv() that completes a line, 3 sessions of 100 chunks: its overhead and jitter p95.
# Repeats both REPEATS times (default 3). A client that falls behind shows as overhead; one that
# timestamps late but steadily does not (the mean gap is (last - first) / (n - 1)): jitter_p95
# against the reference's shows that part.
# Usage: bash bench/stream_client_bench.sh [ABTOOL_BINARY [FIXTURE]]
#   (default build/src/abtool and build/tests/unit/runners/stream_server_fixture; use Release)
set -euo pipefail
cd "$(dirname "$0")/.."
abtool=$(realpath "${1:-build/src/abtool}")
fixture=$(realpath "${2:-build/tests/unit/runners/stream_server_fixture}")
for binary in "$abtool" "$fixture"; do
  [[ -x $binary ]] || { echo "$(basename "$0"): no binary at $binary" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

repo=$work/repo
mkdir -p "$repo"
git -C "$repo" init -q
cat > "$repo/abtool.toml" <<TOML
[run]
rounds = 6
[[workload]]
name = "tokens"
kind = "stream"
schedule = "alternate"
server = ["$fixture", "--port", "{port}", "--period-ms", "20"]
ready_path = "/health"
payload = '{"max_tokens": 100}'
expect_chunks = 100
period_ms = 20
sessions = 1
session_count = 3
TOML
git -C "$repo" add -A
git -C "$repo" -c user.name=bench -c user.email=bench@invalid commit -q -m bench

reference() {
  python3 - "$fixture" <<'PY'
import socket, statistics, subprocess, sys, time
port_sock = socket.socket(); port_sock.bind(("127.0.0.1", 0)); port = port_sock.getsockname()[1]
port_sock.close()
server = subprocess.Popen([sys.argv[1], "--port", str(port), "--period-ms", "20"],
                          stdout=subprocess.DEVNULL)
try:
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port)).close(); break
        except OSError:
            time.sleep(0.02)
    gaps = []
    for _ in range(3):
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        body = b'{"max_tokens": 100}'
        s.sendall(b"POST /stream HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
                  b"Connection: close\r\n\r\n" % len(body) + body)
        times, seen = [], 0
        while True:
            data = s.recv(65536)
            now = time.perf_counter()
            if not data:
                break
            # Chunk lines end in "}\n"; the headers and chunk sizes do not.
            lines = data.count(b"}\n")
            times += [now] * lines
        s.close()
        gaps += [(b - a) * 1000 for a, b in zip(times, times[1:])]
    mean = statistics.fmean(gaps)
    jitter = sorted(abs(g - 20) for g in gaps)[int(0.95 * (len(gaps) - 1))]
    print(f"{mean - 20:.4f} {statistics.median(gaps):.4f} {jitter:.4f}")
finally:
    server.terminate()
PY
}

echo "repeat  abtool overhead A/B (ms)  interval_p50 A/B (ms)  jitter_p95 A/B (ms)  |  reference overhead  interval_p50  jitter_p95"
for repeat in $(seq "${REPEATS:-3}"); do
  (cd "$repo" && "$abtool" --ref-a HEAD --ref-b HEAD --json "$work/out.json" >/dev/null 2>&1) || true
  abtool_line=$(python3 - "$work/out.json" <<'PY'
import json, sys
rows = {r["metric"]: r for r in json.load(open(sys.argv[1]))["rows"]}
def pair(metric):
    return f'{rows[metric]["a"]["median"]:.4f}/{rows[metric]["b"]["median"]:.4f}'
print(f'{pair("overhead_ms"):>24}  {pair("interval_p50_ms"):>21}  {pair("jitter_p95_ms"):>19}')
PY
)
  read -r ref_overhead ref_p50 ref_jitter < <(reference)
  printf '%6s  %s  |  %18s  %12s  %10s\n' "$repeat" "$abtool_line" "$ref_overhead" "$ref_p50" \
    "$ref_jitter"
done
