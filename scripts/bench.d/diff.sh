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
seedc=$PWD/target/release/seedc
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

now() { date +%s%N; }
timed() {
    local start end
    start=$(now)
    "$@" >/dev/null 2>&1 || true
    end=$(now)
    echo $((end - start))
}
best_of_3() {
    local best=0 t
    for _ in 1 2 3; do
        t=$(timed "$@")
        if ((best == 0 || t < best)); then best=$t; fi
    done
    echo "$best"
}

export CI=1
"$seedc" --root "$head" check -q >/dev/null || { echo "diff: the modified copy does not check" >&2; "$seedc" --root "$head" check | tail -5 >&2; exit 1; }
summary=$("$seedc" --root "$head" diff "$base" --format json | grep -o '"summary":{[^}]*}')
echo "diff: $summary"
check=$(best_of_3 "$seedc" --root "$head" check -q)
diff=$(best_of_3 "$seedc" --root "$head" diff "$base" -q)

# The same diff with the old side read from git objects.
git -C "$work" init -q
cp -R -- "$base/." "$work/repo-content" 2>/dev/null || true
git -C "$work" add -A repo-content >/dev/null 2>&1
git -C "$work" -c user.name=bench -c user.email=bench@example.invalid commit -q -m base
rm -rf -- "$work/repo-content" && cp -R -- "$head" "$work/repo-content"
gitdiff=$(best_of_3 "$seedc" --root "$work/repo-content" diff HEAD -q)

awk -v c="$check" -v d="$diff" -v g="$gitdiff" -v r="$records" 'BEGIN {
    printf "diff: %d records: check %.0f ms, diff of two directories %.0f ms = %.2fx check (target < 2x)\n", r, c / 1e6, d / 1e6, d / c
    printf "diff: diff against a git revision (git objects, no checkout) %.0f ms = %.2fx check\n", g / 1e6, g / c }'
