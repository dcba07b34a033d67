#!/usr/bin/env python3
"""The median over several complete `cargo bench -p cb-bench` runs, with each
run's value beside it, and the `subjects scale` ratios: the tables of
RESULTS.md's "Results" section.

Usage:
    # after each run: cp -r target/criterion /tmp/criterion.N
    python3 benches/runs.py /tmp/criterion.1 /tmp/criterion.2 /tmp/criterion.3 [--scale scale.txt]

`scale.txt` is the output of `benches/scale.sh`: `subjects scale` for
every subject, several runs, each block preceded by a line `== <subject>`.
"""
import json
import pathlib
import statistics
import sys

SUBJECTS = ["direct", "floor", "cb-consecutive", "cb-count-window", "cb-cached-clock", "failsafe",
            "failsafe-default", "recloser", "tower-resilience", "exec-baseline"]


def load(run, group, subject):
    f = pathlib.Path(run) / group / subject / "new" / "estimates.json"
    if not f.exists():
        return None
    return json.loads(f.read_text())["median"]["point_estimate"]


def scale_ratios(path):
    """{subject: ([ratio while both ran per run], [ratio by wall time per run])}
    from `benches/scale.sh` output."""
    out, subject = {}, None
    for line in pathlib.Path(path).read_text().splitlines():
        if line.startswith("== "):
            subject = line[3:].split()[0]
            out.setdefault(subject, ([], []))
        elif subject and line.startswith("ratio while both ran: median "):
            out[subject][0].append(float(line.split()[5].rstrip(",")))
        elif subject and line.startswith("ratio by wall time: median "):
            out[subject][1].append(float(line.split()[5]))
    return out


def fmt(x):
    return "—" if x is None else f"{x:.2f}"


def main():
    args = sys.argv[1:]
    scale = {}
    if "--scale" in args:
        i = args.index("--scale")
        scale = scale_ratios(args[i + 1])
        del args[i:i + 2]
    runs = args
    if not runs:
        sys.exit(__doc__)

    def med(group, subject):
        vals = [load(r, group, subject) for r in runs]
        vals = [v for v in vals if v is not None]
        return (statistics.median(vals) if vals else None), vals

    print(f"Medians of {len(runs)} runs' criterion medians, ns per call "
          "(2 threads: aggregate ns per call, i.e. elapsed / 2N).")
    print()
    print("| subject | closed, 1 thread | runs | 2 threads (criterion) | 2t / 1t (criterion) "
          "| 2t / 1t while both ran (`scale.sh`) | runs | 2t / 1t by wall time | runs "
          "| open rejection | runs | forced open |")
    print("|---|---:|---|---:|---:|---:|---|---:|---|---:|---|---:|")
    for s in SUBJECTS:
        c, cv = med("closed", s)
        t, _ = med("closed-2t", s)
        o, ov = med("open", s)
        f, _ = med("open", s + "-forced")
        r = scale.get(s)
        print(f"| {s} | {fmt(c)} | {', '.join(fmt(x) for x in cv)} | {fmt(t)} "
              f"| {fmt(c / t) if c and t else '—'} "
              f"| {fmt(statistics.median(r[0])) if r and r[0] else '—'} | {', '.join(fmt(x) for x in r[0]) if r else ''} "
              f"| {fmt(statistics.median(r[1])) if r and r[1] else '—'} | {', '.join(fmt(x) for x in r[1]) if r else ''} "
              f"| {fmt(o)} | {', '.join(fmt(x) for x in ov)} | {fmt(f)} |")


if __name__ == "__main__":
    main()
