package triage_test

import (
	"context"
	"testing"
	"time"

	"hotline/internal/intake"
	"hotline/internal/staff"
	"hotline/internal/testsupport"
	"hotline/internal/triage"
	"hotline/internal/vault"
)

type fakeClock = testsupport.Clock

// newServices opens a fresh database and returns the staff service (for
// schools and log-ins) and the triage service under test.
func newServices(tb testing.TB) (*staff.Service, *triage.Service) {
	tb.Helper()
	db := testsupport.OpenStore(tb)
	db.Clock = testsupport.NewClock(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	v, err := vault.New(make([]byte, 32), vault.Options{Argon: vault.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		tb.Fatal(err)
	}
	return staff.New(db, v, nil), triage.New(db, v, nil, nil)
}

// adminSession creates a school and logs its first admin in.
func adminSession(tb testing.TB, st *staff.Service, code string) *staff.Session {
	tb.Helper()
	ctx := context.Background()
	cs, err := st.CreateSchool(ctx, staff.NewSchool{Code: code, Name: "学校 " + code, District: "海淀区"})
	if err != nil {
		tb.Fatal(err)
	}
	sess, err := st.Authenticate(ctx, cs.Admin.Username, cs.AdminPassword)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(sess.Wipe)
	return sess
}

func intakeFor(svc *triage.Service) *intake.Service {
	return intake.New(svc.DB, svc.Vault, nil, nil)
}
