#!/usr/bin/env bash
# Benchmark of `seedc diff` on generated content (default 200k records): a copy of the
# content with ~2% of the records changed (hp + 1) and one record added per seed file is
# diffed against the original; the figure is the diff's time over `seedc check` of one
# side, measured in the same run (target: < 2x, though diff checks both sides). Also times
# the same diff with the old side read from a git revision (objects, no checkout).
#
#   scripts/bench.d/diff.sh
#   RECORDS=20000 scripts/bench.d/diff.sh
#   SEEDC_BENCH_CONTENT=DIR scripts/bench.d/diff.sh   # measure an existing content root (copied)
set -euo pipefail

cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")/../.."

records=${RECORDS:-200000}
work=$(mktemp -d "${TMPDIR:-/tmp}/seedc-bench-diff.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

cargo build --release --quiet
release=$(realpath -m -- "${CARGO_TARGET_DIR:-target}")/release
seedc=$release/seedc
base=$work/base
head=$work/head
if [[ -n ${SEEDC_BENCH_CONTENT:-} ]]; then
    cp -R -- "$SEEDC_BENCH_CONTENT" "$base"
    rm -rf -- "$base/out"
else
    cargo run --release --quiet --example gen -- --out "$base" --records "$records" --packs 4
fi
cp -R -- "$base" "$head"
# The lock (if any) pins versions: without one, a change needs no version bump.
rm -f -- "$base/seedc.lock" "$head/seedc.lock"
# Every 50th record's hp goes up by one; each seed file gains a copy of its last record.
python3 - "$head"/data/seeds/*.json <<'PY'
import json, sys
for path in sys.argv[1:]:
    with open(path) as f:
        doc = json.load(f)
    data = doc["data"]
    for i, record in enumerate(data):
        if i % 50 == 0 and isinstance(record.get("hp"), int):
            record["hp"] += 1
    if data and "id" in data[-1]:
        extra = dict(data[-1])
        extra["id"] = f"{extra['id']}_bench"
        data.append(extra)
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
PY

# Runs "$@" quietly three times; prints the best wall time and the best CPU time (user +
# system, the figure least disturbed by other work on a shared machine), in ms.
best_of_3() {
    local best_wall=0 best_cpu=0 out wall cpu
    for _ in 1 2 3; do
        out=$( { TIMEFORMAT='%R %U %S'; time "$@" >/dev/null 2>&1; } 2>&1 ) || true
        read -r wall cpu < <(awk '{ printf "%d %d\n", $1 * 1000, ($2 + $3) * 1000 }' <<<"$out")
        if ((best_wall == 0 || wall < best_wall)); then best_wall=$wall; fi
        if ((best_cpu == 0 || cpu < best_cpu)); then best_cpu=$cpu; fi
    done
    echo "$best_wall $best_cpu"
}

export CI=1
"$seedc" --root "$head" check -q >/dev/null || { echo "diff: the modified copy does not check" >&2; "$seedc" --root "$head" check | tail -5 >&2; exit 1; }
summary=$("$seedc" --root "$head" diff "$base" --format json | grep -o '"summary":{[^}]*}')
echo "diff: $summary"
read -r check check_cpu < <(best_of_3 "$seedc" --root "$head" check -q)
read -r diff diff_cpu < <(best_of_3 "$seedc" --root "$head" diff "$base" -q)

# The same diff with the old side read from git objects.
git -C "$work" init -q
cp -R -- "$base/." "$work/repo-content" 2>/dev/null || true
git -C "$work" add -A repo-content >/dev/null 2>&1
git -C "$work" -c user.name=bench -c user.email=bench@example.invalid commit -q -m base
rm -rf -- "$work/repo-content" && cp -R -- "$head" "$work/repo-content"
read -r gitdiff gitdiff_cpu < <(best_of_3 "$seedc" --root "$work/repo-content" diff HEAD -q)

awk -v c="$check" -v cc="$check_cpu" -v d="$diff" -v dc="$diff_cpu" -v g="$gitdiff" -v gc="$gitdiff_cpu" -v r="$records" 'BEGIN {
    printf "diff: %d records: check %d ms (cpu %d ms); diff of two directories %d ms (cpu %d ms) = %.2fx check wall, %.2fx cpu (target < 2x)\n", r, c, cc, d, dc, d / c, dc / cc
    printf "diff: against a git revision (git objects, no checkout) %d ms (cpu %d ms) = %.2fx check wall, %.2fx cpu\n", g, gc, g / c, gc / cc }'
