#!/usr/bin/env python3
"""Writes src/normalize/zh_fold.rs: the Traditional -> Simplified Chinese
character fold of the normalization, from OpenCC's TSCharacters.txt
(Apache-2.0; https://github.com/BYVoid/OpenCC, data/dictionary).

Usage: python3 scripts/gen_zh_fold.py PATH/TO/TSCharacters.txt
(`pip install opencc-python-reimplemented` ships the file under
opencc/dictionary/.)

Each traditional character maps to OpenCC's first simplified candidate.
Entries are closed under the map (a target that is itself a key maps on to
that key's target) so the fold is idempotent; an entry whose chain cycles is
dropped. Only single characters are kept.
"""
import sys

src = sys.argv[1]
raw = {}
for line in open(src, encoding="utf-8"):
    line = line.rstrip("\n")
    if not line or line.startswith("#"):
        continue
    k, v = line.split("\t")
    v = v.split(" ")[0]
    if len(k) == 1 and len(v) == 1 and k != v:
        raw[k] = v

table = {}
for k in raw:
    seen = {k}
    v = raw[k]
    while v in raw and v not in seen:
        seen.add(v)
        v = raw[v]
    if v in seen and v != k and v in raw:
        continue  # cycle
    if v != k:
        table[k] = v
for k, v in table.items():
    assert table.get(v, v) == v, (k, v)

rows = sorted(table.items(), key=lambda kv: ord(kv[0]))
out = [
    "//! Traditional -> Simplified Chinese, one character at a time: generated",
    "//! by `scripts/gen_zh_fold.py` from OpenCC's `TSCharacters.txt`",
    "//! (Copyright (c) Carbo Kuo and contributors, Apache License 2.0,",
    "//! <https://github.com/BYVoid/OpenCC>). Do not edit by hand.",
    "//!",
    f"//! {len(rows)} entries; every target is a fixed point of the map.",
    "",
    "/// (traditional, simplified), sorted by the traditional character.",
    "pub(super) static TS: &[(char, char)] = &[",
]
for k, v in rows:
    out.append(f"    ('\\u{{{ord(k):04X}}}', '\\u{{{ord(v):04X}}}'),")
out.append("];")
open("src/normalize/zh_fold.rs", "w", encoding="utf-8").write("\n".join(out) + "\n")
print(f"wrote src/normalize/zh_fold.rs: {len(rows)} entries (dropped {len(raw) - len(rows)})")
