#!/usr/bin/env bash
# Benchmark of `seedc check`:
#   1. on generated content (default 200k records, ~80 MB): seedc check's throughput
#      against serde_json alone parsing the same files into Values on every core
#      (examples/parse_baseline.rs), in the same run (target: >= 60% of serde_json).
#      The baseline is plain serde_json with the system allocator; the seedc binary uses
#      mimalloc (with mimalloc in the baseline too, the ratio is about 42%);
#   2. on the sample content of this repository (target: < 30 ms).
# Wall times are medians of RUNS runs (default 10); seedc and serde_json take turns, so the
# load of the shared machine weighs on both alike. The sample's time uses hyperfine when
# installed (NO_HYPERFINE=1: do not).
#
#   scripts/bench.d/check.sh
#   RECORDS=20000 RUNS=5 scripts/bench.d/check.sh
#   SEEDC_BENCH_CONTENT=DIR scripts/bench.d/check.sh    # measure an existing content root
set -euo pipefail

cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")/../.."

records=${RECORDS:-200000}
runs=${RUNS:-10}
work=$(mktemp -d "${TMPDIR:-/tmp}/seedc-bench-check.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

cargo build --release --quiet --bin seedc --example parse_baseline --example gen
seedc=target/release/seedc
baseline=target/release/examples/parse_baseline
if [[ -n ${SEEDC_BENCH_CONTENT:-} ]]; then
    root=$SEEDC_BENCH_CONTENT
else
    root=$work/content
    target/release/examples/gen --out "$root" --records "$records" >/dev/null 2>&1
fi
export CI=1 # no progress bar in the figures

# Both must succeed on this content, or the figures mean nothing.
"$seedc" --root "$root" check -q || { echo "check: seedc check failed on the generated content" >&2; exit 1; }
bytes=$("$baseline" "$root" | sed -n 's/.*bytes=\([0-9]*\).*/\1/p')

# Prints the median wall time in nanoseconds of each command given (one shell command line
# per argument), one per line, from RUNS rounds that run every command in turn. The
# machine is shared: taking turns makes a change in its load touch both sides of a ratio
# alike (hyperfine measures one command after the other, so it is used for one command only).
alternating_medians_ns() {
    local i cmd start end
    for cmd in "$@"; do bash -c "$cmd" >/dev/null 2>&1; done # warm-up: page cache
    for ((i = 0; i < runs; i++)); do
        for cmd in "$@"; do
            start=$(date +%s%N)
            bash -c "$cmd" >/dev/null 2>&1
            end=$(date +%s%N)
            echo "$cmd"$'\t'$((end - start))
        done
    done >"$work/times"
    for cmd in "$@"; do
        awk -F'\t' -v c="$cmd" '$1 == c { print $2 }' "$work/times" | sort -n |
            awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'
    done
}

# The median wall time of one command in nanoseconds: hyperfine if installed.
median_ns() {
    if [[ -z ${NO_HYPERFINE:-} ]] && command -v hyperfine >/dev/null; then
        hyperfine --runs "$((runs * 3))" --warmup 3 --style none --export-json "$work/h.json" -- "$1" >/dev/null 2>&1
        grep -o '"median": *[0-9.e+-]*' "$work/h.json" | awk -F: '{ printf "%.0f\n", $2 * 1e9 }'
    else
        alternating_medians_ns "$1"
    fi
}

q() { printf '%q' "$1"; }
{ read -r check_ns; read -r parse_ns; } < <(alternating_medians_ns "$(q "$seedc") --root $(q "$root") check -q" "$(q "$baseline") $(q "$root")")
sample_ns=$(median_ns "$(q "$seedc") --root . check -q")

awk -v b="$bytes" -v c="$check_ns" -v p="$parse_ns" -v s="$sample_ns" -v r="$records" 'BEGIN {
    printf "check: %d records, %.1f MB of seed files and packs\n", r, b / 1e6
    printf "check: seedc check %.0f ms = %.0f MB/s; serde_json parse alone %.0f ms = %.0f MB/s; ratio %.0f%% (target >= 60%%)\n",
        c / 1e6, b / c * 1e3, p / 1e6, b / p * 1e3, 100 * p / c
    printf "check: sample content %.1f ms (target < 30 ms)\n", s / 1e6 }'
