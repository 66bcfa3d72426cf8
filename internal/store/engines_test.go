package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/pgtest"
	"hotline/internal/store"
)

// TestPortableValues stores and reads back what differs between the
// engines: flags (INTEGER 0/1 from Go bools, compared through parameters),
// ids from RETURNING, bytes (nil, empty, binary), microsecond times and
// the zero time, and a school's JSON settings with its English name, found
// case-insensitively.
func TestPortableValues(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	s := &hotline.School{Code: "pv", Name: "第一中学", District: "海淀区", PublicKey: []byte{0, 1, 2, 0xff, 0},
		Settings: hotline.SchoolSettings{NameEN: "No. 1 Middle School", RequireTOTP: true, RetentionDays: 30, AllowedOrigins: []string{"https://a.example"}}}
	if err := db.Update(ctx, func(tx *store.Tx) error { return tx.CreateSchool(s, []byte("wrapped")) }); err != nil {
		t.Fatal(err)
	}
	if s.ID == 0 {
		t.Fatal("no id from RETURNING")
	}
	got, err := db.SchoolByID(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.PublicKey, s.PublicKey) || got.Settings.NameEN != s.Settings.NameEN || !got.Settings.RequireTOTP ||
		got.Settings.RetentionDays != 30 || len(got.Settings.AllowedOrigins) != 1 {
		t.Fatalf("school read back: %+v", got)
	}
	for _, q := range []string{"middle school", "NO. 1", "第一"} {
		found, err := db.FindSchools(ctx, q, 5)
		if err != nil || len(found) != 1 || found[0].ID != s.ID {
			t.Fatalf("FindSchools(%q) = %v, %v", q, found, err)
		}
	}
	// An English name set later is found too (the column follows settings).
	got.Settings.NameEN = "Riverside School"
	if err := db.Update(ctx, func(tx *store.Tx) error { return tx.UpdateSchool(got) }); err != nil {
		t.Fatal(err)
	}
	if found, _ := db.FindSchools(ctx, "riverside", 5); len(found) != 1 {
		t.Fatalf("renamed school not found: %v", found)
	}

	now := time.Date(2026, 3, 1, 8, 30, 0, 123456000, time.UTC)
	var ids []int64
	for i, urgent := range []bool{true, false, true} {
		tip := &hotline.Tip{UID: fmt.Sprintf("pv-%d", i), SchoolID: s.ID, Alias: hotline.Alias{ZH: fmt.Sprintf("蓝狐%d", i), EN: fmt.Sprintf("Blue Fox %d", i)},
			Channel: hotline.ChannelWebchat, Role: hotline.ReporterWitness, Status: hotline.StatusNew, Severity: hotline.SeverityUnassessed,
			Category: hotline.CategoryVerbal, Urgent: urgent, Escalated: i == 2, CreatedAt: now, AckDue: now.Add(time.Hour)}
		if err := db.Update(ctx, func(tx *store.Tx) error { return tx.InsertTip(tip, nil) }); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tip.ID)
	}
	if !(ids[0] > 0 && ids[0] < ids[1] && ids[1] < ids[2]) {
		t.Fatalf("ids from RETURNING: %v", ids)
	}
	// A taken alias is refused and leaves the transaction usable.
	dup := &hotline.Tip{UID: "pv-dup", SchoolID: s.ID, Alias: hotline.Alias{ZH: "蓝狐0", EN: "x"}, Channel: hotline.ChannelWebchat,
		Role: hotline.ReporterWitness, Status: hotline.StatusNew, Severity: hotline.SeverityUnassessed, Category: hotline.CategoryVerbal}
	err = db.Update(ctx, func(tx *store.Tx) error {
		if err := tx.InsertTip(dup, nil); !errors.Is(err, store.ErrAliasTaken) {
			return fmt.Errorf("duplicate alias: %v", err)
		}
		dup.Alias.ZH = "蓝狐9"
		return tx.InsertTip(dup, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	tip, err := db.TipByID(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if !tip.Urgent || tip.Escalated || !tip.CreatedAt.Equal(now) || !tip.AckDue.Equal(now.Add(time.Hour)) || !tip.AcknowledgedAt.IsZero() {
		t.Fatalf("tip read back: %+v", tip)
	}
	yes, no := true, false
	for _, tc := range []struct {
		f    hotline.TipFilter
		want int
	}{
		{hotline.TipFilter{SchoolID: s.ID, Urgent: &yes}, 2},
		{hotline.TipFilter{SchoolID: s.ID, Urgent: &no}, 2}, // the duplicate's retry is not urgent
		{hotline.TipFilter{SchoolID: s.ID, Escalated: true}, 1},
	} {
		ts, _, err := db.Queue(ctx, tc.f, now)
		if err != nil || len(ts) != tc.want {
			t.Fatalf("queue %+v: %d tips, %v; want %d", tc.f, len(ts), err, tc.want)
		}
	}
	if us, err := db.UrgentUnacknowledged(ctx); err != nil || len(us) != 2 {
		t.Fatalf("urgent unacknowledged: %d, %v", len(us), err)
	}

	// Bytes: nil stays NULL, binary stays exact.
	body := []byte{0, 0xfe, 'x', 0, 0x80}
	m := &store.SealedMessage{UID: "pv-m", TipID: ids[0], Author: hotline.AuthorReporter, BodySealed: body, SealVersion: 2}
	if err := db.Update(ctx, func(tx *store.Tx) error { return tx.InsertMessage(m) }); err != nil {
		t.Fatal(err)
	}
	ms, err := db.Messages(ctx, ids[0])
	if err != nil || len(ms) != 1 || ms[0].ID != m.ID || !bytes.Equal(ms[0].BodySealed, body) || ms[0].PhotoSealed != nil || ms[0].CounselorID.Valid {
		t.Fatalf("message read back: %+v %v", ms, err)
	}

	// Counselor flags: active on creation, off once deactivated.
	c := &hotline.Counselor{SchoolID: s.ID, Username: "pv-c", Role: hotline.RoleCounselor, MustChangePassword: true}
	if err := db.Update(ctx, func(tx *store.Tx) error { return tx.CreateCounselor(c, []byte("k")) }); err != nil {
		t.Fatal(err)
	}
	if err := db.Update(ctx, func(tx *store.Tx) error { return tx.SetOnCall(c.ID, true) }); err != nil {
		t.Fatal(err)
	}
	rec, err := db.CounselorByID(ctx, c.ID)
	if err != nil || !rec.Active || !rec.MustChangePassword || !rec.OnCall {
		t.Fatalf("counselor: %+v %v", rec, err)
	}
	if err := db.Update(ctx, func(tx *store.Tx) error { return tx.DeactivateCounselor(c.ID) }); err != nil {
		t.Fatal(err)
	}
	if rec, _ = db.CounselorByID(ctx, c.ID); rec.Active || rec.OnCall || rec.WrappedKey != nil {
		t.Fatalf("deactivated counselor: %+v", rec)
	}
}

// TestConcurrentAppendsFromTwoHandles is two nodes appending to one ledger
// at once: two separately opened stores on the same database, each with
// its own writer. Every event lands in one chain, with no fork and no gap,
// and the full walk verifies it.
func TestConcurrentAppendsFromTwoHandles(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DB(t, filepath.Join(t.TempDir(), "h.db"))
	var nodes []*store.DB
	for range 2 {
		db, err := store.Open(dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		nodes = append(nodes, db)
	}
	s := mustSchool(t, nodes[0], "two")
	const perNode, workers, events = 40, 4, 3
	var wg sync.WaitGroup
	errc := make(chan error, len(nodes)*workers)
	for n, db := range nodes {
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range perNode / workers {
					err := db.Update(ctx, func(tx *store.Tx) error {
						for k := range events {
							if err := tx.AppendEvent(&hotline.Event{SchoolID: s.ID, Kind: hotline.EventHeadRecorded, Detail: fmt.Sprintf("node=%d;w=%d;i=%d;k=%d", n, w, i, k)}); err != nil {
								return err
							}
						}
						return nil
					})
					if err != nil {
						errc <- err
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	want := int64(len(nodes) * perNode * events)
	for _, db := range nodes {
		res, err := db.VerifyLedger(ctx)
		if err != nil || !res.OK() || res.Count != want {
			t.Fatalf("verify: %+v %v; want %d events", res, err, want)
		}
	}
	// Each node appends after the other's events: its next event follows
	// the newest, wherever it came from.
	appendEvents(t, nodes[1], s.ID, 1)
	appendEvents(t, nodes[0], s.ID, 1)
	if res, err := nodes[0].VerifyLedger(ctx); err != nil || !res.OK() || res.Count != want+2 {
		t.Fatalf("after more appends: %+v %v", res, err)
	}
}

// TestMigrationsFromTwoHandlesAtOnce starts two nodes on an empty database
// together: both open, and each migration is applied once.
func TestMigrationsFromTwoHandlesAtOnce(t *testing.T) {
	dsn := pgtest.DB(t, filepath.Join(t.TempDir(), "h.db"))
	dbs := make([]*store.DB, 3)
	errs := make([]error, len(dbs))
	var wg sync.WaitGroup
	for i := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dbs[i], errs[i] = store.Open(dsn)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		defer dbs[i].Close()
	}
	names, err := dbs[0].Migrations(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			t.Fatalf("migration %s recorded twice", n)
		}
		seen[n] = true
	}
	if want := migrationFiles(t, "migrations"); len(names) != len(want) {
		t.Fatalf("applied %v, want %v", names, want)
	}
	mustSchool(t, dbs[2], "after")
}

// TestOverridesReplaceACommonFile: an engine's override file replaces
// the common migration of the same name, and is recorded under that name;
// an override with no common file would be a migration one engine never
// runs.
func TestOverridesReplaceACommonFile(t *testing.T) {
	common := map[string]bool{}
	for _, n := range migrationFiles(t, "migrations") {
		common[n] = true
	}
	for _, n := range migrationFiles(t, "migrations/postgres") {
		if !common[n] {
			t.Errorf("migrations/postgres/%s overrides no migrations/%s", n, n)
		}
	}
}

func migrationFiles(t *testing.T, dir string) []string {
	t.Helper()
	names, err := fs.Glob(store.MigrationFS, dir+"/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range names {
		names[i] = path.Base(n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		t.Fatalf("no migrations in %s", dir)
	}
	return names
}

// TestNoticesAndNodeLocks drives the dialect's hooks for nodes: a notice
// sent in a transaction reaches a listener only if it commits, one sent
// outside at once; a node lock is held by one handle at a time where
// several processes may be nodes, and by every handle where one process is
// the only node.
func TestNoticesAndNodeLocks(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dsn := pgtest.DB(t, filepath.Join(t.TempDir(), "h.db"))
	a, err := store.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	got := make(chan string, 8)
	ready := a.Listen(ctx, store.Listener{Channel: "test_notices", Deliver: func(p string) { got <- p }, Retry: 100 * time.Millisecond})
	select {
	case <-ready:
	case <-time.After(time.Minute):
		t.Fatal("listener never ready")
	}
	errNo := errors.New("no")
	if err := a.Update(ctx, func(tx *store.Tx) error {
		if err := tx.Notify("test_notices", "rolled back"); err != nil {
			return err
		}
		return errNo
	}); !errors.Is(err, errNo) {
		t.Fatal(err)
	}
	if err := a.Update(ctx, func(tx *store.Tx) error { return tx.Notify("test_notices", "committed") }); err != nil {
		t.Fatal(err)
	}
	if err := a.Notify(ctx, "test_notices", "now"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"committed", "now"} {
		select {
		case p := <-got:
			if p != want {
				t.Fatalf("got notice %q, want %q", p, want)
			}
		case <-time.After(time.Minute):
			t.Fatalf("no notice %q", want)
		}
	}

	b, err := store.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	la, lb := a.NodeLock(42), b.NodeLock(42)
	defer la.Close()
	defer lb.Close()
	if ok, err := la.TryLock(ctx); err != nil || !ok {
		t.Fatalf("first TryLock = %v, %v; want it held", ok, err)
	}
	if err := la.Check(ctx); err != nil {
		t.Fatalf("Check of the holder: %v", err)
	}
	ok, err := lb.TryLock(ctx)
	if err != nil || ok != !a.MultiNode() {
		t.Fatalf("second handle's TryLock = %v, %v; want %v (multi-node %v)", ok, err, !a.MultiNode(), a.MultiNode())
	}
	// The server frees a closed connection's lock once its backend ends.
	la.Close()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		ok, err := lb.TryLock(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the lock was never free after its holder closed")
		}
	}
}
