package thread

import (
	"context"

	"hotline/internal/hotline"
	"hotline/internal/store"
)

// Draft is a message on its way into a tip's thread, already validated by
// the caller.
type Draft struct {
	Author      hotline.AuthorKind
	CounselorID int64 // the counselor who wrote a reply or note; 0 otherwise
	Text        string
	Photo       *hotline.Photo
}

// Hooks are the caller's part of appending a message. Both run inside the
// write transaction on a fresh copy of the tip, which is saved after After.
type Hooks struct {
	// Before runs before the message is stored; it may set m.Delivery.
	Before func(tx *store.Tx, t *hotline.Tip, m *store.SealedMessage) error
	// After runs once the message is stored (m.ID is set): ledger events,
	// tip fields, outbox rows, notifications after commit.
	After func(tx *store.Tx, t *hotline.Tip, m *store.SealedMessage) error
}

// Append adds a message to a tip: reporters' follow-ups and counselors'
// replies and notes alike. It seals the message before the write
// transaction (to the school; to the reporter unless it is a note; to the
// district if the case is escalated), then in one transaction re-reads the
// tip, adds the district's copy if the case was escalated meanwhile, and
// stores the message with the caller's hooks. It returns the stored
// message and the tip as saved.
func Append(ctx context.Context, db *store.DB, tip *hotline.Tip, school *hotline.School, d Draft, h Hooks) (*store.SealedMessage, *hotline.Tip, error) {
	to := Recipients{School: school.PublicKey}
	if d.Author != hotline.AuthorNote {
		to.Reporter = tip.ReporterKey
	}
	districtKey, err := db.DistrictKey(ctx, school.District)
	if err != nil {
		return nil, nil, err
	}
	if tip.Escalated {
		to.District = districtKey
	}
	m, err := seal(nil, school.ID, tip.UID, d.Author, d.CounselorID, d.Text, d.Photo, to)
	if err != nil {
		return nil, nil, err
	}
	var saved *hotline.Tip
	err = db.Update(ctx, func(tx *store.Tx) error {
		t, err := tx.TipByID(tip.ID)
		if err != nil {
			return err
		}
		if t.Escalated {
			// Escalated while this message was being sealed.
			if err := AddDistrictCopy(m, school.ID, t.UID, d.Text, d.Photo, districtKey); err != nil {
				return err
			}
		}
		if h.Before != nil {
			if err := h.Before(tx, t, m); err != nil {
				return err
			}
		}
		m.TipID = t.ID
		if err := tx.InsertMessage(m); err != nil {
			return err
		}
		if h.After != nil {
			if err := h.After(tx, t, m); err != nil {
				return err
			}
		}
		if err := tx.UpdateTip(t); err != nil {
			return err
		}
		saved = t
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return m, saved, nil
}
