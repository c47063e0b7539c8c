#!/usr/bin/env python3
"""CPU use of a command over time: how many cores it keeps busy.

    python3 scripts/cpu_timeline.py [--bin SECONDS] COMMAND [ARGS...]

Runs COMMAND (output discarded), reads its user + system time from
/proc/PID/stat every 0.1 s (threads included, children not), and prints
the wall time, then the mean cores busy in each bin of --bin seconds
(default 0.5), e.g. `0.0:1.04 0.5:1.96 ...`. A phase on one thread shows
as bins near 1.0 in a run on two. Linux only. (BENCHMARKS.md "Indexing:
the end of the build on every core".)
"""
import os
import subprocess
import sys
import time


def main() -> None:
    args = sys.argv[1:]
    width = 0.5
    if len(args) >= 2 and args[0] == "--bin":
        width = float(args[1])
        args = args[2:]
    if not args:
        sys.exit(__doc__)
    tick = os.sysconf("SC_CLK_TCK")
    t0 = time.time()
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    last_cpu, last_t, rows = 0.0, t0, []
    while p.poll() is None:
        time.sleep(0.1)
        try:
            with open(f"/proc/{p.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            break
        cpu = (int(fields[11]) + int(fields[12])) / tick
        now = time.time()
        rows.append((now - t0, (cpu - last_cpu) / (now - last_t)))
        last_cpu, last_t = cpu, now
    p.wait()
    print(f"wall {time.time() - t0:.2f} exit {p.returncode}")
    bins = {}
    for t, use in rows:
        bins.setdefault(int(t / width), []).append(use)
    print(" ".join(f"{k * width:.1f}:{sum(v) / len(v):.2f}" for k, v in sorted(bins.items())))


if __name__ == "__main__":
    main()
