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

# shellcheck source=callgrind-lib.sh
. "$root/benches/callgrind-lib.sh"

echo "| subject | scenario | Ir(N=$n1) | Ir(N=$n2) | instructions/call |"
echo "|---|---|---:|---:|---:|"
"$bin" list | while read -r subject scenario; do
    a=$(totals "$subject.$scenario.$n1" "$bin" run "$subject" "$scenario" "$n1")
    b=$(totals "$subject.$scenario.$n2" "$bin" run "$subject" "$scenario" "$n2")
    per=$(per_call "$a" "$b")
    echo "| $subject | $scenario | $a | $b | $per |"
done

# The template's whole stack: each row awaits N calls in one tokio
# current-thread runtime (`subjects stack <row> <N>`).
echo
echo "| stack row | Ir(N=$n1) | Ir(N=$n2) | instructions/call |"
echo "|---|---:|---:|---:|"
for row in bare-breaker template pipeline tower-resilience retried; do
    a=$(totals "stack.$row.$n1" "$bin" stack "$row" "$n1")
    b=$(totals "stack.$row.$n2" "$bin" stack "$row" "$n2")
    per=$(per_call "$a" "$b")
    echo "| $row | $a | $b | $per |"
done
