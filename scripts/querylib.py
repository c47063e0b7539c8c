"""Shared helpers for the query generators (make_queries.py, make_ocr.py, gen_scale.py).

- normalize(): the reference normalization used to check ground truth
  (NFKC, casefold, letters and digits only), close to leakprint's own.
- Doc: the "logical" text of a quotable plain-text file: lines joined into
  paragraphs, "> " quote markers stripped, with a map from every logical
  character to its byte offset in the file, so a quote picked in the logical
  text gets an exact byte span in the file.
- Picker: draws passages with word boundaries and checks that each is unique
  in the whole dump (its normalized form occurs exactly once).
- decorate(): wraps a quote in post-like text (commentary, hashtags, links, emoji).
"""
from __future__ import annotations

import json
import os
import random
import re
import subprocess
import unicodedata

# ---------------------------------------------------------------- normalize


FORTUNES = "/usr/share/games/fortunes"


def fortunes(d: str = FORTUNES):
    """(file name, entry) of every Debian fortune of 20 chars or more, in
    file order: the files of `d` without a dot in their name (not the
    .dat/.u8 twins; the offensive set is a folder), entries split at "%"
    lines, UTF-8 or else Latin-1."""
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
            if len(entry) >= 20:
                yield name, entry


def normalize(s: str) -> str:
    s = unicodedata.normalize("NFKC", s).casefold()
    return "".join(c for c in s if c.isalnum())


def norm_len(s: str) -> int:
    return len(normalize(s))


class ContentUnits:
    """Content weight of a text in Latin letters, counted by the matcher's own
    `normalize::content_weight` (look-alike fold, per-char weights), the unit
    of `min_len`: the example program `normalize_text --weights`, kept running
    and fed one JSON string per line. Its path: $LEAKPRINT_NORMALIZE_TEXT, else
    target/release/examples/normalize_text of this checkout
    (`cargo build --release --example normalize_text`)."""

    _proc = None

    @classmethod
    def of(cls, text: str) -> float:
        if cls._proc is None:
            root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
            exe = os.environ.get("LEAKPRINT_NORMALIZE_TEXT",
                                 os.path.join(root, "target", "release", "examples", "normalize_text"))
            if not os.access(exe, os.X_OK):
                raise SystemExit(f"{exe} is missing: cargo build --release --example normalize_text "
                                 "(or set LEAKPRINT_NORMALIZE_TEXT)")
            cls._proc = subprocess.Popen([exe, "--weights"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         text=True, encoding="utf-8", bufsize=1)
        cls._proc.stdin.write(json.dumps(text) + "\n")
        cls._proc.stdin.flush()
        return float(cls._proc.stdout.readline())


def content_units(s: str) -> float:
    """Latin-letter equivalent of `s` as the matcher counts it (see ContentUnits)."""
    return ContentUnits.of(s)


class Shared:
    """Longest run of normalized characters a text shares with a corpus (capped
    at CAP): hashes of every W-gram of the corpus, then exact substring checks.
    Hard negatives share HARD_MIN..HARD_MAX; more than HARD_MAX is the same text."""

    W = 20
    CAP = 61
    HARD_MIN, HARD_MAX = 20, 60

    def __init__(self, corpus_norm: str):
        self.norm = corpus_norm
        self.grams = {hash(corpus_norm[i:i + self.W]) for i in range(len(corpus_norm) - self.W + 1)}

    def prepare(self, text: str) -> str:
        """The form texts are compared in (subclasses fold more)."""
        return normalize(text)

    def longest(self, text: str) -> int:
        n = self.prepare(text)
        best = 0
        for i in range(len(n) - self.W + 1):
            if hash(n[i:i + self.W]) not in self.grams:
                continue
            length = max(best + 1, self.W)
            while i + length <= len(n) and length <= self.CAP and n[i:i + length] in self.norm:
                best = length
                length += 1
        return best


def same_domain_negatives(rng: random.Random, cands, shared: Shared, n_domain: int, n_hard: int,
                          width: int, stop_when_full: bool):
    """Held-out (name, piece) candidates -> (same-domain rows, hard rows, left out).

    A piece sharing more than HARD_MAX normalized characters with the dump is
    the dump's own text: left out (counted). One sharing HARD_MIN..HARD_MAX is
    a hard negative (`shared_norm` says how many). Half the pieces are
    decorated as posts. With stop_when_full, the scan ends once both lists
    are full; without, it goes on (and draws from rng) to the end."""
    out, hard, left_out = [], [], 0
    for name, piece in cands:
        if stop_when_full and len(out) >= n_domain and len(hard) >= n_hard:
            break
        sh = shared.longest(piece)
        if sh > Shared.HARD_MAX:
            left_out += 1
            continue
        text = decorate(rng, piece) if rng.random() < 0.5 else piece
        if sh >= Shared.HARD_MIN:
            if len(hard) < n_hard:
                hard.append({"id": f"neg-hard-{len(hard) + 1:0{width}d}", "text": text, "case": "negative:hard",
                             "shared_norm": sh, "origin": f"sotu held out: {name}", "expect": []})
        elif len(out) < n_domain:
            out.append({"id": f"neg-domain-{len(out) + 1:0{width}d}", "text": text,
                        "case": "negative:same_domain", "origin": f"sotu held out: {name}", "expect": []})
    return out, hard, left_out


# ---------------------------------------------------------------- logical docs

QUOTE_PREFIX = re.compile(r"^(?:> ?)+")


class Doc:
    """Logical text of a file plus char -> byte offset map.

    Paragraphs are runs of non-blank lines (after stripping "> " markers);
    lines inside a paragraph are joined by one space, paragraphs by "\\n\\n".
    Join characters map to the byte offset of the line break they replace.
    """

    def __init__(self, rel: str, data: bytes, skip_headers: bool = False,
                 exclude_norm: tuple[str, ...] = (), min_para: int = 0):
        self.rel = rel
        self.data = data
        chars: list[str] = []
        offs: list[int] = []
        self.paras: list[tuple[int, int]] = []  # logical [start, end) of usable paragraphs
        pos = 0
        lines = data.split(b"\n")
        i = 0
        if skip_headers:
            while i < len(lines) and lines[i].strip():
                pos += len(lines[i]) + 1
                i += 1
        cur_start = None
        prev_nl = None

        def close_para() -> None:
            nonlocal cur_start
            if cur_start is not None:
                seg = "".join(chars[cur_start:])
                ok = len(seg) >= min_para and not any(normalize(seg) in b for b in exclude_norm)
                if ok:
                    self.paras.append((cur_start, len(chars)))
                cur_start = None

        for line in lines[i:]:
            text = line.decode("utf-8", errors="replace")
            m = QUOTE_PREFIX.match(text)
            skip = len(m.group(0)) if m else 0
            body = text[skip:].rstrip("\r")
            if not body.strip():
                close_para()
                pos += len(line) + 1
                prev_nl = None
                continue
            if cur_start is None:
                if chars:
                    chars.append("\n")
                    offs.append(pos - 1)
                    chars.append("\n")
                    offs.append(pos - 1)
                cur_start = len(chars)
            elif prev_nl is not None:
                chars.append(" ")
                offs.append(prev_nl)
            b = pos + len(text[:skip].encode("utf-8"))
            for c in body:
                chars.append(c)
                offs.append(b)
                b += len(c.encode("utf-8"))
            pos += len(line) + 1
            prev_nl = pos - 1
        close_para()
        self.text = "".join(chars)
        self.offs = offs

    def span(self, start: int, end: int) -> list[int]:
        """Byte span [s, e) in the file of logical chars [start, end)."""
        last = self.text[end - 1]
        return [self.offs[start], self.offs[end - 1] + len(last.encode("utf-8"))]

    def raw(self, start: int, end: int) -> str:
        s, e = self.span(start, end)
        return self.data[s:e].decode("utf-8")


def word_spans(rel: str, data: bytes, span) -> list[list[int]]:
    """Byte spans in the file of each whitespace-separated word of the
    logical text (see Doc) that covers the byte span `span`: the words of a
    quote as scripts/make_screenshots.py draws them (`text.split()`), in
    order. `rel` decides whether the mail headers are skipped, as
    make_queries.quotable_docs does."""
    import bisect
    d = Doc(rel, data, skip_headers=rel.startswith("mail/synthetic/"))
    s = bisect.bisect_left(d.offs, span[0])
    e = bisect.bisect_left(d.offs, span[1])
    out = []
    for m in re.finditer(r"\S+", d.text[s:e]):
        a, b = s + m.start(), s + m.end()
        out.append([d.offs[a], d.offs[b - 1] + len(d.text[b - 1].encode("utf-8"))])
    return out


# ---------------------------------------------------------------- picking


class Picker:
    def __init__(self, rng: random.Random, docs: list[Doc], corpus_norm: str | None,
                 forbid_norm: str | None = None):
        """corpus_norm: normalized text of everything a quote must be unique in
        (None: no check); forbid_norm: normalized text a quote must not occur in."""
        self.forbid_norm = forbid_norm
        self.rng = rng
        self.docs = [d for d in docs if d.paras]
        # synthetic mails hold ~10% of the quotable text: weigh them x3 so ~25% of quotes come from mail
        self.weights = [sum(e - s for s, e in d.paras) * (3 if d.rel.startswith("mail/") else 1)
                        for d in self.docs]
        self.corpus_norm = corpus_norm
        self.used: set[tuple[str, int]] = set()

    def unique(self, s: str) -> bool:
        n = normalize(s)
        if self.forbid_norm is not None and n in self.forbid_norm:
            return False
        if self.corpus_norm is None:
            return True
        i = self.corpus_norm.find(n)
        return i >= 0 and self.corpus_norm.find(n, i + 1) < 0

    def doc(self) -> Doc:
        return self.rng.choices(self.docs, weights=self.weights)[0]

    def passage(self, lo: int, hi: int, doc: Doc | None = None, within: tuple[int, int] | None = None,
                cross_para: bool = False, must_contain: str | None = None,
                sentence_start: float = 0.4, tries: int = 200):
        """Pick logical [start, end) with lo <= end-start <= hi on word boundaries."""
        rng = self.rng
        for _ in range(tries):
            d = doc or self.doc()
            if within is not None:
                ps, pe = within
            else:
                cands = [p for p in d.paras if p[1] - p[0] >= lo or cross_para]
                if not cands:
                    continue
                if cross_para:
                    k = rng.randrange(len(d.paras))
                    ps, pe = d.paras[k][0], d.paras[min(k + 1, len(d.paras) - 1)][1]
                    # only consecutive usable paragraphs (nothing excluded between)
                    if k + 1 >= len(d.paras) or "\n\n" in d.text[d.paras[k][1] + 2:d.paras[k + 1][0]] \
                            or d.paras[k + 1][0] != d.paras[k][1] + 2:
                        continue
                else:
                    ps, pe = rng.choice(cands)
            t = d.text
            if must_contain:
                hits = [m.start() for m in re.finditer("[" + re.escape(must_contain) + "]", t[ps:pe])]
                if not hits:
                    continue
                anchor = ps + rng.choice(hits)
                start = max(ps, anchor - rng.randrange(0, hi - 10))
            else:
                if pe - ps < lo:
                    continue
                start = rng.randrange(ps, max(ps + 1, pe - lo))
            # move start to a word (or sentence) start
            if rng.random() < sentence_start:
                j = t.rfind(". ", ps, start + 1)
                start = j + 2 if j >= 0 else ps
            while start > ps and not t[start - 1].isspace():
                start -= 1
            L = rng.randint(lo, hi)
            end = min(pe, start + L)
            while end < pe and end > start and not t[end].isspace():
                end -= 1
            while end > start and t[end - 1].isspace():
                end -= 1
            if end - start < lo or end - start > hi:
                continue
            if cross_para and "\n" not in t[start:end]:
                continue
            if not cross_para and "\n\n" in t[start:end]:
                continue
            if must_contain and not any(c in t[start:end] for c in must_contain):
                continue
            key = (d.rel, start)
            if key in self.used:
                continue
            if norm_len(t[start:end]) < 20 or not self.unique(t[start:end]):
                continue
            self.used.add(key)
            return d, start, end
        raise RuntimeError("could not pick a passage")


# ---------------------------------------------------------------- post decoration

COMMENTS = [
    "Read this.", "Wow.", "This is from the leaked files:", "Can't believe they wrote this",
    "From the dump, page 3:", "Someone explain this to me", "Big if true", "thread 🧵",
    "They knew.", "Quote of the day:", "lol", "Interesting wording here",
    "Found this in the archive", "So this is what they were saying in private",
    "Saving this before it gets deleted", "Source is the leak posted yesterday",
    "ok but why is nobody talking about this", "Re-reading this again...",
    "My grandfather would have loved this line", "screenshot for later",
]
TAGS = ["#leak", "#politics", "#history", "#breaking", "#transparency", "#SOTU",
        "#dump", "#foia", "#news", "#thread", "#readthis", "#archives"]
EMOJI = ["😂", "🔥", "👀", "🤔", "😡", "🙄", "💯", "👇", "🇺🇸", "📜", "😱", "🤯"]
USERS = ["@newsdesk", "@archivist", "@j_doe", "@leakwatch", "@histprof", "@anon1234"]


def link(rng: random.Random) -> str:
    abc = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    code = "".join(rng.choice(abc) for _ in range(10))
    return rng.choice([f"https://t.co/{code}", f"https://example.org/leak/{code}",
                       f"http://bit.example/{code[:7]}"])


def decorate(rng: random.Random, q: str, marks: bool = True) -> str:
    """Put a quote inside post-like text."""
    pre = []
    if rng.random() < 0.3:
        pre.append(rng.choice(USERS))
    if rng.random() < 0.6:
        pre.append(rng.choice(COMMENTS))
    if rng.random() < 0.2:
        pre.append(rng.choice(EMOJI))
    if marks:
        style = rng.random()
        if style < 0.3:
            q = f'"{q}"'
        elif style < 0.5:
            q = f"“{q}”"
        elif style < 0.6:
            q = f"> {q}\n"
    post = []
    if rng.random() < 0.5:
        post.append(" ".join(rng.sample(TAGS, rng.randint(1, 3))))
    if rng.random() < 0.5:
        post.append(link(rng))
    if rng.random() < 0.3:
        post.append(rng.choice(EMOJI) * rng.randint(1, 3))
    sep = "\n" if rng.random() < 0.3 else " "
    return sep.join([*pre, q, *post]).strip()
