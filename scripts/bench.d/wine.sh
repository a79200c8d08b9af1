#!/usr/bin/env bash
# Benchmark of `seedc check` of the sample content under Wine: the Windows release binary
# (cross-built by scripts/windows) against the Linux release binary on the same machine
# and files [issue 29: within 3x]. Each figure is the minimum of MIN_RUNS runs (default
# 20). Starting any Windows process under Wine costs far more than the check itself, so
# the start of `seedc.exe --version` is measured too and the ratio is also given without
# it: the first ratio is what a user of Wine waits, the second what seedc itself costs.
# Reported, not asserted.
#
#   scripts/bench.d/wine.sh
set -euo pipefail

cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")/../.."

work=$(mktemp -d "${TMPDIR:-/tmp}/seedc-bench-wine.XXXXXX")
cleanup() { scripts/windows stop "$work" || true; rm -rf -- "$work"; }
trap cleanup EXIT

cargo build --release --quiet --bin seedc
linux=$(realpath -m -- "${CARGO_TARGET_DIR:-target}")/release/seedc
eval "$(SEEDC_WINDOWS_PROFILE=release scripts/windows "$work")"
export CI=1

min_ns() {
    python3 - "$@" <<'PY'
import os, subprocess, sys, time
def once():
    start = time.perf_counter_ns()
    subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter_ns() - start
once()
print(min(once() for _ in range(int(os.environ.get("MIN_RUNS", "20")))))
PY
}

"$SEEDC_WINE" "$SEEDC_WINE_EXE" check -q || { echo "wine: seedc.exe check failed on the sample" >&2; exit 1; }
linux_ns=$(min_ns "$linux" check -q)
wine_ns=$(min_ns "$SEEDC_WINE" "$SEEDC_WINE_EXE" check -q)
start_ns=$(min_ns "$SEEDC_WINE" "$SEEDC_WINE_EXE" --version)
linux_start_ns=$(min_ns "$linux" --version)
awk -v l="$linux_ns" -v w="$wine_ns" -v s="$start_ns" -v ls="$linux_start_ns" 'BEGIN {
    printf "wine: sample check: Linux %.1f ms, Windows under Wine %.1f ms: %.1fx (target <= 3x)\n", l / 1e6, w / 1e6, w / l
    printf "wine: starting: Linux `seedc --version` %.1f ms, under Wine %.1f ms; the check less the start: Linux %.1f ms, Wine %.1f ms: %.1fx\n",
        ls / 1e6, s / 1e6, (l - ls) / 1e6, (w - s) / 1e6, (w - s) / ((l - ls) > 0 ? (l - ls) : 1) }'
