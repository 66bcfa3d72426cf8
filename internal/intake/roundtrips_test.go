package intake_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"hotline/internal/dialog"
	"hotline/internal/hotline"
	"hotline/internal/pgtest"
	"hotline/internal/store"
)

// TestTipRoundTrips counts the round trips of one tip's write
// transaction on PostgreSQL, through a proxy that reads the wire protocol
// (a round trip is a Sync or a simple Query, each answered by one
// ReadyForQuery), and lists them in the log: the figure in
// docs/BENCHMARKS.md. Issue 28 asks for the tip's statements in one
// pipeline: BEGIN and the ledger head's lock go with the tip's insert,
// the transaction's one waited statement before the COMMIT (no read of
// the names in use, the district's deadlines or the submission before
// it), and every write nothing reads back goes with the COMMIT.
func TestTipRoundTrips(t *testing.T) {
	if !pgtest.OnPostgres() {
		t.Skip("round trips are PostgreSQL's")
	}
	dir := t.TempDir()
	p := startWireProxy(t, pgtest.DB(t, filepath.Join(dir, "hotline.db")), dir)
	db, err := store.Open(p.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := newEnvOn(t, db, dir)
	convs := dialog.NewSealedStore(e.db, e.vault)
	for _, tc := range []struct {
		channel hotline.Channel
		max     int
	}{
		// begin + head lock + the tip insert (its alias picked, the
		// submission checked, the safety question asked with it; the
		// district deadlines read before the transaction), the rest
		// with COMMIT.
		{hotline.ChannelTelegram, 2},
		{hotline.ChannelWebchat, 2},
	} {
		t.Run(string(tc.channel), func(t *testing.T) {
			submit := func(i int) {
				t.Helper()
				s := hotline.Submission{SchoolCode: "no3", Channel: tc.channel, Role: hotline.ReporterVictim, Category: hotline.CategoryPhysical,
					Texts: []string{"今天放学后在操场后面，三个高年级的同学把我推倒，还抢走了我的书包和零花钱。他们说如果我告诉老师，明天还会来找我。我很害怕，不知道该怎么办。"}, SubmissionID: "rt-" + string(tc.channel) + string(rune('a'+i))}
				k := dialog.Key{Channel: tc.channel}
				if tc.channel == hotline.ChannelTelegram {
					s.ChatID = int64(4242 + i)
					k.ChatID = s.ChatID
				} else {
					s.PageSecret, k.Session = rand.Text(), rand.Text()
				}
				s.Record = func(ctx context.Context, _ *hotline.Submitted) error {
					return convs.Save(ctx, k, []byte(`{"step":"sent"}`), dialog.Meta{})
				}
				if _, err := e.intake.Submit(context.Background(), s); err != nil {
					t.Fatal(err)
				}
			}
			// Statements prepared on the connections first.
			submit(0)
			submit(1)
			p.reset()
			submit(2)
			trips := p.writeTrips()
			for i, tr := range trips {
				t.Logf("round trip %d: %s", i+1, strings.Join(tr, " | "))
			}
			if len(trips) == 0 {
				t.Fatal("no write transaction seen")
			}
			if len(trips) > tc.max {
				t.Errorf("one tip's transaction took %d round trips, want 1 to %d", len(trips), tc.max)
			}
			if first := trips[0]; !strings.HasPrefix(first[len(first)-1], "insert into tips") {
				t.Errorf("first round trip %q does not end with the tip's insert", first)
			}
			if last := trips[len(trips)-1]; last[len(last)-1] != "commit" {
				t.Errorf("last round trip %q does not end with the commit", last)
			}
		})
	}
}

// wireProxy passes PostgreSQL's wire protocol through a unix socket of
// its own and records, per connection, the statements each round trip
// carried.
type wireProxy struct {
	dsn   string
	mu    sync.Mutex
	trips map[int][][]string // connection → round trips → statements
}

func startWireProxy(t *testing.T, dsn, dir string) *wireProxy {
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	port := q.Get("port")
	if port == "" {
		port = "5432"
	}
	target := filepath.Join(q.Get("host"), ".s.PGSQL."+port)
	sockDir := filepath.Join(dir, "wire")
	if err := os.Mkdir(sockDir, 0o700); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", filepath.Join(sockDir, ".s.PGSQL."+port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	q.Set("host", sockDir)
	u.RawQuery = q.Encode()
	p := &wireProxy{dsn: u.String(), trips: map[int][][]string{}}
	go func() {
		for n := 0; ; n++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("unix", target)
			if err != nil {
				c.Close()
				continue
			}
			go p.client(n, c, s)
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
	return p
}

func (p *wireProxy) reset() {
	p.mu.Lock()
	p.trips = map[int][][]string{}
	p.mu.Unlock()
}

// writeTrips returns the round trips of the write transaction that
// committed: from the one that carried its BEGIN to its COMMIT.
func (p *wireProxy) writeTrips() [][]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, trips := range p.trips {
		first := -1
		for i, tr := range trips {
			if first < 0 && slices.Contains(tr, "begin") {
				first = i
			}
			if first >= 0 && len(tr) > 0 && tr[len(tr)-1] == "commit" {
				return trips[first : i+1]
			}
		}
	}
	return nil
}

// client copies what connection n sends to the server, reading its
// messages: Parse names a statement, Bind runs one, Sync and Query end a
// round trip.
func (p *wireProxy) client(n int, c, s net.Conn) {
	defer s.Close()
	r := bufio.NewReader(c)
	w := s
	names := map[string]string{}
	var cur []string
	// The startup messages have no type byte.
	for {
		var hdr [8]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return
		}
		size := binary.BigEndian.Uint32(hdr[:4])
		body := make([]byte, size-8)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		w.Write(hdr[:])
		w.Write(body)
		if code := binary.BigEndian.Uint32(hdr[4:]); code != 80877103 && code != 80877104 {
			break // not an SSL or GSS request: the startup message
		}
	}
	for {
		typ, err := r.ReadByte()
		if err != nil {
			return
		}
		var l [4]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return
		}
		body := make([]byte, binary.BigEndian.Uint32(l[:])-4)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		cstr := func(b []byte) (string, []byte) {
			i := strings.IndexByte(string(b), 0)
			if i < 0 {
				return string(b), nil
			}
			return string(b[:i]), b[i+1:]
		}
		switch typ {
		case 'P': // Parse: name, query
			name, rest := cstr(body)
			query, _ := cstr(rest)
			names[name] = query
			cur = append(cur, "prepare "+short(query))
		case 'B': // Bind: portal, statement
			_, rest := cstr(body)
			name, _ := cstr(rest)
			cur = append(cur, short(names[name]))
		case 'Q': // a simple query: one round trip
			q, _ := cstr(body)
			cur = append(cur, short(q))
			p.end(n, cur)
			cur = nil
		case 'S': // Sync: the end of a round trip
			p.end(n, cur)
			cur = nil
		}
		// Recorded before it leaves: the answer may end the caller's wait.
		if _, err := w.Write(append(append([]byte{typ}, l[:]...), body...)); err != nil {
			return
		}
	}
}

func (p *wireProxy) end(n int, stmts []string) {
	p.mu.Lock()
	p.trips[n] = append(p.trips[n], stmts)
	p.mu.Unlock()
}

// short is a statement's first words, for the log.
func short(q string) string {
	q = strings.Join(strings.Fields(q), " ")
	if len(q) > 48 {
		q = q[:48] + "…"
	}
	return strings.ToLower(q)
}
