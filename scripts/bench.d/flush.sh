#!/usr/bin/env bash
# Benchmark of `seedc flush` on a cache of 1,000,000 keys of which 100,000 match the
# collection's pattern, on the standalone Redis and on the 3-primary Redis Cluster of
# scripts/services, against the baseline in the same run (target: seedc <= 1x it):
#   standalone: redis-cli --scan --pattern P | xargs redis-cli unlink
#   cluster:    per primary, redis-cli --scan --pattern P on that node, each key
#               UNLINKed on that node by one redis-cli reading them from stdin (`xargs
#               redis-cli unlink` fails there: keys of several slots in one command are
#               CROSSSLOT, even on one node)
# redis-cli scans with its default COUNT (10; Debian's 7.0 redis-cli has no --count), seedc
# with COUNT 1000.
# Each figure is the best of three runs, each on a freshly loaded cache; the seedc side
# is a whole `seedc flush` (PostgreSQL session, outbox, lock, SCAN/UNLINK, version key).
#
#   scripts/bench.d/flush.sh
#   KEYS=100000 MATCHING=10000 scripts/bench.d/flush.sh
set -euo pipefail

cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")/../.."

keys=${KEYS:-1000000}
matching=${MATCHING:-100000}
work=$(mktemp -d "${TMPDIR:-/tmp}/seedc-bench-flush.XXXXXX")
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
psql_q() { PGOPTIONS="-c client_min_messages=warning" "$SEEDC_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }

# shellcheck source=scripts/bench.d/timing.bash
source "scripts/bench.d/timing.bash"
export CI=1

# A content root whose flush is one pattern, bench:items:*: deployed once, then its
# outbox row is set back to pending with just that pattern before each timed flush.
root=$work/content
mkdir -p "$root"
cp -r seedc.toml seedc.lock data schemas "$root"/
sed -i 's/^version_key = .*/version_key = "bench:version"\nprefix = "bench"/' "$root/seedc.toml"
grep -q '^prefix = "bench"' "$root/seedc.toml" || { echo "flush bench: seedc.toml has no [cache] version_key line to edit" >&2; exit 1; }
"$seedc" --root "$root" deploy -q --date 2026-01-25 >/dev/null
pending() {
    psql_q "$DATABASE_URL" -c "UPDATE seedc.flush_outbox SET keys = ARRAY['bench:items:*'], done_at = NULL WHERE deploy_id = (SELECT max(deploy_id) FROM seedc.flush_outbox)"
}

# RESP for SET of every key: matching ones `bench:items:N`, the others `other:N`.
python3 - "$keys" "$matching" "$work" <<'EOF'
import sys
keys, matching, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
names = [f"bench:items:{i}" for i in range(matching)] + [f"other:{i}" for i in range(keys - matching)]
def resp(k):
    return f"*3\r\n$3\r\nSET\r\n${len(k)}\r\n{k}\r\n$1\r\nx\r\n"
with open(f"{work}/all.resp", "w") as f:
    f.writelines(resp(k) for k in names)
# The same keys split by cluster slot (CRC16/XMODEM of the key, mod 16384), for loading each
# primary with the keys of its own slots.
table = []
for i in range(256):
    c = i << 8
    for _ in range(8):
        c = ((c << 1) ^ 0x1021) if c & 0x8000 else (c << 1)
    table.append(c & 0xFFFF)
def slot(k):
    b = k.encode()
    s, e = b.find(b"{"), -1
    if s >= 0:
        e = b.find(b"}", s + 1)
        if e > s + 1:
            b = b[s + 1:e]
    c = 0
    for x in b:
        c = ((c << 8) & 0xFFFF) ^ table[((c >> 8) ^ x) & 0xFF]
    return c % 16384
with open(f"{work}/slots.txt", "w") as f:
    f.writelines(f"{slot(k)} {k}\n" for k in names)
EOF

cluster_port=${SEEDC_REDIS_CLUSTER_URL##*:}; cluster_port=${cluster_port%/}
cluster_nodes() { redis-cli -p "$cluster_port" cluster nodes | awk '/master/ { split($2, a, "[:@]"); print a[2] }' | sort -u; }
# Per primary: its slot ranges, then a RESP file of the keys in them.
for port in $(cluster_nodes); do
    redis-cli -p "$cluster_port" cluster nodes | awk -v p=":$port@" 'index($2, p) { for (i = 9; i <= NF; i++) print $i }' >"$work/ranges.$port"
    awk -v ranges="$work/ranges.$port" '
        BEGIN { while ((getline r < ranges) > 0) { n = split(r, a, "-"); lo[++k] = a[1]; hi[k] = (n > 1 ? a[2] : a[1]) } }
        { for (i = 1; i <= k; i++) if ($1 >= lo[i] && $1 <= hi[i]) { printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\nx\r\n", length($2), $2; break } }
    ' "$work/slots.txt" >"$work/node.$port.resp"
done

standalone_port=$SEEDC_REDIS_PORT
load_standalone() {
    redis-cli -p "$standalone_port" flushall >/dev/null
    redis-cli -p "$standalone_port" --pipe <"$work/all.resp" >/dev/null
}
load_cluster() {
    local port
    for port in $(cluster_nodes); do
        redis-cli -p "$port" flushall >/dev/null
        redis-cli -p "$port" --pipe <"$work/node.$port.resp" >/dev/null
    done
}
count_matching() {
    local port n=0
    for port in "$@"; do
        n=$((n + $(redis-cli -p "$port" --scan --pattern 'bench:items:*' | wc -l)))
    done
    echo "$n"
}
count_all() {
    local port n=0
    for port in "$@"; do n=$((n + $(redis-cli -p "$port" dbsize))); done
    echo "$n"
}

baseline_standalone() {
    redis-cli -p "$standalone_port" --scan --pattern 'bench:items:*' | xargs redis-cli -p "$standalone_port" unlink
}
baseline_cluster() {
    local port
    for port in $(cluster_nodes); do
        redis-cli -p "$port" --scan --pattern 'bench:items:*' | sed 's/^/UNLINK /' | redis-cli -p "$port" >/dev/null
    done
}
seedc_flush() {
    "$seedc" --root "$root" flush -q --redis-url "$1"
}

# best of three, each on a freshly loaded cache; checks that every matching key went and
# only those.
measure() {
    local load=$1 ports=$2; shift 2
    local best=0 t left total expect=$((keys - matching))
    # seedc also sets the version key.
    [[ $1 == seedc_flush ]] && expect=$((expect + 1))
    for _ in 1 2 3; do
        $load
        pending
        t=$(timed "$@")
        # shellcheck disable=SC2086
        left=$(count_matching $ports); total=$(count_all $ports)
        if ((left != 0 || total != expect)); then
            echo "flush bench: $* left $left matching keys, $total keys in all" >&2
            exit 1
        fi
        if ((best == 0 || t < best)); then best=$t; fi
    done
    echo "$best"
}

report() {
    awk -v name="$1" -v s="$2" -v b="$3" 'BEGIN { printf "%-11s seedc flush %6.0f ms, baseline %6.0f ms: %.2fx the baseline (target <= 1x)\n", name, s / 1e6, b / 1e6, s / b }'
}

echo "flush: $keys keys, $matching matching bench:items:*"
cluster_ports=$(cluster_nodes | tr '\n' ' ')
b=$(measure load_standalone "$standalone_port" baseline_standalone)
s=$(measure load_standalone "$standalone_port" seedc_flush "$REDIS_URL")
report standalone "$s" "$b"
b=$(measure load_cluster "$cluster_ports" baseline_cluster)
s=$(measure load_cluster "$cluster_ports" seedc_flush "$SEEDC_REDIS_CLUSTER_URL")
report cluster "$s" "$b"
