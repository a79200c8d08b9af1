#!/usr/bin/env bash
# Benchmark of `seedc check` of the sample content under Wine: the Windows release binary
# (cross-built by scripts/windows) against the Linux release binary on the same machine
# and files [issue 29: within 3x]. Reported, not asserted.
#
# Every process under Wine first pays Wine's own start (its loader, ntdll, the wineserver,
# the DLLs it maps), which no Windows program avoids; on Windows itself that start is a
# few milliseconds. So a floor is measured under the same Wine: `floor.exe`, an empty Rust
# program cross-built the same way (same target, standard library, page-aligned file as
# build.rs links seedc.exe, and the ProcessPrng shim beside it), and `floor-tls.exe`, the same importing crypt32 as seedc's TLS stack does
# (Wine's crypt32 brings user32 and its window station in). Linux gets its own empty
# program. A wineserver is kept running (`-p`), as it is while a user works. Reported:
#   - the issue's figure: the Wine check over the Linux check, whole processes;
#   - where the Wine time goes: the floors, `seedc --version` (seedc's start), the check;
#   - seedc's own time: each check less its platform's floor (the TLS floor under Wine),
#     and their ratio.
# Each figure is the median of RUNS rounds (default 21), every command once a round.
#
#   scripts/bench.d/wine.sh
set -euo pipefail

cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")/../.."

work=$(mktemp -d "${TMPDIR:-/tmp}/seedc-bench-wine.XXXXXX")
cleanup() { scripts/windows stop "$work" || true; rm -rf -- "$work"; }
trap cleanup EXIT

cargo build --release --quiet --bin seedc
linux=$(realpath -m -- "${CARGO_TARGET_DIR:-target}")/release/seedc
eval "$(SEEDC_WINDOWS_PROFILE=release scripts/windows "$work")"
export CI=1

# The floors: empty programs, optimised as the release profile is.
printf 'fn main() {}\n' >"$work/floor.rs"
cat >"$work/floor-tls.rs" <<'RS'
// Imports crypt32 as seedc does (through native-tls), without calling it.
#[link(name = "crypt32")]
unsafe extern "system" {
    fn CertCloseStore(store: *mut core::ffi::c_void, flags: u32) -> i32;
}
fn main() {
    std::hint::black_box(CertCloseStore as *const () as usize);
}
RS
rustc --edition 2024 -C opt-level=3 -o "$work/floor" "$work/floor.rs"
for name in floor floor-tls; do
    rustc --edition 2024 -C opt-level=3 --target x86_64-pc-windows-gnu -C link-arg=-Wl,--file-alignment=4096 -o "$work/$name.exe" "$work/$name.rs"
done
# A wineserver of its own that stays up between runs (the first run boots the prefix).
"$SEEDC_WINESERVER" -k 2>/dev/null || true
"$SEEDC_WINESERVER" -p
"$SEEDC_WINE" "$SEEDC_WINE_EXE" check -q || { echo "wine: seedc.exe check failed on the sample" >&2; exit 1; }

python3 - "$linux" "$SEEDC_WINE" "$SEEDC_WINE_EXE" "$work" <<'PY'
import os, statistics, subprocess, sys, time
linux, wine, exe, work = sys.argv[1:]
commands = {
    "linux floor": [f"{work}/floor"],
    "linux --version": [linux, "--version"],
    "linux check": [linux, "check", "-q"],
    "wine floor": [wine, f"{work}/floor.exe"],
    "wine floor+crypt32": [wine, f"{work}/floor-tls.exe"],
    "wine --version": [wine, exe, "--version"],
    "wine check": [wine, exe, "check", "-q"],
}
def once(cmd):
    start = time.perf_counter_ns()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return (time.perf_counter_ns() - start) / 1e6
for cmd in commands.values():
    once(cmd)
times = {name: [] for name in commands}
for _ in range(int(os.environ.get("RUNS", "21"))):
    for name, cmd in commands.items():
        times[name].append(once(cmd))
m = {name: statistics.median(t) for name, t in times.items()}
print(f"wine: sample check: Linux {m['linux check']:.1f} ms, Windows under Wine {m['wine check']:.1f} ms: "
      f"{m['wine check'] / m['linux check']:.1f}x (target <= 3x), medians of {len(times['wine check'])} rounds")
print(f"wine: where the Wine time goes: an empty program {m['wine floor']:.1f} ms, importing crypt32 "
      f"{m['wine floor+crypt32']:.1f} ms, seedc --version {m['wine --version']:.1f} ms, seedc check {m['wine check']:.1f} ms")
print(f"wine: on Linux: an empty program {m['linux floor']:.1f} ms, seedc --version {m['linux --version']:.1f} ms")
own_linux = m["linux check"] - m["linux floor"]
own_wine = m["wine check"] - m["wine floor+crypt32"]
print(f"wine: seedc's own time (the check less its platform's floor): Linux {own_linux:.1f} ms, "
      f"Wine {own_wine:.1f} ms: {own_wine / max(own_linux, 0.1):.1f}x")
PY
