package store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/pgtest"
	"hotline/internal/store"
	"hotline/internal/vault"
)

// stolenFiles copies the database file and its WAL as they are on disk
// while the server runs, as a thief would, and returns their bytes.
func stolenFiles(t *testing.T, db *store.DB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(db.Path + suffix)
		if os.IsNotExist(err) {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(db.Path+suffix)] = b
	}
	return out
}

// unwrappable scans raw bytes for every password-wrapped key blob (the
// format of vault/wrap.go: version byte 0x01, argon2 parameters, salt,
// nonce, ciphertext; size blobSize) that password unwraps, and returns
// their offsets.
func unwrappable(t *testing.T, v *vault.Vault, data []byte, blobSize int, password string) []int {
	t.Helper()
	var found []int
	for i := 0; i+blobSize <= len(data); i++ {
		if data[i] != 0x01 {
			continue
		}
		// Blobs with implausible parameters are refused before argon2 runs.
		if k, err := v.UnwrapWithPassword(context.Background(), data[i:i+blobSize], password); err == nil {
			k.Wipe()
			found = append(found, i)
		}
	}
	return found
}

// TestNoStaleWrappedKeyInWAL is issue 13's stale key test: a counselor
// changes their one-time password and is then deactivated, another
// changes their password; a copy of the database file and its WAL, taken
// while the server runs, holds no blob that an old password (or a
// deactivated counselor's password) unwraps to the school key.
func TestNoStaleWrappedKeyInWAL(t *testing.T) {
	if pgtest.OnPostgres() {
		t.Skip("reads the SQLite file and its WAL; PostgreSQL keeps its own files, out of the store's reach (README: Running a district on PostgreSQL)")
	}
	ctx := context.Background()
	db := MustOpenDB(t)
	v, err := vault.New(make([]byte, vault.ServerKeySize), vault.Options{Argon: vault.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	schoolKey, err := vault.GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	school := mustSchool(t, db, "wal1")
	wrap := func(pw string) []byte {
		t.Helper()
		b, err := v.WrapWithPassword(ctx, schoolKey, pw)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	const (
		otpA, newA = "otp-aaaa-1111", "new-aaaa-2222" // changed, then deactivated
		oldC, newC = "old-cccc-3333", "new-cccc-4444" // changed only
	)
	blobSize := len(wrap(otpA))
	a := &hotline.Counselor{SchoolID: school.ID, Username: "wal1-a", Role: hotline.RoleCounselor, MustChangePassword: true}
	c := &hotline.Counselor{SchoolID: school.ID, Username: "wal1-c", Role: hotline.RoleAdmin}
	update := func(fn func(tx *store.Tx) error) {
		t.Helper()
		if err := db.Update(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	update(func(tx *store.Tx) error { return tx.CreateCounselor(a, wrap(otpA)) })
	update(func(tx *store.Tx) error { return tx.CreateCounselor(c, wrap(oldC)) })
	// Ordinary traffic on the same rows writes more page images.
	for range 3 {
		update(func(tx *store.Tx) error { return tx.RecordLoginFailure(a.ID, 0) })
		update(func(tx *store.Tx) error { return tx.RecordLoginSuccess(c.ID) })
	}

	// The scan finds live keys: without this, finding nothing below would
	// prove nothing.
	before := stolenFiles(t, db)
	for _, pw := range []string{otpA, oldC} {
		n := 0
		for _, data := range before {
			n += len(unwrappable(t, v, data, blobSize, pw))
		}
		if n == 0 {
			t.Fatalf("scan finds no blob for a live password %q: the scanner is broken", pw)
		}
	}

	update(func(tx *store.Tx) error { return tx.SetWrappedKey(a.ID, wrap(newA), false) })
	update(func(tx *store.Tx) error { return tx.SetWrappedKey(c.ID, wrap(newC), false) })
	update(func(tx *store.Tx) error { return tx.RecordLoginSuccess(a.ID) })
	update(func(tx *store.Tx) error { return tx.DeactivateCounselor(a.ID) })

	after := stolenFiles(t, db)
	for name, data := range after {
		for _, pw := range []string{otpA, newA, oldC} {
			if at := unwrappable(t, v, data, blobSize, pw); len(at) > 0 {
				t.Errorf("%s (%d bytes) holds %d blob(s) that the stale password %q unwraps, at %v", name, len(data), len(at), pw, at)
			}
		}
	}
	// C's current key is still there, where it belongs.
	n := 0
	for _, data := range after {
		n += len(unwrappable(t, v, data, blobSize, newC))
	}
	if n == 0 {
		t.Errorf("the current wrapped key is gone from the copy")
	}
	if wal := after["hotline.db-wal"]; len(wal) != 0 {
		t.Errorf("WAL holds %d bytes after the key changes, want it truncated", len(wal))
	}
	if s := db.Stats(); s.Scrubs < 3 {
		t.Errorf("%d scrubs after 3 key changes", s.Scrubs)
	}
	// The database is intact after the checkpoints.
	if got, err := db.IntegrityCheck(ctx); err != nil || got != "ok" {
		t.Fatalf("integrity check = %q, %v", got, err)
	}
	if rec, err := db.CounselorByID(ctx, c.ID); err != nil || rec.WrappedKey == nil {
		t.Fatalf("counselor C after the scrub: %+v, %v", rec, err)
	}
}

// TestEndedSessionKeysScrubbed: a session's row holds the school key
// wrapped under its cookie's secret. Once the session ends — log-out, the
// counselor's other sessions at a password change, idle expiry — a copy
// of the database file and its WAL taken while the server runs holds no
// byte of it, as after a password change. (On PostgreSQL the deleted row
// waits for VACUUM; what stays opens only with that browser's cookie,
// which the server never stores: README, "Running a district on
// PostgreSQL".)
func TestEndedSessionKeysScrubbed(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	school := mustSchool(t, db, "ses1")
	c := &hotline.Counselor{SchoolID: school.ID, Username: "ses1-a", Role: hotline.RoleAdmin}
	update := func(fn func(tx *store.Tx) error) {
		t.Helper()
		if err := db.Update(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	update(func(tx *store.Tx) error { return tx.CreateCounselor(c, bytes.Repeat([]byte{0x01}, 90)) })
	sessions := map[string]*store.StaffSession{}
	for _, name := range []string{"logged out", "other", "this", "idle"} {
		s := &store.StaffSession{IDMAC: randomBytes(t, 32), CounselorID: c.ID, WrappedKey: randomBytes(t, 120)}
		update(func(tx *store.Tx) error { return tx.CreateStaffSession(s) })
		sessions[name] = s
	}
	// Activity rewrites the rows' pages, as requests do.
	for range 3 {
		for _, s := range sessions {
			update(func(tx *store.Tx) error { return tx.TouchStaffSession(s.IDMAC) })
		}
	}
	holds := func(files map[string][]byte, s *store.StaffSession) string {
		for name, data := range files {
			if bytes.Contains(data, s.WrappedKey) {
				return name
			}
		}
		return ""
	}
	if !pgtest.OnPostgres() {
		for name, s := range sessions {
			if holds(stolenFiles(t, db), s) == "" {
				t.Fatalf("the copy holds no trace of the live session %q: the scan is broken", name)
			}
		}
	}
	// Log-out; a password change ends the counselor's other sessions
	// ("other" and "idle") but this one; then the idle sweep, with a cut an
	// hour ahead, ends "this".
	update(func(tx *store.Tx) error { return tx.DeleteStaffSession(sessions["logged out"].IDMAC) })
	update(func(tx *store.Tx) error { return tx.DeleteCounselorSessions(c.ID, sessions["this"].IDMAC) })
	var swept int64
	update(func(tx *store.Tx) error {
		var err error
		swept, err = tx.DeleteIdleStaffSessions(db.Clock.Now().Add(time.Hour))
		return err
	})
	if swept != 1 {
		t.Fatalf("swept %d idle sessions, want 1", swept)
	}
	for name, s := range sessions {
		if _, err := db.StaffSession(ctx, s.IDMAC); hotline.ErrorCode(err) != hotline.ENOTFOUND {
			t.Fatalf("session %q after it ended: %v", name, err)
		}
	}
	if pgtest.OnPostgres() {
		return
	}
	after := stolenFiles(t, db)
	for name, s := range sessions {
		if f := holds(after, s); f != "" {
			t.Errorf("%s holds the wrapped key of the ended session %q", f, name)
		}
	}
	if wal := after["hotline.db-wal"]; len(wal) != 0 {
		t.Errorf("WAL holds %d bytes after sessions ended, want it truncated", len(wal))
	}
	if got, err := db.IntegrityCheck(ctx); err != nil || got != "ok" {
		t.Fatalf("integrity check = %q, %v", got, err)
	}
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}
