//go:build sqlite_dbstat

package intake_test

import (
	"encoding/binary"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"hotline/internal/hotline"
	"hotline/internal/pgtest"
)

// TestPagesPerTip tells where a tip's WAL frames go: it files tips as
// BenchmarkDurableIntake does, one commit each, reads the page number in
// each WAL frame header ("The WAL File Format" in SQLite's file-format
// document) and names each page's b-tree with the dbstat virtual table.
// It measures, it asserts nothing about the counts; run it with
//
//	go test -tags sqlite_dbstat -run PagesPerTip -v ./internal/intake
//
// (the tag compiles dbstat into go-sqlite3).
func TestPagesPerTip(t *testing.T) {
	if pgtest.OnPostgres() {
		t.Skip("SQLite's pages")
	}
	const warm, tips = 200, 100
	for _, ch := range []hotline.Channel{hotline.ChannelTelegram, hotline.ChannelWebchat} {
		t.Run(string(ch), func(t *testing.T) {
			// Past the first pages of every b-tree, as in a school's database.
			e, path, sub := pageEnv(t, ch, warm)
			// An empty log, and no checkpoint to restart it while counting.
			for _, q := range []string{`PRAGMA wal_checkpoint(TRUNCATE)`, `PRAGMA wal_autocheckpoint = 0`} {
				if _, err := e.db.Writer().Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			before := e.db.Stats()
			for i := range tips {
				sub(warm + i)
			}
			frames := walPages(t, path+"-wal")
			if n := e.db.Stats().WALFrames - before.WALFrames; int64(len(frames)) != n {
				t.Fatalf("read %d frames from the log, the store counted %d", len(frames), n)
			}
			names := map[uint32]string{1: "(page 1: header, sqlite_schema)"}
			rows, err := e.db.Reader().Query(`SELECT name, pageno FROM dbstat`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var name string
				var pgno uint32
				if err := rows.Scan(&name, &pgno); err != nil {
					t.Fatal(err)
				}
				if pgno != 1 {
					names[pgno] = name
				}
			}
			if err := rows.Close(); err != nil {
				t.Fatal(err)
			}
			per := map[string]int{}
			total := 0
			for _, p := range frames {
				name, ok := names[p]
				if !ok {
					name = "(free or new page)"
				}
				per[name]++
				total++
			}
			type row struct {
				name string
				n    int
			}
			var out []row
			for n, c := range per {
				out = append(out, row{n, c})
			}
			sort.Slice(out, func(i, j int) bool { return out[i].n > out[j].n || out[i].n == out[j].n && out[i].name < out[j].name })
			var b strings.Builder
			fmt.Fprintf(&b, "%s: %.2f WAL frames per tip over %d tips\n", ch, float64(total)/tips, tips)
			for _, r := range out {
				fmt.Fprintf(&b, "| %s | %.2f |\n", r.name, float64(r.n)/tips)
			}
			t.Log("\n" + b.String())
		})
	}
}

// walPages returns the page number of every valid frame in a WAL file:
// a 32-byte header (page size at 8, salts at 16), then frames of a 24-byte
// header (page number at 0, salts at 8) and a page; a frame whose salts
// differ from the header's is left over from before a restart.
func walPages(t *testing.T, path string) []uint32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 32 {
		t.Fatalf("WAL of %d bytes", len(b))
	}
	pageSize := int(binary.BigEndian.Uint32(b[8:12]))
	salt := b[16:24]
	var pages []uint32
	for off := 32; off+24+pageSize <= len(b); off += 24 + pageSize {
		h := b[off : off+24]
		if string(h[8:16]) != string(salt) {
			break
		}
		pages = append(pages, binary.BigEndian.Uint32(h[0:4]))
	}
	return pages
}
