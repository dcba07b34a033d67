#!/usr/bin/env bash
# One thread against two threads on ONE shared breaker, for every subject:
# `subjects scale` in groups of short bursts (N calls per thread, chosen per
# subject): alone on CPU 0, alone on CPU 1, both together; RUNS times.
#
# Usage: benches/scale.sh [RUNS] > scale.txt     (default 3 runs)
#        python3 benches/runs.py /tmp/criterion.{1,2,3} --scale scale.txt
#
# Each block starts with `== <subject>`; `runs.py` reads each run's median
# ratios (while both threads ran, and by wall time). Build nothing while it runs: the other
# CPU is one of the two measured.
set -euo pipefail

runs=${1:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
cargo build --quiet --manifest-path "$root/Cargo.toml" -p cb-bench --profile bench --bin subjects
bin="$root/target/release/subjects"

# subject, calls per thread per burst (a lone burst ~5-10 ms), groups
subjects=(
    "direct 5000000 100"
    "floor 1000000 100"
    "cb-consecutive 1000000 100"
    "cb-count-window 1000000 100"
    "cb-cached-clock 1000000 100"
    "failsafe 200000 100"
    "recloser 300000 100"
    "tower-resilience 20000 100"
)
for run in $(seq "$runs"); do
    for entry in "${subjects[@]}"; do
        read -r subject n bursts <<<"$entry"
        echo "== $subject (run $run)"
        "$bin" scale "$subject" "$n" "$bursts"
    done
done
