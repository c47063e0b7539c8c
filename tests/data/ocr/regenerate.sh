#!/bin/sh
# Regenerates the OCR fixtures of this folder (tesseract 5.3.0 made the
# committed ones). Needs: apt-get install tesseract-ocr tesseract-ocr-eng
# imagemagick fonts-dejavu-core. The images are not committed (page2 is
# noisy and large); outputs may differ slightly with other tesseract versions.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
/usr/bin/convert -size 900x -background white -fill black -font DejaVu-Sans -pointsize 28 \
  caption:"Dear board members, please find attached the quar-\nterly figures for the merger. Do not forward this invite outside the company.\n\nThe second paragraph names Mr. O'Brien & partners; totals are 1,250,000 EUR." \
  -bordercolor white -border 20 "$tmp/page1.png"
/usr/bin/convert -size 520x -background white -fill black -font DejaVu-Serif -pointsize 15 \
  caption:"Re: budget 2024 - the vendor invoice (#4471) was paid twice; please keep this between us until the audit closes." \
  -blur 0x0.7 -attenuate 0.4 +noise Gaussian -bordercolor white -border 10 "$tmp/page2.png"
for p in page1 page2; do
  OMP_THREAD_LIMIT=1 tesseract "$tmp/$p.png" "$p" -l eng txt tsv hocr
done
rm -r "$tmp"
