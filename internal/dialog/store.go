package dialog

import (
	"context"
	"fmt"
	"time"

	"hotline/internal/store"
	"hotline/internal/vault"
)

// SealedStore is the Store of the running service: it keeps reporter
// conversations in progress (drafts before they are sent) in the database,
// so that a restart loses nothing a reporter already typed.
// Each state is sealed under the server key and found by an HMAC of its
// chat or web session; a Telegram chat's key is its chat HMAC, so /forget
// removes its draft with its links.
type SealedStore struct {
	DB    *store.DB
	Vault *vault.Vault
}

var (
	_ Store  = (*SealedStore)(nil)
	_ Locker = (*SealedStore)(nil)
)

// NewSealedStore returns the conversation store on db, sealed under v's
// server key.
func NewSealedStore(db *store.DB, v *vault.Vault) *SealedStore {
	return &SealedStore{DB: db, Vault: v}
}

const conversationPurpose = "conversation"

func (s *SealedStore) key(k Key) ([]byte, error) {
	switch {
	case k.Channel.Chat() && k.ChatID != 0:
		return s.Vault.ChatMAC(k.ChatID), nil
	case k.Session != "":
		return s.Vault.MAC("web-session", []byte(string(k.Channel)+"|"+k.Session)), nil
	}
	return nil, fmt.Errorf("conversation key without chat or session")
}

// Lock serialises a conversation's events across the nodes on the
// database (Locker); the engine's own lock serialises them within
// the process.
func (s *SealedStore) Lock(ctx context.Context, k Key) (func(), error) {
	mac, err := s.key(k)
	if err != nil {
		return nil, err
	}
	return s.DB.LockKey(ctx, mac)
}

// Load returns a saved state, or hotline.ErrNotFound.
func (s *SealedStore) Load(ctx context.Context, k Key) ([]byte, error) {
	mac, err := s.key(k)
	if err != nil {
		return nil, err
	}
	sealed, err := s.DB.Conversation(ctx, mac)
	if err != nil {
		return nil, err
	}
	// The MAC is the associated data: a state moved to another key fails.
	return s.Vault.OpenServer(conversationPurpose+"|"+string(mac), sealed)
}

// Save seals and stores a state with its clear, content-free metadata; it
// returns after the commit. Called with a context that carries a write
// transaction (store.WithTx), it writes in that transaction instead.
func (s *SealedStore) Save(ctx context.Context, k Key, state []byte, meta Meta) error {
	mac, err := s.key(k)
	if err != nil {
		return err
	}
	sealed, err := s.Vault.SealServer(conversationPurpose+"|"+string(mac), state)
	if err != nil {
		return err
	}
	m := store.ConversationMeta{UrgentSince: meta.UrgentSince, Draft: meta.Draft, AskDue: meta.AskDue}
	put := func(tx *store.Tx) error {
		if err := tx.PutConversation(mac, sealed, m); err != nil {
			return err
		}
		return countConversation(tx, meta)
	}
	if tx := store.TxFrom(ctx); tx != nil {
		// Saved with the tip a submission files (hotline.Submission.Record):
		// one commit for both.
		return put(tx)
	}
	return s.DB.Update(ctx, put)
}

// countConversation counts the safety question's events the state records
// (Meta.Count) for its school's district, in the commit that saves
// the state: counted once, with the state that says they happened.
func countConversation(tx *store.Tx, meta Meta) error {
	if len(meta.Count) == 0 {
		return nil
	}
	district := store.DistrictNoSchool // a draft dropped before a school was chosen
	if meta.CountSchool != "" {
		school, err := tx.SchoolByCode(meta.CountSchool)
		if err != nil {
			return fmt.Errorf("conversation counts: %w", err)
		}
		district = school.District
	}
	for _, kind := range meta.Count {
		if err := tx.CountUrgency(district, kind, "", false); err != nil {
			return err
		}
	}
	return nil
}

// Due opens the states the dialog sweeper must act on. A state that does
// not open (damaged, or sealed under another key) is left out.
func (s *SealedStore) Due(ctx context.Context, urgentBefore, askBefore, staleBefore time.Time, limit int) ([][]byte, error) {
	rows, err := s.DB.DueConversations(ctx, urgentBefore, askBefore, staleBefore, limit)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, 0, len(rows))
	for _, r := range rows {
		b, err := s.Vault.OpenServer(conversationPurpose+"|"+string(r.KeyMAC), r.Sealed)
		if err != nil {
			continue
		}
		out = append(out, b)
	}
	return out, nil
}

// Delete forgets a state.
func (s *SealedStore) Delete(ctx context.Context, k Key) error {
	mac, err := s.key(k)
	if err != nil {
		return err
	}
	return s.DB.Update(ctx, func(tx *store.Tx) error { return tx.DeleteConversation(mac) })
}
