#!/usr/bin/env bash
# Fetch extra negatives at benchmark time (not committed: the Debian `fortunes`
# package carries mixed licences). Installs it and converts every fortune file
# in /usr/share/games/fortunes (not the offensive off/ set, not .dat/.u8 twins)
# into JSONL in the queries format: {"id","text","case":"negative:fortune","expect":[]}.
#
# Fortunes sharing 40 normalized characters with the dump ($DUMP, default corpus/dump) are dropped.
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
from querylib import normalize
# drop any fortune that shares 40 normalized characters with the dump (a real quote)
W, windows = 40, set()
for r, _, ns in os.walk(sys.argv[2]):
    for nm in ns:
        t = normalize(open(os.path.join(r, nm), "rb").read().decode("utf-8", "replace"))
        windows.update(hash(t[i:i + W]) for i in range(len(t) - W + 1))
d = "/usr/share/games/fortunes"
n = dropped = 0
with open(sys.argv[1], "w", encoding="utf-8") as f:
    for name in sorted(os.listdir(d)):
        p = os.path.join(d, name)
        if not os.path.isfile(p) or "." in name:
            continue
        raw = open(p, "rb").read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        for entry in text.split("\n%\n"):
            entry = entry.strip("%\n ")
            if len(entry) < 20:
                continue
            t = normalize(entry)
            if any(hash(t[i:i + W]) in windows for i in range(len(t) - W + 1)):
                dropped += 1
                continue
            n += 1
            f.write(json.dumps({"id": f"fortune-{n:05d}", "text": entry, "case": "negative:fortune",
                                "origin": f"fortunes: {name}", "expect": []}, ensure_ascii=False) + "\n")
print(f"{sys.argv[1]}: {n} fortunes ({dropped} dropped: they share {W} normalized chars with {sys.argv[2]})")
PY
