package surveyweb_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hotline/internal/pgtest"
	"hotline/internal/staff"
	"hotline/internal/store"
	"hotline/internal/survey"
	"hotline/internal/surveyweb"
	"hotline/internal/testsupport"
	"hotline/internal/throttle"
	"hotline/internal/vault"
)

// TestMain runs every test of the package on SQLite, then on PostgreSQL.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

type fakeClock = testsupport.Clock

// fakeAuth stands in for the inbox's log-in: the header X-Test-As names
// one of its sessions.
type fakeAuth struct {
	mu       sync.Mutex
	sessions map[string]*staff.Session
}

func (a *fakeAuth) RequireSession(h http.Handler) http.Handler { return h }
func (a *fakeAuth) RequireCSRF(h http.Handler) http.Handler    { return h }
func (a *fakeAuth) CSRFToken(*http.Request) string             { return "test" }
func (a *fakeAuth) SessionFromRequest(r *http.Request) (*staff.Session, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.sessions[r.Header.Get("X-Test-As")]
	return s, ok
}

// env is the survey service and its pages on one database.
type env struct {
	t      *testing.T
	db     *store.DB
	st     *staff.Service
	svc    *survey.Service
	clock  *fakeClock
	auth   *fakeAuth
	staff  *httptest.Server
	pupils *httptest.Server
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := testsupport.OpenStore(t)
	clock := testsupport.NewClock(time.Date(2026, 2, 20, 9, 0, 0, 0, survey.Zone).UTC())
	db.Clock = clock
	v, err := vault.New(bytes.Repeat([]byte{9}, 32), vault.Options{Argon: vault.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: db, st: staff.New(db, v, nil), svc: survey.New(db, v, nil), clock: clock, auth: &fakeAuth{sessions: map[string]*staff.Session{}}}
	sp, err := surveyweb.NewStaff(e.svc, e.auth, nil, "https://hotline.example")
	if err != nil {
		t.Fatal(err)
	}
	pp, err := surveyweb.NewPupils(e.svc, nil, nil, throttle.ClientIP{})
	if err != nil {
		t.Fatal(err)
	}
	e.staff, e.pupils = httptest.NewServer(sp), httptest.NewServer(pp)
	t.Cleanup(e.staff.Close)
	t.Cleanup(e.pupils.Close)
	return e
}

// as logs username in (with its one-time password) and names the session.
func (e *env) as(name, username, password string) *staff.Session {
	e.t.Helper()
	s, err := e.st.Authenticate(context.Background(), username, password)
	if err != nil {
		e.t.Fatal(err)
	}
	e.auth.mu.Lock()
	e.auth.sessions[name] = s
	e.auth.mu.Unlock()
	return s
}

// get fetches a staff page as the named session and returns its body.
func (e *env) get(as, path string) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.staff.URL+path, nil)
	req.Header.Set("X-Test-As", as)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// published is one view's figures as its CSV and pages show them.
type published struct {
	units []*pubUnit // in the CSV's order: parents first
}

type pubUnit struct {
	path   string // district/school/grade/class names
	level  string
	depth  int
	n      pubCell
	cells  []pubCell // in the order of the indicators
	parent *pubUnit
	kids   []*pubUnit
}

type pubCell struct {
	hidden bool
	k, b   int
}

var cellRE = regexp.MustCompile(`^(\d+) / (\d+) \(\d+%\)$`)

func parseCell(s string) (pubCell, error) {
	switch s {
	case survey.HiddenMark:
		return pubCell{hidden: true}, nil
	case "0":
		return pubCell{}, nil
	}
	m := cellRE.FindStringSubmatch(s)
	if m == nil {
		return pubCell{}, fmt.Errorf("cell %q", s)
	}
	k, _ := strconv.Atoi(m[1])
	b, _ := strconv.Atoi(m[2])
	return pubCell{k: k, b: b}, nil
}

func parseCount(s string) (pubCell, error) {
	if s == survey.HiddenMark {
		return pubCell{hidden: true}, nil
	}
	n, err := strconv.Atoi(s)
	return pubCell{k: n, b: n}, err
}

var levelRank = map[string]int{"区教育局": 0, "学校": 1, "年级": 2, "班级": 3}

// parseCSV reads one wave's rows of a results CSV into a tree; prefix is
// the path of the view's root's parent ("" for the district).
func parseCSV(t *testing.T, body, wave, prefix string, nInds int) *published {
	t.Helper()
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff")))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows[0]) != 4+nInds {
		t.Fatalf("CSV header has %d columns, want %d", len(rows[0]), 4+nInds)
	}
	p := &published{}
	var stack []*pubUnit
	for _, row := range rows[1:] {
		if row[0] != wave || len(row) < 4+nInds {
			continue
		}
		rank, ok := levelRank[row[1]]
		if !ok {
			t.Fatalf("CSV level %q", row[1])
		}
		u := &pubUnit{level: row[1]}
		for len(stack) > 0 && levelRank[stack[len(stack)-1].level] >= rank {
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 {
			u.parent = stack[len(stack)-1]
			u.parent.kids = append(u.parent.kids, u)
			u.path = u.parent.path + "/" + row[2]
		} else {
			u.path = prefix + "/" + row[2]
		}
		u.depth = len(stack)
		stack = append(stack, u)
		if u.n, err = parseCount(row[3]); err != nil {
			t.Fatal(err)
		}
		for _, c := range row[4 : 4+nInds] {
			cell, err := parseCell(c)
			if err != nil {
				t.Fatal(err)
			}
			u.cells = append(u.cells, cell)
		}
		p.units = append(p.units, u)
	}
	return p
}

// pageRows reads a results page's table (main or forms) into rows of
// depth, unit name and cell texts.
func pageRows(body, table string) [][]string {
	i := strings.Index(body, `<table id="`+table+`">`)
	if i < 0 {
		return nil
	}
	body = body[i:]
	body = body[:strings.Index(body, "</table>")]
	var out [][]string
	for _, tr := range strings.Split(body, "<tr class=\"d")[1:] {
		tr = tr[:strings.Index(tr, "</tr>")]
		row := []string{tr[:1]}
		th := tr[strings.Index(tr, `<th scope="row">`)+len(`<th scope="row">`):]
		row = append(row, th[:strings.Index(th, "</th>")])
		for _, td := range strings.Split(tr, "<td")[1:] {
			td = td[strings.Index(td, ">")+1:]
			row = append(row, strings.TrimSpace(td[:strings.Index(td, "</td>")]))
		}
		out = append(out, row)
	}
	return out
}
