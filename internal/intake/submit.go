package intake

import (
	"context"
	"errors"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/store"
	"hotline/internal/thread"
	"hotline/internal/vault"
)

// Submit seals and stores a new tip. It returns only after the tip is
// durably committed, so "received" is true when the reporter reads it.
//
// It goes by step: check the submission, decide urgency and the safety
// question, make the receipt and the chat handle, seal every message
// outside the transaction, then write it all in one. A repeated
// submission is refused there by its key and answered with its tip.
func (s *Service) Submit(ctx context.Context, sub hotline.Submission) (*hotline.Submitted, error) {
	// Sealing comes first: the writer waits a little for this tip rather
	// than commit without it (store.DB.Expect).
	ctx, arrive := s.DB.Expect(ctx)
	defer arrive()
	// The district's deadlines come with the school, not from a read in
	// the transaction: a change made in the last schoolTTL, or racing
	// this tip, applies from the case's next action, as a change of the
	// deadlines does to every open case.
	cs, err := s.cachedSchool(ctx, sub.SchoolCode)
	if err != nil {
		return nil, err
	}
	school := cs.school
	if err := checkSubmission(sub, school); err != nil {
		return nil, err
	}
	f := &filing{sub: sub, school: school, caseDeadlines: cs.caseDeadlines}
	if sub.SubmissionID != "" {
		// Filed already (the answer was lost, or the conversation is
		// being retried)? Not looked up here: the tip's insert finds it
		// in the transaction, the submission's unique key the final
		// judge (ErrSubmissionFiled, answered below with the tip it
		// filed). A repeat, rare, costs a seal thrown away; every first
		// filing saves a read.
		f.subMAC = s.Vault.MAC(submissionPurpose, []byte(sub.SubmissionID))
	}
	if !f.sub.Role.Valid() {
		f.sub.Role = hotline.ReporterOther
	}
	if !f.sub.Category.Valid() {
		f.sub.Category = hotline.CategoryOther
	}
	if f.texts, err = submissionTexts(sub); err != nil {
		return nil, err
	}
	s.assessFiling(f)
	if err := s.address(f); err != nil {
		return nil, err
	}
	if err := s.seal(f); err != nil {
		return nil, err
	}
	count := s.tipCount(sub.SchoolCode)
	err = s.DB.Update(ctx, func(tx *store.Tx) error { return s.write(tx, f, count) })
	if errors.Is(err, store.ErrSubmissionFiled) {
		return s.repeated(ctx, sub, school, f.subMAC)
	}
	if err != nil {
		if hotline.ErrorCode(err) == hotline.EINTERNAL {
			s.Logger.Error("submit tip", "school", school.Code, "channel", sub.Channel, "err", err)
		}
		return nil, err
	}
	s.counters.report(sub.Channel)
	return f.out, nil
}

// filing is one submission on its way in: what each step of Submit
// decided, for the next.
type filing struct {
	sub    hotline.Submission
	school *hotline.School
	subMAC []byte // the submission's key, when it has an id
	texts  []string
	// caseDeadlines are the district's, read with the school.
	caseDeadlines hotline.CaseDeadlines

	urgent   bool
	reason   string    // why it is urgent, for the flag's count
	askNow   bool      // the detector is unsure and nothing asked yet
	carryDue time.Time // a question asked in the conversation, still open

	out           *hotline.Submitted
	to            thread.Recipients
	withReceipt   bool
	pre           *slot // keys and seals made ahead of time, if any
	receiptMAC    []byte
	receiptSealed []byte
	handle        *store.Handle
	msgs          []*store.SealedMessage
}

// checkSubmission refuses what no step could file.
func checkSubmission(sub hotline.Submission, school *hotline.School) error {
	if !sub.Channel.Valid() {
		return hotline.Errorf(hotline.EINVALID, "渠道无效。", "Invalid channel.")
	}
	if sub.Channel == hotline.ChannelStaff && (sub.Staff == nil || sub.Staff.SchoolID != school.ID) {
		return hotline.ErrForbidden
	}
	if sub.Channel.Chat() && sub.ChatID == 0 {
		return hotline.Errorf(hotline.EINVALID, "缺少会话。", "Missing chat.")
	}
	if len(sub.Texts) > MaxTexts || len(sub.Photos) > MaxPhotos {
		return hotline.Errorf(hotline.ETOOLARGE, "一份报告的消息或图片太多了，请先提交，之后再补充。", "Too many messages or photos in one report; send it and add more afterwards.")
	}
	return nil
}

// submissionTexts returns the submission's valid, non-empty texts; a
// report must hold a text or a photo.
func submissionTexts(sub hotline.Submission) ([]string, error) {
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
	return texts, nil
}

// assessFiling decides urgency and the safety question: carried over from the
// conversation that asked it, or asked here when nothing asked it and the
// detector is unsure (a staff member's entry has nobody to ask).
func (s *Service) assessFiling(f *filing) {
	var unsure bool
	f.urgent, f.reason, unsure = s.submissionUrgency(f.sub, f.texts)
	f.askNow = !f.urgent && !f.sub.SafetyAsked && f.sub.Channel != hotline.ChannelStaff && unsure
	if !f.urgent {
		f.carryDue = f.sub.SafetyDue
	}
}

// address makes the tip's id and whom its messages are sealed to: the
// school, and a web reporter's receipt key. A staff member may hand the
// caller a receipt: the thread then waits for them exactly as a web
// reporter's does. A chat's id is sealed into the tip's handle.
func (s *Service) address(f *filing) error {
	sub, school := f.sub, f.school
	f.out = &hotline.Submitted{TipUID: vault.NewID(), Urgent: f.urgent, School: school}
	f.to = thread.Recipients{School: school.PublicKey}
	f.withReceipt = sub.Channel.Web() || (sub.Channel == hotline.ChannelStaff && sub.IssueReceipt)
	if s.prepared != nil {
		f.pre = s.prepared.take(school.ID, school.PublicKey, f.withReceipt)
	}
	if f.pre != nil {
		f.out.TipUID = f.pre.tipUID
	}
	if f.withReceipt {
		if f.pre != nil {
			f.out.Receipt, f.to.Reporter = f.pre.receipt, f.pre.reporterPub
		} else {
			receipt, err := vault.NewReceipt()
			if err != nil {
				return err
			}
			rk, err := s.Vault.ReporterKey(receipt, vault.ReporterKeyCurrent)
			if err != nil {
				return err
			}
			f.out.Receipt, f.to.Reporter = receipt, rk.PublicKey()
			rk.Wipe()
		}
		f.receiptMAC = s.Vault.ReceiptMAC(f.out.Receipt)
		if f.subMAC != nil && sub.PageSecret != "" {
			// Only the page can open it: the server keeps no receipt it can read.
			sealed, err := s.Vault.SealForPage(sub.PageSecret, f.out.TipUID, []byte(f.out.Receipt))
			if err != nil {
				return err
			}
			f.receiptSealed = sealed
		}
	}
	if sub.Channel.Chat() {
		// Bound to the tip: moved to another tip's handle, it does not open.
		sealed, err := s.Vault.SealHandleChat(f.out.TipUID, sub.ChatID)
		if err != nil {
			return err
		}
		f.handle = &store.Handle{ChatMAC: s.Vault.ChatMAC(sub.ChatID), ChatSealed: sealed, Lang: sub.Lang}
	}
	return nil
}

// seal seals every text and photo outside the write transaction: sealing
// is CPU work that runs in parallel across submitters, the transaction
// only writes bytes.
func (s *Service) seal(f *filing) error {
	for i, t := range f.texts {
		var pm *thread.Prepared
		if f.pre != nil && i < len(f.pre.msgs) {
			pm = f.pre.msgs[i]
		}
		m, err := thread.SealPrepared(pm, f.school.ID, f.out.TipUID, hotline.AuthorReporter, t, nil, f.to)
		if err != nil {
			return err
		}
		f.msgs = append(f.msgs, m)
	}
	for i := range f.sub.Photos {
		m, err := thread.Seal(f.school.ID, f.out.TipUID, hotline.AuthorReporter, "", &f.sub.Photos[i], f.to)
		if err != nil {
			return err
		}
		f.msgs = append(f.msgs, m)
	}
	return nil
}

// write stores the filing in one transaction: the tip with its alias and
// deadlines, its flag or safety question, its messages and handle, the
// ledger event, the notice to its reporter, the submission's key, the
// caller's own record (the conversation) and the change notice.
func (s *Service) write(tx *store.Tx, f *filing, count int) error {
	sub, school := f.sub, f.school
	tip := s.newTip(tx, f)
	// The safety question's state goes in with the tip's row.
	switch {
	case sub.PossiblyUrgent && !f.urgent:
		tip.PossiblyUrgent = true
	case !f.carryDue.IsZero():
		// Asked in the conversation and not answered yet: the
		// question now waits on the case.
		tip.SafetyDue, tip.SafetyAskedAt = f.carryDue, tx.Now()
	case f.askNow:
		f.out.SafetyDue = askedNow(tip, tx.Now())
	}
	if err := insertWithAlias(tx, tip, f, count); err != nil {
		return err
	}
	var err error
	if f.urgent {
		if err := recordFlag(tx, school, tip.ID, f.reason); err != nil {
			return err
		}
	}
	if f.askNow {
		if err := countSafety(tx, school, store.UrgencyAsked); err != nil {
			return err
		}
	}
	for _, m := range f.msgs {
		m.TipID = tip.ID
		if err := tx.AddMessage(m); err != nil {
			return err
		}
	}
	var actorID int64
	if sub.Staff != nil {
		actorID = sub.Staff.CounselorID
	}
	detail := "channel=" + string(sub.Channel)
	if f.urgent {
		detail += ";urgent"
	}
	if tip.PossiblyUrgent {
		detail += ";possibly_urgent"
	}
	if err := tx.AppendEvent(&hotline.Event{SchoolID: school.ID, TipID: tip.ID, Alias: tip.Alias.ZH, Kind: hotline.EventReceived, Detail: detail, ActorID: actorID}); err != nil {
		return err
	}
	f.out.Alias = tip.Alias
	// Before Record: the conversation saved with the tip must know
	// whether its reporter is being told.
	if f.out.Notified, err = s.noticeAutoSent(tx, sub, tip, school); err != nil {
		return err
	}
	if f.subMAC != nil {
		// A second filing of this submission stopped at the tip's
		// insert (insertWithAlias); the unique key is the final judge.
		// Either way Submit answers with the first one's tip.
		if err := tx.InsertSubmission(f.subMAC, tip.ID, f.receiptSealed, tx.Now().Add(ReceiptKeep)); err != nil {
			return err
		}
	}
	if sub.Record != nil {
		if err := sub.Record(store.WithTx(tx.Context(), tx), f.out); err != nil {
			return err
		}
	}
	return store.NotifyOnCommit(tx, s.Notifier, hotline.Change{Kind: hotline.ChangeNewTip, SchoolID: school.ID, TipUID: tip.UID, Urgent: f.urgent})
}

// newTip is the tip row: its deadlines come from the school's settings
// and, for the assessment, its district's (read with the school).
func (s *Service) newTip(tx *store.Tx, f *filing) *hotline.Tip {
	now := tx.Now()
	dl := f.school.Settings.Deadlines.WithDefaults()
	tip := &hotline.Tip{
		UID: f.out.TipUID, SchoolID: f.school.ID, Channel: f.sub.Channel, Role: f.sub.Role, Status: hotline.StatusNew,
		Severity: hotline.SeverityUnassessed, Category: f.sub.Category, Urgent: f.urgent,
		ReporterKey: f.to.Reporter, ReporterKeyVersion: vault.ReporterKeyCurrent,
		CreatedAt: now, LastReporterAt: now, Steps: map[hotline.Step]bool{},
	}
	if f.urgent {
		tip.AckDue = now.Add(dl.AckUrgent.D())
	} else {
		tip.AckDue = now.Add(dl.Ack.D())
	}
	tip.AssessDue = now.Add(f.caseDeadlines.Assess.D())
	if f.sub.Channel == hotline.ChannelStaff {
		// Entered by staff: the reporter wrote nothing themselves.
		tip.LastReporterAt = time.Time{}
	}
	if f.sub.Channel != hotline.ChannelStaff || f.withReceipt {
		// Someone with a receipt (or a chat) waits for an answer.
		tip.ReplyDue = now.Add(dl.FirstReply.D())
	}
	return tip
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
