package store

// Stale keys. A counselor's password-wrapped school key is replaced when
// the password changes and deleted when the counselor is deactivated; the
// old blob must then be gone from every file a thief could copy, since the
// old password still unwraps it. Two things keep it around in SQLite:
// free space inside the pages that held it (the writer connection runs
// with secure_delete on, which zeroes it) and earlier page images in the
// write-ahead log, which outlive the change until a checkpoint and then
// stay in the file, overwritten only as new frames happen to reach them.
// So a key change ends with a truncating checkpoint: every frame is copied
// into the database file, whose pages now hold the zeroed versions, and the
// log is cut to zero bytes (the dialect's scrub: scrubWAL on SQLite).

// scrubKeysAfterCommit asks for a truncating checkpoint once tx commits.
func (tx *Tx) scrubKeysAfterCommit() {
	db := tx.db
	tx.AfterCommit(func() {
		db.scrubPending = true
		db.dialect.scrub(db)
	})
}
