#!/usr/bin/env python3
"""Render the screenshot benchmark: quotes of the bundled dump as images in the
styles of issue 14, with ground truth (source, byte span, word boxes), plus
unrelated negatives (fortunes).

Synthetic by necessity (no public set of screenshots of this dump exists) and
reproducible: everything follows from --seed, the committed corpus/dump and
corpus/split.json, Pillow's renderer and Debian's fonts (fonts-dejavu-core,
fonts-liberation2) and fortunes (`apt-get install fortunes`).

Quotes are picked as scripts/make_queries.py picks them (querylib.Picker:
word boundaries, unique in the whole dump), 90-260 characters, from the
speeches and the synthetic plain-text mails, so each span is a byte range of
the file named by "source" (relative to corpus/dump).

Styles (issue 14):
  tweet_light, tweet_dark, dim_dark (grey text on dark), small_text (9-11 px),
  reshared_jpeg (downscaled and re-compressed once or twice), mail_client
  (header block and body), highlighted (marker over the quoted lines),
  photo_screen (a photo of a monitor: light falloff, blur, noise, JPEG),
  angled_photo (the same, seen at an angle: perspective + 2-7 degrees),
  thumbnail (a mail view shrunk so that the text is 6-8 px high).

Each image's truth: {"file", "style", "kind": "positive"|"negative",
"source", "span", "words": [[l, t, w, h], ...] (the quoted words in the
image's pixels, rounded to whole pixels), "words_exact" (the same before
rounding), "word_spans": [[start, end], ...] (each word's bytes in the
source file, same order), "text_px" (the body font's size in the image's
pixels: its drawn size times the style's scalings, not counting the
keystone of angled photos; screenshot_eval.py reports re-shares under 9 px
apart), "split": "tune"|"test"}. The split is by a hash of the file
name: half the images tune the preprocessing, the other half are only
reported (scripts/screenshot_eval.py --split test) and gated.

Usage: python3 scripts/make_screenshots.py --out DIR [--per-style 20]
       [--negatives 100] [--seed 14]
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import os
import random
import re
import sys

from PIL import Image, ImageDraw, ImageFilter, ImageFont

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from querylib import Picker, word_spans  # noqa: E402
from make_queries import corpus_norm, load_dump, quotable_docs, CORPUS  # noqa: E402

FONT_DIRS = ["/usr/share/fonts/truetype/liberation2", "/usr/share/fonts/truetype/liberation",
             "/usr/share/fonts/truetype/dejavu"]
SANS = ["LiberationSans-Regular.ttf", "DejaVuSans.ttf"]
SERIF = ["LiberationSerif-Regular.ttf", "DejaVuSerif.ttf"]
BOLD = ["LiberationSans-Bold.ttf", "DejaVuSans-Bold.ttf"]
FORTUNES = "/usr/share/games/fortunes"

STYLES = ["tweet_light", "tweet_dark", "dim_dark", "small_text", "reshared_jpeg", "mail_client",
          "highlighted", "photo_screen", "angled_photo", "thumbnail"]

NAMES = ["Amy Pascal", "Keith W.", "leaks daily", "J. Moreno", "Press Watch", "Sam", "newsroom"]
HANDLES = ["@amyp", "@kw_news", "@leaksdaily", "@jmoreno", "@presswatch", "@sam_r", "@newsroom"]
COMMENTS = ["wow, read this:", "this is in the leaked mails", "so they knew.", "look at this part",
            "from the dump, unbelievable", "screenshot from the archive", ""]


def font(names: list[str], size: int) -> ImageFont.FreeTypeFont:
    for n in names:
        for d in FONT_DIRS:
            p = os.path.join(d, n)
            if os.path.exists(p):
                return ImageFont.truetype(p, size)
    raise SystemExit(f"no font among {names}: apt-get install fonts-dejavu-core fonts-liberation2")


def split_of(name: str) -> str:
    return "tune" if hashlib.sha256(name.encode()).digest()[0] % 2 == 0 else "test"


class Canvas:
    """Lays out words with wrapping and remembers the boxes of marked ones."""

    def __init__(self, w: int, h: int, bg):
        self.img = Image.new("RGB", (w, h), bg)
        self.draw = ImageDraw.Draw(self.img)
        self.boxes: list[list[float]] = []

    def paragraph(self, text: str, x: int, y: int, width: int, f, fill, mark: bool = False,
                  highlight=None, line_gap: float = 1.35) -> int:
        """Draw `text` wrapped in `width`; returns the y after it."""
        space = self.draw.textlength(" ", font=f)
        asc, desc = f.getmetrics()
        lh = int((asc + desc) * line_gap)
        cx = x
        for word in text.split():
            wl = self.draw.textlength(word, font=f)
            if cx > x and cx + wl > x + width:
                cx, y = x, y + lh
            if highlight is not None:
                self.draw.rectangle([cx - 2, y - 1, cx + wl + space, y + asc + desc + 1], fill=highlight)
            self.draw.text((cx, y), word, font=f, fill=fill)
            if mark:
                l, t, r, b = self.draw.textbbox((cx, y), word, font=f)
                self.boxes.append([l, t, r, b])
            cx += wl + space
        return y + lh


def tweet(rng, quote, dark, dim, size, neg):
    w = rng.randint(520, 640)
    bg, fg, sub = ((21, 32, 43), (231, 233, 234), (139, 152, 165)) if dark else (
        (255, 255, 255), (15, 20, 25), (83, 100, 113))
    if dim:
        fg = (110, 118, 125)
    c = Canvas(w, 900, bg)
    i = rng.randrange(len(NAMES))
    c.draw.ellipse([16, 16, 64, 64], fill=(rng.randint(40, 200), rng.randint(40, 200), 180))
    c.paragraph(NAMES[i], 76, 18, w - 90, font(BOLD, size), fg)
    c.paragraph(f"{HANDLES[i]} · {rng.randint(1, 23)}h", 76, 18 + size + 6, w - 90, font(SANS, size - 2), sub)
    y = 80
    com = rng.choice(COMMENTS)
    if com and not neg:
        y = c.paragraph(com, 16, y, w - 32, font(SANS, size), fg) + 4
    y = c.paragraph(("\u201c" if not neg else "") + quote + ("\u201d" if not neg else ""), 16, y, w - 32,
                    font(SANS, size), fg, mark=True)
    y = c.paragraph(f"\u2661 {rng.randint(2, 900)}    \u21bb {rng.randint(1, 300)}    share", 16, y + 10,
                    w - 32, font(SANS, size - 2), sub)
    return c, y + 12


def mail(rng, quote, size, neg):
    w = rng.randint(620, 760)
    c = Canvas(w, 1100, (255, 255, 255))
    c.draw.rectangle([0, 0, w, 34], fill=(235, 238, 242))
    c.paragraph("Inbox   Archive   Reply   Forward", 12, 9, w, font(SANS, 13), (60, 60, 70))
    hf = font(SANS, size)
    y = 48
    for label, val in [("From:", rng.choice(NAMES)), ("To:", rng.choice(NAMES)),
                       ("Subject:", "Re: " + rng.choice(["numbers", "draft", "tomorrow", "the plan"])),
                       ("Date:", f"Mon, {rng.randint(1, 28)} Nov 2014 {rng.randint(8, 19)}:{rng.randint(10, 59)}")]:
        c.paragraph(label, 16, y, 80, hf, (120, 120, 120))
        y = c.paragraph(val, 100, y, w - 120, hf, (20, 20, 20))
    c.draw.line([16, y + 4, w - 16, y + 4], fill=(200, 200, 200))
    body = font(rng.choice([SANS, SERIF]), size)
    y = c.paragraph(rng.choice(["Hi all,", "Team,", "Amy -", "All:"]), 16, y + 16, w - 32, body, (20, 20, 20))
    y = c.paragraph(quote, 16, y + 8, w - 40, body, (20, 20, 20), mark=True)
    y = c.paragraph("Thanks", 16, y + 8, w - 32, body, (20, 20, 20))
    return c, y + 16


def highlighted(rng, quote, size, neg):
    w = rng.randint(560, 680)
    c = Canvas(w, 1000, (252, 252, 250))
    f = font(rng.choice([SANS, SERIF]), size)
    y = c.paragraph("... as we discussed before the meeting, and", 20, 20, w - 40, f, (30, 30, 30))
    y = c.paragraph(quote, 20, y, w - 40, f, (20, 20, 20), mark=True,
                    highlight=rng.choice([(255, 240, 120), (255, 225, 90), (170, 230, 255)]))
    y = c.paragraph("which is where the rest of this goes.", 20, y, w - 40, f, (30, 30, 30))
    return c, y + 16


def crop(c: Canvas, h: int) -> tuple[Image.Image, list]:
    return c.img.crop((0, 0, c.img.width, min(h, c.img.height))), c.boxes


def jpeg(img: Image.Image, q: int) -> Image.Image:
    b = io.BytesIO()
    img.save(b, "JPEG", quality=q)
    b.seek(0)
    return Image.open(b).convert("RGB")


def scale(img, boxes, f):
    out = img.resize((max(1, round(img.width * f)), max(1, round(img.height * f))), Image.LANCZOS)
    return out, [[v * f for v in b] for b in boxes]


def photo(rng, img, boxes):
    """A monitor photographed: a bezel, light falloff, blur, noise, JPEG.
    Also returns the enlargement applied."""
    f = rng.uniform(1.1, 1.5)
    img, boxes = scale(img, boxes, f)
    pad = rng.randint(20, 50)
    canvas = Image.new("RGB", (img.width + 2 * pad, img.height + 2 * pad), (25, 25, 28))
    canvas.paste(img, (pad, pad))
    boxes = [[b[0] + pad, b[1] + pad, b[2] + pad, b[3] + pad] for b in boxes]
    w, h = canvas.size
    cx, cy = rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h
    sw, sh = max(1, w // 8), max(1, h // 8)
    shade = Image.new("L", (sw, sh))
    sp = shade.load()
    amp = rng.uniform(0.15, 0.3)
    for y in range(sh):
        for x in range(sw):
            d = math.hypot(x * 8 - cx, y * 8 - cy) / math.hypot(w, h)
            sp[x, y] = max(0, int(255 * (1 - amp * d * 2)))
    shade = shade.resize((w, h), Image.BILINEAR)
    tint = Image.new("RGB", (w, h), (rng.randint(0, 25), rng.randint(0, 25), rng.randint(0, 40)))
    canvas = Image.composite(canvas, Image.new("RGB", (w, h), (0, 0, 0)), shade)
    canvas = Image.blend(canvas, tint, 0.08)
    canvas = canvas.filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 1.1)))
    noise = Image.effect_noise((w, h), rng.uniform(8, 18)).convert("RGB")
    canvas = Image.blend(canvas, noise, 0.06)
    return canvas, boxes, f


def perspective(rng, img, boxes):
    """Seen at an angle: rotate 2-7 degrees and apply a keystone."""
    ang = rng.choice([-1, 1]) * rng.uniform(2, 7)
    w, h = img.size
    k = rng.uniform(0.03, 0.08) * w
    # forward map from source quad corners to output: keystone (top narrower) then rotation
    src = [(0, 0), (w, 0), (w, h), (0, h)]
    dst = [(k, 0), (w - k, 0), (w, h), (0, h)]
    a = math.radians(ang)
    cxm, cym = w / 2, h / 2

    def rot(p):
        x, y = p[0] - cxm, p[1] - cym
        return (cxm + x * math.cos(a) - y * math.sin(a), cym + x * math.sin(a) + y * math.cos(a))

    dst = [rot(p) for p in dst]
    minx = min(p[0] for p in dst)
    miny = min(p[1] for p in dst)
    dst = [(p[0] - minx + 10, p[1] - miny + 10) for p in dst]
    W = int(max(p[0] for p in dst) + 10)
    H = int(max(p[1] for p in dst) + 10)
    fwd = homography(src, dst)
    inv = homography(dst, src)
    out = img.transform((W, H), Image.PERSPECTIVE, [inv[0][0], inv[0][1], inv[0][2], inv[1][0], inv[1][1],
                                                    inv[1][2], inv[2][0], inv[2][1]], Image.BICUBIC,
                        fillcolor=(30, 30, 32))

    def ap(x, y):
        d = fwd[2][0] * x + fwd[2][1] * y + fwd[2][2]
        return ((fwd[0][0] * x + fwd[0][1] * y + fwd[0][2]) / d, (fwd[1][0] * x + fwd[1][1] * y + fwd[1][2]) / d)

    nb = []
    for b in boxes:
        pts = [ap(b[0], b[1]), ap(b[2], b[1]), ap(b[0], b[3]), ap(b[2], b[3])]
        nb.append([min(p[0] for p in pts), min(p[1] for p in pts), max(p[0] for p in pts), max(p[1] for p in pts)])
    return out, nb


def homography(src, dst):
    """3x3 matrix H with H*src = dst (normalized, h33 = 1), by Gaussian elimination."""
    A, B = [], []
    for (x, y), (u, v) in zip(src, dst):
        A.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        B.append(u)
        A.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        B.append(v)
    n = 8
    M = [A[i] + [B[i]] for i in range(n)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(M[r][c]))
        M[c], M[p] = M[p], M[c]
        for r in range(n):
            if r != c:
                f = M[r][c] / M[c][c]
                M[r] = [M[r][k] - f * M[c][k] for k in range(n + 1)]
    h = [M[i][n] / M[i][i] for i in range(n)]
    return [[h[0], h[1], h[2]], [h[3], h[4], h[5]], [h[6], h[7], 1.0]]


def render(style: str, rng: random.Random, quote: str, neg: bool):
    """(image, word boxes [l, t, r, b], file extension, text_px): text_px is
    the body font's size in the image's pixels (its size when drawn times
    the scalings applied after; the keystone of angled photos is not
    counted)."""
    if style in ("tweet_light", "tweet_dark", "dim_dark", "reshared_jpeg"):
        size = rng.randint(14, 17)
        c, h = tweet(rng, quote, style != "tweet_light" and style != "reshared_jpeg", style == "dim_dark",
                     size, neg)
        img, boxes = crop(c, h)
        if style == "reshared_jpeg":
            px = float(size)
            for _ in range(rng.randint(1, 2)):
                f = rng.uniform(0.7, 0.85)
                img, boxes = scale(img, boxes, f)
                px *= f
                img = jpeg(img, rng.randint(20, 45))
            return img, boxes, "jpg", px
        return img, boxes, "png", float(size)
    if style == "small_text":
        size = rng.randint(9, 11)
        c, h = tweet(rng, quote, False, False, size, neg)
        img, boxes = crop(c, h)
        return img, boxes, "png", float(size)
    if style == "mail_client":
        size = rng.randint(13, 15)
        c, h = mail(rng, quote, size, neg)
        img, boxes = crop(c, h)
        return img, boxes, rng.choice(["png", "webp"]), float(size)
    if style == "highlighted":
        size = rng.randint(15, 18)
        c, h = highlighted(rng, quote, size, neg)
        img, boxes = crop(c, h)
        return img, boxes, "png", float(size)
    if style in ("photo_screen", "angled_photo"):
        if rng.random() < 0.5:
            size = rng.randint(14, 16)
            c, h = mail(rng, quote, size, neg)
        else:
            dark = rng.random() < 0.3
            size = rng.randint(15, 17)
            c, h = tweet(rng, quote, dark, False, size, neg)
        img, boxes = crop(c, h)
        img, boxes, f = photo(rng, img, boxes)
        if style == "angled_photo":
            img, boxes = perspective(rng, img, boxes)
        return jpeg(img, rng.randint(60, 85)), boxes, "jpg", size * f
    if style == "thumbnail":
        size = rng.randint(13, 15)
        c, h = mail(rng, quote, size, neg)
        img, boxes = crop(c, h)
        # issue 14's "text of 6-8 px", read as the body font's size after
        # scaling
        target = rng.uniform(6, 8)
        img, boxes = scale(img, boxes, target / size)
        return jpeg(img, rng.randint(70, 90)), boxes, "jpg", target
    raise ValueError(style)


def save(img: Image.Image, path: str, ext: str) -> None:
    if ext == "jpg":
        img.save(path, "JPEG", quality=92)
    elif ext == "webp":
        img.save(path, "WEBP", lossless=True)
    else:
        img.save(path, "PNG")


def fortunes(rng: random.Random, n: int) -> list[str]:
    if not os.path.isdir(FORTUNES):
        raise SystemExit("negatives need fortunes: apt-get install fortunes")
    items = []
    for name in sorted(os.listdir(FORTUNES)):
        p = os.path.join(FORTUNES, name)
        if not os.path.isfile(p) or "." in name:
            continue
        for e in open(p, encoding="utf-8", errors="replace").read().split("\n%\n"):
            t = re.sub(r"\s+", " ", e).strip()
            if 60 <= len(t) <= 260 and t.isprintable():
                items.append(t)
    rng.shuffle(items)
    return items[:n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--per-style", type=int, default=20)
    ap.add_argument("--negatives", type=int, default=100)
    ap.add_argument("--styles", default=",".join(STYLES))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    split = json.load(open(os.path.join(CORPUS, "split.json")))
    files = load_dump()
    rng = random.Random(a.seed)
    pk = Picker(rng, quotable_docs(files, split), corpus_norm(files))
    truth = []
    styles = a.styles.split(",")
    for style in styles:
        for i in range(a.per_style):
            d, s, e = pk.passage(90, 260)
            quote = re.sub(r"\s+", " ", d.text[s:e])
            img, boxes, ext, px = render(style, random.Random(f"{a.seed}/{style}/{i}"), quote, False)
            name = f"{style}-{i:03d}.{ext}"
            save(img, os.path.join(a.out, name), ext)
            span = d.span(s, e)
            truth.append({"file": name, "style": style, "kind": "positive", "source": d.rel, "span": span,
                          "words": [[round(b[0]), round(b[1]), round(b[2] - b[0]), round(b[3] - b[1])] for b in boxes],
                          "words_exact": [[round(b[0], 2), round(b[1], 2), round(b[2] - b[0], 2), round(b[3] - b[1], 2)]
                                          for b in boxes],
                          "word_spans": word_spans(d.rel, files[d.rel], span),
                          "text_px": round(px, 2), "split": split_of(name)})
    for i, t in enumerate(fortunes(random.Random(a.seed + 1), a.negatives) if a.negatives else []):
        style = styles[i % len(styles)]
        img, _, ext, px = render(style, random.Random(f"{a.seed}/neg/{i}"), t, True)
        name = f"neg-{style}-{i:04d}.{ext}"
        save(img, os.path.join(a.out, name), ext)
        truth.append({"file": name, "style": style, "kind": "negative", "text_px": round(px, 2),
                      "split": split_of(name)})
    with open(os.path.join(a.out, "truth.jsonl"), "w") as f:
        for t in truth:
            f.write(json.dumps(t) + "\n")
    print(f"{len(truth)} images in {a.out}")


if __name__ == "__main__":
    main()
