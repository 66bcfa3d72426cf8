// Package district is what the district education bureau (区教育局) knows
// of its schools, as a service that the district pages and the CLI call:
// per-school statistics, the cases to watch (overdue, late, escalated, owed
// to the district), the summary report (工作总结) and the ledger's state.
//
// It reads metadata only — times, statuses, severities, categories,
// channels, steps — and never a tip's content; the summary report carries
// no aliases either. Counts from 1 to 4 that could single out a small
// school's students (by category, channel, severity…) are shown as "<5";
// a school's overdue, missed, unassessed and escalated counts are its own
// record and are shown exactly (Exact). It never walks the whole ledger
// for a page: pages get the incremental check, the full walk is
// VerifyLedger's, for the scheduler and `hotline ledger verify`.
package district

import (
	"context"
	"sort"
	"sync"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/ledger"
	"hotline/internal/store"
)

// DefaultVerifyLimit is how many new ledger events one LedgerState checks
// at most, so that a page stays fast even after a burst (or on a ledger
// never verified): what is left is checked by the next call.
const DefaultVerifyLimit = 10_000

// Service answers the district's questions from the store.
type Service struct {
	DB *store.DB
	// VerifyLimit caps the new ledger events one LedgerState checks
	// (DefaultVerifyLimit when 0).
	VerifyLimit int64

	// verifyMu makes concurrent page views wait for one incremental check
	// instead of checking the same new events side by side.
	verifyMu sync.Mutex
}

// New returns the district service over db.
func New(db *store.DB) *Service { return &Service{DB: db} }

// Now returns the store clock's time: statistics and pages use one clock.
func (s *Service) Now() time.Time { return s.DB.Clock.Now() }

// CaseRow is an overdue or escalated case in a list: metadata only.
type CaseRow struct {
	Tip     *hotline.Tip
	School  *hotline.School
	Missed  []string // deadline kinds missed
	Link    bool     // the officer may open it (escalated)
	Needs   bool     // severe or criminal, not escalated
	Overdue bool
}

// Overview is a district at a glance.
type Overview struct {
	Schools []*Stats // per school, by code
	Total   *Stats
	Cases   []*CaseRow // the cases to watch, overdue first, then newest
	Ledger  *LedgerState
}

// Overview computes the district's statistics and cases to watch at now
// and checks the ledger's new events.
func (s *Service) Overview(ctx context.Context, district string, now time.Time) (*Overview, error) {
	schools, err := s.DB.Schools(ctx, district)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(schools))
	for i, sc := range schools {
		ids[i] = sc.ID
	}
	tips, missed, err := s.tips(ctx, ids)
	if err != nil {
		return nil, err
	}
	o := &Overview{Cases: caseRows(schools, tips, missed, now)}
	o.Schools, o.Total = Compute(schools, tips, everMissed(missed), now)
	if o.Ledger, err = s.LedgerState(ctx); err != nil {
		return nil, err
	}
	return o, nil
}

// SchoolView is one school of the district.
type SchoolView struct {
	School *hotline.School
	Stats  *Stats
	Cases  []*CaseRow
}

// School returns a school of the district by code, with its statistics and
// cases to watch at now; a school of another district is not found, as for
// a guess.
func (s *Service) School(ctx context.Context, district, code string, now time.Time) (*SchoolView, error) {
	school, err := s.DB.SchoolByCode(ctx, code)
	if hotline.ErrorCode(err) == hotline.ENOTFOUND || err == nil && school.District != district {
		return nil, hotline.ErrSchoolNotFound
	} else if err != nil {
		return nil, err
	}
	tips, missed, err := s.tips(ctx, []int64{school.ID})
	if err != nil {
		return nil, err
	}
	stats, _ := Compute([]*hotline.School{school}, tips, everMissed(missed), now)
	return &SchoolView{School: school, Stats: stats[0], Cases: caseRows([]*hotline.School{school}, tips, missed, now)}, nil
}

// SchoolByID returns a school, for a case page.
func (s *Service) SchoolByID(ctx context.Context, id int64) (*hotline.School, error) {
	return s.DB.SchoolByID(ctx, id)
}

// tips loads the schools' tips and the deadlines each missed.
func (s *Service) tips(ctx context.Context, schoolIDs []int64) ([]*hotline.Tip, map[int64][]string, error) {
	tips, err := s.DB.TipsOfSchools(ctx, schoolIDs)
	if err != nil {
		return nil, nil, err
	}
	misses, err := s.DB.DeadlineMisses(ctx, schoolIDs)
	if err != nil {
		return nil, nil, err
	}
	missed := map[int64][]string{}
	for _, m := range misses {
		missed[m.TipID] = append(missed[m.TipID], m.Kind)
	}
	return tips, missed, nil
}

func everMissed(missed map[int64][]string) map[int64]bool {
	ever := make(map[int64]bool, len(missed))
	for id := range missed {
		ever[id] = true
	}
	return ever
}

// caseRows lists the cases the district must look at: overdue now, ever
// missed a deadline, escalated, or severe and not escalated.
func caseRows(schools []*hotline.School, tips []*hotline.Tip, missed map[int64][]string, now time.Time) []*CaseRow {
	byID := map[int64]*hotline.School{}
	for _, s := range schools {
		byID[s.ID] = s
	}
	var rows []*CaseRow
	for _, t := range tips {
		row := &CaseRow{Tip: t, School: byID[t.SchoolID], Missed: missed[t.ID], Link: t.Escalated,
			Needs: t.Severity.MustReportToDistrict() && !t.Escalated, Overdue: t.Overdue(now)}
		if row.Overdue || len(row.Missed) > 0 || t.Escalated || row.Needs {
			rows = append(rows, row)
		}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.Overdue != b.Overdue {
			return a.Overdue
		}
		return a.Tip.CreatedAt.After(b.Tip.CreatedAt)
	})
	return rows
}

// LedgerState is the ledger's verification and recorded heads, for a page.
type LedgerState struct {
	Result  *ledger.Result
	Pending int64               // new events left for the next check
	FullAt  time.Time           // the last full walk; zero: never
	Heads   []*store.LedgerHead // newest first, at most 7
	Total   int                 // recorded heads in all
	// Newest is the newest head recorded of any kind (daily, checkpoint,
	// an evidence export): the latest one sent out of the server.
	Newest *store.LedgerHead
}

// LedgerState checks the ledger's new events (at most VerifyLimit), the
// event at the verified point and the recorded heads — never the whole
// chain — and returns the outcome with the newest heads.
func (s *Service) LedgerState(ctx context.Context) (*LedgerState, error) {
	limit := s.VerifyLimit
	if limit <= 0 {
		limit = DefaultVerifyLimit
	}
	s.verifyMu.Lock()
	c, err := s.DB.CheckLedger(ctx, limit)
	s.verifyMu.Unlock()
	if err != nil {
		return nil, err
	}
	at, err := s.DB.LedgerVerified(ctx)
	if err != nil {
		return nil, err
	}
	heads, err := s.DB.LedgerHeads(ctx)
	if err != nil {
		return nil, err
	}
	cps, err := s.DB.NewestCheckpoints(ctx, 1)
	if err != nil {
		return nil, err
	}
	st := &LedgerState{Result: c.Result, Pending: c.Pending, FullAt: at.FullAt, Total: len(heads), Newest: newestHead(heads, cps)}
	for i := len(heads) - 1; i >= 0 && len(st.Heads) < 7; i-- {
		st.Heads = append(st.Heads, heads[i])
	}
	return st, nil
}

// VerifyLedger walks the whole ledger from the genesis and records the
// outcome, which later LedgerState calls report until the next full walk:
// for the scheduler and `hotline ledger verify`, not for a page.
func (s *Service) VerifyLedger(ctx context.Context) (*ledger.Result, error) {
	return s.DB.VerifyLedger(ctx)
}
