# Shared set-up of the shell benchmarks (sourced): the abtool binary to time ($1, default
# build/src/abtool), hyperfine, a scratch directory removed on exit, and new_repo DIR, which makes
# an empty git repository there.
set -euo pipefail
cd "$(dirname "$0")/.."
abtool=$(realpath "${1:-build/src/abtool}")
command -v hyperfine >/dev/null || { echo "$(basename "$0"): needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
new_repo() {
  mkdir -p "$1"
  git -C "$1" init -q -b main
  git -C "$1" config user.name bench
  git -C "$1" config user.email bench@abtool.invalid
}
