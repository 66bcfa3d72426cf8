//go:build ignore

// gen writes pinyin.txt, the toneless reading of every CJK Unified
// Ideograph (U+4E00–U+9FFF) that has one, from the dictionary of
// github.com/mozillazg/go-pinyin (MIT, © 2016 mozillazg), as Debian's
// golang-github-mozillazg-go-pinyin-dev package installs it:
//
//	apt-get install golang-github-mozillazg-go-pinyin-dev
//	go run gen.go [path/to/pinyin_dict.go]
//
// Each line is one syllable, a tab, and the characters whose first reading
// it is. Only the first reading is kept: the detector needs a bridge from
// characters to pinyin typing, not a reading of each word.
package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

func main() {
	src := "/usr/share/gocode/src/github.com/mozillazg/go-pinyin/pinyin_dict.go"
	if len(os.Args) > 1 {
		src = os.Args[1]
	}
	f, err := os.Open(src)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()
	line := regexp.MustCompile(`^\s*0x([0-9A-F]+): "([^",]+)`)
	bySyl := map[string][]rune{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		cp, _ := strconv.ParseUint(m[1], 16, 32)
		if cp < 0x4E00 || cp > 0x9FFF {
			continue
		}
		syl := toneless(m[2])
		bySyl[syl] = append(bySyl[syl], rune(cp))
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	syls := make([]string, 0, len(bySyl))
	for s := range bySyl {
		syls = append(syls, s)
	}
	slices.Sort(syls)
	out, err := os.Create("pinyin.txt")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	w := bufio.NewWriter(out)
	fmt.Fprintln(w, "# toneless first readings of U+4E00–U+9FFF, from github.com/mozillazg/go-pinyin (MIT, © 2016 mozillazg); see gen.go")
	for _, s := range syls {
		rs := bySyl[s]
		slices.Sort(rs)
		fmt.Fprintf(w, "%s\t%s\n", s, string(rs))
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out.Close()
}

// toneless drops the tone marks: ǎ is a, ü is v (as pinyin is typed).
func toneless(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case r == 'ü' || r == '\u0308':
			if r == '\u0308' {
				// u + combining diaeresis
				str := b.String()
				if strings.HasSuffix(str, "u") {
					b.Reset()
					b.WriteString(strings.TrimSuffix(str, "u") + "v")
				}
				continue
			}
			b.WriteRune('v')
		case unicode.Is(unicode.Mn, r):
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}
