#!/usr/bin/env bash
# Benchmark of `seedc lsp` (issue 25's targets in brackets), each figure printed beside
# `seedc check` of the same content measured in the same run:
#   1. on the sample content of this repository: change -> publishDiagnostics, median of
#      EDITS (default 20) edits of the largest seed file [<= 20 ms];
#   2. on RECORDS (default 20,000) generated records: the same, an edit of the largest seed
#      file [<= 150 ms]; the first diagnostics after initialize [<= 1.5 s]; the server's peak
#      RSS against the content's size on disk [<= 3x].
# examples/lsp_bench.rs drives the real binary over stdio (incremental edits of the file's
# `version`, each giving its own diagnostic) and reads VmHWM before shutdown.
#
#   scripts/bench.d/lsp.sh
#   RECORDS=20000 EDITS=20 scripts/bench.d/lsp.sh
set -euo pipefail

cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")/../.."

records=${RECORDS:-20000}
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
"$release"/examples/gen --out "$work/gen" --records "$records" >/dev/null 2>&1

# Median wall time of `seedc check` in milliseconds over RUNS runs.
check_ms() {
    local i start end
    "$seedc" --root "$1" check -q >/dev/null 2>&1 || true
    for ((i = 0; i < runs; i++)); do
        start=$(date +%s%N)
        "$seedc" --root "$1" check -q >/dev/null 2>&1 || true
        end=$(date +%s%N)
        echo $(((end - start) / 1000))
    done | sort -n | awk '{ a[NR] = $1 } END { printf "%.1f", ((NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) / 1000 }'
}

for name in sample gen; do
    root=$work/$name
    figures=$("$release"/examples/lsp_bench "$seedc" "$root" "$edits")
    check=$(check_ms "$root")
    bytes=$(du -sb "$root/data" | cut -f1)
    label=$([[ $name == sample ]] && echo "sample" || echo "$records records")
    echo "lsp ($label): $figures"
    awk -v f="$figures" -v c="$check" -v b="$bytes" -v l="$label" 'BEGIN {
        n = split(f, kv, " "); for (i = 1; i <= n; i++) { split(kv[i], p, "="); v[p[1]] = p[2] }
        printf "lsp (%s): edit -> diagnostics median %.1f ms (max %.1f) vs seedc check %.1f ms: %.2fx; first diagnostics %.0f ms\n",
            l, v["median_ms"], v["max_ms"], c, v["median_ms"] / c, v["first_ms"]
        printf "lsp (%s): peak RSS %.0f MB for %.1f MB of content: %.2fx\n", l, v["peak_rss_kb"] * 1024 / 1e6, b / 1e6, v["peak_rss_kb"] * 1024 / b }'
done
