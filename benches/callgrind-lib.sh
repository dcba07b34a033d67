# Shared by callgrind.sh and reject_nolto.sh: counting one run's
# instructions and turning two counts into instructions per call.
# Source it after setting `n1`, `n2` and `out`.

# totals NAME CMD... -> the instructions callgrind counted for CMD, its
# output kept as $out/NAME.out for `callgrind_annotate`.
# --fair-sched: cb-core's rejection cache has a thread of its own
# (`cb-clock`), which valgrind's default lock would starve behind the
# spinning main thread, so the cache would never be seen.
totals() {
    local file="$out/$1.out"
    shift
    valgrind --tool=callgrind --fair-sched=yes --callgrind-out-file="$file" "$@" >/dev/null 2>&1
    awk '/^totals:/ { print $2 }' "$file"
}

# per_call A B -> (B - A) / (n2 - n1): start-up, building the breaker and
# tripping it cancel out.
per_call() {
    awk -v a="$1" -v b="$2" -v n1="$n1" -v n2="$n2" 'BEGIN { printf "%.1f", (b - a) / (n2 - n1) }'
}
