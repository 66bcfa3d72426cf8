#!/bin/sh
# ttf.sh makes NotoSansSC-Regular.subset.ttf.gz, the TrueType-outline twin
# of the regular poster subset (same glyphs: ASCII, punctuation and all of
# GB 2312), for PDFs that carry real text: go-pdf/fpdf embeds TrueType
# (glyf) fonts only, not the CFF outlines of Noto Sans CJK, and a PDF whose
# text is drawn as an image could be neither searched nor copied from. The
# cubic outlines are converted to quadratic ones within 1 unit of 1000
# (fontTools' cu2qu), hinting is dropped, and the result is gzipped (2 MB
# becomes 1.3 MB in the binary). Run subset.sh first when it changes.
#
# Needs Debian's fonttools: apt-get install -y fonttools
# Run from anywhere: sh internal/poster/fonts/ttf.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$here/NotoSansSC-Regular.subset.otf" "$tmp/font.ttf" <<'PY'
import sys
from fontTools.ttLib import TTFont, newTable
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen

src, dst = sys.argv[1], sys.argv[2]
f = TTFont(src)
assert f.sfntVersion == "OTTO", "not a CFF font"
order = f.getGlyphOrder()
glyphset = f.getGlyphSet()
glyphs = {}
for name in order:
    pen = TTGlyphPen(glyphset)
    glyphset[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
    glyphs[name] = pen.glyph()
f["loca"] = newTable("loca")
f["glyf"] = glyf = newTable("glyf")
glyf.glyphOrder = order
glyf.glyphs = glyphs
del f["CFF "]
if "VORG" in f:
    del f["VORG"]
glyf.compile(f)
hmtx = f["hmtx"]
for name, g in glyf.glyphs.items():
    if hasattr(g, "xMin"):
        hmtx[name] = (hmtx[name][0], g.xMin)
maxp = f["maxp"] = newTable("maxp")
maxp.tableVersion = 0x00010000
maxp.maxZones = 1
for k in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
          "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
    setattr(maxp, k, 0)
maxp.compile(f)
f["post"].formatType = 3.0  # no glyph names: the PDF maps text through cmap
f.sfntVersion = "\x00\x01\x00\x00"
f.save(dst)
PY
gzip -9 -n -c "$tmp/font.ttf" >"$here/NotoSansSC-Regular.subset.ttf.gz"
ls -l "$here/NotoSansSC-Regular.subset.ttf.gz"
