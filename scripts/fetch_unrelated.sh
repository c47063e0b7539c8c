#!/usr/bin/env bash
# Fetch 100,000 distinct unrelated posts at benchmark time, for the firehose
# speed runs of issue 13 (not committed: the Debian packages carry their own
# licences). Text that no dump of this project holds, in four kinds:
#
#   - the Debian fortunes (`fortunes`, /usr/share/games/fortunes, not the
#     offensive set), each as it is;
#   - FOLDOC, the Free On-line Dictionary of Computing (`dict-foldoc`,
#     foldoc.dict.dz), cut into windows;
#   - the reStructuredText sources of the Python 3.11 documentation
#     (`python3.11-doc`, html/_sources), cut into windows;
#   - git's release notes (`git`, /usr/share/doc/git/RelNotes), cut into
#     windows.
#
# A window is 100-280 bytes of one entry or page, cut at spaces, with its
# whitespace runs made single spaces (a post's length and shape). Posts are
# distinct (exact duplicates dropped; 102,529 with Debian 12's packages),
# shuffled with a fixed seed, and the first N kept, so every kind is
# sampled in its share. Seeded: the same package versions (those
# installed for the fortunes and git, those downloaded for the others)
# give the same file. JSONL in the queries format:
# {"id","text","case","expect"}. Needs root for apt-get (fortunes) when
# the fortunes are not installed.
#
# Usage: scripts/fetch_unrelated.sh [OUT.jsonl] [N]
#        (default bench-out/unrelated-100000.jsonl, 100000)
set -euo pipefail
out="${1:-bench-out/unrelated-100000.jsonl}"
n="${2:-100000}"
if [ ! -e /usr/share/games/fortunes/fortunes ]; then
  apt-get -o DPkg::Lock::Timeout=600 install -y fortunes >/dev/null
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download dict-foldoc python3.11-doc >/dev/null &&
  for d in ./*.deb; do dpkg -x "$d" x; done)
mkdir -p "$(dirname "$out")"
python3 - "$out" "$n" "$work/x" "$(dirname "$0")" <<'PY'
import gzip, json, os, random, re, sys

out, n, root = sys.argv[1], int(sys.argv[2]), sys.argv[3]
sys.path.insert(0, sys.argv[4])
from querylib import fortunes  # noqa: E402
rng = random.Random(13)
ws = re.compile(r"\s+")


def windows(text, kind):
    """Consecutive windows of 100-280 bytes of `text`, cut at spaces."""
    words = ws.sub(" ", text).strip().split(" ")
    i = 0
    while i < len(words):
        want = rng.randint(100, 280)
        j, size = i, 0
        while j < len(words) and size + len(words[j].encode()) + 1 <= want:
            size += len(words[j].encode()) + 1
            j += 1
        if j == i:  # one word longer than the window
            j = i + 1
        w = " ".join(words[i:j])
        if len(w.encode()) >= 100:
            yield kind, w
        i = j


posts = [("fortune", entry) for _, entry in fortunes()]

foldoc = gzip.open(os.path.join(root, "usr/share/dictd/foldoc.dict.dz")).read().decode("utf-8", "replace")
# Entries start at a line with no indentation; their bodies are indented.
for entry in re.split(r"\n(?=\S)", foldoc):
    posts.extend(windows(entry, "foldoc"))

src = os.path.join(root, "usr/share/doc/python3.11/html/_sources")
for r, _, ns in sorted(os.walk(src)):
    for nm in sorted(ns):
        posts.extend(windows(open(os.path.join(r, nm), encoding="utf-8", errors="replace").read(), "python-doc"))

rel = "/usr/share/doc/git/RelNotes"
if not os.path.isdir(rel):
    sys.exit(f"{rel} is missing (apt-get install git)")
for nm in sorted(os.listdir(rel)):
    raw = open(os.path.join(rel, nm), "rb").read()
    if nm.endswith(".gz"):
        raw = gzip.decompress(raw)
    posts.extend(windows(raw.decode("utf-8", "replace"), "git-relnotes"))

seen, uniq = set(), []
for kind, t in posts:
    if t not in seen:
        seen.add(t)
        uniq.append((kind, t))
if len(uniq) < n:
    sys.exit(f"only {len(uniq)} distinct posts, {n} asked for")
rng.shuffle(uniq)
uniq = uniq[:n]
counts = {}
with open(out, "w", encoding="utf-8") as f:
    for i, (kind, t) in enumerate(uniq, 1):
        counts[kind] = counts.get(kind, 0) + 1
        f.write(json.dumps({"id": f"unrelated-{i:06d}", "text": t, "case": f"negative:{kind}", "expect": []},
                           ensure_ascii=False) + "\n")
mean = sum(len(t.encode()) for _, t in uniq) / len(uniq)
print(f"{out}: {len(uniq)} distinct posts (of {len(seen)}), mean {mean:.0f} bytes: "
      + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
PY
