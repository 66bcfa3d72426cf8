package store

import "context"

// ProbeWrite makes one small write through the writer, as every change
// does (the group commit, its fsync, on PostgreSQL the ledger head's lock):
// /healthz asks it so that a server whose writes fail says so.
func (db *DB) ProbeWrite(ctx context.Context) error {
	return db.Update(ctx, func(tx *Tx) error {
		_, err := tx.exec(`UPDATE health_probe SET at = ? WHERE id = 1`, micros(tx.now))
		return err
	})
}
