#!/bin/sh
# The speed benchmarks and peer comparison, one command; writes BENCHMARKS.md.
#   scripts/bench.sh [--quick] [--size 1G] [--runs 3] [--memory-size 2G] [--skip-install] [--allow-dirty]
# Refuses a tree that differs from HEAD (untracked files included) unless --allow-dirty, which the
# report then labels; the report records this command line.
# See scripts/bench.py for the steps. Generated data goes to bench-out/.
set -e
cd "$(dirname "$0")/.."
exec python3 scripts/bench.py "$@"
