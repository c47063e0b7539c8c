#!/usr/bin/env python3
"""Queries with ground truth for the multilingual dump: corpus/ml/queries/*.jsonl.

Deterministic from --seed, the committed corpus/ml/dump and corpus/ml/split.json,
and (for the negatives) the Debian packages that scripts/ml_build.py unpacks
into --src (held-out documents are re-derived from them, not committed).

Every row carries `lang`, `script` (latin, cyrillic, cjk, other), `chars`
(characters of the quoted passage), `norm_len` (normalized characters:
NFKC, casefold, letters and digits), `norm_bytes` (UTF-8 bytes of that),
`latin_equiv` (the passage's content in Latin letters as the matcher counts
`min_len`: `normalize::content_weight`, per normalized char after the
look-alike fold, through `querylib.content_units`; 50 means "as much content
as 50 Latin letters"), and `split` (tune / held_out). Sets made before
2026-12-02 weighed every char by one family average (`content_weights`, the
xz bits per char, still in meta.json); `scripts/ml_relabel.py` recounted them.

Ground truth spans are byte offsets of the source part's text: the file's own
bytes for .txt, the decoded body (UTF-8) for .eml, where the row also carries
the `passage` so that the evaluation can find the body inside whatever the
extractor puts around it (header lines).

Cases (per language):
  exact             the passage's own characters (line breaks and all) in a post
  lookalike         Cyrillic <-> Latin and Latin -> Greek homoglyphs swapped in;
                    Arabic/Farsi yeh and kaf swapped (ي/ی, ك/ک)
  zero_width        U+200B/200C/200D/2060/FEFF/00AD inserted between characters
  fullwidth         ASCII letters and digits as full-width forms (U+FF10..)
  stripped_accents  combining marks removed (NFD), Polish ł -> l
  negative:same_language  pieces of held-out documents of the same languages
  negative:hard     held-out pieces sharing 20-60 normalized characters with the dump
                    (`shared_norm` says how many); reported apart
  negative:boilerplate    runs found in many dump documents (translator notes,
                    handbook navigation) quoted alone

Usage: python3 scripts/ml_queries.py [--seed 11] [--src /tmp/leakprint-ml-src]
       python3 scripts/ml_queries.py --seed 1211 --out corpus/ml/queries_fresh --split-name fresh \
           --exclude corpus/ml/queries
"""
from __future__ import annotations

import argparse
import collections
import email
import email.policy
import json
import lzma
import os
import random
import re
import sys
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from querylib import Doc, Shared, content_units, decorate, normalize  # noqa: E402
import ml_build  # noqa: E402
from split_queries import assign_split  # noqa: E402

ML = ml_build.ML
DUMP = ml_build.DUMP
OUT = os.path.join(ML, "queries")

N_EXACT = 24
N_EDIT = 10          # per language and edit kind
N_NEG = 160          # same-language negatives per language (hard ones on top)
N_BOILER = 40
LENGTHS = {"cjk": [(8, 20), (20, 40), (40, 150)], "*": [(20, 50), (50, 100), (100, 280)]}


def is_cjk(c: str) -> bool:
    o = ord(c)
    return 0x3040 <= o <= 0x30FF or 0x3400 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0xFF00 <= o <= 0xFFEF


# ---------------------------------------------------------------- the dump


def body_of(data: bytes) -> str:
    return email.message_from_bytes(data, policy=email.policy.default).get_content()


def load_docs(split: dict) -> dict[str, list[tuple[Doc, bool]]]:
    """Per language, the quotable documents: (Doc of the part text, is_mail)."""
    out: dict[str, list[tuple[Doc, bool]]] = {}
    for lang, info in split["languages"].items():
        docs = []
        for rel in info["dump"]:
            data = open(os.path.join(DUMP, rel), "rb").read()
            mail = rel.endswith(".eml")
            text = body_of(data).encode("utf-8") if mail else data
            docs.append((Doc(rel, text, min_para=10), mail))
        out[lang] = docs
    return out


def content_weights(docs: dict[str, list[tuple[Doc, bool]]]) -> dict[str, float]:
    """Bits of information per normalized character, per script family: the
    xz-compressed size of the family's normalized dump text over its length,
    relative to Latin. 50 Latin characters carry as much as 50 / w chars of a
    family of weight w."""
    bits = {}
    for fam in ("latin", "cyrillic", "cjk", "other"):
        text = "".join(normalize(d.text) for lang, ds in docs.items() if ml_build.SCRIPT[lang] == fam
                       for d, _ in ds)
        bits[fam] = len(lzma.compress(text.encode("utf-8"), preset=9)) * 8 / max(1, len(text))
    return {f: round(b / bits["latin"], 3) for f, b in bits.items()}


# ---------------------------------------------------------------- picking


class MlPicker:
    def __init__(self, rng: random.Random, docs: list[tuple[Doc, bool]], corpus_norm: str, script: str,
                 avoid: dict[str, list[tuple[int, int]]] | None = None):
        self.rng, self.docs, self.corpus_norm, self.script = rng, [d for d in docs if d[0].paras], corpus_norm, script
        self.used: set[tuple[str, int]] = set()
        # byte spans per source file that a passage must not overlap (another query set's)
        self.avoid = avoid or {}

    def boundary(self, t: str, i: int) -> bool:
        if i <= 0 or i >= len(t):
            return True
        if t[i - 1].isspace() or t[i].isspace():
            return True
        return self.script == "cjk" and (is_cjk(t[i - 1]) or is_cjk(t[i]))

    def passage(self, lo: int, hi: int, want=None, tries: int = 400):
        rng, fam = self.rng, self.script
        for _ in range(tries):
            d, mail = rng.choice(self.docs)
            ps, pe = rng.choice(d.paras)
            t = d.text
            if pe - ps < lo:
                continue
            start = rng.randrange(ps, max(ps + 1, pe - lo))
            while start > ps and not self.boundary(t, start):
                start -= 1
            while start < pe and t[start].isspace():
                start += 1
            end = min(pe, start + rng.randint(lo, hi))
            while end > start and not self.boundary(t, end):
                end -= 1
            while end > start and t[end - 1].isspace():
                end -= 1
            seg = t[start:end]
            if not lo <= end - start <= hi or (d.rel, start) in self.used:
                continue
            if ml_build.own_script_share(seg, fam) < 0.6 or (want and not want(seg)):
                continue
            if self.avoid.get(d.rel):
                bs, be = d.span(start, end)
                if any(bs < ae and as_ < be for as_, ae in self.avoid[d.rel]):
                    continue
            n = normalize(seg)
            if len(n) < (6 if fam == "cjk" else 15):
                continue
            i = self.corpus_norm.find(n)
            if i < 0 or self.corpus_norm.find(n, i + 1) >= 0:
                continue
            self.used.add((d.rel, start))
            return d, mail, start, end
        raise RuntimeError(f"could not pick a {lo}-{hi} char passage ({fam})")


def expect(d: Doc, mail: bool, s: int, e: int) -> dict:
    row = {"source": d.rel, "span": d.span(s, e)}
    if mail:
        row["passage"] = d.raw(s, e)
    return row


def lengths(seg: str, fam: str, weights: dict) -> dict:
    n = normalize(seg)
    return {"chars": len(seg), "norm_len": len(n), "norm_bytes": len(n.encode("utf-8")),
            "latin_equiv": round(content_units(seg), 1)}


# ---------------------------------------------------------------- edits

CYR2LAT = dict(zip("аеорсухіјѕАВЕКМНОРСТХІЈЅ", "aeopcyxijsABEKMHOPCTXIJS"))
LAT2CYR = {v: k for k, v in CYR2LAT.items()}
LAT2GRK = dict(zip("ABEHIKMNOPTXYZov", "ΑΒΕΗΙΚΜΝΟΡΤΧΥΖον"))
ARABIC = {"\u064a": "\u06cc", "\u06cc": "\u064a", "\u0643": "\u06a9", "\u06a9": "\u0643"}
ZW = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]


def lookalike(rng: random.Random, q: str, fam: str):
    if fam == "cyrillic":
        table, kind = CYR2LAT, "cyrillic->latin"
    elif fam == "other":
        table, kind = ARABIC, "arabic yeh/kaf"
    elif rng.random() < 0.5:
        table, kind = LAT2CYR, "latin->cyrillic"
    else:
        table, kind = LAT2GRK, "latin->greek"
    pos = [i for i, c in enumerate(q) if c in table]
    if len(pos) < 3:
        return None
    pick = rng.sample(pos, max(3, int(len(pos) * rng.uniform(0.3, 0.7))))
    s = list(q)
    for i in pick:
        s[i] = table[s[i]]
    return "".join(s), {"swaps": len(pick), "kind": kind}


def zero_width(rng: random.Random, q: str, fam: str):
    s = list(q)
    n = max(3, len(s) // rng.randint(4, 9))
    for _ in range(n):
        s.insert(rng.randrange(1, len(s)), rng.choice(ZW))
    return "".join(s), {"inserted": n}


def fullwidth(rng: random.Random, q: str, fam: str):
    n = sum(1 for c in q if c.isascii() and c.isalnum())
    if n < 6:
        return None
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in q), {"converted": n}


def strip_accents(rng: random.Random, q: str, fam: str):
    out, n = [], 0
    for c in q:
        if c in "łŁ":
            out.append("l" if c == "ł" else "L")
            n += 1
            continue
        d = unicodedata.normalize("NFD", c)
        base = "".join(x for x in d if unicodedata.category(x) != "Mn")
        if base != d and fam != "cjk":
            n += 1
            out.append(unicodedata.normalize("NFC", base))
        else:
            out.append(c)
    if n < 2:
        return None
    return "".join(out), {"stripped": n}


EDITS = {"lookalike": lookalike, "zero_width": zero_width, "fullwidth": fullwidth,
         "stripped_accents": strip_accents}


def oneline(q: str) -> str:
    return re.sub(r"\s+", " ", q).strip()


# ---------------------------------------------------------------- queries


def positives(rng, lang: str, pk: MlPicker, weights: dict) -> list[dict]:
    fam = ml_build.SCRIPT[lang]
    rows = []
    bands = LENGTHS.get(fam, LENGTHS["*"])
    for i in range(N_EXACT):
        lo, hi = bands[i % len(bands)]
        d, mail, s, e = pk.passage(lo, hi)
        q = d.raw(s, e)
        rows.append({"id": f"ml-{lang}-exact-{i + 1:03d}", "text": decorate(rng, q), "case": "exact",
                     "lang": lang, "script": fam, **lengths(d.text[s:e], fam, weights),
                     "expect": [expect(d, mail, s, e)]})
    for kind, fn in EDITS.items():
        n = tries = 0
        while n < N_EDIT and tries < 300:
            tries += 1
            lo, hi = bands[1 + tries % 2]
            try:
                d, mail, s, e = pk.passage(lo, hi)
            except RuntimeError:
                break
            made = fn(rng, oneline(d.text[s:e]), fam)
            if made is None:
                pk.used.discard((d.rel, s))
                continue
            q, meta = made
            n += 1
            rows.append({"id": f"ml-{lang}-{kind}-{n:03d}", "text": decorate(rng, q, marks=False),
                         "case": kind, "lang": lang, "script": fam, "edit": meta,
                         **lengths(d.text[s:e], fam, weights), "expect": [expect(d, mail, s, e)]})
    return rows


def pieces(rng, text: str, fam: str):
    """Sentences or runs of them, 40-280 characters (CJK: 15-140)."""
    lo, hi = (15, 140) if fam == "cjk" else (40, 280)
    for para in re.split(r"\n\s*\n", text):
        para = oneline(para)
        for m in re.finditer(r"[^.!?。！？]+[.!?。！？]*", para):
            s = m.group(0).strip()
            if lo <= len(s) <= hi:
                yield s
            elif len(s) > hi:
                yield s[:rng.randint(lo, hi)].strip()


def negatives(rng, lang: str, held_texts: list[str], shared: Shared, weights: dict, tally,
              avoid_norm: str = "") -> list[dict]:
    fam = ml_build.SCRIPT[lang]
    cands = [p for t in held_texts for p in pieces(rng, t, fam)
             if ml_build.own_script_share(p, fam) >= 0.6 and len(normalize(p)) >= 10
             and not (avoid_norm and normalize(p) in avoid_norm)]
    rng.shuffle(cands)
    rows, easy, hard = [], 0, 0
    for p in cands:
        if easy >= N_NEG:
            break
        sh = shared.longest(p)
        if sh > Shared.HARD_MAX:
            tally["dropped: shares > 60"] += 1
            continue
        case = "negative:hard" if sh >= Shared.HARD_MIN else "negative:same_language"
        if case == "negative:hard":
            hard += 1
        else:
            easy += 1
        row = {"id": f"ml-{lang}-neg-{len(rows) + 1:04d}", "text": decorate(rng, p) if rng.random() < 0.5 else p,
               "case": case, "lang": lang, "script": fam, **lengths(p, fam, weights), "expect": []}
        if sh:
            row["shared_norm"] = sh
        rows.append(row)
    tally[f"{lang} hard"] += hard
    return rows


def boilerplate(rng, docs: dict, weights: dict) -> list[dict]:
    """Paragraphs whose normalized text is in at least 5 dump documents, quoted alone."""
    seen: dict[str, set] = collections.defaultdict(set)
    raw: dict[str, tuple[str, str]] = {}
    for lang, ds in docs.items():
        for d, _ in ds:
            for s, e in d.paras:
                para = oneline(d.text[s:e])
                n = normalize(para)
                if len(n) >= 30:
                    seen[n].add(d.rel)
                    raw.setdefault(n, (lang, para))
    common = sorted((n for n, f in seen.items() if len(f) >= 5), key=lambda n: (-len(seen[n]), n))
    rng.shuffle(common)
    rows = []
    for n in common[:N_BOILER]:
        lang, para = raw[n]
        fam = ml_build.SCRIPT[lang]
        rows.append({"id": f"ml-boilerplate-{len(rows) + 1:03d}", "text": decorate(rng, para),
                     "case": "negative:boilerplate", "lang": lang, "script": fam,
                     "files_with_it": len(seen[n]), **lengths(para, fam, weights), "expect": []})
    return rows


def excluded(folders: list[str]) -> tuple[dict[str, list[tuple[int, int]]], str]:
    """Per source file, the byte spans of the queries of `folders` (dump-relative
    source paths), and the normalized texts of their negatives joined by NUL."""
    avoid: dict[str, list[tuple[int, int]]] = collections.defaultdict(list)
    negs = []
    for folder in folders:
        for name in sorted(os.listdir(folder)):
            if not name.endswith(".jsonl"):
                continue
            for ln in open(os.path.join(folder, name), encoding="utf-8"):
                r = json.loads(ln)
                for e in r.get("expect", []):
                    avoid[e["source"]].append(tuple(e["span"]))
                if not r.get("expect"):
                    negs.append(normalize(r["text"]))
    return dict(avoid), "\x00".join(negs)


def held_out_texts(src: str, lang: str, info: dict) -> list[str]:
    want = {(h["kind"], h["name"]) for h in info["held_out"]}
    out = []
    for kind, name, _pkg, _origin, load in ml_build.candidates(src, lang):
        if (kind, name) in want:
            out.append(ml_build.cut(ml_build.clean(load()), ml_build.MAX_DOC))
    return out


def write(name: str, rows: list[dict], out: str = OUT) -> None:
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, name), "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    c = collections.Counter((r["script"], r["case"]) for r in rows)
    print(f"{name}: {len(rows)}  " + ", ".join(f"{k[0]}/{k[1]} {v}" for k, v in sorted(c.items())))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--src", default="/tmp/leakprint-ml-src")
    ap.add_argument("--out", default=OUT, help="the query folder to write (a fresh set: another folder)")
    ap.add_argument("--split-name", default=None,
                    help='put every row in this split (e.g. "fresh") instead of tune / held_out halves')
    ap.add_argument("--exclude", action="append", default=[],
                    help="a query folder whose passages (positives, OCR) no new passage may overlap and "
                         "whose negatives no new negative may repeat (a fresh set: --exclude corpus/ml/queries)")
    a = ap.parse_args()
    avoid, avoid_norm = excluded(a.exclude)
    split = json.load(open(os.path.join(ML, "split.json"), encoding="utf-8"))
    docs = load_docs(split)
    weights = content_weights(docs)
    print("content weights (bits per normalized char relative to Latin):", weights)
    corpus_norm = "\x00".join(normalize(d.text) for ds in docs.values() for d, _ in ds)
    shared = Shared(corpus_norm)
    pos, neg, tally = [], [], collections.Counter()
    for lang in split["languages"]:
        rng = random.Random(f"{a.seed}:{lang}:queries")
        pk = MlPicker(rng, docs[lang], corpus_norm, ml_build.SCRIPT[lang], avoid)
        pos += positives(rng, lang, pk, weights)
        held = held_out_texts(a.src, lang, split["languages"][lang])
        neg += negatives(rng, lang, held, shared, weights, tally, avoid_norm)
    neg += boilerplate(random.Random(f"{a.seed}:boilerplate"), docs, weights)
    print("negatives:", dict(tally))
    if a.split_name:
        for r in pos + neg:
            r["split"] = a.split_name
    else:
        assign_split(pos, a.seed)
        assign_split(neg, a.seed)
    write("positives.jsonl", pos, a.out)
    write("negatives.jsonl", neg, a.out)
    meta = {"seed": a.seed, "content_weights": weights,
            "strict_rule": "exact with latin_equiv >= 50 (content_weight of the passage, in Latin letters)"}
    with open(os.path.join(a.out, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
