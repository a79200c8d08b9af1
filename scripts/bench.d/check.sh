#!/usr/bin/env bash
# Benchmark of `seedc check`, every figure a ratio against a baseline measured in the same
# run (issue 15's and issue 30's targets in brackets). Every figure is taken twice, as users
# run seedc: on a content root with its seedc.lock (written by `seedc build`, `out/` then
# removed: each pinned collection's file is compared with the text its lock pins, and
# hashed for the version-bump rule only if it differs) and on the same root without one.
# Section 1 also times a lock that pins no text (one written before the pins came, which
# costs what a lock costs when every file was edited since it was written: every record
# canonicalized and hashed):
#   1. on generated content (default 200k records, ~94 MB): throughput against serde_json
#      alone parsing the same files into Values on every core (examples/parse_baseline.rs,
#      plain serde_json with the system allocator) [>= 60%], and the locked check against
#      the unlocked one [<= 1.15x];
#   2. against ajv, the validator people compare us with: one node process that compiles
#      every schema (a copy with `$id`s added, nothing else changed: ajv resolves relative
#      `$ref`s only between schemas that carry one) and validates every file against its
#      `$schema`, with the options of `ajv validate --spec=draft2020 -c ajv-formats
#      --all-errors` [seedc >= 3x faster, with a lock too]. ajv-cli and ajv-formats are
#      installed with npm into a temp dir; without npm the line says so;
#   3. both cores: 2 threads against 1 (RAYON_NUM_THREADS) on the locked root [<= 0.6x];
#   4. peak RSS of check against the size of its input, with and without the lock [<= 1.5x];
#   5. on the sample content of this repository (which has its lock): the median and the
#      minimum of many runs, against `true` as the floor of starting a process [median
#      <= 10 ms], and 2 threads against 1 [never slower];
#   6. the shipped binary (the release profile: no debuginfo): its size, and the start of
#      `seedc --version` against `true`.
# Wall times are medians of RUNS runs (default 10); the commands compared take turns, so the
# load of the shared machine weighs on every side alike.
#
#   scripts/bench.d/check.sh
#   RECORDS=20000 RUNS=5 scripts/bench.d/check.sh
#   SEEDC_BENCH_CONTENT=DIR scripts/bench.d/check.sh    # measure an existing content root
#   NO_AJV=1 scripts/bench.d/check.sh                   # skip the ajv comparison
set -euo pipefail

cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")/../.."

records=${RECORDS:-200000}
runs=${RUNS:-10}
work=$(mktemp -d "${TMPDIR:-/tmp}/seedc-bench-check.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

cargo build --release --quiet --bin seedc --example parse_baseline --example gen
release=$(realpath -m -- "${CARGO_TARGET_DIR:-target}")/release
seedc=$release/seedc
baseline=$release/examples/parse_baseline
if [[ -n ${SEEDC_BENCH_CONTENT:-} ]]; then
    source_root=$SEEDC_BENCH_CONTENT
else
    source_root=$work/content
    "$release"/examples/gen --out "$source_root" --records "$records" >/dev/null 2>&1
fi
export CI=1 # no progress bar in the figures

# The two roots share the files (hard links; every write seedc makes is a new file renamed
# into place): `root` without seedc.lock, `locked` with it (the content's own, else the one
# `seedc build` writes), neither with out/.
root=$work/nolock
locked=$work/locked
cp -al -- "$source_root" "$root"
cp -al -- "$source_root" "$locked"
rm -rf -- "$root/seedc.lock" "$root/out" "$locked/out"
if [[ ! -f $locked/seedc.lock ]]; then
    "$seedc" --root "$locked" build -q >/dev/null || { echo "check: seedc build failed on the content" >&2; exit 1; }
    rm -rf -- "$locked/out"
fi
# `unpinned`: the same lock without its text pins (a new file: the lock is a hard link).
unpinned=$work/unpinned
cp -al -- "$locked" "$unpinned"
rm -f -- "$unpinned/seedc.lock"
python3 - "$locked/seedc.lock" "$unpinned/seedc.lock" <<'PY'
import json, sys
with open(sys.argv[1]) as f:
    lock = json.load(f)
for c in lock["collections"].values():
    c.pop("text", None)
with open(sys.argv[2], "w") as f:
    json.dump(lock, f, indent=2)
PY

# Every one must succeed on this content, or the figures mean nothing.
for r in "$root" "$locked" "$unpinned"; do
    "$seedc" --root "$r" check -q || { echo "check: seedc check failed on $r" >&2; exit 1; }
done
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

q() { printf '%q' "$1"; }

# The minimum and the median wall time in nanoseconds of MIN_RUNS (default 60) runs of a
# program, started directly, with no shell in between (hyperfine-style: hyperfine subtracts
# the start of its shell; this has none to subtract), on one line: the minimum is "how fast
# can it be", least disturbed by the load of the machine; the median what a user waits.
# Leading NAME=value words are set in its environment.
min_median_ns() {
    python3 - "$@" <<'PY'
import os, statistics, subprocess, sys, time
env, args = dict(os.environ), sys.argv[1:]
while args and "=" in args[0] and not args[0].startswith("/"):
    name, value = args.pop(0).split("=", 1)
    env[name] = value
def once():
    start = time.perf_counter_ns()
    subprocess.run(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter_ns() - start
once()
times = [once() for _ in range(int(os.environ.get("MIN_RUNS", "60")))]
print(min(times), int(statistics.median(times)))
PY
}

check_cmd="$(q "$seedc") --root $(q "$locked") check -q"
nolock_cmd="$(q "$seedc") --root $(q "$root") check -q"
unpinned_cmd="$(q "$seedc") --root $(q "$unpinned") check -q"
{ read -r check_ns; read -r nolock_ns; read -r parse_ns; read -r unpinned_ns; } < <(alternating_medians_ns "$check_cmd" "$nolock_cmd" "$(q "$baseline") $(q "$root")" "$unpinned_cmd")
awk -v b="$bytes" -v c="$check_ns" -v n="$nolock_ns" -v p="$parse_ns" -v r="$records" -v u="$unpinned_ns" 'BEGIN {
    printf "check: %d records, %.1f MB of seed files and packs\n", r, b / 1e6
    printf "check: with seedc.lock %.0f ms = %.0f MB/s, without %.0f ms = %.0f MB/s; serde_json parse alone %.0f ms = %.0f MB/s\n",
        c / 1e6, b / c * 1e3, n / 1e6, b / n * 1e3, p / 1e6, b / p * 1e3
    printf "check: against the parse alone %.0f%% with the lock, %.0f%% without (target >= 60%%); with the lock %.2fx the time without (target <= 1.15x)\n",
        100 * p / c, 100 * p / n, c / n
    printf "check: with a seedc.lock that pins no text (every record hashed) %.0f ms: %.2fx the time without\n", u / 1e6, u / n }'

# 2. ajv.
if [[ -n ${NO_AJV:-} ]]; then
    echo "check: ajv comparison skipped (NO_AJV is set)"
elif ! command -v npm >/dev/null || ! command -v node >/dev/null; then
    echo "check: ajv comparison skipped: npm and node are not installed"
elif ! npm install --silent --no-audit --no-fund --prefix "$work/ajv" ajv-cli ajv-formats >"$work/npm.log" 2>&1; then
    echo "check: ajv comparison skipped: npm could not install ajv-cli and ajv-formats ($(tail -n 1 "$work/npm.log"))"
else
    # The schemas with an `$id` each (their path under file:///content/), nothing else changed.
    python3 - "$root" "$work/ajv/schemas.json" <<'PY'
import json, os, sys
root, out = sys.argv[1], sys.argv[2]
schemas = []
for dirpath, _, files in os.walk(os.path.join(root, "schemas")):
    for name in sorted(files):
        if name.endswith(".json"):
            path = os.path.join(dirpath, name)
            with open(path) as f:
                schema = json.load(f)
            schema["$id"] = "file:///content/" + os.path.relpath(path, root).replace(os.sep, "/")
            schemas.append(schema)
with open(out, "w") as f:
    json.dump(schemas, f)
PY
    cat >"$work/ajv/check.js" <<'JS'
// Every seed file and pack of a content root validated by ajv against its `$schema`, in one
// process, as `ajv validate --spec=draft2020 -c ajv-formats --all-errors` would.
const fs = require("fs"), path = require("path");
const Ajv2020 = require("ajv/dist/2020"), addFormats = require("ajv-formats");
const [root, schemasFile] = process.argv.slice(2);
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
for (const schema of JSON.parse(fs.readFileSync(schemasFile, "utf8"))) ajv.addSchema(schema);
let files = 0, invalid = 0;
for (const dir of ["data/seeds", "data/packs"]) {
  for (const name of fs.readdirSync(path.join(root, dir)).sort()) {
    if (!name.endsWith(".json")) continue;
    const doc = JSON.parse(fs.readFileSync(path.join(root, dir, name), "utf8"));
    const id = new URL(doc.$schema, `file:///content/${dir}/${name}`).href;
    const validate = ajv.getSchema(id);
    if (!validate) { console.error(`no schema ${id}`); process.exit(2); }
    files++;
    if (!validate(doc)) invalid++;
  }
}
console.log(`files=${files} invalid=${invalid}`);
process.exit(invalid ? 1 : 0);
JS
    ajv_cmd="node $(q "$work/ajv/check.js") $(q "$root") $(q "$work/ajv/schemas.json")"
    if ! bash -c "$ajv_cmd" >"$work/ajv.out" 2>&1; then
        echo "check: ajv comparison failed: ajv did not accept the content ($(tail -n 1 "$work/ajv.out"))"
    else
        { read -r seedc_ns; read -r nolock_ns; read -r ajv_ns; } < <(alternating_medians_ns "$check_cmd" "$nolock_cmd" "$ajv_cmd")
        awk -v s="$seedc_ns" -v n="$nolock_ns" -v a="$ajv_ns" 'BEGIN {
            printf "check: seedc check %.0f ms with seedc.lock, %.0f ms without; ajv %.0f ms (%s): seedc is %.2fx faster with the lock, %.2fx without (target >= 3x)\n",
                s / 1e6, n / 1e6, a / 1e6, "'"$(tail -n 1 "$work/ajv.out")"'", a / s, a / n }'
    fi
fi

# 3. Both cores.
{ read -r two_ns; read -r one_ns; } < <(alternating_medians_ns "$check_cmd" "RAYON_NUM_THREADS=1 $check_cmd")
awk -v t="$two_ns" -v o="$one_ns" 'BEGIN {
    printf "check: %.0f ms on every core, %.0f ms on one thread: %.2fx (target <= 0.6x)\n", t / 1e6, o / 1e6, t / o }'

# 4. Peak memory.
for r in "$locked" "$root"; do
    /usr/bin/time -f '%M' -o "$work/rss" "$seedc" --root "$r" check -q >/dev/null 2>&1 || true
    tail -n 1 "$work/rss"
done >"$work/rss_both"
{ read -r rss_kb; read -r nolock_kb; } <"$work/rss_both"
awk -v k="$rss_kb" -v n="$nolock_kb" -v b="$bytes" 'BEGIN {
    printf "check: peak RSS %.0f MB with seedc.lock, %.0f MB without, for %.1f MB of input: %.2fx and %.2fx (target <= 1.5x)\n",
        k * 1024 / 1e6, n * 1024 / 1e6, b / 1e6, k * 1024 / b, n * 1024 / b }'

# 5. The sample content.
read -r sample_min sample_median < <(min_median_ns "$seedc" --root . check -q)
read -r floor_min _ < <(min_median_ns "$(type -P true)")
read -r _ sample_one < <(min_median_ns RAYON_NUM_THREADS=1 "$seedc" --root . check -q)
awk -v s="$sample_min" -v m="$sample_median" -v f="$floor_min" -v o="$sample_one" 'BEGIN {
    printf "check: sample content (with its lock) %.1f ms median, %.1f ms min (`true` takes %.1f ms; target: median <= 10 ms); on one thread %.1f ms median: %.2fx (target <= 1x)\n",
        m / 1e6, s / 1e6, f / 1e6, o / 1e6, m / o }'

# 6. The shipped binary.
size=$(wc -c <"$seedc")
read -r version_ns _ < <(min_median_ns "$seedc" --version)
awk -v b="$size" -v v="$version_ns" -v f="$floor_min" 'BEGIN {
    printf "check: release binary %.1f MB (no debuginfo; `--profile release-debug` keeps line tables); `seedc --version` %.1f ms (min; `true` %.1f ms)\n",
        b / 1e6, v / 1e6, f / 1e6 }'
