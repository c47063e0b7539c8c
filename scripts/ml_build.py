#!/usr/bin/env python3
"""Build corpus/ml/dump/: the multilingual dump (issue 10.6), from Debian packages.

Deterministic from --seed and the package versions pinned in PACKAGES (same
seed, same .deb files => same bytes). Needs only Debian tools: `apt-get
download` (with --fetch, into --src), `dpkg -x`, `groff` (manual pages).

Languages and their sources (all real text, none written by us):

  ru  manpages-ru (rendered), fortunes-ru, Debian Administrator's Handbook ru-RU
  uk  manpages-uk
  pl  manpages-pl, Handbook pl-PL
  de  manpages-de, fortunes-de, Handbook de-DE
  es  manpages-es, fortunes-es, Handbook es-ES
  it  manpages-it, kernel docs it_IT, Handbook it-IT
  ja  manpages-ja, kernel docs ja_JP, Handbook ja-JP
  zh_CN  manpages-zh (zh_CN), kernel docs zh_CN, Handbook zh-CN
  zh_TW  manpages-zh (zh_TW), kernel docs zh_TW, Handbook zh-TW
  ko  kernel docs ko_KR, Debian Installation Guide (ko)
  ar  Handbook ar-MA       (right to left)
  fa  Handbook fa-IR       (right to left)

Every candidate document of a language is assigned, in a seeded order, to the
dump (until DUMP_BUDGET bytes) or to the held-out set (until HELD_BUDGET
bytes); the held-out documents are not written (ml_queries.py draws the
same-language negatives from them). corpus/ml/split.json lists both.

A quarter of each language's dump documents are written as mail in a legacy
charset (KOI8-R, KOI8-U, windows-1251, ISO-8859-2, ISO-8859-1/15,
windows-1252, ISO-2022-JP, Shift_JIS, EUC-JP, GB2312, GBK, Big5, EUC-KR,
windows-1256, ISO-8859-6): the body bytes come from Python's codecs, the
transfer encoding is 8bit, base64 or quoted-printable (7bit for ISO-2022-JP),
the Subject and From names are RFC 2047 encoded words in the same charset.
The headers (names, addresses, dates) are SYNTHETIC (written by this script);
the bodies are the real documents. Typographic characters that a legacy
charset lacks (groff's U+2010 hyphen, curly quotes, dashes, bullets) are
replaced by ASCII in that mail's body before encoding; the ground truth of a
mail is the decoded body (which Python's email package is asked to reproduce
before the file is written).

Usage: python3 scripts/ml_build.py [--seed 11] [--src /tmp/leakprint-ml-src] [--fetch]
"""
from __future__ import annotations

import argparse
import base64
import email
import email.policy
import email.utils
import gzip
import html
import html.parser
import json
import os
import quopri
import random
import re
import shutil
import subprocess
import sys
import unicodedata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ML = os.path.join(ROOT, "corpus", "ml")
DUMP = os.path.join(ML, "dump")

# Exact versions (Debian 12 "bookworm"); what the committed files were made from.
PACKAGES = {
    "manpages-ru": "4.18.1-1", "manpages-uk": "4.18.1-1", "manpages-pl": "1:4.18.1-1",
    "manpages-de": "4.18.1-1", "manpages-es": "4.18.1-1", "manpages-it": "4.18.1-1",
    "manpages-ja": "0.5.0.0.20221215+dfsg-1", "manpages-zh": "1.6.4.0-1",
    "linux-doc-6.1": "6.1.192-3", "fortunes-ru": "1.52-3.1", "fortunes-de": "0.35-1",
    "fortunes-es": "1.36", "debian-handbook": "11.20220922",
    "installation-guide-amd64": "20230508+deb12u1",
}
LICENCES = {
    "manpages-ru": "GPL-3+ (manpages-l10n translation); original page's own licence",
    "manpages-uk": "GPL-3+ (manpages-l10n translation); original page's own licence",
    "manpages-pl": "GPL-3+ (manpages-l10n translation); original page's own licence",
    "manpages-de": "GPL-3+ (manpages-l10n translation); original page's own licence",
    "manpages-es": "GPL-3+ (manpages-l10n translation); original page's own licence",
    "manpages-it": "GPL-3+ (manpages-l10n translation); original page's own licence",
    "manpages-ja": "the original page's licence (JM Project adds no restriction)",
    "manpages-zh": "GFDL-1.2+ / GPL-2+ (manpages-zh debian/copyright)",
    "linux-doc-6.1": "GPL-2 (Linux kernel documentation)",
    "fortunes-ru": "GPL-2+", "fortunes-de": "GPL-2+", "fortunes-es": "GPL-2+",
    "debian-handbook": "GPL-2+ or CC-BY-SA-3.0",
    "installation-guide-amd64": "GPL-2",
}
SCRIPT = {"ru": "cyrillic", "uk": "cyrillic", "pl": "latin", "de": "latin", "es": "latin",
          "it": "latin", "ja": "cjk", "zh_CN": "cjk", "zh_TW": "cjk", "ko": "cjk",
          "ar": "other", "fa": "other"}
MAN = {"ru": ("manpages-ru", "ru"), "uk": ("manpages-uk", "uk"), "pl": ("manpages-pl", "pl"),
       "de": ("manpages-de", "de"), "es": ("manpages-es", "es"), "it": ("manpages-it", "it"),
       "ja": ("manpages-ja", "ja"), "zh_CN": ("manpages-zh", "zh_CN"),
       "zh_TW": ("manpages-zh", "zh_TW")}
KERNEL = {"it": "it_IT", "ja": "ja_JP", "zh_CN": "zh_CN", "zh_TW": "zh_TW", "ko": "ko_KR"}
FORTUNES = {"ru": ("fortunes-ru", "ru"), "de": ("fortunes-de", "de"), "es": ("fortunes-es", "es")}
HANDBOOK = {"ru": "ru-RU", "pl": "pl-PL", "de": "de-DE", "es": "es-ES", "it": "it-IT",
            "ja": "ja-JP", "zh_CN": "zh-CN", "zh_TW": "zh-TW", "ar": "ar-MA", "fa": "fa-IR"}
INSTALL_GUIDE = {"ko": "ko"}
# Letters of the language's own script must be at least this share of all
# letters (drops untranslated pages: English in a Russian handbook).
SCRIPT_RANGES = {
    "cyrillic": [(0x0400, 0x052F)],
    "cjk": [(0x3040, 0x30FF), (0x3400, 0x9FFF), (0xAC00, 0xD7AF), (0x1100, 0x11FF), (0xF900, 0xFAFF)],
    "other": [(0x0600, 0x06FF), (0x0750, 0x077F), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)],
}
MIN_OWN_SCRIPT = 0.5
# Legacy charsets per language (first that encodes the body is used after a seeded pick).
CHARSETS = {
    "ru": ["KOI8-R", "windows-1251"], "uk": ["KOI8-U", "windows-1251"],
    "pl": ["ISO-8859-2"], "de": ["ISO-8859-1", "ISO-8859-15"],
    "es": ["ISO-8859-1", "windows-1252"], "it": ["ISO-8859-15", "ISO-8859-1"],
    "ja": ["ISO-2022-JP", "Shift_JIS", "EUC-JP"], "zh_CN": ["GB2312", "GBK"],
    "zh_TW": ["Big5"], "ko": ["EUC-KR"], "ar": ["windows-1256", "ISO-8859-6"],
    "fa": ["windows-1256"],
}
DUMP_BUDGET = 230_000   # UTF-8 bytes of dump text per language
HELD_BUDGET = 150_000   # held-out text per language (not written)
MAX_DOC = 24_000        # a longer document is cut at a paragraph break
MIN_DOC = 1_500
MAIL_SHARE = 0.25
FORTUNES_PER_DOC = 40


# ---------------------------------------------------------------- sources


def fetch(src: str) -> None:
    os.makedirs(src, exist_ok=True)
    names = [f"{p}={v}" for p, v in PACKAGES.items()]
    subprocess.run(["apt-get", "download", *names], cwd=src, check=True)
    for deb in sorted(os.listdir(src)):
        if deb.endswith(".deb"):
            out = os.path.join(src, "x", deb.split("_")[0])
            if not os.path.isdir(out):
                os.makedirs(out)
                subprocess.run(["dpkg", "-x", os.path.join(src, deb), out], check=True)


def pkg_root(src: str, pkg: str) -> str:
    p = os.path.join(src, "x", pkg)
    if not os.path.isdir(p):
        sys.exit(f"{p}: missing; run with --fetch (apt-get download {pkg}={PACKAGES[pkg]})")
    return p


def clean(text: str) -> str:
    """NFC, no BOM, no trailing spaces, at most one blank line in a row, LF."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").lstrip("\ufeff"))
    lines = [ln.rstrip() for ln in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
    return text.strip("\n") + "\n"


def render_man(path: str) -> str:
    raw = gzip.open(path).read()
    r = subprocess.run(["groff", "-k", "-man", "-Tutf8", "-P-cbou", "-rHY=0"], input=raw,
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True)
    return r.stdout.decode("utf-8", "replace")


def man_docs(src: str, lang: str):
    pkg, sub = MAN[lang]
    base = os.path.join(pkg_root(src, pkg), "usr", "share", "man", sub)
    for sec in sorted(os.listdir(base)):
        for f in sorted(os.listdir(os.path.join(base, sec))):
            p = os.path.join(base, sec, f)
            if f.endswith(".gz") and not os.path.islink(p):
                yield ("man", f[:-3], pkg, os.path.relpath(p, pkg_root(src, pkg)), lambda p=p: render_man(p))


def kernel_docs(src: str, lang: str):
    root = pkg_root(src, "linux-doc-6.1")
    base = os.path.join(root, "usr", "share", "doc", "linux-doc-6.1", "Documentation", "translations",
                        KERNEL[lang])
    for r, _, ns in sorted(os.walk(base)):
        for f in sorted(ns):
            p = os.path.join(r, f)
            if f.endswith(".gz") and not f.startswith("index.") and not os.path.islink(p):
                name = os.path.relpath(p, base)[:-3].replace("/", "_")
                yield ("kernel", name, "linux-doc-6.1", os.path.relpath(p, root),
                       lambda p=p: gzip.open(p).read().decode("utf-8", "replace"))


def fortune_docs(src: str, lang: str):
    pkg, sub = FORTUNES[lang]
    root = pkg_root(src, pkg)
    base = os.path.join(root, "usr", "share", "games", "fortunes", sub)
    for f in sorted(os.listdir(base)):
        if not f.endswith(".u8"):
            continue
        entries = [e.strip("\n") for e in open(os.path.join(base, f), encoding="utf-8",
                                               errors="replace").read().split("\n%\n")]
        entries = [e for e in entries if e.strip() and e.strip() != "%"]
        for k in range(0, len(entries), FORTUNES_PER_DOC):
            chunk = entries[k:k + FORTUNES_PER_DOC]
            name = f"{f[:-3].replace('.fortunes', '')}-{k // FORTUNES_PER_DOC + 1:02d}"
            yield ("fortunes", name, pkg, f"{os.path.relpath(os.path.join(base, f), root)} entries "
                   f"{k + 1}-{k + len(chunk)}", lambda c=chunk: "\n%\n".join(c) + "\n")


class _HtmlText(html.parser.HTMLParser):
    BLOCK = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "tr", "dt", "dd",
             "table", "blockquote", "title"}
    SKIP = {"script", "style", "head"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0
        self.pre = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skip += 1
        if tag == "pre":
            self.pre += 1
        if tag in self.BLOCK:
            self.out.append("\n\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skip = max(0, self.skip - 1)
        if tag == "pre":
            self.pre = max(0, self.pre - 1)
        if tag in self.BLOCK:
            self.out.append("\n\n")

    def handle_data(self, data):
        if self.skip:
            return
        self.out.append(data if self.pre else re.sub(r"\s+", " ", data))


def html_text(path: str) -> str:
    p = _HtmlText()
    p.feed(open(path, encoding="utf-8").read())
    paras = [ln.strip() for ln in "".join(p.out).split("\n\n")]
    return "\n\n".join(x for x in paras if x) + "\n"


def handbook_docs(src: str, lang: str):
    root = pkg_root(src, "debian-handbook")
    base = os.path.join(root, "usr", "share", "doc", "debian-handbook", "html", HANDBOOK[lang])
    for f in sorted(os.listdir(base)):
        if f.endswith(".html") and f != "index.html":
            p = os.path.join(base, f)
            yield ("handbook", f[:-5].replace(".", "-"), "debian-handbook", os.path.relpath(p, root),
                   lambda p=p: html_text(p))


def install_guide_docs(src: str, lang: str):
    root = pkg_root(src, "installation-guide-amd64")
    base = os.path.join(root, "usr", "share", "doc", "installation-guide-amd64", INSTALL_GUIDE[lang])
    for f in sorted(os.listdir(base)):
        if f.endswith(".html") and f != "index.html":
            p = os.path.join(base, f)
            yield ("install-guide", f[:-5], "installation-guide-amd64", os.path.relpath(p, root),
                   lambda p=p: html_text(p))


def candidates(src: str, lang: str):
    gens = []
    if lang in MAN:
        gens.append(man_docs(src, lang))
    if lang in KERNEL:
        gens.append(kernel_docs(src, lang))
    if lang in FORTUNES:
        gens.append(fortune_docs(src, lang))
    if lang in HANDBOOK:
        gens.append(handbook_docs(src, lang))
    if lang in INSTALL_GUIDE:
        gens.append(install_guide_docs(src, lang))
    for g in gens:
        yield from g


def own_script_share(text: str, script: str) -> float:
    if script not in SCRIPT_RANGES:
        return 1.0
    letters = [ord(c) for c in text if c.isalpha()]
    if not letters:
        return 0.0
    own = sum(1 for o in letters if any(a <= o <= b for a, b in SCRIPT_RANGES[script]))
    return own / len(letters)


def cut(text: str, limit: int) -> str:
    """The longest head of whole paragraphs within `limit` UTF-8 bytes."""
    if len(text.encode("utf-8")) <= limit:
        return text
    out, n = [], 0
    for para in text.split("\n\n"):
        b = len(para.encode("utf-8")) + 2
        if n + b > limit:
            break
        out.append(para)
        n += b
    return "\n\n".join(out).strip("\n") + "\n"


# ---------------------------------------------------------------- mail

ASCII_FOR = {"\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "--",
             "\u2212": "-", "\u2018": "'", "\u2019": "'", "\u201a": ",", "\u201c": '"',
             "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"', "\u2022": "*",
             "\u00b7": "*", "\u2026": "...", "\u00a0": " ", "\u2122": "(TM)", "\u00a9": "(C)",
             "\u00ae": "(R)", "\u2032": "'", "\u2033": '"', "\u2192": "->", "\u2190": "<-",
             "\u00d7": "x", "\u2264": "<=", "\u2265": ">=", "\u2260": "!=", "\u00b0": " deg",
             "\u27e8": "<", "\u27e9": ">", "\u2500": "-", "\u2502": "|", "\u2514": "`",
             "\u251c": "|", "\u25cf": "*", "\u02bc": "'"}
# What Persian mail in windows-1256 did: Farsi yeh as Arabic yeh, Persian digits as ASCII.
CHARSET_SUBST = {"windows-1256": {"\u06cc": "\u064a", **{chr(0x06F0 + d): str(d) for d in range(10)}}}

NAMES = {
    "ru": ["Анна Петрова", "Игорь Смирнов", "Ольга Кузнецова"], "uk": ["Олена Коваль", "Тарас Шевчук"],
    "pl": ["Łukasz Wójcik", "Zofia Kamińska"], "de": ["Jürgen Müller", "Käthe Schäfer"],
    "es": ["José Núñez", "María Peña"], "it": ["Niccolò Rossi", "Lucia Bianchi"],
    "ja": ["山田 太郎", "佐藤 花子"], "zh_CN": ["王伟", "李娜"], "zh_TW": ["陳志明", "林淑芬"],
    "ko": ["김민수", "이서연"], "ar": ["محمد العلي", "فاطمة حسن"], "fa": ["علی رضایی", "مریم احمدی"],
}
SUBJ = {"ru": "Документ", "uk": "Документ", "pl": "Dokument", "de": "Unterlagen", "es": "Documento",
        "it": "Documento", "ja": "資料", "zh_CN": "资料", "zh_TW": "資料", "ko": "자료",
        "ar": "وثيقة", "fa": "سند"}


def for_charset(body: str, cs: str) -> str | None:
    """The body with typographic characters the charset lacks made ASCII, or None."""
    out = []
    subst = CHARSET_SUBST.get(cs, {})
    for ch in body:
        ch = subst.get(ch, ch)
        try:
            ch.encode(cs)
            out.append(ch)
        except UnicodeEncodeError:
            rep = ASCII_FOR.get(ch)
            if rep is None:
                return None
            out.append(rep)
    return "".join(out)


def encoded_word(s: str, cs: str) -> str:
    return f"=?{cs}?B?{base64.b64encode(s.encode(cs)).decode('ascii')}?="


def make_mail(rng: random.Random, lang: str, title: str, body: str) -> tuple[bytes, dict] | None:
    order = CHARSETS[lang][:]
    first = rng.randrange(len(order))
    order = order[first:] + order[:first]
    for cs in order:
        b = for_charset(body, cs)
        if b is None:
            continue
        cte = "7bit" if cs == "ISO-2022-JP" else rng.choice(["8bit", "base64", "quoted-printable"])
        raw = b.encode(cs)
        if cte == "base64":
            payload = base64.encodebytes(raw)
        elif cte == "quoted-printable":
            payload = quopri.encodestring(raw)
        else:
            payload = raw
        frm, to = (for_charset(n, cs) for n in rng.sample(NAMES[lang], 2))
        subj = for_charset(f"{SUBJ[lang]}: {title}"[:40], cs) or for_charset(SUBJ[lang], cs)
        date = email.utils.formatdate(1_262_304_000 + rng.randrange(0, 400_000_000), localtime=False)
        mid = f"<{rng.getrandbits(48):012x}@mail.example>"
        head = (f"From: {encoded_word(frm, cs)} <sender{rng.randrange(100)}@mail.example>\n"
                f"To: {encoded_word(to, cs)} <team@mail.example>\n"
                f"Subject: {encoded_word(subj, cs)}\n"
                f"Date: {date}\nMessage-ID: {mid}\nMIME-Version: 1.0\n"
                f"Content-Type: text/plain; charset=\"{cs}\"\n"
                f"Content-Transfer-Encoding: {cte}\n\n")
        data = head.encode("ascii") + payload
        msg = email.message_from_bytes(data, policy=email.policy.default)
        if msg.get_content() != b or str(msg["subject"]) != subj:
            raise RuntimeError(f"{lang} {cs} {cte}: Python's email package does not read back the body")
        return data, {"charset": cs, "cte": cte, "body": b}
    return None


# ---------------------------------------------------------------- build


def build(src: str, seed: int) -> None:
    if os.path.isdir(DUMP):
        shutil.rmtree(DUMP)
    split: dict = {"seed": seed, "packages": PACKAGES, "languages": {}}
    manifest = ["file\tlang\tscript\tkind\tpackage\torigin\tlicence\tcharset\tcte"]
    for lang in SCRIPT:
        rng = random.Random(f"{seed}:{lang}")
        cands = list(candidates(src, lang))
        rng.shuffle(cands)
        dump_bytes = held_bytes = 0
        dump, held = [], []
        for kind, name, pkg, origin, load in cands:
            if dump_bytes >= DUMP_BUDGET and held_bytes >= HELD_BUDGET:
                break
            text = clean(load())
            if own_script_share(text, SCRIPT[lang]) < MIN_OWN_SCRIPT:
                continue
            text = cut(text, MAX_DOC)
            n = len(text.encode("utf-8"))
            if n < MIN_DOC:
                continue
            entry = {"kind": kind, "name": name, "package": pkg, "origin": origin}
            if dump_bytes < DUMP_BUDGET and (held_bytes >= HELD_BUDGET or rng.random() < 0.6):
                dump.append((entry, text))
                dump_bytes += n
            elif held_bytes < HELD_BUDGET:
                held.append(entry)
                held_bytes += n
        # a quarter of the documents as mail: the first ones, in a seeded order,
        # whose text the language's legacy charsets can carry
        want = round(len(dump) * MAIL_SHARE)
        mails: dict[int, tuple[bytes, dict]] = {}
        for i in rng.sample(range(len(dump)), len(dump)):
            if len(mails) >= want:
                break
            entry, text = dump[i]
            title = next((ln.strip() for ln in text.split("\n") if ln.strip()), entry["name"])
            made = make_mail(rng, lang, re.sub(r"\s+", " ", title)[:24], text)
            if made is not None:
                mails[i] = made
        files = []
        for i, (entry, text) in enumerate(dump):
            stem = f"{lang}/{entry['kind']}/{entry['name']}"
            charset = cte = "utf-8 file"
            if i in mails:
                data, meta = mails[i]
                rel = stem + ".eml"
                charset, cte = meta["charset"], meta["cte"]
            else:
                rel, data = stem + ".txt", text.encode("utf-8")
            p = os.path.join(DUMP, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(data)
            files.append(rel)
            manifest.append("\t".join([rel, lang, SCRIPT[lang], entry["kind"], f"{entry['package']} "
                                       f"{PACKAGES[entry['package']]}", entry["origin"],
                                       LICENCES[entry["package"]], charset, cte]))
        split["languages"][lang] = {"script": SCRIPT[lang], "dump": files,
                                    "held_out": held, "dump_bytes": dump_bytes,
                                    "held_out_bytes": held_bytes}
        print(f"{lang:6s} dump {len(dump):3d} docs {dump_bytes:7d} B ({len(mails)} mail)   "
              f"held out {len(held):3d} docs {held_bytes:7d} B")
    with open(os.path.join(ML, "split.json"), "w", encoding="utf-8") as f:
        json.dump(split, f, ensure_ascii=False, indent=1)
        f.write("\n")
    with open(os.path.join(ML, "MANIFEST.tsv"), "w", encoding="utf-8") as f:
        f.write("\n".join(manifest) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--src", default="/tmp/leakprint-ml-src", help="where the .deb files are unpacked")
    ap.add_argument("--fetch", action="store_true", help="apt-get download and dpkg -x the packages")
    a = ap.parse_args()
    if a.fetch:
        fetch(a.src)
    build(a.src, a.seed)


if __name__ == "__main__":
    main()
