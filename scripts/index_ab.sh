#!/usr/bin/env bash
# Two `leakprint` binaries side by side on one dump, with b3sum as the
# reference in the same rounds (BENCHMARKS.md, "Indexing without barriers").
#
#   scripts/index_ab.sh DUMP ROUNDS OLD_BIN NEW_BIN [THREADS...]
#
# Each round reads every file once (warm page cache), then for each thread
# count runs OLD, NEW and `b3sum --num-threads 1` over the same files with
# as many processes. One line per run on stdout:
#
#   NAME THREADS WALL_S USER_S SYS_S MAX_RSS_KB CONTEXT_SWITCHES
#
# and, at the end, the median wall time, CPU use (user + sys over wall) and
# peak RSS of each (name, threads). Needs GNU time (/usr/bin/time), b3sum.
set -euo pipefail
if [ $# -lt 4 ]; then
    sed -n '2,15p' "$0" >&2
    exit 2
fi
dump=$1 rounds=$2 old=$3 new=$4
shift 4
threads=("$@")
[ ${#threads[@]} -gt 0 ] || threads=(1 2)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
find "$dump" -type f -print0 > "$tmp/files"
runs=$tmp/runs
: > "$runs"
one() {
    local name=$1 t=$2
    shift 2
    /usr/bin/time -f "$name $t %e %U %S %M %c %w" -o "$tmp/time" "$@" > /dev/null
    # %c (involuntary) + %w (voluntary) context switches
    awk '{print $1, $2, $3, $4, $5, $6, $7 + $8}' "$tmp/time" | tee -a "$runs"
}
for r in $(seq "$rounds"); do
    xargs -0 cat < "$tmp/files" > /dev/null
    for t in "${threads[@]}"; do
        for bin in "$old" "$new"; do
            rm -rf "$tmp/index"
            one "$(basename "$bin")" "$t" "$bin" index "$dump" -o "$tmp/index" --threads "$t" --quiet
        done
        one b3sum "$t" sh -c "xargs -0 -n 114 -P $t b3sum --num-threads 1 < '$tmp/files'"
    done
done
python3 - "$runs" "$rounds" <<'PY'
import statistics, sys
from collections import defaultdict
runs = defaultdict(list)
for line in open(sys.argv[1]):
    name, t, wall, user, sys_, rss, _ = line.split()
    runs[(name, int(t))].append((float(wall), (float(user) + float(sys_)) / float(wall), int(rss)))
print(f"# name threads: median wall s, median CPU use, peak RSS MiB (over {sys.argv[2]} rounds)")
for (name, t), rs in sorted(runs.items()):
    print(f"{name} {t}: {statistics.median(r[0] for r in rs):.2f} s, "
          f"{statistics.median(r[1] for r in rs):.2f}, {max(r[2] for r in rs) // 1024} MiB")
PY
