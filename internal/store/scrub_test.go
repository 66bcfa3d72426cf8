package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

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
