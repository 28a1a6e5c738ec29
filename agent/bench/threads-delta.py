#!/usr/bin/env python3
"""Compares two `jcmd <pid> Thread.print -e` dumps: CPU and bytes allocated per thread between them.

  threads-delta.py <before> <after> [divisor] [label]

Prints one line per live thread (state and top frame from the second dump), sorted by allocation, and
the total; with a divisor (sweeps, scrapes) also bytes per unit. Threads are matched by name and tid.
"""
import re
import sys

HEAD = re.compile(r'^"(?P<name>[^"]+)" #\d+ \[(?P<tid>\d+)\].*?cpu=(?P<cpu>[\d.]+)ms .*?allocated=(?P<alloc>\d+)(?P<unit>[BKMG])')
UNITS = {"B": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}


def parse(path):
    threads = {}
    current = None
    with open(path) as f:
        for line in f:
            m = HEAD.match(line)
            if m:
                key = (m["name"], m["tid"])
                current = {"cpu": float(m["cpu"]), "alloc": int(m["alloc"]) * UNITS[m["unit"]], "state": "", "top": ""}
                threads[key] = current
                continue
            if current is None:
                continue
            s = line.strip()
            if s.startswith("java.lang.Thread.State:"):
                current["state"] = s.split(":", 1)[1].strip().split(" ")[0]
            elif s.startswith("at ") and not current["top"]:
                current["top"] = s[3:]
            elif not s:
                current = None
    return threads


def main():
    before, after = parse(sys.argv[1]), parse(sys.argv[2])
    div = float(sys.argv[3]) if len(sys.argv) > 3 else 0
    label = sys.argv[4] if len(sys.argv) > 4 else "unit"
    rows = []
    for key, a in after.items():
        b = before.get(key, {"cpu": 0.0, "alloc": 0})
        rows.append((a["alloc"] - b["alloc"], a["cpu"] - b["cpu"], key[0], a["state"], a["top"]))
    rows.sort(reverse=True)
    print(f"{'thread':42} {'alloc bytes':>12} {'cpu ms':>8}  state / top frame")
    for alloc, cpu, name, state, top in rows:
        if name == "Attach Listener":
            continue
        print(f"{name[:42]:42} {alloc:12d} {cpu:8.1f}  {state} {top[:90]}")
    total = sum(r[0] for r in rows if r[2] != "Attach Listener")
    cpu = sum(r[1] for r in rows if r[2] != "Attach Listener")
    print(f"{'total (Java threads)':42} {total:12d} {cpu:8.1f}")
    if div:
        print(f"per {label}: {total / div:.0f} bytes")


if __name__ == "__main__":
    main()
