// Package intake takes reports in: a new tip and later reporter messages.
// It validates, detects urgency (reading the plaintext once and keeping only
// a flag), assigns an alias, seals every message to the school (and to a web
// reporter's receipt key) through internal/thread, stores, and appends the
// ledger event in the same transaction. It must never log or store plaintext content, receipts or
// chat ids.
package intake

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"hotline/internal/hotline"
	"hotline/internal/store"
	"hotline/internal/thread"
	"hotline/internal/urgency"
	"hotline/internal/vault"
)

// Limits on what one report may hold.
const (
	MaxMessageRunes = thread.MaxMessageRunes
	MaxTexts        = 30
	MaxPhotos       = 10
)

// Service is the intake service.
type Service struct {
	DB       *store.DB
	Vault    *vault.Vault
	Notifier hotline.Notifier
	Logger   *slog.Logger
	// Detector reads a message for danger now; nil: urgency.Assess, the
	// rules and the model built into the binary.
	Detector func(text string) urgency.Verdict

	prepared *preparer
	counters counters // for Stats

	schoolsMu sync.Mutex
	schools   map[string]cachedSchool
}

// A school is read on every report; its key never changes and a settings
// change may take schoolTTL to show: the school's own deadlines, and its
// district's (read with it), for the tips filed meanwhile.
const schoolTTL = 2 * time.Second

type cachedSchool struct {
	school *hotline.School
	// caseDeadlines are its district's, with the defaults filled in.
	caseDeadlines hotline.CaseDeadlines
	count         int // about how many tips it has, for sizing alias lookups
	at            time.Time
}

// cachedSchool finds a school and its district's case deadlines by code
// through a short cache: a new tip's deadlines are read here, with its
// school, not in its write transaction.
func (s *Service) cachedSchool(ctx context.Context, code string) (cachedSchool, error) {
	key := strings.ToLower(strings.TrimSpace(code))
	s.schoolsMu.Lock()
	c, ok := s.schools[key]
	s.schoolsMu.Unlock()
	if ok && time.Since(c.at) < schoolTTL {
		return c, nil
	}
	school, err := s.DB.SchoolByCode(ctx, key)
	if err != nil {
		return cachedSchool{}, err
	}
	count, err := s.DB.CountTips(ctx, school.ID)
	if err != nil {
		return cachedSchool{}, err
	}
	dl, err := s.DB.CaseDeadlines(ctx, school.ID)
	if err != nil {
		return cachedSchool{}, err
	}
	c = cachedSchool{school, dl, count, time.Now()}
	s.schoolsMu.Lock()
	if s.schools == nil || len(s.schools) > 4096 {
		s.schools = map[string]cachedSchool{}
	}
	s.schools[key] = c
	s.schoolsMu.Unlock()
	return c, nil
}

// tipCount is the cached estimate of a school's tip count.
func (s *Service) tipCount(code string) int {
	s.schoolsMu.Lock()
	defer s.schoolsMu.Unlock()
	c := s.schools[strings.ToLower(strings.TrimSpace(code))]
	c.count++
	s.schools[strings.ToLower(strings.TrimSpace(code))] = c
	return c.count
}

var (
	_ hotline.IntakeService   = (*Service)(nil)
	_ hotline.ReporterService = (*Service)(nil)
	_ hotline.SchoolService   = (*Service)(nil)
)

// New returns an intake service.
func New(db *store.DB, v *vault.Vault, n hotline.Notifier, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.Default()
	}
	return &Service{DB: db, Vault: v, Notifier: n, Logger: logger, prepared: newPreparer(v)}
}

// Close stops the background preparation of tips.
func (s *Service) Close() {
	if s.prepared != nil {
		s.prepared.close()
	}
}

// SchoolByCode finds a school for a reporter.
func (s *Service) SchoolByCode(ctx context.Context, code string) (*hotline.School, error) {
	return s.DB.SchoolByCode(ctx, code)
}

// SchoolByID finds the school of a reporter's tip, for texts that promise
// what the school does (its deadlines).
func (s *Service) SchoolByID(ctx context.Context, id int64) (*hotline.School, error) {
	return s.DB.SchoolByID(ctx, id)
}

// FindSchools matches a reporter's words against schools.
func (s *Service) FindSchools(ctx context.Context, query string, limit int) ([]*hotline.School, error) {
	if !utf8.ValidString(query) || len(query) > 200 {
		return nil, hotline.ErrInvalidUTF8
	}
	return s.DB.FindSchools(ctx, query, limit)
}

var _ hotline.ReceiptKeeper = (*Service)(nil)

// ClaimReceipt hands a web page back the receipt of its tip that was
// sealed to its page secret at submission. Another page's secret opens
// nothing. The sealed copy is kept until the page shows it holds the
// receipt (its first message with it, AddReporterMessage) or ReceiptKeep
// passes, not forgotten at the claim: the answer carrying the claimed
// receipt can be lost too (a restart before it left), and the page then
// asks again.
func (s *Service) ClaimReceipt(ctx context.Context, tipUID, pageSecret string) (string, error) {
	if tipUID == "" || pageSecret == "" {
		return "", hotline.ErrNotFound
	}
	var receipt string
	err := s.DB.Update(ctx, func(tx *store.Tx) error {
		tip, err := tx.TipByUID(tipUID)
		if err != nil {
			return err
		}
		sealed, err := tx.SealedReceipt(tip.ID)
		if err != nil {
			return err
		}
		b, err := s.Vault.OpenForPage(pageSecret, tip.UID, sealed)
		if err != nil {
			return hotline.ErrNotFound
		}
		receipt = string(b)
		return nil
	})
	if err != nil {
		return "", err
	}
	return receipt, nil
}

// AddReporterMessage adds a reporter's message to their tip, found by
// receipt (web) or by chat (Telegram).
func (s *Service) AddReporterMessage(ctx context.Context, ref hotline.ReporterRef, text string, photo *hotline.Photo) (*hotline.ReporterMessageResult, error) {
	if photo == nil {
		var err error
		if text, err = thread.ValidateText(text); err != nil {
			return nil, err
		}
	} else if text != "" {
		var err error
		if text, err = thread.ValidateText(text); err != nil && !errors.Is(err, hotline.ErrEmptyMessage) {
			return nil, err
		}
	}
	tip, err := s.reporterTip(ctx, ref)
	if err != nil {
		return nil, err
	}
	if ref.Receipt != "" && vault.ReceiptContains(text, ref.Receipt) {
		return nil, hotline.ErrReceiptInText
	}
	school, err := s.DB.SchoolByID(ctx, tip.SchoolID)
	if err != nil {
		return nil, err
	}
	var urgent, unsure bool
	var reason string
	if text != "" {
		v := s.assess(text)
		urgent, unsure, reason = v.Answer == urgency.AnswerUrgent, v.Answer == urgency.AnswerUnsure, v.Reason
	}
	var safetyDue time.Time
	m, _, err := thread.Append(ctx, s.DB, tip, school, thread.Draft{Author: hotline.AuthorReporter, Text: text, Photo: photo}, thread.Hooks{
		After: func(tx *store.Tx, t *hotline.Tip, m *store.SealedMessage) error {
			// The reporter wrote, so their chat is reachable again.
			if err := tx.ReviveHandle(t.ID); err != nil {
				return err
			}
			// A web reporter who writes with the receipt holds it: the
			// copy sealed to their page (ClaimReceipt) has done its work.
			if ref.Receipt != "" {
				if err := tx.ClearSealedReceipt(t.ID); err != nil {
					return err
				}
			}
			t.LastReporterAt = tx.Now()
			if err := tx.AppendEvent(&hotline.Event{SchoolID: t.SchoolID, TipID: t.ID, Alias: t.Alias.ZH, Kind: hotline.EventReporterMessage}); err != nil {
				return err
			}
			if urgent {
				if _, err := markUrgent(tx, school, t, reason, "urgent=true;detected"); err != nil {
					return err
				}
			} else if unsure && mayAsk(t, tx.Now()) {
				var err error
				if safetyDue, err = askSafety(tx, school, t); err != nil {
					return err
				}
			}
			if err := store.NotifyOnCommit(tx, s.Notifier, hotline.Change{Kind: hotline.ChangeReporterMessage, SchoolID: t.SchoolID, TipUID: t.UID, MessageUID: m.UID, Urgent: t.Urgent}); err != nil {
				return err
			}
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	return &hotline.ReporterMessageResult{TipUID: tip.UID, Alias: tip.Alias, Urgent: urgent, MessageUID: m.UID, SafetyDue: safetyDue}, nil
}

// reporterTip finds the tip a reporter writes to, and only one of theirs.
func (s *Service) reporterTip(ctx context.Context, ref hotline.ReporterRef) (*hotline.Tip, error) {
	if ref.Receipt != "" {
		canon, err := vault.ParseReceipt(ref.Receipt)
		if err != nil {
			return nil, hotline.ErrReceiptTypo
		}
		tip, err := s.DB.TipByReceiptMAC(ctx, s.Vault.ReceiptMAC(canon))
		if hotline.ErrorCode(err) == hotline.ENOTFOUND {
			return nil, hotline.ErrReceiptUnknown
		}
		return tip, err
	}
	if ref.ChatID == 0 {
		return nil, hotline.ErrNotFound
	}
	tips, err := s.DB.TipsByChat(ctx, s.Vault.ChatMAC(ref.ChatID))
	if err != nil {
		return nil, err
	}
	if len(tips) == 0 {
		return nil, hotline.ErrNotFound
	}
	if ref.TipUID != "" {
		for _, t := range tips {
			if t.UID == ref.TipUID {
				return t, nil
			}
		}
		return nil, hotline.ErrNotFound
	}
	for _, t := range tips {
		if t.Status.Open() {
			return t, nil
		}
	}
	return tips[0], nil
}

// receiptTip finds the tip of a receipt: by an HMAC of the receipt, with
// no key derived and nothing opened.
func (s *Service) receiptTip(ctx context.Context, receipt string) (canon string, tip *hotline.Tip, err error) {
	canon, err = vault.ParseReceipt(receipt)
	if err != nil {
		return "", nil, hotline.ErrReceiptTypo
	}
	tip, err = s.DB.TipByReceiptMAC(ctx, s.Vault.ReceiptMAC(canon))
	if hotline.ErrorCode(err) == hotline.ENOTFOUND {
		return "", nil, hotline.ErrReceiptUnknown
	} else if err != nil {
		return "", nil, err
	}
	return canon, tip, nil
}

// TipStatus returns a web reporter's tip (its alias, status and other
// clear metadata) without opening its thread: what a status line needs.
func (s *Service) TipStatus(ctx context.Context, receipt string) (*hotline.Tip, error) {
	_, tip, err := s.receiptTip(ctx, receipt)
	return tip, err
}

// ThreadByReceipt opens a web reporter's thread with the receipt alone: the
// reporter's copy of each message is sealed to a key only the receipt
// derives. Internal notes have no reporter copy and never appear.
func (s *Service) ThreadByReceipt(ctx context.Context, receipt string) (*hotline.Tip, []*hotline.Message, error) {
	return s.ThreadSince(ctx, receipt, "")
}

// ThreadSince opens only the messages of a web reporter's thread that come
// after the message afterUID (all when empty or unknown): a page that is
// open and told of a new reply fetches just that, whatever the thread's
// length.
func (s *Service) ThreadSince(ctx context.Context, receipt, afterUID string) (*hotline.Tip, []*hotline.Message, error) {
	canon, tip, err := s.receiptTip(ctx, receipt)
	if err != nil {
		return nil, nil, err
	}
	var afterID int64
	if afterUID != "" {
		if m, err := s.DB.MessageByUID(ctx, afterUID); err == nil && m.TipID == tip.ID {
			afterID = m.ID
		}
	}
	sealed, err := s.DB.MessagesAfter(ctx, tip.ID, afterID)
	if err != nil {
		return nil, nil, err
	}
	if !slices.ContainsFunc(sealed, thread.ForReporter) {
		// Derive the receipt's key only when there is something to open.
		return tip, nil, nil
	}
	// The tip says which derivation made its key: tips from before the
	// server key was part of it keep theirs.
	key, err := s.Vault.ReporterKey(canon, tip.ReporterKeyVersion)
	if err != nil {
		return nil, nil, err
	}
	defer key.Wipe()
	msgs, err := thread.OpenForReporter(key, tip, sealed)
	if err != nil {
		return nil, nil, err
	}
	return tip, msgs, nil
}

// ChatTips lists the tips linked to a Telegram chat, newest first.
func (s *Service) ChatTips(ctx context.Context, chatID int64) ([]*hotline.Tip, error) {
	return s.DB.TipsByChat(ctx, s.Vault.ChatMAC(chatID))
}

// Forget unlinks a chat from all its tips. The tips stay with the school;
// their replies can no longer be delivered. For a WeChat chat the sealed
// openid goes too, in the same transaction: nothing is kept to reach the
// reporter by.
func (s *Service) Forget(ctx context.Context, chatID int64) (int, error) {
	mac := s.Vault.ChatMAC(chatID)
	var n int
	err := s.DB.Update(ctx, func(tx *store.Tx) error {
		tips, err := tx.DeleteHandlesByChat(mac)
		if err != nil {
			return err
		}
		if err := tx.DeleteWechatPeer(chatID); err != nil {
			return err
		}
		n = len(tips)
		for _, t := range tips {
			if err := tx.AppendEvent(&hotline.Event{SchoolID: t.SchoolID, TipID: t.ID, Alias: t.Alias.ZH, Kind: hotline.EventForgotten}); err != nil {
				return err
			}
			tip := t
			if err := store.NotifyOnCommit(tx, s.Notifier, hotline.Change{Kind: hotline.ChangeUpdated, SchoolID: tip.SchoolID, TipUID: tip.UID}); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}
