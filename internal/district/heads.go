package district

import (
	"context"
	"slices"

	"hotline/internal/hotline"
	"hotline/internal/store"
)

// Heads are the ledger heads the server recorded, for the district's paper
// register and its page: each was also sent out of the server (the
// district's platform; the daily ones to its robots and e-mail too).
type Heads struct {
	Daily       []*store.LedgerHead // newest first
	Checkpoints []*store.LedgerHead // the newest, newest first
}

// maxCheckpoints is how many checkpoints the page lists.
const maxCheckpoints = 20

// Heads returns the recorded heads.
func (s *Service) Heads(ctx context.Context) (*Heads, error) {
	daily, err := s.DB.LedgerHeads(ctx)
	if err != nil {
		return nil, err
	}
	cps, err := s.DB.NewestCheckpoints(ctx, maxCheckpoints)
	if err != nil {
		return nil, err
	}
	slices.Reverse(daily)
	return &Heads{Daily: daily, Checkpoints: cps}, nil
}

// DailyHead returns the head recorded for day ("2006-01-02").
func (s *Service) DailyHead(ctx context.Context, day string) (*store.LedgerHead, error) {
	heads, err := s.DB.LedgerHeads(ctx)
	if err != nil {
		return nil, err
	}
	for _, h := range heads {
		if h.Day == day {
			return h, nil
		}
	}
	return nil, hotline.ErrNotFound
}

// newestHead returns the newest recorded head of any kind (nil: none).
func newestHead(daily, cps []*store.LedgerHead) *store.LedgerHead {
	var n *store.LedgerHead
	for _, h := range append(slices.Clone(daily), cps...) {
		if n == nil || h.Seq > n.Seq {
			n = h
		}
	}
	return n
}
