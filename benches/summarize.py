#!/usr/bin/env python3
"""Turns one `cargo bench -p cb-bench` run (criterion's medians) and one
`callgrind.sh` table into the markdown tables of RESULTS.md.

Usage: python3 benches/summarize.py [callgrind-table.md] > tables.md
Reads target/criterion/{closed,closed-2t,open,tokio-2w64t}/<subject>/new/estimates.json.
"""
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CRIT = ROOT / "target" / "criterion"
SUBJECTS = ["direct", "floor", "cb-consecutive", "cb-count-window", "cb-cached-clock", "failsafe",
            "failsafe-default", "recloser", "tower-resilience", "exec-baseline"]
PEERS = ["failsafe", "failsafe-default", "recloser", "tower-resilience"]
CB = ["cb-consecutive", "cb-count-window", "cb-cached-clock"]
# The awaited calls: one task polled without a runtime, and the tokio workload.
ASYNC = ["bare-await", "cb-async", "failsafe-async", "recloser-async", "seatbelt-async", "tower-resilience"]


def median(group, subject):
    """(median ns, half-width of its 95 % interval in % of it), or None."""
    f = CRIT / group / subject / "new" / "estimates.json"
    if not f.exists():
        return None
    m = json.loads(f.read_text())["median"]
    ci = m["confidence_interval"]
    return m["point_estimate"], 50.0 * (ci["upper_bound"] - ci["lower_bound"]) / m["point_estimate"]


def instructions(path):
    """{(subject, scenario): instructions per call} from callgrind.sh's table."""
    out = {}
    if path is None:
        return out
    for line in pathlib.Path(path).read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[4].replace(".", "").isdigit():
            out[(cells[0], cells[1])] = float(cells[4])
    return out


def ns(m):
    return "—" if m is None else f"{m[0]:.2f} (±{m[1]:.0f} %)"


def ratio(a, b, digits=2):
    return "—" if a is None or b is None or b == 0 else f"{a / b:.{digits}f}"


def main():
    ir = instructions(sys.argv[1] if len(sys.argv) > 1 else None)
    closed = {s: median("closed", s) for s in SUBJECTS}
    two = {s: median("closed-2t", s) for s in SUBJECTS}
    opened = {s: median("open", s) for s in SUBJECTS}
    forced = {s: median("open", s + "-forced") for s in SUBJECTS}
    v = lambda m: None if m is None else m[0]  # noqa: E731
    floor_ns, floor_ir = v(closed["floor"]), ir.get(("floor", "closed"))

    print("### Per call, one run (criterion medians, ns; ± is the half-width of the median's 95 % interval)")
    print()
    print("| subject | closed 1 thread, ns | instr/call | × floor (ns) | × floor (instr) "
          "| 2 threads, ns/call aggregate | 2 threads, M calls/s | 1 thread, M calls/s | 2t / 1t "
          "| open rejection, ns | open instr/call |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s in SUBJECTS:
        c, t = v(closed[s]), v(two[s])
        c_ir = ir.get((s, "closed"))
        o_ir = ir.get((s, "open"))
        print(f"| {s} | {ns(closed[s])} | {c_ir if c_ir is not None else '—'} "
              f"| {ratio(c, floor_ns)} | {ratio(c_ir, floor_ir)} | {ns(two[s])} "
              f"| {ratio(1000.0, t, 1)} | {ratio(1000.0, c, 1)} | {ratio(c, t)} "
              f"| {ns(opened[s])} | {o_ir if o_ir is not None else '—'} |")
    for s in CB:
        f_ir = ir.get((s, "forced-open"))
        print(f"| {s}, forced open | | | | | | | | | {ns(forced[s])} | {f_ir if f_ir is not None else '—'} |")
    print()

    print("### cb-core against each peer: peer ÷ cb-core (above 1: cb-core is faster / leaner)")
    print()
    print("| cb-core detector | peer | closed, 1 thread (ns) | closed (instr) | 2 threads (ns/call) | open (ns) | open (instr) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for cb in CB:
        for p in PEERS:
            print(f"| {cb} | {p} | {ratio(v(closed[p]), v(closed[cb]))} "
                  f"| {ratio(ir.get((p, 'closed')), ir.get((cb, 'closed')))} "
                  f"| {ratio(v(two[p]), v(two[cb]))} | {ratio(v(opened[p]), v(opened[cb]))} "
                  f"| {ratio(ir.get((p, 'open')), ir.get((cb, 'open')))} |")
    print()

    print("### Targets")
    print()
    for cb in CB:
        c, o, t = v(closed[cb]), v(opened[cb]), v(two[cb])
        fastest_peer = min((v(closed[p]), p) for p in PEERS if closed[p] is not None)
        print(f"- {cb}: closed {c:.2f} ns = {c / floor_ns:.2f}× the floor (target ≤ 2); "
              f"fastest peer {fastest_peer[1]} {fastest_peer[0]:.2f} ns "
              f"({'faster' if c < fastest_peer[0] else 'NOT faster'}); "
              f"open {o:.2f} ns vs closed {c:.2f} ns ({'met' if o <= c else 'NOT met'}); "
              f"2 threads {c / t:.2f}× one thread (target ≥ 1.5)")
    d = v(closed["direct"]) / v(two["direct"])
    print(f"- parallelism the machine actually gave during the run: direct call 2t/1t = {d:.2f} (ideal 2)")
    print()
    awaited(ir, v)


def awaited(ir, v):
    """The async section: one task, and the tokio workload's worker time."""
    closed = {s: median("closed", s) for s in ASYNC + ["cb-consecutive"]}
    opened = {s: median("open", s) for s in ASYNC}
    tokio = {s: median("tokio-2w64t", s) for s in ASYNC}
    bare = v(tokio["bare-await"])
    print("### Async calls (one task, no runtime; tokio: 2 workers, 64 tasks, worker-ns per call)")
    print()
    print("| subject | closed, ns | closed instr | open, ns | open instr | tokio worker-ns | over bare await |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for s in ASYNC:
        t = v(tokio[s])
        over = "—" if t is None or bare is None or s == "bare-await" else f"{t - bare:.1f}"
        print(f"| {s} | {ns(closed[s])} | {ir.get((s, 'closed'), '—')} | {ns(opened[s])} "
              f"| {ir.get((s, 'open'), '—')} | {ns(tokio[s])} | {over} |")
    print()
    a, c = v(closed["cb-async"]), v(closed["cb-consecutive"])
    if a is not None and c is not None:
        print(f"- cb-async closed {a:.2f} ns = {a / c:.2f}× cb-consecutive's sync call (target ≤ 2)")
    t = v(tokio["cb-async"])
    if t is not None and bare is not None:
        print(f"- tokio workload: cb-async {t - bare:.1f} worker-ns over a bare await (target ≤ 12)")


if __name__ == "__main__":
    main()
