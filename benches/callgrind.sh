#!/usr/bin/env bash
# Instructions per call of every single-threaded subject/scenario pair, counted
# by callgrind: each pair runs at two N's and the script reports
#   (Ir(N2) - Ir(N1)) / (N2 - N1)
# so process start-up, building the breaker and tripping it cancel out.
#
# Usage: benches/callgrind.sh [N1 N2]     (defaults 100000 300000)
# Output: markdown tables on stdout (the breaker subjects, then the template
# stack's rows); the callgrind.out files stay in
# target/callgrind/ for `callgrind_annotate --auto=yes <file>`.
set -euo pipefail

n1=${1:-100000}
n2=${2:-300000}
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/target/callgrind"
mkdir -p "$out"

# The bench profile: optimised like `cargo bench`, with line tables (debug = 1).
cargo build --quiet --manifest-path "$root/Cargo.toml" -p cb-bench --profile bench --bin subjects
bin="$root/target/release/subjects"

ir() { # subject scenario n -> total instructions
    local file="$out/$1.$2.$3.out"
    # --fair-sched: cb-core's rejection cache has a thread of its own
    # (`cb-clock`), which valgrind's default lock would starve behind the
    # spinning main thread, so the cache would never be seen.
    valgrind --tool=callgrind --fair-sched=yes --callgrind-out-file="$file" "$bin" run "$1" "$2" "$3" >/dev/null 2>&1
    awk '/^totals:/ { print $2 }' "$file"
}

echo "| subject | scenario | Ir(N=$n1) | Ir(N=$n2) | instructions/call |"
echo "|---|---|---:|---:|---:|"
"$bin" list | while read -r subject scenario; do
    a=$(ir "$subject" "$scenario" "$n1")
    b=$(ir "$subject" "$scenario" "$n2")
    per=$(awk -v a="$a" -v b="$b" -v n1="$n1" -v n2="$n2" 'BEGIN { printf "%.1f", (b - a) / (n2 - n1) }')
    echo "| $subject | $scenario | $a | $b | $per |"
done

# The template's whole stack: each row awaits N calls in one tokio
# current-thread runtime (`subjects stack <row> <N>`).
echo
echo "| stack row | Ir(N=$n1) | Ir(N=$n2) | instructions/call |"
echo "|---|---:|---:|---:|"
ir_stack() { # row n -> total instructions
    local file="$out/stack.$1.$2.out"
    valgrind --tool=callgrind --fair-sched=yes --callgrind-out-file="$file" "$bin" stack "$1" "$2" >/dev/null 2>&1
    awk '/^totals:/ { print $2 }' "$file"
}
for row in bare-breaker template pipeline tower-resilience retried; do
    a=$(ir_stack "$row" "$n1")
    b=$(ir_stack "$row" "$n2")
    per=$(awk -v a="$a" -v b="$b" -v n1="$n1" -v n2="$n2" 'BEGIN { printf "%.1f", (b - a) / (n2 - n1) }')
    echo "| $row | $a | $b | $per |"
done
