# Timing helpers sourced by the benchmarks in this directory (not a benchmark itself:
# scripts/bench runs only *.sh).

now() { date +%s%N; }

# Runs "$@" quietly and prints its wall time in nanoseconds.
timed() {
    local start end
    start=$(now)
    "$@" >/dev/null 2>&1
    end=$(now)
    echo $((end - start))
}

# The fastest of three runs: the figure least disturbed by the other work on the machine.
best_of_3() {
    local best=0 t
    for _ in 1 2 3; do
        t=$(timed "$@")
        if ((best == 0 || t < best)); then best=$t; fi
    done
    echo "$best"
}

# Nanoseconds as "<n> ms".
ms() { awk -v ns="$1" 'BEGIN { printf "%.0f ms", ns / 1e6 }'; }
