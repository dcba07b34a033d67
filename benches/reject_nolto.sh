#!/usr/bin/env bash
# Instructions per call of the closed success and the open rejection, sync
# and async, with the rejection cache on and off, in the `nolto` build (no
# LTO, 16 codegen units: how a user's crate builds cb-core by default).
# Each case runs at two N's; per call = (Ir(N2) - Ir(N1)) / (N2 - N1).
#
# Usage: benches/reject_nolto.sh [N1 N2]     (defaults 100000 300000)
set -euo pipefail

n1=${1:-100000}
n2=${2:-300000}
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/target/callgrind"
mkdir -p "$out"
cargo build --quiet --manifest-path "$root/Cargo.toml" -p cb-bench --profile nolto --bin reject_nolto
bin="$root/target/nolto/reject_nolto"

# shellcheck source=callgrind-lib.sh
. "$root/benches/callgrind-lib.sh"

per() { # path state cache -> instructions per call
    local a b
    a=$(totals "nolto.$1.$2.$3.$n1" "$bin" run "$1" "$2" "$3" "$n1")
    b=$(totals "nolto.$1.$2.$3.$n2" "$bin" run "$1" "$2" "$3" "$n2")
    per_call "$a" "$b"
}

echo "| path | cache | closed success | open rejection | forced-open rejection | open/closed |"
echo "|---|---|---:|---:|---:|---:|"
for path in sync async; do
    for cache in cache-off cache-on; do
        c=$(per "$path" closed "$cache")
        o=$(per "$path" open "$cache")
        f=$(per "$path" forced-open "$cache")
        r=$(awk -v c="$c" -v o="$o" 'BEGIN { printf "%.2f", o / c }')
        echo "| $path | $cache | $c | $o | $f | $r |"
    done
done
