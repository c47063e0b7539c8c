#!/usr/bin/env python3
"""Same-language negatives at scale for the multilingual dump (issue 10, hand-run).

The committed corpus/ml/queries/negatives.jsonl holds 160-320 same-language
negatives per script family: enough for a CI gate, far too few to measure
"at most 1 false match in 10,000". This script makes at least --per-family
(default 31,000) same-language posts per family from real text that is not in
corpus/ml/dump, with the length distribution of ml_queries.py's negatives,
and writes them to bench-out/ml-negatives/negatives_scale.jsonl (not
committed: about 30 MB). Run the evaluation on it with

  cargo run --release --example quality -- --dump corpus/ml/dump \\
      --queries bench-out/ml-negatives/negatives_scale.jsonl --split all --json ...

Sources (Debian 12 packages, pinned in EXTRA and ml_build.PACKAGES; with
--fetch: `apt-get download` into --src, `dpkg -x` into --src/x/<package>):

  every language   the documents of ml_build's packages that are not in the
                   dump: the held-out half of split.json and every candidate
                   past the build's byte budget (manual pages, kernel-doc
                   translations, fortunes, Handbook, Installation Guide),
                   except Chinese pages whose other form (Simplified /
                   Traditional) is in the dump: versions of a dump document
  de es it pl      manpages-{de,es,it,pl}-dev, debian-reference-{de,es,it},
                   debian-faq-{de,it}, fortunes-it, fortunes-pl
  ru uk            manpages-{ru,uk}-dev, debian-faq-ru
  ja zh_CN zh_TW   manpages-ja-dev, debian-reference-{ja,zh-cn,zh-tw},
  ko               debian-faq-{ja,zh-cn,ko}, fortunes-zh
  ar               the Quran in Arabic (Tanzil "simple" text, in texlive-lang-arabic's
                   quran package: tex/latex/quran/qurantext-simple.def)
  fa               a Persian translation of the Quran (same package:
                   qurantext-fa.translation.def)
  he               the Westminster Leningrad Codex (Open Scriptures Hebrew
                   Bible, bibledit-data: sources/morphhb/*.xml), morpheme
                   slashes removed

Pieces: sentences of 40-280 characters (CJK 15-140) as ml_queries.pieces();
a longer run without a sentence end (verse text, tables) is cut into
consecutive pieces at word boundaries (CJK: anywhere) whose lengths are drawn
from the lengths of the family's committed same-language negatives. A piece
needs 60% letters of its family's script and 10 normalized characters; pieces
are unique by normalized text. Half are decorated as posts
(querylib.decorate), as in ml_queries.py.

Each piece is checked against the dump (querylib.Shared, the longest run of
normalized characters it shares with corpus/ml/dump, with leakprint's
Traditional -> Simplified Chinese fold (manpages-zh has the same pages in
both forms, and the matcher rightly finds one in the other) and its Arabic /
Persian yeh and kaf fold): more than 60 is the
dump's own text (boilerplate, a licence, the same page in another package)
and is left out and counted; 20-60 is `negative:hard` (kept, reported apart);
less is `negative:same_language`. Languages of a family are taken in turn
(round robin, seeded order), so no language fills its family alone while
another still has pieces.

Then every match, looked at one by one:

  leakprint index -o /tmp/ml-idx corpus/ml/dump
  leakprint match -i /tmp/ml-idx --format jsonl --json bench-out/ml-negatives/negatives_scale.jsonl \
      > bench-out/ml-negatives/matches.jsonl
  python3 scripts/ml_negatives.py --review bench-out/ml-negatives/matches.jsonl

Usage: nice python3 scripts/ml_negatives.py [--seed 23] [--src /tmp/leakprint-ml-src] [--fetch]
       [--per-family 31000] [--out bench-out/ml-negatives] [--review MATCHES]
"""
from __future__ import annotations

import argparse
import collections
import glob
import gzip
import html
import json
import os
import random
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ml_build  # noqa: E402
from ml_queries import content_weights, lengths, load_docs, oneline  # noqa: E402
from querylib import Shared, decorate, normalize  # noqa: E402

EXTRA = {
    "manpages-de-dev": "4.18.1-1", "manpages-es-dev": "4.18.1-1", "manpages-it-dev": "4.18.1-1",
    "manpages-pl-dev": "1:4.18.1-1", "manpages-ru-dev": "4.18.1-1", "manpages-uk-dev": "4.18.1-1",
    "manpages-ja-dev": "0.5.0.0.20221215+dfsg-1",
    "debian-reference-de": "2.100", "debian-reference-es": "2.100", "debian-reference-it": "2.100",
    "debian-reference-ja": "2.100", "debian-reference-zh-cn": "2.100", "debian-reference-zh-tw": "2.100",
    "debian-faq-de": "11.1", "debian-faq-it": "11.1", "debian-faq-ru": "11.1", "debian-faq-ja": "11.1",
    "debian-faq-ko": "11.1", "debian-faq-zh-cn": "11.1",
    "fortunes-it": "1.99-4.1", "fortunes-pl": "0.0.20130525-3", "fortunes-zh": "2.98",
    "texlive-lang-arabic": "2022.20230122-1", "bibledit-data": "5.0.994-3",
}
LANGS = {"latin": ["de", "es", "it", "pl"], "cyrillic": ["ru", "uk"],
         "cjk": ["ja", "zh_CN", "zh_TW", "ko"], "other": ["ar", "fa", "he"]}
FAMILY = {lang: fam for fam, ls in LANGS.items() for lang in ls}
HEBREW = [(0x0590, 0x05FF), (0xFB1D, 0xFB4F)]
SENTENCE = re.compile(r"[^.!?。！？؟]+[.!?。！？؟]*")


def load_zh_fold() -> dict[int, str]:
    """leakprint's Traditional -> Simplified fold (src/normalize/zh_fold.rs, from OpenCC)."""
    rs = open(os.path.join(ml_build.ROOT, "src", "normalize", "zh_fold.rs"), encoding="utf-8").read()
    return {int(a, 16): chr(int(b, 16)) for a, b in re.findall(r"\('\\u\{([0-9A-F]+)\}', '\\u\{([0-9A-F]+)\}'\)", rs)}


ZH_FOLD = load_zh_fold()


# leakprint's UTS #39 skeleton makes Farsi yeh, alef maksura and Arabic yeh one
# letter, and keheh and kaf (Persian text written with Arabic letters, e.g.
# windows-1256 mail, reads the same)
ARABIC_FOLD = {0x06CC: "\u064a", 0x0649: "\u064a", 0x06A9: "\u0643"}


def fnorm(s: str) -> str:
    """querylib.normalize with two of leakprint's folds: Traditional ->
    Simplified Chinese (the same page in both forms is the same text, and the
    matcher finds it) and the Arabic / Persian yeh and kaf."""
    return normalize(s).translate(ZH_FOLD).translate(ARABIC_FOLD)


class FoldShared(Shared):
    """querylib.Shared over fnorm(): the longest run shared with the dump,
    Traditional and Simplified Chinese counted as the same text."""

    def prepare(self, text: str) -> str:
        return fnorm(text)


def own_share(text: str, lang: str) -> float:
    if lang == "he":
        letters = [ord(c) for c in text if c.isalpha()]
        own = sum(1 for o in letters if any(a <= o <= b for a, b in HEBREW))
        return own / len(letters) if letters else 0.0
    return ml_build.own_script_share(text, FAMILY[lang])


# ---------------------------------------------------------------- sources


def fetch(src: str) -> None:
    ml_build.fetch(src)
    names = [f"{p}={v}" for p, v in EXTRA.items()]
    subprocess.run(["apt-get", "download", *names], cwd=src, check=True)
    for p in EXTRA:
        out = os.path.join(src, "x", p)
        debs = glob.glob(os.path.join(src, f"{p}_*.deb"))
        if not os.path.isdir(out) and debs:
            os.makedirs(out)
            subprocess.run(["dpkg", "-x", debs[0], out], check=True)


def root(src: str, pkg: str) -> str:
    p = os.path.join(src, "x", pkg)
    if not os.path.isdir(p):
        sys.exit(f"{p}: missing; run with --fetch")
    return p


def read_text(path: str) -> str | None:
    raw = gzip.open(path).read() if path.endswith(".gz") else open(path, "rb").read()
    for enc in ("utf-8", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return None


def man_dir(src: str, pkg: str, sub: str):
    base = os.path.join(root(src, pkg), "usr", "share", "man", sub)
    for sec in sorted(os.listdir(base)):
        for f in sorted(os.listdir(os.path.join(base, sec))):
            p = os.path.join(base, sec, f)
            if f.endswith(".gz") and not os.path.islink(p):
                yield f"{pkg}:{sec}/{f}", lambda p=p: ml_build.render_man(p)


def html_glob(src: str, pkg: str, pattern: str):
    for p in sorted(glob.glob(os.path.join(root(src, pkg), pattern))):
        yield f"{pkg}:{os.path.basename(p)}", lambda p=p: ml_build.html_text(p)


def fortune_dir(src: str, pkg: str, pattern: str):
    for p in sorted(glob.glob(os.path.join(root(src, pkg), pattern))):
        if p.endswith(".dat") or os.path.islink(p) or not os.path.isfile(p):
            continue
        if os.path.exists(p + ".u8"):
            continue  # the UTF-8 copy is read instead

        def load(p=p):
            t = read_text(p) or ""
            return "\n\n".join(e.strip() for e in t.split("\n%\n") if e.strip() and e.strip() != "%")
        yield f"{pkg}:{os.path.basename(p)}", load


def quran(src: str, fname: str, macro: str):
    path = os.path.join(root(src, "texlive-lang-arabic"), "usr", "share", "texlive", "texmf-dist", "tex",
                        "latex", "quran", fname)
    verses = re.findall(r"\\qt@newcmd\\" + macro + r"@[a-z]+\{(.*?)\\qt@no\{", open(path, encoding="utf-8").read())

    def load(vs=verses):
        # ten verses to a paragraph: the text has no sentence ends, pieces are cut from the runs
        return "\n\n".join(" ".join(v.strip() for v in vs[i:i + 10]) for i in range(0, len(vs), 10))
    yield f"texlive-lang-arabic:{fname}", load


def oshb(src: str):
    base = os.path.join(root(src, "bibledit-data"), "usr", "share", "bibledit", "sources", "morphhb")
    for p in sorted(glob.glob(os.path.join(base, "*.xml"))):
        def load(p=p):
            out = []
            for v in re.findall(r"<verse[^>]*>(.*?)</verse>", open(p, encoding="utf-8").read(), re.S):
                v = re.sub(r"<note.*?</note>", "", v, flags=re.S)
                words = re.sub(r"<[^>]+>", " ", v).replace("/", "")
                out.append(re.sub(r"\s+", " ", html.unescape(words)).strip())
            return "\n\n".join(" ".join(out[i:i + 5]) for i in range(0, len(out), 5))
        yield f"bibledit-data:morphhb/{os.path.basename(p)}", load


TWINS = {"zh_CN": "zh_TW", "zh_TW": "zh_CN"}


def not_in_dump(src: str, lang: str, split: dict):
    """ml_build's candidate documents of `lang` that are not in the dump, nor
    twins of a dump document: a Chinese page whose other form (Simplified /
    Traditional, same package, same name) is in the dump is that document in
    another version (manpages-zh's zh_TW pages are OpenCC conversions of the
    zh_CN ones, with Taiwanese words: 软件/軟體, 默认/預設), a positive, not a
    negative (issue 11)."""
    dump = set()
    for lg in (lang, TWINS.get(lang)):
        for rel in split["languages"].get(lg, {}).get("dump", []) if lg else []:
            _, kind, name = rel.split("/", 2)
            dump.add((kind, name.rsplit(".", 1)[0]))
    for kind, name, pkg, origin, load in ml_build.candidates(src, lang):
        if (kind, name) not in dump:
            yield f"{pkg}:{origin}", lambda load=load: ml_build.clean(load())


def sources(src: str, lang: str, split: dict):
    """(origin, loader) of every document of `lang`, before shuffling."""
    gens = []
    if lang in split["languages"]:
        gens.append(not_in_dump(src, lang, split))
    dev = {"de": "manpages-de-dev", "es": "manpages-es-dev", "it": "manpages-it-dev",
           "pl": "manpages-pl-dev", "ru": "manpages-ru-dev", "uk": "manpages-uk-dev",
           "ja": "manpages-ja-dev"}
    if lang in dev:
        gens.append(man_dir(src, dev[lang], lang))
    ref = {"de": "de", "es": "es", "it": "it", "ja": "ja", "zh_CN": "zh-cn", "zh_TW": "zh-tw"}
    if lang in ref:
        gens.append(html_glob(src, f"debian-reference-{ref[lang]}",
                              f"usr/share/debian-reference/*.{ref[lang]}.html"))
    faq = {"de": "de", "it": "it", "ru": "ru", "ja": "ja", "ko": "ko", "zh_CN": "zh-cn"}
    if lang in faq:
        gens.append(html_glob(src, f"debian-faq-{faq[lang]}", f"usr/share/doc/debian/FAQ/{faq[lang]}/*.html"))
    if lang == "it":
        gens.append(fortune_dir(src, "fortunes-it", "usr/share/games/fortunes/it/*"))
    if lang == "pl":
        gens.append(fortune_dir(src, "fortunes-pl", "usr/share/games/fortunes/pl/*"))
    if lang == "zh_CN":
        gens.append(fortune_dir(src, "fortunes-zh", "usr/share/games/fortunes/*"))
    if lang == "ar":
        gens.append(quran(src, "qurantext-simple.def", "qurantext"))
    if lang == "fa":
        gens.append(quran(src, "qurantext-fa.translation.def", "qurantrans@fa"))
    if lang == "he":
        gens.append(oshb(src))
    for g in gens:
        yield from g


# ---------------------------------------------------------------- pieces


def chop(rng: random.Random, s: str, fam: str, lens: list[int]):
    """Consecutive pieces of a long run, lengths drawn from `lens`, cut at spaces (CJK: anywhere)."""
    i = 0
    while len(s) - i >= min(lens):
        want = rng.choice(lens)
        j = min(len(s), i + want)
        if fam != "cjk" and j < len(s):
            k = s.rfind(" ", i + 1, j + 1)
            if k > i:
                j = k
        piece = s[i:j].strip()
        if piece:
            yield piece
        i = j


def pieces(rng: random.Random, text: str, fam: str, lens: list[int]):
    lo, hi = (15, 140) if fam == "cjk" else (40, 280)
    for para in re.split(r"\n\s*\n", text):
        para = oneline(para)
        for m in SENTENCE.finditer(para):
            s = m.group(0).strip()
            if lo <= len(s) <= hi:
                yield s
            elif len(s) > hi:
                yield from (p for p in chop(rng, s, fam, lens) if lo <= len(p) <= hi)


def lang_pieces(rng: random.Random, src: str, lang: str, split: dict, lens: list[int], cap: int, seen: set):
    """Up to `cap` unique pieces of `lang` with their origin, documents in a seeded order."""
    docs = list(sources(src, lang, split))
    rng.shuffle(docs)
    fam = FAMILY[lang]
    out = []
    for origin, load in docs:
        try:
            text = load()
        except (subprocess.CalledProcessError, OSError, UnicodeDecodeError) as e:
            print(f"  skip {origin}: {e}", file=sys.stderr)
            continue
        for p in pieces(rng, text, fam, lens):
            if own_share(p, lang) < 0.6:
                continue
            n = fnorm(p)
            if len(n) < 10 or n in seen:
                continue
            seen.add(n)
            out.append((origin, p))
        if len(out) >= cap:
            break
    rng.shuffle(out)
    return out, len(docs)


# ---------------------------------------------------------------- review


def review(neg_path: str, matches_path: str) -> None:
    """Every match of `leakprint match --json` on the negatives, one block each:
    the post's matched span, the dump's snippet, and the longest run of
    normalized characters the matched span shares with the dump word for
    word (FoldShared). Verdicts: `real` when that run covers 80% of the
    span's normalized characters (the dump's text word for word);
    `template` when it is 20 or more (the dump's text with words changed
    around it); `other Chinese form` when a Simplified piece matched a
    Traditional dump page or the reverse; `look` for the rest, which must be
    read one by one (near-duplicates, templates under 20 characters, or a
    true false match)."""
    rows = {}
    for ln in open(neg_path, encoding="utf-8"):
        r = json.loads(ln)
        rows[r["id"]] = r
    split = json.load(open(os.path.join(ml_build.ML, "split.json"), encoding="utf-8"))
    docs = load_docs(split)
    corpus_norm = "\x00".join(fnorm(d.text) for ds in docs.values() for d, _ in ds)
    shared = FoldShared(corpus_norm)
    shared.CAP = 10_000
    tally: collections.Counter = collections.Counter()
    for ln in open(matches_path, encoding="utf-8"):
        m = json.loads(ln)
        if m.get("kind") != "text" or m.get("query") not in rows:
            continue
        r = rows[m["query"]]
        span = r["text"].encode("utf-8")[m["query_span"][0]:m["query_span"][1]].decode("utf-8", "replace")
        n = len(normalize(span))
        run = shared.longest(span)
        twin = TWINS.get(r["lang"])
        if run >= 0.8 * n:
            verdict = "real"  # the dump's text word for word (Chinese forms folded)
        elif run >= Shared.HARD_MIN:
            verdict = "template"  # a run of the dump's text with words changed around it
        elif twin and f"/{twin}/" in m["source"]:
            verdict = "other Chinese form"
        else:
            verdict = "look"
        tally[(r["script"], r["case"], verdict)] += 1
        print(f"== {r['id']} {r['case']} {r['lang']} sim {m['similarity']} aligned {m['aligned_len']} "
              f"span_norm {n} shared_run {run} -> {verdict}\n   origin: {r.get('origin')}\n"
              f"   source: {m['source']} {m['source_span']}\n   post:   {oneline(span)}\n"
              f"   dump:   {oneline(m.get('snippet', ''))}")
    for k, v in sorted(tally.items()):
        print(*k, v)


# ---------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=23)
    ap.add_argument("--src", default="/tmp/leakprint-ml-src")
    ap.add_argument("--fetch", action="store_true")
    ap.add_argument("--per-family", type=int, default=31_000)
    ap.add_argument("--out", default=os.path.join(ml_build.ROOT, "bench-out", "ml-negatives"))
    ap.add_argument("--review", metavar="MATCHES", help="review the matches (leakprint match --json output) "
                    "on the negatives in --out instead of generating")
    a = ap.parse_args()
    if a.review:
        review(os.path.join(a.out, "negatives_scale.jsonl"), a.review)
        return
    if a.fetch:
        fetch(a.src)
    split = json.load(open(os.path.join(ml_build.ML, "split.json"), encoding="utf-8"))
    docs = load_docs(split)
    weights = content_weights(docs)
    corpus_norm = "\x00".join(fnorm(d.text) for ds in docs.values() for d, _ in ds)
    shared = FoldShared(corpus_norm)
    committed = [json.loads(ln) for ln in open(os.path.join(ml_build.ML, "queries", "negatives.jsonl"),
                                                   encoding="utf-8")]
    lens = {f: sorted(r["chars"] for r in committed if r["script"] == f and r["case"] == "negative:same_language")
            for f in LANGS}
    rows, summary = [], {"seed": a.seed, "per_family": a.per_family, "packages": {**ml_build.PACKAGES, **EXTRA},
                         "families": {}}
    seen: set = set()
    for fam, langs in LANGS.items():
        rng = random.Random(f"{a.seed}:{fam}")
        # a language's share of the family, with room for hard and dropped pieces
        # (CJK: twice that, the same manual pages in both Chinese forms are left out as the dump's text)
        cap = int(a.per_family * (2.6 if fam == "cjk" else 1.3) / len(langs)) + 2000
        pools = {}
        for lang in langs:
            pools[lang], ndocs = lang_pieces(random.Random(f"{a.seed}:{lang}"), a.src, lang, split,
                                             lens[fam], cap, seen)
            print(f"{fam:8s} {lang:6s} {len(pools[lang]):6d} pieces from {ndocs} documents", flush=True)
        tally: collections.Counter = collections.Counter()
        origins: collections.Counter = collections.Counter()
        easy = 0
        order = langs[:]
        while easy < a.per_family and any(pools.values()):
            rng.shuffle(order)
            for lang in order:
                if not pools[lang] or easy >= a.per_family:
                    continue
                origin, p = pools[lang].pop()
                sh = shared.longest(p)
                if sh > Shared.HARD_MAX:
                    tally[f"{lang} dropped: shares > 60"] += 1
                    continue
                case = "negative:hard" if sh >= Shared.HARD_MIN else "negative:same_language"
                easy += case == "negative:same_language"
                tally[f"{lang} {case}"] += 1
                origins[f"{lang} {origin.split(':')[0]}"] += 1
                text = decorate(rng, p) if rng.random() < 0.5 else p
                row = {"id": f"mlneg-{lang}-{tally[f'{lang} {case}']:06d}{'h' if sh >= 20 else ''}",
                       "text": text, "case": case, "lang": lang, "script": fam,
                       **lengths(p, fam, weights), "origin": origin, "expect": []}
                if sh:
                    row["shared_norm"] = sh
                rows.append(row)
        chars = sorted(r["chars"] for r in rows if r["script"] == fam and r["case"] == "negative:same_language")
        q = lambda v, x: v[min(len(v) - 1, int(x * len(v)))] if v else 0  # noqa: E731
        summary["families"][fam] = {
            "same_language": easy, "counts": dict(sorted(tally.items())), "origins": dict(sorted(origins.items())),
            "chars_p10_p50_p90": [q(chars, 0.1), q(chars, 0.5), q(chars, 0.9)],
            "committed_chars_p10_p50_p90": [q(lens[fam], 0.1), q(lens[fam], 0.5), q(lens[fam], 0.9)]}
        print(fam, json.dumps(summary["families"][fam], ensure_ascii=False), flush=True)
        if easy < a.per_family:
            print(f"WARNING: {fam}: only {easy} same-language negatives", file=sys.stderr)
    os.makedirs(a.out, exist_ok=True)
    tmp = os.path.join(a.out, "negatives_scale.jsonl.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    os.replace(tmp, os.path.join(a.out, "negatives_scale.jsonl"))
    tmp = os.path.join(a.out, "summary.json.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(summary, f, ensure_ascii=False, indent=1)
        f.write("\n")
    os.replace(tmp, os.path.join(a.out, "summary.json"))
    print(f"wrote {len(rows)} rows to {a.out}")


if __name__ == "__main__":
    main()
