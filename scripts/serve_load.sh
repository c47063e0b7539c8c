#!/usr/bin/env bash
# Load and fault runs of `leakprint serve` (issue 15.3). Everything runs on
# loopback, every run is bounded in time, and the server is stopped at the
# end. Prints markdown tables (for docs/SERVE.md) on stdout; work files go
# to a temporary folder.
#
#   scripts/serve_load.sh [--quick] [--threads N] [--duration SECS] [--soak SECS]
#
# Needs: a Rust toolchain, python3, curl and wrk (Debian's `wrk` package,
# installed here when missing; `cargo install oha` was the first choice, but
# its ~300 crates did not build within an hour on the shared 2-core machine).
#
# What is measured (the index is the bundled corpus, corpus/dump/docs; the
# posts are corpus/queries/{exact,edited,negatives}.jsonl, real quotes,
# edited quotes and unrelated text):
#   1. the library: examples/throughput, the same 100 posts matched by
#      THREADS threads sharing one Matcher (posts/s), measured right before
#      and right after each HTTP row, so that the ratio of (2) to it compares
#      runs a few seconds apart on a shared machine;
#   2. batches of 100 posts over HTTP at 1..64 connections for DURATION s:
#      posts/s, and p50/p99/p99.9 per request; the ratio to (1);
#   3. single posts at 1..64 connections (the maximum rate), then at about
#      80% of the maximum rate (wrk paces each connection with a fixed delay
#      between requests; wrk does not correct for coordinated omission):
#      p50/p99/p99.9;
#   4. an `index --append` and a `compact` while 8 connections keep posting:
#      every status must be 200;
#   5. hostile clients (scripts/serve_faults.py): slow, stalled, vanishing,
#      10,000 malformed requests; the server must answer correctly after each;
#   6. a soak at half the maximum single-post rate for SOAK s (default 600),
#      the server's RSS sampled every 10 s;
#   7. the server's RSS over the whole run (sampled every second).
# The load average is printed next to each table: on a shared machine the
# absolute figures measure the neighbours too, the ratios less so.
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=0
THREADS=2
DURATION=30
SOAK=600
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1; DURATION=5; SOAK=30 ;;
    --threads) THREADS="$2"; shift ;;
    --duration) DURATION="$2"; shift ;;
    --soak) SOAK="$2"; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
if [ "$QUICK" = 1 ]; then CONNS="1 8 64"; MALFORMED=1000; else CONNS="1 2 4 8 16 32 64"; MALFORMED=10000; fi

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
# NO_BUILD=1 uses the release binaries already built (when another build
# holds the target folder's lock).
[ "${NO_BUILD:-0}" = 1 ] || cargo build --release --quiet --bin leakprint --example throughput
BIN=target/release/leakprint
W=$(mktemp -d)
SERVER=
SAMPLER=
cleanup() {
  [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null || true
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT

echo "machine: $(nproc) cores, $(uptime | sed 's/.*load average/load average/')" >&2
mkdir -p "$W/base"
cp -r corpus/dump/docs "$W/base/docs"
"$BIN" index "$W/base/docs" -o "$W/idx" -q --threads "$THREADS"

# Bodies: every post as JSONL (library), batches of 100, one single post.
python3 - "$W" <<'EOF'
import json, sys, pathlib
w = pathlib.Path(sys.argv[1])
posts = []
for name in ["exact", "edited", "negatives"]:
    for line in open(f"corpus/queries/{name}.jsonl", encoding="utf-8"):
        if line.strip():
            posts.append(json.loads(line)["text"])
with open(w / "posts.jsonl", "w") as f:
    for t in posts:
        f.write(json.dumps({"text": t}) + "\n")
# A batch mixing the three kinds as the posts file does.
step = max(1, len(posts) // 100)
batch = [{"id": i, "text": posts[(i * step) % len(posts)]} for i in range(100)]
(w / "batch100.json").write_text(json.dumps({"items": batch}))
(w / "batch100.jsonl").write_text("".join(json.dumps({"text": b["text"]}) + "\n" for b in batch))
exact = [json.loads(l)["text"] for l in open("corpus/queries/exact.jsonl") if l.strip()]
(w / "single.json").write_text(json.dumps({"text": exact[0]}))
EOF

median() { python3 -c 'import sys,statistics; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }

# 1. The library on the same posts (20,000 posts a run, a second or more).
lib_rate() {
  target/release/examples/throughput --index "$W/idx" --posts "$W/batch100.jsonl" \
    --threads "$THREADS" --repeat 200 --json "$W/lib.json" >/dev/null 2>&1
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["posts_per_second"])' "$W/lib.json"
}
load_avg() { cut -d' ' -f1-3 /proc/loadavg; }
START=$(date +%s)

# The server.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ADDR=127.0.0.1:$PORT
"$BIN" serve --index "$W/idx" --threads "$THREADS" --listen "$ADDR" --reload-every-ms 200 2>"$W/serve.log" &
SERVER=$!
for _ in $(seq 100); do curl -sf "http://$ADDR/healthz" >/dev/null && break; sleep 0.1; done
( while kill -0 "$SERVER" 2>/dev/null; do
    echo "$(date +%s) $(awk '/VmRSS/ {print $2}' /proc/$SERVER/status)"; sleep 1; done ) >"$W/rss.txt" &
SAMPLER=$!

rss_now() { awk '/VmRSS/ {print $2}' "/proc/$SERVER/status"; }
# wrk's Lua hooks: POST the file $BODY as JSON, pace each connection by
# $DELAY_MS, and print one line "rps p50_ms p99_ms p999_ms non2xx sockerr n".
cat >"$W/post.lua" <<'EOF'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open(os.getenv("BODY"), "rb"))
wrk.body = f:read("*a")
f:close()
local d = tonumber(os.getenv("DELAY_MS") or "0")
if d > 0 then
  function delay() return d end
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK %.1f %.2f %.2f %.2f %d %d %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, e.status,
    e.connect + e.read + e.write + e.timeout, summary.requests))
end
EOF
# load SECONDS CONNECTIONS BODY [DELAY_MS] -> "rps p50 p99 p999 non2xx sockerr n"
load() {
  BODY="$3" DELAY_MS="${4:-0}" wrk -t 1 -c "$2" -d "$1s" --timeout 30s -s "$W/post.lua" "$URL" \
    | awk '/^WRK / {print $2, $3, $4, $5, $6, $7, $8}'
}

URL="http://$ADDR/v1/match"

echo
echo "### Batches of 100 posts (threads = $THREADS, ${DURATION} s per row)"
echo
echo "library: examples/throughput on the same 100 posts, $THREADS threads, before and after each row; load average $(load_avg)"
echo
echo "| connections | requests/s | posts/s | library posts/s (before, after) | of library | p50 ms | p99 ms | p99.9 ms | non-2xx + socket errors | RSS MiB |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for c in $CONNS; do
  L1=$(lib_rate)
  read -r rps p50 p99 p999 bad err n < <(load "$DURATION" "$c" "$W/batch100.json")
  L2=$(lib_rate)
  LIB=$(python3 -c "print(($L1+$L2)/2)")
  posts=$(python3 -c "print(f'{$rps*100:.0f}')")
  pct=$(python3 -c "print(f'{100*$rps*100/$LIB:.0f}%')")
  echo "| $c | $rps | $posts | $(printf %.0f "$L1"), $(printf %.0f "$L2") | $pct | $p50 | $p99 | $p999 | $bad + $err | $(( $(rss_now) / 1024 )) |"
done

echo
echo "### Single posts (${DURATION} s per row; load average $(load_avg))"
echo
echo "| connections | rate | requests/s | p50 ms | p99 ms | p99.9 ms | non-2xx + socket errors |"
echo "|---|---|---|---|---|---|---|"
MAX=0; BEST=1
for c in $CONNS; do
  read -r rps p50 p99 p999 bad err n < <(load "$DURATION" "$c" "$W/single.json")
  echo "| $c | max | $rps | $p50 | $p99 | $p999 | $bad + $err |"
  if python3 -c "import sys; sys.exit(0 if $rps > $MAX else 1)"; then MAX=$rps; BEST=$c; fi
done
RATE=$(python3 -c "print(int($MAX*0.8))")
# Each of BEST connections waits DELAY ms between requests: BEST/DELAY per
# ms is the target, less the latency's share (reported as measured).
DELAY=$(python3 -c "print(max(1, round($BEST * 1000 / $RATE)))")
read -r rps p50 p99 p999 bad err n < <(load "$DURATION" "$BEST" "$W/single.json" "$DELAY")
echo "| $BEST | paced for 80% of max ($RATE/s, ${DELAY} ms between requests per connection) | $rps | $p50 | $p99 | $p999 | $bad + $err |"

echo
echo "### Reloads under load (8 connections, single posts, ${DURATION} s)"
echo
GEN0=$(curl -s "http://$ADDR/healthz")
load "$DURATION" 8 "$W/single.json" >"$W/reload.txt" &
LOADGEN=$!
sleep "$(python3 -c "print($DURATION/3)")"
mkdir -p "$W/more" && cp -r corpus/dump/mail "$W/more/mail"
"$BIN" index "$W/more/mail" -o "$W/idx" --append -q --threads 1
sleep "$(python3 -c "print($DURATION/3)")"
"$BIN" compact "$W/idx" -q --threads 1
wait "$LOADGEN"
GEN1=$(curl -s "http://$ADDR/healthz")
read -r rps p50 p99 p999 bad err n <"$W/reload.txt"
echo "| before | after | requests | non-2xx | socket errors | p99 ms |"
echo "|---|---|---|---|---|---|"
echo "| $GEN0 | $GEN1 | $n | $bad | $err | $p99 |"
echo
echo "reloads logged: $(grep -c "index reloaded" "$W/serve.log" || true)"


echo
echo "### Hostile clients"
echo
python3 scripts/serve_faults.py --addr "$ADDR" --post "$W/single.json" --malformed "$MALFORMED"

echo
echo "### Soak: ${SOAK} s at half the maximum single-post rate"
echo
HALF=$(python3 -c "print(int($MAX*0.5))")
: >"$W/soak_rss.txt"
SOAK_DELAY=$(python3 -c "print(max(1, round(8 * 1000 / max($HALF, 1))))")
load "$SOAK" 8 "$W/single.json" "$SOAK_DELAY" >"$W/soak.txt" &
LOADGEN=$!
while kill -0 "$LOADGEN" 2>/dev/null; do echo "$(rss_now)" >>"$W/soak_rss.txt"; sleep 10; done
wait "$LOADGEN" || true
read -r rps p50 p99 p999 bad err n <"$W/soak.txt"
python3 - "$W/soak_rss.txt" "$HALF" "$rps" "$n" "$bad" "$err" "$p99" <<'EOF'
import sys
rss = [int(x) / 1024 for x in open(sys.argv[1]).read().split()]
half, rps, n, bad, err, p99 = sys.argv[2:8]
print("| paced for | requests/s | requests | non-2xx | socket errors | p99 ms | RSS MiB first / max / last |")
print("|---|---|---|---|---|---|---|")
print(f"| {half}/s | {rps} | {n} | {bad} | {err} | {p99} | {rss[0]:.1f} / {max(rss):.1f} / {rss[-1]:.1f} |")
print()
print("RSS every 10 s (MiB): " + " ".join(f"{x:.0f}" for x in rss))
EOF
echo
echo "load average after the soak: $(load_avg)"

echo
echo "### Server RSS over the whole run (MiB, one sample a minute)"
echo
python3 - "$W/rss.txt" "$START" <<'EOF'
import sys
start = int(sys.argv[2])
rows = [l.split() for l in open(sys.argv[1]) if len(l.split()) == 2]
last = -1
out = []
for t, kb in rows:
    m = (int(t) - start) // 60
    if m != last:
        out.append(f"{m} min: {int(kb) / 1024:.0f}")
        last = m
print("; ".join(out))
EOF

kill -TERM "$SERVER"
wait "$SERVER" && echo && echo "server stopped on SIGTERM with status 0"
SERVER=
