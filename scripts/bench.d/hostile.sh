#!/usr/bin/env bash
# Benchmark of `seedc check` on hostile content (issue 16): a content root of RECORDS
# records (default 100k) with errors in every record (a key repeated and an unknown,
# misspelt field: duplicate-key and schema-violation with a "did you mean"), against the
# same root undamaged, in the same run. Targets: the damaged check well under 5 s, at most
# a few times the clean one, with bounded human output (50 per code and a count of the
# rest) while `--format json` carries every diagnostic. Reports peak RSS too.
#
#   scripts/bench.d/hostile.sh
#   RECORDS=20000 scripts/bench.d/hostile.sh
set -euo pipefail

cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")/../.."
source scripts/bench.d/timing.bash

records=${RECORDS:-100000}
work=$(mktemp -d "${TMPDIR:-/tmp}/seedc-bench-hostile.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

cargo build --release --quiet --bin seedc --example gen
release=$(realpath -m -- "${CARGO_TARGET_DIR:-target}")/release
seedc=$release/seedc
export CI=1 # no progress bar in the figures

clean=$work/clean
"$release"/examples/gen --out "$clean" --records "$records" >/dev/null 2>&1
"$seedc" --root "$clean" check -q || { echo "hostile: the generated content does not check" >&2; exit 1; }
damaged=$work/damaged
cp -r -- "$clean" "$damaged"
# Every record of the generator starts its members with `"id"` at six spaces of indent.
sed -i 's/^      "id": /      "nmae": 1, "nmae": 2, "id": /' "$damaged"/data/seeds/*.json
expected=$((2 * records))

# Peak resident set in KiB of one run (GNU time when installed, else empty).
peak_kib() {
    if [[ -x /usr/bin/time ]]; then
        /usr/bin/time -f '%M' -o "$work/rss" "$@" >/dev/null 2>&1 || true
        tail -n 1 "$work/rss"
    fi
}

"$seedc" --root "$damaged" check --format json >"$work/json" || true
errors=$(tail -n 1 "$work/json" | sed -n 's/.*"errors":\([0-9]*\).*/\1/p')
lines=$(($(wc -l <"$work/json") - 1))
"$seedc" --root "$damaged" check --color never >"$work/human" || true
human_bytes=$(wc -c <"$work/human")
if ((errors < expected || lines != errors)); then
    echo "hostile: expected $expected errors, each a JSON line; got $errors errors in $lines lines" >&2
    exit 1
fi

clean_ns=$(best_of_3 "$seedc" --root "$clean" check -q)
human_ns=$(best_of_3 "$seedc" --root "$damaged" check --color never)
json_ns=$(best_of_3 "$seedc" --root "$damaged" check --format json)
clean_rss=$(peak_kib "$seedc" --root "$clean" check -q)
damaged_rss=$(peak_kib "$seedc" --root "$damaged" check --format json)

echo "hostile: $records records, $errors errors ($expected planted)"
echo "hostile: clean check $(ms "$clean_ns"); damaged, human $(ms "$human_ns") ($(awk -v a="$human_ns" -v b="$clean_ns" 'BEGIN { printf "%.1f", a / b }')x clean), json $(ms "$json_ns") ($(awk -v a="$json_ns" -v b="$clean_ns" 'BEGIN { printf "%.1f", a / b }')x clean); target < 5000 ms"
echo "hostile: human output $human_bytes bytes (50 per code, then a count); json $(wc -c <"$work/json") bytes, one line per diagnostic"
if [[ -n $clean_rss ]]; then
    echo "hostile: peak RSS clean $((clean_rss / 1024)) MiB, damaged (json) $((damaged_rss / 1024)) MiB"
fi
