#!/usr/bin/env bash
# Benchmark of `seedc lsp` (issue 25's targets in brackets), each figure printed beside
# `seedc check` of the same content measured in the same run:
#   1. on the sample content of this repository: change -> publishDiagnostics, median of
#      EDITS (default 20) edits of the largest seed file [<= 20 ms];
#   2. on each of RECORDS (default "20000 100000") generated records, with the seedc.lock
#      its build writes and no out/ (as a repository has them): the same, an edit of
#      the largest seed file [<= 150 ms at 20,000]; the first diagnostics after initialize
#      [<= 1.5 s]; the server's peak RSS against the content's size on disk [<= 3x at
#      20,000] and against `seedc check`'s peak on the same content.
# Peak RSS includes the binary's own pages (file-backed, printed as "binary"); the sample's
# peak is the server's floor, and the last line gives what each byte of content adds above
# it (the slope between the two largest sizes).
# examples/lsp_bench.rs drives the real binary over stdio (initialize, the largest seed
# file opened, incremental edits of its `version`, each giving its own diagnostic) and
# reads VmHWM before shutdown.
#
#   scripts/bench.d/lsp.sh
#   RECORDS=20000 EDITS=20 scripts/bench.d/lsp.sh
set -euo pipefail

cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")/../.."

sizes=${RECORDS:-20000 100000}
edits=${EDITS:-20}
runs=${RUNS:-10}
work=$(mktemp -d "${TMPDIR:-/tmp}/seedc-bench-lsp.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

cargo build --release --quiet --bin seedc --example gen --example lsp_bench
release=$(realpath -m -- "${CARGO_TARGET_DIR:-target}")/release
seedc=$release/seedc
export CI=1

# The sample, copied so that nothing touches the repository.
mkdir -p "$work/sample"
cp -r seedc.toml seedc.lock data schemas "$work/sample/"
# Each generated root gets the seedc.lock its first build writes, and no out/: what a game
# repository holds (the lock is committed), so `check` and the server do the version-bump
# work they do there.
for records in $sizes; do
    "$release"/examples/gen --out "$work/gen$records" --records "$records" >/dev/null 2>&1
    "$seedc" --root "$work/gen$records" build -q >/dev/null
    rm -rf -- "$work/gen$records/out"
done

# Median wall time of `seedc check` in milliseconds over RUNS runs, and its peak RSS in kB
# from one more run (GNU time's %M; 0 where there is none).
check_figures() {
    local i start end peak=0
    "$seedc" --root "$1" check -q >/dev/null 2>&1 || true
    if [[ -x /usr/bin/time ]]; then
        /usr/bin/time -f '%M' -o "$work/time" "$seedc" --root "$1" check -q >/dev/null 2>&1 || true
        peak=$(tail -n 1 "$work/time")
    fi
    for ((i = 0; i < runs; i++)); do
        start=$(date +%s%N)
        "$seedc" --root "$1" check -q >/dev/null 2>&1 || true
        end=$(date +%s%N)
        echo $(((end - start) / 1000))
    done | sort -n | awk -v peak="$peak" '{ a[NR] = $1 } END {
        printf "%.1f %d\n", ((NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) / 1000, peak }'
}

floor=0
slope_points=()
for name in sample $sizes; do
    root=$work/$([[ $name == sample ]] && echo sample || echo "gen$name")
    figures=$("$release"/examples/lsp_bench "$seedc" "$root" "$edits")
    read -r check check_kb < <(check_figures "$root")
    bytes=$(du -sb "$root/data" | cut -f1)
    label=$([[ $name == sample ]] && echo "sample" || echo "$name records")
    echo "lsp ($label): $figures"
    line=$(awk -v f="$figures" -v c="$check" -v ck="$check_kb" -v b="$bytes" -v l="$label" -v floor="$floor" 'BEGIN {
        n = split(f, kv, " "); for (i = 1; i <= n; i++) { split(kv[i], p, "="); v[p[1]] = p[2] }
        printf "lsp (%s): edit -> diagnostics median %.1f ms (max %.1f) vs seedc check %.1f ms: %.2fx; first diagnostics %.0f ms\n",
            l, v["median_ms"], v["max_ms"], c, v["median_ms"] / c, v["first_ms"]
        peak = v["peak_rss_kb"] * 1024
        printf "lsp (%s): peak RSS %.1f MB (binary %.1f MB) for %.1f MB of content: %.2fx; seedc check peak %.1f MB: %.2fx",
            l, peak / 1e6, v["rss_file_kb"] * 1024 / 1e6, b / 1e6, peak / b, ck * 1024 / 1e6, (ck > 0 ? peak / (ck * 1024) : 0)
        if (floor > 0) printf "; above the floor %.2fx", (peak - floor) / b
        printf "\n@ %d %d\n", peak, b }')
    echo "$line" | grep -v '^@'
    read -r _ peak bytes < <(echo "$line" | grep '^@')
    if [[ $name == sample ]]; then
        floor=$peak
    else
        slope_points+=("$peak $bytes")
    fi
done
if ((${#slope_points[@]} >= 2)); then
    printf '%s\n' "${slope_points[@]}" | tail -n 2 | awk -v floor="$floor" 'NR == 1 { p1 = $1; b1 = $2 } NR == 2 {
        printf "lsp: floor %.1f MB (the sample); each byte of content adds %.2f bytes of peak RSS (between %.1f and %.1f MB of content)\n",
            floor / 1e6, ($1 - p1) / ($2 - b1), b1 / 1e6, $2 / 1e6 }'
fi
