#!/bin/bash
# Hand-run for BENCHMARKS.md "Formats": run from a folder holding fmt/<ext>/ (copies of
# tests/data/extract fixtures per format), small.mbox (scripts/gen_mbox.py --size 50M) and
# leakprint-bench (a copy of target/release/leakprint).
# Columns: name, MB, wall s, CPU s, MB per CPU s, peak RSS MiB.
# per-format: 3 runs of leakprint index --threads 1 --memory 512MiB; median wall, CPU, max RSS
B=./leakprint-bench
run() { # name, extra args..., input
  local name=$1; shift
  for i in 1 2 3; do
    rm -rf /tmp/lpf/fx
    /usr/bin/time -f "%e %U %S %M" -o /tmp/lpf/t.$i $B index "$@" --output /tmp/lpf/fx --threads 1 --memory 512MiB -q
  done
  python3 - "$name" "$(du -sb ${@: -1} | cut -f1)" <<'PY'
import sys,statistics
name,size=sys.argv[1],int(sys.argv[2])
rows=[list(map(float,open(f"/tmp/lpf/t.{i}").read().split())) for i in (1,2,3)]
wall=statistics.median(r[0] for r in rows); cpu=statistics.median(r[1]+r[2] for r in rows); rss=max(r[3] for r in rows)/1024
rate = f"{size/1e6/cpu:.1f}" if cpu > 0 else "n/a (under 10 ms)"
print(f"| {name} | {size/1e6:.2f} | {wall:.2f} | {cpu:.2f} | {rate} | {rss:.0f} |")
PY
}
for f in eml msg pst doc ppt rtf pdf docx html txt; do run $f fmt/$f; done
run "mbox 50 MB, read whole" small.mbox
run "mbox 50 MB, streamed (--max-file-size 16MiB)" --max-file-size 16MiB small.mbox
