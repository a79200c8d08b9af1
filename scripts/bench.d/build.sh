#!/usr/bin/env bash
# Benchmark of `seedc build` on generated content (default ~2,000 packs, 200k records):
#   1. a no-op rebuild against the cold build it follows (target: <= 10% of cold);
#   2. bundle hashing: `seedc verify` re-hashing every bundle against `sha256sum` of the
#      same files, in the same run (target: >= 1 GB/s).
# Figures are ratios against a baseline measured in the same run, never absolute gates.
#
#   scripts/bench.d/build.sh                        # generate content, then measure
#   RECORDS=20000 PACKS=200 scripts/bench.d/build.sh
#   SEEDC_BENCH_CONTENT=DIR scripts/bench.d/build.sh   # measure an existing content root (copied)
set -euo pipefail

cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")/../.."

records=${RECORDS:-200000}
packs=${PACKS:-2000}
work=$(mktemp -d "${TMPDIR:-/tmp}/seedc-bench-build.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

cargo build --release --quiet
release=$(realpath -m -- "${CARGO_TARGET_DIR:-target}")/release
seedc=$release/seedc
root=$work/content
if [[ -n ${SEEDC_BENCH_CONTENT:-} ]]; then
    cp -R -- "$SEEDC_BENCH_CONTENT" "$root"
    rm -rf -- "$root/out" "$root/seedc.lock"
else
    cargo run --release --quiet --example gen -- --out "$root" --records "$records" --packs "$packs"
fi

# shellcheck source=scripts/bench.d/timing.bash
source "scripts/bench.d/timing.bash"

export CI=1 # no progress bar in the figures
cold=$(timed "$seedc" --root "$root" build -q --date 2026-01-25)
noop=$(best_of_3 "$seedc" --root "$root" build -q --date 2026-01-25)
report=$("$seedc" --root "$root" build --date 2026-01-25 --format json)
case $report in
    *'"checked":false'*'"bundles_written":0'*) ;;
    *) echo "build: the rebuild was not a no-op: $report" >&2; exit 1 ;;
esac
awk -v c="$cold" -v n="$noop" -v cs="$(ms "$cold")" -v ns="$(ms "$noop")" 'BEGIN {
    printf "build: cold %s, no-op rebuild %s = %.1f%% of cold (target <= 10%%)\n", cs, ns, 100 * n / c }'

bundles=$root/out/packs/sha256
count=$(find "$bundles" -name '*.json' | wc -l)
bytes=$(find "$bundles" -name '*.json' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
# Enough rounds over the bundles to hash ~512 MB, so timer and start-up noise vanish.
rounds=$(awk -v b="$bytes" 'BEGIN { r = int(512e6 / (b + 1)) + 1; print r }')
cargo build --release --quiet --example hash_bundles
read -r hashed single parallel < <("$release"/examples/hash_bundles "$bundles" "$rounds" | tr '=' ' ' | awk '{ print $2, $4, $6 }')
# sha256sum over the same files, the same number of times, from the page cache.
sha=$(timed sh -c 'for _ in $(seq "$2"); do find "$1" -name "*.json" -print0 | xargs -0 sha256sum; done' _ "$bundles" "$rounds")
# And sha256sum's raw speed: the same bytes as one stream, so no per-file cost.
find "$bundles" -name '*.json' -print0 | xargs -0 cat >"$work/bundles.cat"
raw=$(timed sh -c 'for _ in $(seq "$2"); do printf "%s\0" "$1"; done | xargs -0 sha256sum' _ "$work/bundles.cat" "$rounds")
verify=$(best_of_3 "$seedc" --root "$root" verify -q)
awk -v b="$bytes" -v n="$count" -v h="$hashed" -v s1="$single" -v p="$parallel" -v s="$sha" -v r="$raw" -v v="$verify" 'BEGIN {
    printf "build: bundle hashing (%d bundles, %.1f MB, %.0f MB hashed): seedc %.2f GB/s on one thread, %.2f GB/s in parallel (target >= 1 GB/s)\n",
        n, b / 1e6, h / 1e6, h / s1, h / p
    printf "build: sha256sum of the same bytes: %.2f GB/s as files (seedc %.1fx), %.2f GB/s as one stream (seedc one thread %.2fx)\n",
        h / s, (h / p) / (h / s), h / r, (h / s1) / (h / r)
    printf "build: seedc verify of the whole out/: %.0f ms\n", v / 1e6 }'
