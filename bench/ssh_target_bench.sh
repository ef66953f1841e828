#!/usr/bin/env bash
# What running on an ssh target costs over a local run, and what it measures: a real sshd on
# 127.0.0.1 (throwaway host and user keys, as tests/integration/ssh_target_test.cpp starts it)
# is target "box", so both runs measure the same machine and differ only in the transport.
# A repository with a C loop of about 150 ms (`[build]` compiles it, a `command` workload times
# it) and CURRENT making it 5% longer. Per repeat (REPEATS, default 3), in alternation:
#   abtool --ref-a HEAD --ref-b CURRENT --seed S --json local.json
#   abtool --ref-a HEAD --ref-b CURRENT --seed S --target box --json box.json
# and prints each run's wall time, delta and interval, and the mean wall-time ratio box/local.
# Usage: bash bench/ssh_target_bench.sh [ABTOOL_BINARY]   (default build/src/abtool; use Release)
# Needs root (sshd's privilege separation) and openssh-server.
set -euo pipefail
cd "$(dirname "$0")/.."
abtool=$(realpath "${1:-build/src/abtool}")
[[ -x "$abtool" ]] || { echo "$(basename "$0"): no abtool binary at $abtool" >&2; exit 1; }
[[ -x /usr/sbin/sshd ]] || { echo "$(basename "$0"): needs openssh-server" >&2; exit 1; }
work=$(mktemp -d)
sshd_pid=""
cleanup() { [[ -n "$sshd_pid" ]] && kill "$sshd_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

keys=$work/keys
mkdir -p "$keys" /run/sshd
for key in host_key user_key; do ssh-keygen -q -t ed25519 -N '' -f "$keys/$key"; done
cp "$keys/user_key.pub" "$keys/authorized_keys"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$keys/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $keys/host_key
AuthorizedKeysFile $keys/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PidFile none
CONF
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$keys/host_key.pub")" > "$keys/known_hosts"
/usr/sbin/sshd -D -f "$keys/sshd_config" -E "$work/sshd.log" & sshd_pid=$!
sleep 0.5

repo=$work/repo
mkdir -p "$repo" && cd "$repo"
git init -q && git config user.email bench@abtool && git config user.name bench
program() { # program STEPS
  printf '#include <stdio.h>\nint main(void) {\n    volatile unsigned long x = 0;\n'
  printf '    for (long i = 0; i < %sL; ++i) x += (unsigned long)i * 2654435761UL;\n' "$1"
  printf '    printf("%%lu\\n", (unsigned long)x);\n    return 0;\n}\n'
}
program 400000000 > loop.c
cat > abtool.toml <<'CONF'
[build]
command = ["cc", "-O1", "-o", "loop", "loop.c"]
[run]
rounds = 10
threshold = "2%"
[[workload]]
name = "loop"
kind = "command"
command = ["./loop"]
CONF
printf 'results.csv\n' > .gitignore
cat > targets.json <<CONF
{"targets": [{"id": "box", "kind": "ssh", "host": "127.0.0.1", "port": $port,
  "user": "$(id -un)", "identity_file": "$keys/user_key", "known_hosts": "$keys/known_hosts",
  "workdir": "$work/target", "abtool": "$abtool"}]}
CONF
git add -A && git commit -qm base
program 420000000 > loop.c # CURRENT: 5% more steps

summary() {
  python3 - "$1" <<'PY'
import json, sys
row = json.load(open(sys.argv[1]))["rows"][0]
print(f"{row['verdict']:<12} {row['delta_pct']:+7.2f}% [{row['ci_low_pct']:+.2f}%, {row['ci_high_pct']:+.2f}%]")
PY
}
printf '%-6s %-5s %8s  %s\n' repeat where wall result
ratios=()
for repeat in $(seq 1 "${REPEATS:-3}"); do
  for where in local box; do
    target=(); [[ $where == box ]] && target=(--target box)
    start=$(date +%s.%N)
    "$abtool" --ref-a HEAD --ref-b CURRENT --seed "$repeat" "${target[@]}" \
      --json "$work/$where.json" > "$work/$where.log" 2>&1 || true
    wall=$(python3 -c "print($(date +%s.%N) - $start)")
    printf '%-6s %-5s %7.1fs  %s\n' "$repeat" "$where" "$wall" "$(summary "$work/$where.json")"
    [[ $where == local ]] && local_wall=$wall || ratios+=("$(python3 -c "print(round($wall / $local_wall, 3))")")
  done
done
printf 'wall time on the target / local: %s (mean %.3f)\n' "${ratios[*]}" \
  "$(printf '%s\n' "${ratios[@]}" | awk '{s += $1} END {print s / NR}')"
