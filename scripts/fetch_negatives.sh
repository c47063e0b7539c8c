#!/usr/bin/env bash
# Fetch extra negatives at benchmark time (not committed: the Debian `fortunes`
# package carries mixed licences). Installs it and converts every fortune file
# in /usr/share/games/fortunes (not the offensive off/ set, not .dat/.u8 twins)
# into JSONL in the queries format: {"id","text","case":"negative:fortune","expect":[]}.
#
# Fortunes sharing 20-60 normalized characters with the dump ($DUMP, default corpus/dump) are kept
# as "negative:fortune-hard" (with shared_norm), reported apart; more than 60 is a real quote: left out.
# Usage: [DUMP=dir] scripts/fetch_negatives.sh [OUT.jsonl]   (default bench-out/negatives-fortunes.jsonl)
set -euo pipefail
out="${1:-bench-out/negatives-fortunes.jsonl}"
if [ ! -d /usr/share/games/fortunes ] || [ ! -e /usr/share/games/fortunes/fortunes ]; then
  apt-get -o DPkg::Lock::Timeout=600 install -y fortunes >/dev/null
fi
mkdir -p "$(dirname "$out")"
dump="${DUMP:-$(dirname "$0")/../corpus/dump}"
python3 - "$out" "$dump" "$(dirname "$0")" <<'PY'
import json, os, sys
sys.path.insert(0, sys.argv[3])
from querylib import Shared, fortunes, normalize
parts = []
for r, _, ns in sorted(os.walk(sys.argv[2])):
    for nm in sorted(ns):
        parts.append(normalize(open(os.path.join(r, nm), "rb").read().decode("utf-8", "replace")))
shared = Shared("\x00".join(parts))
n = dropped = 0
with open(sys.argv[1], "w", encoding="utf-8") as f:
    for name, entry in fortunes():
        sh = shared.longest(entry)
        if sh > Shared.HARD_MAX:
            dropped += 1
            continue
        n += 1
        row = {"id": f"fortune-{n:05d}", "text": entry, "case": "negative:fortune",
               "origin": f"fortunes: {name}", "expect": []}
        if sh >= Shared.HARD_MIN:
            row["case"], row["shared_norm"] = "negative:fortune-hard", sh
        f.write(json.dumps(row, ensure_ascii=False) + "\n")
print(f"{sys.argv[1]}: {n} fortunes ({dropped} left out: they share more than {Shared.HARD_MAX} "
      f"normalized chars with {sys.argv[2]})")
PY
