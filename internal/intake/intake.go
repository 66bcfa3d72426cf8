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
// change may take schoolTTL to show.
const schoolTTL = 2 * time.Second

type cachedSchool struct {
	school *hotline.School
	count  int // about how many tips it has, for sizing alias lookups
	at     time.Time
}

// school finds a school by code through a short cache.
func (s *Service) school(ctx context.Context, code string) (*hotline.School, error) {
	key := strings.ToLower(strings.TrimSpace(code))
	s.schoolsMu.Lock()
	c, ok := s.schools[key]
	s.schoolsMu.Unlock()
	if ok && time.Since(c.at) < schoolTTL {
		return c.school, nil
	}
	school, err := s.DB.SchoolByCode(ctx, key)
	if err != nil {
		return nil, err
	}
	count, err := s.DB.CountTips(ctx, school.ID)
	if err != nil {
		return nil, err
	}
	s.schoolsMu.Lock()
	if s.schools == nil || len(s.schools) > 4096 {
		s.schools = map[string]cachedSchool{}
	}
	s.schools[key] = cachedSchool{school, count, time.Now()}
	s.schoolsMu.Unlock()
	return school, nil
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

// Submit seals and stores a new tip. It returns only after the tip is
// durably committed, so "received" is true when the reporter reads it.
func (s *Service) Submit(ctx context.Context, sub hotline.Submission) (*hotline.Submitted, error) {
	// Sealing comes first: the writer waits a little for this tip rather
	// than commit without it (store.DB.Expect).
	ctx, arrive := s.DB.Expect(ctx)
	defer arrive()
	school, err := s.school(ctx, sub.SchoolCode)
	if err != nil {
		return nil, err
	}
	if !sub.Channel.Valid() {
		return nil, hotline.Errorf(hotline.EINVALID, "渠道无效。", "Invalid channel.")
	}
	if sub.Channel == hotline.ChannelStaff && (sub.Staff == nil || sub.Staff.SchoolID != school.ID) {
		return nil, hotline.ErrForbidden
	}
	if sub.Channel.Chat() && sub.ChatID == 0 {
		return nil, hotline.Errorf(hotline.EINVALID, "缺少会话。", "Missing chat.")
	}
	var subMAC []byte
	if sub.SubmissionID != "" {
		subMAC = s.Vault.MAC(submissionPurpose, []byte(sub.SubmissionID))
		// Filed already (the answer was lost, or the conversation is being
		// retried): answer with that tip before sealing anything again.
		if _, err := s.DB.SubmittedTip(ctx, subMAC); err == nil {
			return s.repeated(ctx, sub, school, subMAC)
		} else if !errors.Is(err, hotline.ErrNotFound) {
			return nil, err
		}
	}
	if !sub.Role.Valid() {
		sub.Role = hotline.ReporterOther
	}
	if !sub.Category.Valid() {
		sub.Category = hotline.CategoryOther
	}
	if len(sub.Texts) > MaxTexts || len(sub.Photos) > MaxPhotos {
		return nil, hotline.Errorf(hotline.ETOOLARGE, "一份报告的消息或图片太多了，请先提交，之后再补充。", "Too many messages or photos in one report; send it and add more afterwards.")
	}
	texts := make([]string, 0, len(sub.Texts))
	for _, t := range sub.Texts {
		t, err := thread.ValidateText(t)
		if errors.Is(err, hotline.ErrEmptyMessage) {
			continue
		} else if err != nil {
			return nil, err
		}
		texts = append(texts, t)
	}
	if len(texts) == 0 && len(sub.Photos) == 0 {
		return nil, hotline.Errorf(hotline.EINVALID, "请写下发生了什么，或者发一张照片。", "Please write what happened or send a photo.")
	}

	urgent, reason := s.submissionUrgency(sub, texts)
	// The safety question: carried over from the conversation that asked
	// it, or asked here when nothing asked it and the detector is unsure
	// (a staff member's entry has nobody to ask).
	askNow := !urgent && !sub.SafetyAsked && sub.Channel != hotline.ChannelStaff && s.unsureOf(texts)
	carryDue := sub.SafetyDue
	if urgent {
		carryDue = time.Time{}
	}

	out := &hotline.Submitted{TipUID: vault.NewID(), Urgent: urgent, School: school}
	to := thread.Recipients{School: school.PublicKey}
	// A staff member may hand the caller a receipt: the thread then waits
	// for them exactly as a web reporter's does.
	withReceipt := sub.Channel.Web() || (sub.Channel == hotline.ChannelStaff && sub.IssueReceipt)
	var pre *slot
	if s.prepared != nil {
		pre = s.prepared.take(school.ID, school.PublicKey, withReceipt)
	}
	if pre != nil {
		out.TipUID = pre.tipUID
	}
	var receiptMAC []byte
	if withReceipt {
		if pre != nil {
			out.Receipt, to.Reporter = pre.receipt, pre.reporterPub
		} else {
			if out.Receipt, err = vault.NewReceipt(); err != nil {
				return nil, err
			}
			rk, err := s.Vault.ReporterKey(out.Receipt, vault.ReporterKeyCurrent)
			if err != nil {
				return nil, err
			}
			to.Reporter = rk.PublicKey()
			rk.Wipe()
		}
		receiptMAC = s.Vault.ReceiptMAC(out.Receipt)
	}
	var receiptSealed []byte
	if withReceipt && subMAC != nil && sub.PageSecret != "" {
		// Only the page can open it: the server keeps no receipt it can read.
		if receiptSealed, err = s.Vault.SealForPage(sub.PageSecret, out.TipUID, []byte(out.Receipt)); err != nil {
			return nil, err
		}
	}
	var handle *store.Handle
	if sub.Channel.Chat() {
		// Bound to the tip: moved to another tip's handle, it does not open.
		sealed, err := s.Vault.SealHandleChat(out.TipUID, sub.ChatID)
		if err != nil {
			return nil, err
		}
		handle = &store.Handle{ChatMAC: s.Vault.ChatMAC(sub.ChatID), ChatSealed: sealed, Lang: sub.Lang}
	}

	// Seal outside the write transaction: sealing is CPU work that runs in
	// parallel across submitters, the transaction only writes bytes.
	var msgs []*store.SealedMessage
	for i, t := range texts {
		var pm *thread.Prepared
		if pre != nil && i < len(pre.msgs) {
			pm = pre.msgs[i]
		}
		m, err := thread.SealPrepared(pm, school.ID, out.TipUID, hotline.AuthorReporter, t, nil, to)
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, m)
	}
	for i := range sub.Photos {
		m, err := thread.Seal(school.ID, out.TipUID, hotline.AuthorReporter, "", &sub.Photos[i], to)
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, m)
	}
	var actorID int64
	if sub.Staff != nil {
		actorID = sub.Staff.CounselorID
	}

	count := s.tipCount(sub.SchoolCode)
	err = s.DB.Update(ctx, func(tx *store.Tx) error {
		now := tx.Now()
		dl := school.Settings.Deadlines.WithDefaults()
		tip := &hotline.Tip{
			UID: out.TipUID, SchoolID: school.ID, Channel: sub.Channel, Role: sub.Role, Status: hotline.StatusNew,
			Severity: hotline.SeverityUnassessed, Category: sub.Category, Urgent: urgent,
			ReporterKey: to.Reporter, ReporterKeyVersion: vault.ReporterKeyCurrent,
			CreatedAt: now, LastReporterAt: now, Steps: map[hotline.Step]bool{},
		}
		if urgent {
			tip.AckDue = now.Add(dl.AckUrgent.D())
		} else {
			tip.AckDue = now.Add(dl.Ack.D())
		}
		if sub.Channel == hotline.ChannelStaff {
			// Entered by staff: the reporter wrote nothing themselves.
			tip.LastReporterAt = time.Time{}
		}
		if sub.Channel != hotline.ChannelStaff || withReceipt {
			// Someone with a receipt (or a chat) waits for an answer.
			tip.ReplyDue = now.Add(dl.FirstReply.D())
		}
		var err error
		for attempt := 0; ; attempt++ {
			if tip.Alias, err = assignAlias(tx, school.ID, count); err != nil {
				return err
			}
			err = tx.InsertTip(tip, receiptMAC)
			if !errors.Is(err, store.ErrAliasTaken) || attempt > 5 {
				break
			}
		}
		if err != nil {
			return err
		}
		if urgent {
			if err := recordFlag(tx, school, tip.ID, reason); err != nil {
				return err
			}
		}
		switch {
		case sub.PossiblyUrgent && !urgent:
			if err := tx.MarkPossiblyUrgent(tip.ID); err != nil {
				return err
			}
			tip.PossiblyUrgent = true
		case !carryDue.IsZero():
			// Asked in the conversation and not answered yet: the
			// question now waits on the case.
			if err := tx.SetSafetyQuestion(tip.ID, carryDue, now); err != nil {
				return err
			}
		case askNow:
			if out.SafetyDue, err = askSafety(tx, school, tip); err != nil {
				return err
			}
		}
		for _, m := range msgs {
			m.TipID = tip.ID
			if err := tx.InsertMessage(m); err != nil {
				return err
			}
		}
		if handle != nil {
			handle.TipID = tip.ID
			if err := tx.InsertHandle(handle); err != nil {
				return err
			}
		}
		detail := "channel=" + string(sub.Channel)
		if urgent {
			detail += ";urgent"
		}
		if tip.PossiblyUrgent {
			detail += ";possibly_urgent"
		}
		if err := tx.AppendEvent(&hotline.Event{SchoolID: school.ID, TipID: tip.ID, Alias: tip.Alias.ZH, Kind: hotline.EventReceived, Detail: detail, ActorID: actorID}); err != nil {
			return err
		}
		out.Alias = tip.Alias
		// Before Record: the conversation saved with the tip must know
		// whether its reporter is being told.
		if out.Notified, err = s.noticeAutoSent(tx, sub, tip, school); err != nil {
			return err
		}
		if subMAC != nil {
			// The unique key decides: a second filing of this submission
			// that raced past the look-up above rolls back here.
			if err := tx.InsertSubmission(subMAC, tip.ID, receiptSealed, now.Add(ReceiptKeep)); err != nil {
				return err
			}
		}
		if sub.Record != nil {
			if err := sub.Record(store.WithTx(tx.Context(), tx), out); err != nil {
				return err
			}
		}
		if err := store.NotifyOnCommit(tx, s.Notifier, hotline.Change{Kind: hotline.ChangeNewTip, SchoolID: school.ID, TipUID: tip.UID, Urgent: urgent}); err != nil {
			return err
		}
		return nil
	})
	if errors.Is(err, store.ErrSubmissionFiled) {
		return s.repeated(ctx, sub, school, subMAC)
	}
	if err != nil {
		if hotline.ErrorCode(err) == hotline.EINTERNAL {
			s.Logger.Error("submit tip", "school", school.Code, "channel", sub.Channel, "err", err)
		}
		return nil, err
	}
	s.counters.report(sub.Channel)
	return out, nil
}

// submissionPurpose separates the MACs of submission ids from other MACs.
const submissionPurpose = "submission"

// ReceiptKeep is how long a web receipt stays sealed to its page for a
// page whose answer was lost to claim it.
const ReceiptKeep = 24 * time.Hour

// repeated answers a submission that filed its tip already: the same tip
// and alias, no receipt (it can only be claimed by its page), and the
// caller's Record run in a transaction of its own, so that the
// conversation moves on exactly as after the first filing.
func (s *Service) repeated(ctx context.Context, sub hotline.Submission, school *hotline.School, subMAC []byte) (*hotline.Submitted, error) {
	var out *hotline.Submitted
	err := s.DB.Update(ctx, func(tx *store.Tx) error {
		tip, err := tx.SubmittedTip(subMAC)
		if err != nil {
			return err
		}
		out = &hotline.Submitted{TipUID: tip.UID, Alias: tip.Alias, Urgent: tip.Urgent, School: school, Repeated: true}
		if sub.Record != nil {
			return sub.Record(store.WithTx(tx.Context(), tx), out)
		}
		return nil
	})
	if err != nil {
		if hotline.ErrorCode(err) == hotline.EINTERNAL {
			s.Logger.Error("repeated submission", "school", school.Code, "channel", sub.Channel, "err", err)
		}
		return nil, err
	}
	return out, nil
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
