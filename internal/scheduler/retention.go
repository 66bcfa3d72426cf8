package scheduler

import (
	"context"
	"fmt"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/store"
)

// Purge applies each school's retention setting: the sealed content of
// cases resolved or closed more than RetentionDays ago is deleted (every
// copy: school, reporter, district). The tip, its metadata, the statistics
// and the ledger stay; each purge is itself a ledger event. It returns how
// many cases were purged. Schools with RetentionDays 0 keep content.
func (sc *Scheduler) Purge(ctx context.Context) (int, error) {
	db := sc.DB
	schools, err := db.Schools(ctx, "")
	if err != nil {
		return 0, err
	}
	now := sc.now()
	n := 0
	for _, school := range schools {
		days := school.Settings.RetentionDays
		if days <= 0 {
			continue
		}
		tips, err := db.TipsResolvedBefore(ctx, school.ID, now.Add(-time.Duration(days)*24*time.Hour))
		if err != nil {
			return n, err
		}
		for _, tip := range tips {
			// purged is counted after Update commits: the closure only
			// says what its transaction did.
			purged := false
			err := db.Update(ctx, func(tx *store.Tx) error {
				purged = false
				t, err := tx.TipByID(tip.ID)
				if err != nil {
					return err
				}
				// Re-check inside the transaction: a reopened case keeps its content.
				if t.Purged || (t.Status != hotline.StatusResolved && t.Status != hotline.StatusClosed) {
					return nil
				}
				if err := tx.PurgeContent(t.ID); err != nil {
					return err
				}
				t.Purged = true
				if err := tx.UpdateTip(t); err != nil {
					return err
				}
				purged = true
				return tx.AppendEvent(systemEvent(t, hotline.EventPurged, fmt.Sprintf("retention_days=%d", days)))
			})
			if err != nil {
				return n, err
			}
			if purged {
				n++
			}
		}
	}
	return n, nil
}
