package inboxweb

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"hotline/internal/history"
	"hotline/internal/hotline"
	"hotline/internal/intake"
	"hotline/internal/store"
	"hotline/internal/triage"
	"hotline/internal/web"
)

type threadMsg struct {
	*hotline.Message
	Who string // counselor's name for replies and notes
}

type timelineRow struct {
	*hotline.Event
	Who  string
	Text string // the event in words (history.Describe)
}

type stepRow struct {
	Step hotline.Step
	Done bool
}

type tipData struct {
	Tip        *hotline.Tip
	Messages   []threadMsg
	Reachable  bool
	Timeline   []timelineRow
	Steps      []stepRow
	NextStatus []hotline.Status
	Sevs       []hotline.Severity
	Cats       []hotline.Category
	Staff      []*hotline.Counselor
	Assignee   string
	Reply      string // kept after a failed send; a saved reply inserted
	// Saved are the school's saved replies, one click each into the reply.
	Saved []*store.SavedReply
	Note  string
	// DistrictDone says the district report step is done.
	DistrictDone bool
	// MustEscalate: the policy requires this case to be reported to the
	// district and it has not been (triage.NeedsEscalation).
	MustEscalate bool
	// NoDistrict: the school has no district bureau to escalate to, so the
	// page says so instead of counting down to a report it cannot make.
	NoDistrict bool
	// EscalatedAt is when the case was escalated (from the ledger).
	EscalatedAt time.Time
	// FollowupDue: an escalated case changed and a follow-up report (续报)
	// to the district is owed.
	FollowupDue bool
}

// caseSteps is the checklist of a case: what its severity calls for, plus
// the two steps every case records (police referral, counseling offered).
func caseSteps(t *hotline.Tip) []stepRow {
	steps := hotline.StepsFor(t.Severity)
	for _, extra := range []hotline.Step{hotline.StepPoliceReferral, hotline.StepCounseling} {
		if !slices.Contains(steps, extra) {
			steps = append(steps, extra)
		}
	}
	// Steps done under an earlier severity stay visible.
	for _, st := range hotline.Steps {
		if t.Steps[st] && !slices.Contains(steps, st) {
			steps = append(steps, st)
		}
	}
	out := make([]stepRow, len(steps))
	for i, st := range steps {
		out[i] = stepRow{Step: st, Done: t.Steps[st]}
	}
	return out
}

func (s *Server) tipPage(r *http.Request, rc *reqCtx, uid string) (*page, *tipData, error) {
	ctx := r.Context()
	tip, msgs, err := s.cfg.Triage.Thread(ctx, rc.sess.ts, uid)
	if err != nil {
		return nil, nil, err
	}
	reachable, err := s.cfg.Triage.ReporterReachable(ctx, rc.actor(), uid)
	if err != nil {
		return nil, nil, err
	}
	events, err := s.cfg.Triage.Timeline(ctx, rc.actor(), uid)
	if err != nil {
		return nil, nil, err
	}
	counselors, err := s.cfg.Staff.Counselors(ctx, rc.actor())
	if err != nil {
		return nil, nil, err
	}
	names := make(map[int64]string, len(counselors))
	var active []*hotline.Counselor
	for _, c := range counselors {
		names[c.ID] = c.DisplayName
		if c.Active {
			active = append(active, c)
		}
	}
	d := &tipData{Tip: tip, Reachable: reachable, Steps: caseSteps(tip), Sevs: hotline.Severities, Cats: hotline.Categories, Staff: active, Assignee: names[tip.AssigneeID], DistrictDone: tip.Steps[hotline.StepDistrictReport]}
	for _, m := range msgs {
		d.Messages = append(d.Messages, threadMsg{Message: m, Who: names[m.CounselorID]})
	}
	for _, e := range events {
		d.Timeline = append(d.Timeline, timelineRow{Event: e, Who: names[e.ActorID], Text: history.Describe(e, names, rc.Lang)})
		if e.Kind == hotline.EventEscalated && d.EscalatedAt.IsZero() {
			d.EscalatedAt = e.At
		}
	}
	d.MustEscalate = triage.NeedsEscalation(tip)
	ready, err := s.cfg.Triage.DistrictReady(ctx, rc.School)
	if err != nil {
		return nil, nil, err
	}
	d.NoDistrict = !ready && !tip.Escalated
	d.FollowupDue = tip.Escalated && !tip.DistrictDue.IsZero() && !d.DistrictDone
	d.NextStatus = tip.Status.Next()
	if d.Saved, err = s.cfg.Triage.SavedReplies(ctx, rc.actor()); err != nil {
		return nil, nil, err
	}
	if err := s.cfg.Triage.MarkViewed(ctx, rc.actor(), tip); err != nil {
		return nil, nil, err
	}
	p := s.newPage(r, rc, rc.Lang)
	p.Title, p.Nav, p.Live, p.TipUID, p.Data = tip.Alias.In(rc.Lang)+" · "+p.T("case"), "queue", "tip", tip.UID, d
	if p.Unread, err = s.cfg.Triage.UnreadCount(ctx, rc.actor()); err != nil {
		return nil, nil, err
	}
	return p, d, nil
}

// errEscalateConfirm asks for the confirmation box of the escalate form.
var errEscalateConfirm = hotline.Errorf(hotline.EINVALID, "上报前请勾选确认：上报后区教育局的工作人员可以阅读这个案件的全部对话。", "Tick the confirmation first: once escalated, the district's officers can read this case's whole thread.")

// handleThreadFragment serves the case's thread (and its status line and
// timeline) alone, for the live script to swap in without a reload.
func (s *Server) handleThreadFragment(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	p, _, err := s.tipPage(r, rc, r.PathValue("uid"))
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	s.pages.Fragment(w, "tip", "livecase", p)
}

func (s *Server) handleTipShow(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	p, d, err := s.tipPage(r, rc, r.PathValue("uid"))
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	// The thread was opened: the audit trail says who and when.
	if err := s.cfg.Triage.RecordOpened(r.Context(), rc.sess.ts, d.Tip); err != nil {
		s.fail(w, r, rc, err)
		return
	}
	s.pages.Render(w, http.StatusOK, "tip", p)
}

// handleTipAction runs one counselor action on a case. Mistakes the user
// can fix (an empty reply, a status move that is not allowed) re-render
// the case with the message; anything else is an error page.
func (s *Server) handleTipAction(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctx := r.Context()
	uid := r.PathValue("uid")
	actor := rc.actor()
	tr := s.cfg.Triage
	var err error
	if r.PathValue("action") == "insert" {
		s.insertSavedReply(w, r, rc, uid)
		return
	}
	switch r.PathValue("action") {
	case "reply":
		var photo *hotline.Photo
		if photo, err = formPhoto(r, "photo"); err == nil {
			_, err = tr.Reply(ctx, actor, uid, r.FormValue("text"), photo)
		}
	case "note":
		_, err = tr.Note(ctx, actor, uid, r.FormValue("text"))
	case "status":
		err = tr.SetStatus(ctx, actor, uid, hotline.Status(r.FormValue("status")))
	case "severity":
		err = tr.SetSeverity(ctx, actor, uid, hotline.Severity(r.FormValue("severity")))
	case "category":
		err = tr.SetCategory(ctx, actor, uid, hotline.Category(r.FormValue("category")))
	case "urgent":
		err = tr.SetUrgent(ctx, actor, uid, r.FormValue("urgent") == "1")
	case "assign":
		var id int64
		if v := r.FormValue("assignee"); v != "" && v != "0" {
			if id, err = strconv.ParseInt(v, 10, 64); err != nil {
				err = hotline.Errorf(hotline.EINVALID, "找不到这位老师。", "No such counselor.")
			}
		}
		if err == nil {
			err = tr.Assign(ctx, actor, uid, id)
		}
	case "steps":
		err = s.saveSteps(r, rc, uid)
	case "escalate":
		// The confirmation step works without script: the box must be
		// ticked (the script also asks before the form leaves).
		if r.FormValue("confirm") != "1" {
			err = errEscalateConfirm
		} else {
			err = tr.Escalate(ctx, rc.sess.ts, uid)
		}
	case "district":
		err = tr.ReportToDistrict(ctx, actor, uid)
	default:
		err = hotline.ErrNotFound
	}
	if err == nil {
		redirect(w, r, "/inbox/tips/"+uid+"#"+r.PathValue("action"))
		return
	}
	switch hotline.ErrorCode(err) {
	case hotline.EINVALID, hotline.ETOOLARGE, hotline.ECONFLICT:
		p, d, perr := s.tipPage(r, rc, uid)
		if perr != nil {
			s.fail(w, r, rc, perr)
			return
		}
		p.Error = hotline.ErrorMessage(err, rc.Lang)
		if r.PathValue("action") == "reply" {
			d.Reply = r.FormValue("text")
		} else if r.PathValue("action") == "note" {
			d.Note = r.FormValue("text")
		}
		s.pages.Render(w, hotline.HTTPStatus(err), "tip", p)
	case hotline.EINTERNAL:
		// Not saved (the database unreachable, the disk full): said so,
		// with the text kept on the case page to send again.
		s.logErr(r, err)
		p, d, perr := s.tipPage(r, rc, uid)
		if perr != nil {
			s.unavailable(w, r, rc)
			return
		}
		p.Error = p.T("not_saved")
		if r.PathValue("action") == "reply" {
			d.Reply = r.FormValue("text")
		} else if r.PathValue("action") == "note" {
			d.Note = r.FormValue("text")
		}
		s.pages.Render(w, http.StatusServiceUnavailable, "tip", p)
	default:
		s.fail(w, r, rc, err)
	}
}

// insertSavedReply puts a saved reply into the reply box without script:
// the saved-reply buttons submit the reply form here, so what was already
// typed comes along and the saved text is added after it. Nothing is sent
// or stored; the counselor reads, edits and sends.
func (s *Server) insertSavedReply(w http.ResponseWriter, r *http.Request, rc *reqCtx, uid string) {
	id, err := strconv.ParseInt(r.FormValue("saved"), 10, 64)
	if err != nil {
		s.fail(w, r, rc, hotline.ErrNotFound)
		return
	}
	saved, err := s.cfg.Triage.SavedReply(r.Context(), rc.actor(), id)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	p, d, err := s.tipPage(r, rc, uid)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	d.Reply = strings.TrimRight(r.FormValue("text"), " \t\r\n")
	if d.Reply != "" {
		d.Reply += "\n"
	}
	d.Reply += saved.Body
	s.pages.Render(w, http.StatusOK, "tip", p)
}

// saveSteps records the checklist: each shown step whose box changed.
func (s *Server) saveSteps(r *http.Request, rc *reqCtx, uid string) error {
	tip, err := s.cfg.Triage.Tip(r.Context(), rc.actor(), uid)
	if err != nil {
		return err
	}
	checked := map[hotline.Step]bool{}
	for _, v := range r.Form["step"] {
		checked[hotline.Step(v)] = true
	}
	for _, v := range r.Form["shown"] {
		st := hotline.Step(v)
		if !st.Valid() {
			return hotline.Errorf(hotline.EINVALID, "处置措施无效。", "Invalid handling step.")
		}
		if tip.Steps[st] != checked[st] {
			if err := s.cfg.Triage.RecordStep(r.Context(), rc.actor(), uid, st, checked[st]); err != nil {
				return err
			}
		}
	}
	return nil
}

// bodyReadWait bounds reading a form's body (csrfOK reads it, photo
// included): the server bounds only the headers' time, and a body trickled
// in must not hold a handler and its memory for ever.
const bodyReadWait = 2 * time.Minute

// formPhoto reads an optional uploaded photo and cleans it (EXIF and GPS
// gone) before it goes anywhere near sealing. The body was read whole
// under bodyReadWait before, so decoding waits for the process-wide budget
// only as long as the request lives.
func formPhoto(r *http.Request, field string) (*hotline.Photo, error) {
	f, _, err := r.FormFile(field)
	if errors.Is(err, http.ErrMissingFile) || errors.Is(err, http.ErrNotMultipart) {
		return nil, nil
	} else if err != nil {
		return nil, hotline.ErrPhotoTooLarge
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, intake.MaxPhotoBytes+1))
	if err != nil {
		return nil, hotline.ErrPhotoInvalid
	}
	if len(data) == 0 {
		return nil, nil
	}
	return intake.CleanPhotoContext(r.Context(), data)
}

// handlePhoto serves one message's photo, opened from sealed storage, to
// staff who may see its tip (anyone else: 404).
func (s *Server) handlePhoto(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	photo, err := s.cfg.Triage.Photo(r.Context(), rc.sess.ts, r.PathValue("uid"))
	if err == nil {
		err = web.WritePhoto(w, photo)
	}
	if err != nil {
		s.fail(w, r, rc, err)
	}
}
