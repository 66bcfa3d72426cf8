package districtweb_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"hotline/internal/district"
	"hotline/internal/districtweb"
	"hotline/internal/hotline"
	"hotline/internal/ledger"
	"hotline/internal/pgtest"
	"hotline/internal/staff"
	"hotline/internal/store"
	"hotline/internal/testsupport"
	"hotline/internal/triage"
)

// benchEvents is the ledger length of the district page benchmark: a
// million, or 20,000 on CI's small seed.
var benchEvents = testsupport.BenchSize(1_000_000, 20_000)

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

// officerAuth lets every request in as a district officer.
type officerAuth struct{ sess *staff.Session }

func (a officerAuth) RequireSession(h http.Handler) http.Handler { return h }
func (a officerAuth) RequireCSRF(h http.Handler) http.Handler    { return h }
func (a officerAuth) SessionFromRequest(*http.Request) (*staff.Session, bool) {
	return a.sess, true
}
func (a officerAuth) CSRFToken(*http.Request) string { return "csrf" }

// seeded is the benchmark database, built once per run (seeding a million
// events takes a while) and reused by every b.N round.
var seeded struct {
	once    sync.Once
	dir     string
	db      *store.DB
	svc     *district.Service
	h       http.Handler
	seed    time.Duration // inserting the events
	cold    time.Duration // the first page view, nothing verified yet
	fullRun time.Duration // the full walk (the scheduler's)
	cases   int           // cases the overview lists to watch
	err     error
}

// TestMain runs every test of the package on SQLite, then on PostgreSQL;
// the benchmarks' seeded district is SQLite.
func TestMain(m *testing.M) {
	code := pgtest.Main(m)
	if seeded.db != nil {
		seeded.db.Close()
	}
	if seeded.dir != "" {
		os.RemoveAll(seeded.dir)
	}
	os.Exit(code)
}

// seedDistrict builds a district of 20 schools with 100 cases each (about
// 80 of them to watch) and a valid ledger of benchEvents events, written with direct SQL and sealed as
// store.Tx.AppendEvent seals them.
func seedDistrict() error {
	dir, err := os.MkdirTemp("", "hotline-bench-")
	if err != nil {
		return err
	}
	seeded.dir = dir
	db, err := store.Open(filepath.Join(dir, "hotline.db"))
	if err != nil {
		return err
	}
	seeded.db = db
	ctx := context.Background()
	// A year of a district: the page is viewed at now, 2,000 cases were
	// received over the year before it, most are done, a few new ones
	// wait, one in 40 is severe and most of those are escalated.
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	db.Clock = fixedClock(now)
	base := now.AddDate(-1, 0, 0)
	var tips []*hotline.Tip
	err = db.Update(ctx, func(tx *store.Tx) error {
		for s := 0; s < 20; s++ {
			sc := &hotline.School{Code: fmt.Sprintf("no%02d", s), Name: fmt.Sprintf("第%d中学", s), District: "海淀区", PublicKey: []byte("pk")}
			if err := tx.CreateSchool(sc, []byte("wrapped")); err != nil {
				return err
			}
			for i := 0; i < 100; i++ {
				n := i*20 + s // cases of all schools interleave in time
				created := now.Add(-time.Duration(2000-n) * 4 * time.Hour)
				t := &hotline.Tip{UID: fmt.Sprintf("t%05d", n), SchoolID: sc.ID, Alias: hotline.Alias{ZH: fmt.Sprintf("狐%d", n), EN: fmt.Sprintf("Fox %d", n)},
					Channel: hotline.Channels[n%len(hotline.Channels)], Role: hotline.ReporterVictim, Category: hotline.Categories[n%len(hotline.Categories)],
					Severity: []hotline.Severity{hotline.SeverityUnassessed, hotline.SeverityMinor, hotline.SeveritySerious}[n%3],
					Urgent:   n%37 == 0, CreatedAt: created, AckDue: created.Add(24 * time.Hour)}
				switch {
				case n%200 == 0:
					t.Severity = hotline.SeverityCriminal
				case n%40 == 0:
					t.Severity = hotline.SeveritySevere
				}
				t.Escalated = t.Severity.MustReportToDistrict() && n%80 != 40
				switch {
				case n >= 1990:
					t.Status = hotline.StatusNew
				case n%10 == 7:
					t.Status, t.AcknowledgedAt, t.ResolvedAt = hotline.StatusClosed, created.Add(time.Hour), created.Add(2*time.Hour)
				case n%10 >= 8:
					t.Status, t.AcknowledgedAt, t.FirstReplyAt = hotline.StatusInvestigating, created.Add(3*time.Hour), created.Add(5*time.Hour)
				default:
					t.Status, t.AcknowledgedAt, t.FirstReplyAt, t.ResolvedAt = hotline.StatusResolved, created.Add(2*time.Hour), created.Add(4*time.Hour), created.Add(72*time.Hour)
				}
				if err := tx.InsertTip(t, nil); err != nil {
					return err
				}
				tips = append(tips, t)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}

	start := time.Now()
	kinds := []hotline.EventKind{hotline.EventReceived, hotline.EventStatusChanged, hotline.EventReplied, hotline.EventHeadRecorded}
	prev := ledger.Genesis
	const chunk = 100_000
	for from := 1; from <= benchEvents; from += chunk {
		tx, err := db.Writer().Beginx()
		if err != nil {
			return err
		}
		st, err := tx.Preparex(`INSERT INTO ledger (seq, school_id, tip_id, alias, kind, detail, actor_id, at, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			tx.Rollback()
			return err
		}
		for seq := from; seq < from+chunk && seq <= benchEvents; seq++ {
			// Every case opens with its received event (ledger verify
			// cross-checks that each case has one), then the other kinds.
			t, kind := tips[(seq-1)%len(tips)], hotline.EventReceived
			if seq > len(tips) {
				kind = kinds[1+seq%(len(kinds)-1)]
			}
			ev := &hotline.Event{Seq: int64(seq), SchoolID: t.SchoolID, TipID: t.ID, Alias: t.Alias.ZH, Kind: kind,
				Detail: "from=new;to=acknowledged", ActorID: int64(seq % 7), At: base.Add(time.Duration(seq) * time.Second)}
			ledger.Seal(prev, ev)
			prev = ev.Hash
			if _, err := st.Exec(ev.Seq, ev.SchoolID, ev.TipID, ev.Alias, string(ev.Kind), ev.Detail, ev.ActorID, ev.At.UnixMicro(), ev.PrevHash, ev.Hash); err != nil {
				tx.Rollback()
				return err
			}
		}
		st.Close()
		// The head row moves with the events, as AppendEvent moves it: the
		// page's later appends continue the chain from there.
		if _, err := tx.Exec(`UPDATE ledger_head SET seq = ?, hash = ? WHERE id = 1`, min(from+chunk-1, benchEvents), prev); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	seeded.seed = time.Since(start)

	seeded.svc = district.New(db)
	seeded.h, err = districtweb.New(districtweb.Config{District: seeded.svc, Triage: &triage.Service{DB: db},
		Auth:   officerAuth{&staff.Session{Counselor: &hotline.Counselor{ID: 1, Role: hotline.RoleDistrict, District: "海淀区"}}},
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	// The first view of a ledger never verified checks one VerifyLimit's
	// worth of events, not the whole chain.
	start = time.Now()
	if code, body := view(seeded.h); code != http.StatusOK || !strings.Contains(body, "台账完整") {
		return fmt.Errorf("first view: %d", code)
	}
	seeded.cold = time.Since(start)
	// Then the scheduler's full walk, as in production.
	start = time.Now()
	res, err := seeded.svc.VerifyLedger(ctx)
	if err != nil {
		return err
	} else if !res.OK() || res.Count != int64(benchEvents) {
		return fmt.Errorf("seeded ledger does not verify: %+v", res)
	}
	seeded.fullRun = time.Since(start)
	o, err := seeded.svc.Overview(ctx, "海淀区", now)
	if err != nil {
		return err
	}
	seeded.cases = len(o.Cases)
	return nil
}

func view(h http.Handler) (int, string) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/district/", nil))
	return rec.Code, rec.Body.String()
}

// BenchmarkDistrictOverview1M measures the district overview page (20
// schools, 2,000 cases over a year, about 80 of them listed to watch) over a ledger of a million events, in steady
// state: the scheduler has walked the chain once, and an event is
// appended before every tenth view, so that views check new events as they
// come. It reports the p50, p95 and p99 of a view, and, once, how long
// seeding, the first view of the never-verified ledger and the full walk
// took. The goal is p95 ≤ 50 ms.
func BenchmarkDistrictOverview1M(b *testing.B) {
	seeded.once.Do(func() { seeded.err = seedDistrict() })
	if seeded.err != nil {
		b.Fatal(seeded.err)
	}
	db, h := seeded.db, seeded.h
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%10 == 0 {
			b.StopTimer()
			err := db.Update(context.Background(), func(tx *store.Tx) error {
				return tx.AppendEvent(&hotline.Event{Kind: hotline.EventHeadRecorded, Detail: "bench"})
			})
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		start := time.Now()
		code, body := view(h)
		lat = append(lat, time.Since(start))
		if code != http.StatusOK || !strings.Contains(body, "台账完整") {
			b.Fatalf("view %d: %d", i, code)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(seeded.seed.Seconds(), "seed-s")
	b.ReportMetric(float64(seeded.cold.Milliseconds()), "first-view-ms")
	b.ReportMetric(float64(seeded.fullRun.Milliseconds()), "full-walk-ms")
	b.ReportMetric(float64(seeded.cases), "cases-listed")
}
