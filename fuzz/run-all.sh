#!/bin/sh
# Run every fuzz target for SECONDS each (default 300), PAR at a time
# (default 1), on stable Rust through RUSTC_BOOTSTRAP (cargo-fuzz needs
# -Zsanitizer). Logs go to fuzz/logs/<target>.log, crashes to
# fuzz/artifacts/<target>/. Usage: fuzz/run-all.sh [SECONDS] [PAR] [TARGET...]
set -u
cd "$(dirname "$0")"
SECS=${1:-300}
PAR=${2:-1}
shift 2 2>/dev/null || shift $#
TARGETS=${*:-$(cargo fuzz list)}
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
cargo fuzz build -O || exit 1
mkdir -p logs
running=0
for t in $TARGETS; do
  mkdir -p "corpus/$t"
  nice cargo fuzz run -O "$t" -- -max_total_time="$SECS" -rss_limit_mb=2048 \
    -timeout=10 -max_len=131072 -print_final_stats=1 >"logs/$t.log" 2>&1 &
  running=$((running + 1))
  if [ "$running" -ge "$PAR" ]; then wait; running=0; fi
done
wait
for t in $TARGETS; do
  printf '%-16s %s\n' "$t" "$(grep -E '^(#[0-9]+).*(DONE|cov)' "logs/$t.log" | tail -1)"
  ls "artifacts/$t" 2>/dev/null | sed 's/^/    found: /'
done
