#!/usr/bin/env bash
# Benchmark of `seedc publish` to the S3-protocol server of scripts/services (moto): an
# out/ of 2,000 bundles of ~50 KB (plus manifests and index), against a baseline upload of
# the same files in the same run by boto3's transfer manager (`upload_file` semantics,
# s3transfer's TransferManager, max_concurrency and the connection pool set to seedc's
# `[publish] concurrency`, 32). Targets: seedc's first publish >= 1x the baseline's speed
# (time <= the baseline's), and a no-op republish <= 5% of the first publish.
# Each figure is the best of three, each first publish into a fresh prefix; seedc's peak
# RSS is reported too.
#
#   scripts/bench.d/publish.sh
#   BUNDLES=500 scripts/bench.d/publish.sh
set -euo pipefail

cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")/../.."

bundles=${BUNDLES:-2000}
work=$(mktemp -d "${TMPDIR:-/tmp}/seedc-bench-publish.XXXXXX")
services=$(mktemp -u "${TMPDIR:-/tmp}/seedc-bench-svc.XXXXXX")
cleanup() {
    scripts/services stop "$services" >/dev/null 2>&1 || true
    rm -rf -- "$work"
}
trap cleanup EXIT

cargo build --release --quiet
release=$(realpath -m -- "${CARGO_TARGET_DIR:-target}")/release
seedc=$release/seedc
services_env=$(scripts/services start "$services" 2>"$work/services.log") || { cat "$work/services.log" >&2; exit 1; }
eval "$services_env"
py=${SEEDC_MOTO_PY:-$services/py}   # boto3 came with moto

# shellcheck source=scripts/bench.d/timing.bash
source "scripts/bench.d/timing.bash"
export CI=1

# The sample root plus $bundles ARTIFACT packs of ~50 KB each (the core pack's artifacts,
# repeated under new ids).
root=$work/content
mkdir -p "$root"
cp -r seedc.toml seedc.lock data schemas "$root"/
python3 - "$root" "$bundles" <<'EOF'
import json, sys
root, n = sys.argv[1], int(sys.argv[2])
core = json.load(open(f"{root}/data/packs/artifact.core.json"))
for i in range(n):
    pack = dict(core, pack_id=f"artifact.bench{i}", title=f"Bench artifacts {i}")
    pack["artifacts"] = [dict(a, id=f"{a['id']}_{k}", name=f"{a['name']} {i}.{k}") for k in range(22) for a in core["artifacts"]]
    with open(f"{root}/data/packs/artifact.bench{i}.json", "w") as f:
        json.dump(pack, f, indent=2)
EOF
printf '\n[publish]\nendpoint = "%s"\n' "$SEEDC_S3_ENDPOINT" >>"$root/seedc.toml"
"$seedc" --root "$root" build -q --date 2026-01-25 >/dev/null
files=$(find "$root/out" -name '*.json' -not -path '*/.cache/*' | wc -l)
bytes=$(find "$root/out" -name '*.json' -not -path '*/.cache/*' -printf '%s\n' | awk '{ s += $1 } END { print s }')

baseline() {
    PYTHONPATH="$py" python3 -S - "$root/out" "$SEEDC_S3_ENDPOINT" "$SEEDC_S3_BUCKET" "$1" <<'EOF'
import os, sys
import boto3
from botocore.config import Config
from boto3.s3.transfer import TransferConfig
from s3transfer.manager import TransferManager
out, endpoint, bucket, prefix = sys.argv[1:]
client = boto3.client("s3", endpoint_url=endpoint, config=Config(max_pool_connections=32))
paths = []
for d, _, names in os.walk(out):
    if "/.cache" in d:
        continue
    paths += [os.path.join(d, n) for n in names if n.endswith(".json")]
extra = {"ContentType": "application/json", "CacheControl": "public, max-age=31536000, immutable"}
with TransferManager(client, TransferConfig(max_concurrency=32)) as tm:
    futures = [tm.upload(p, bucket, f"{prefix}/{os.path.relpath(p, out)}", extra_args=extra) for p in paths]
    for f in futures:
        f.result()
EOF
}
seedc_publish() {
    "$seedc" --root "$root" publish -q "s3://$SEEDC_S3_BUCKET/$1"
}
count() {
    PYTHONPATH="$py" python3 -S - "$SEEDC_S3_ENDPOINT" "$SEEDC_S3_BUCKET" "$1" <<'EOF'
import sys
import boto3
endpoint, bucket, prefix = sys.argv[1:]
pages = boto3.client("s3", endpoint_url=endpoint).get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/")
print(sum(p.get("KeyCount", 0) for p in pages))
EOF
}

# best of three first uploads, each into a fresh prefix; checks every file landed.
measure() {
    local fn=$1 best=0 t n i
    for i in 1 2 3; do
        t=$(timed "$fn" "$fn-$i")
        n=$(count "$fn-$i")
        ((n == files)) || { echo "publish bench: $fn-$i holds $n objects, not $files" >&2; exit 1; }
        if ((best == 0 || t < best)); then best=$t; fi
    done
    echo "$best"
}

echo "publish: $files files ($(awk -v b="$bytes" 'BEGIN { printf "%.1f MB", b / 1e6 }')), $bundles bundles of ~$((bytes / files / 1000)) KB"
b=$(measure baseline)
s=$(measure seedc_publish)
noop=$(best_of_3 seedc_publish seedc_publish-1)
# The floor of any no-op: one listing of the prefix, which the server answers at its own
# speed (timed inside one boto3 process, best of three, the client's start left out).
listing=$(PYTHONPATH="$py" python3 -S - "$SEEDC_S3_ENDPOINT" "$SEEDC_S3_BUCKET" seedc_publish-1 <<'EOF'
import sys, time
import boto3
endpoint, bucket, prefix = sys.argv[1:]
client = boto3.client("s3", endpoint_url=endpoint)
best = None
for _ in range(3):
    start = time.perf_counter_ns()
    n = sum(p.get("KeyCount", 0) for p in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/"))
    t = time.perf_counter_ns() - start
    best = t if best is None else min(best, t)
print(best)
EOF
)
rss=$( { /usr/bin/time -f '%M' "$seedc" --root "$root" publish -q "s3://$SEEDC_S3_BUCKET/seedc_publish-rss" >/dev/null; } 2>&1 | tail -n 1)
awk -v s="$s" -v b="$b" 'BEGIN { printf "first publish: seedc %6.0f ms, baseline (boto3 transfer manager) %6.0f ms: %.2fx the baseline speed (target >= 1x)\n", s / 1e6, b / 1e6, b / s }'
awk -v n="$noop" -v s="$s" -v l="$listing" 'BEGIN { printf "no-op republish: %6.0f ms, %.1f%% of the first publish (target <= 5%%); listing the prefix alone %.0f ms = %.1f%%\n", n / 1e6, 100 * n / s, l / 1e6, 100 * l / s }'
echo "seedc peak RSS (first publish): $((rss / 1024)) MiB"
