#!/bin/sh
# subset.sh regenerates the poster's embedded fonts from Noto Sans CJK SC
# (SIL Open Font License 1.1, see OFL.txt), keeping only the glyphs a
# poster can need, so the binary carries ~1.6 MB instead of ~20 MB:
#
#   regular: printable ASCII, Latin-1, general and CJK punctuation,
#            full-width forms and every character of GB 2312 (its 682
#            symbols and all 6,763 hanzi, levels 1 and 2), so any ordinary
#            school name renders; plus every non-ASCII character of the
#            poster's texts in ../*.go (not the tests).
#   bold:    printable ASCII, punctuation and the poster's texts only (the
#            headings never show a school's name).
#
# A character outside the subset draws as the font's empty box; `hotline
# poster` warns about it (poster.Poster.Missing).
#
# Needs Debian's fonts-noto-cjk and fonttools:
#   apt-get install -y fonts-noto-cjk fonttools
# Run from anywhere: sh internal/poster/fonts/subset.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=${NOTO_DIR:-/usr/share/fonts/opentype/noto}
sc=2 # face index of "Noto Sans CJK SC" in the .ttc (JP, KR, SC, TC, HK, ...)
py=/usr/bin/python3 # Debian's python, where fonttools is installed
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The poster's own characters: everything non-ASCII in its Go sources
# (not the tests, which try characters the font must lack).
for f in "$here"/../*.go; do
	case $f in *_test.go) ;; *) cat "$f" ;; esac
done >"$tmp/src.txt"
"$py" -c '
import sys
print("".join(sorted({c for c in open(sys.argv[1], encoding="utf-8").read() if ord(c) > 0x7e})))' "$tmp/src.txt" >"$tmp/texts.txt"

# GB 2312: rows 0xA1-0xF7, cells 0xA1-0xFE, as decoded by Python's codec.
"$py" -c '
out = []
for hi in range(0xA1, 0xF8):
    for lo in range(0xA1, 0xFF):
        try:
            out.append(bytes([hi, lo]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
print("".join(out))' >"$tmp/gb2312.txt"

common=U+0020-007E,U+00A0-00FF,U+2010-2027,U+2030-203B,U+3000-303F,U+FF01-FF5E,U+FFE0-FFE6
subset() {
	/usr/bin/pyftsubset "$1" --font-number=$sc --unicodes="$common" \
		--text-file="$2" --layout-features='' --no-hinting --notdef-outline \
		--name-IDs='*' --output-file="$3"
}
cat "$tmp/texts.txt" "$tmp/gb2312.txt" >"$tmp/regular.txt"
subset "$src/NotoSansCJK-Regular.ttc" "$tmp/regular.txt" "$here/NotoSansSC-Regular.subset.otf"
subset "$src/NotoSansCJK-Bold.ttc" "$tmp/texts.txt" "$here/NotoSansSC-Bold.subset.otf"
ls -l "$here"/*.otf
