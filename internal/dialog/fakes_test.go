package dialog

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"

	"hotline/internal/hotline"
)

// world fakes the three services at once: schools, intake and the
// reporter's view of their tips.
type world struct {
	mu        sync.Mutex
	schools   []*hotline.School
	subs      []hotline.Submission
	tips      []*fakeTip
	msgs      []sentMsg
	forgotten []int64
	submitErr error
	followErr error // AddReporterMessage fails with it when set
	opened    int   // threads opened by ThreadByReceipt
	// notifies makes Submit tell a Telegram reporter of an automatic
	// urgent send at once, as intake does through the relay.
	notifies bool
	answers  []safetyAnswer
}

type fakeTip struct {
	tip     *hotline.Tip
	chatID  int64
	receipt string
	thread  []*hotline.Message
}

type sentMsg struct {
	ref   hotline.ReporterRef
	text  string
	photo bool
}

var aliases = []hotline.Alias{{ZH: "蓝狐", EN: "Blue Fox"}, {ZH: "红鹿", EN: "Red Deer"}, {ZH: "白鹤", EN: "White Crane"}}

func newWorld() *world {
	return &world{schools: []*hotline.School{
		{ID: 1, Code: "demo", Name: "实验中学", District: "海淀区", Settings: hotline.SchoolSettings{NameEN: "Experimental School", EmergencyContact: "学校保卫处 010-1234567"}},
		{ID: 2, Code: "sx2", Name: "第二实验中学", District: "西城区", Settings: hotline.SchoolSettings{NameEN: "Second Experimental School"}},
		{ID: 3, Code: "hz", Name: "海淀中学", District: "海淀区"},
	}}
}

// fakeUrgent stands in for intake's detector.
func fakeUrgent(text string) bool {
	return strings.Contains(text, "刀") || strings.Contains(strings.ToLower(text), "knife")
}

// fakeUnsure stands in for the detector's unsure answer.
func fakeUnsure(text string) bool {
	return !fakeUrgent(text) && (strings.Contains(text, "消失") || strings.Contains(strings.ToLower(text), "disappear"))
}

func (w *world) SchoolByCode(_ context.Context, code string) (*hotline.School, error) {
	for _, s := range w.schools {
		if strings.EqualFold(s.Code, code) {
			return s, nil
		}
	}
	if strings.EqualFold(code, pendingSchool) {
		return nil, hotline.ErrSchoolNotOpen
	}
	return nil, hotline.ErrNotFound
}

// pendingSchool is a school a district added whose admin has not accepted
// the hand-over: it has no key yet.
const pendingSchool = "no9"

func (w *world) FindSchools(_ context.Context, q string, limit int) ([]*hotline.School, error) {
	var out []*hotline.School
	lq := strings.ToLower(q)
	for _, s := range w.schools {
		if strings.Contains(s.Name, q) || strings.EqualFold(s.Code, q) || (lq != "" && strings.Contains(strings.ToLower(s.Settings.NameEN), lq)) {
			out = append(out, s)
		}
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (w *world) Submit(_ context.Context, s hotline.Submission) (*hotline.Submitted, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.submitErr != nil {
		return nil, w.submitErr
	}
	w.subs = append(w.subs, s)
	n := len(w.tips)
	school, _ := w.SchoolByCode(context.Background(), s.SchoolCode)
	urgent := s.DangerNow
	for _, t := range s.Texts {
		urgent = urgent || fakeUrgent(t)
	}
	ft := &fakeTip{
		tip:    &hotline.Tip{ID: int64(n + 1), UID: fmt.Sprintf("tip-%d", n+1), Alias: aliases[n%len(aliases)], Channel: s.Channel, Status: hotline.StatusNew, Urgent: urgent},
		chatID: s.ChatID,
	}
	if s.Channel.Web() {
		ft.receipt = fmt.Sprintf("7KQ2M-9XFH3-DPWT8-NAB%02d", n+1)
	}
	for _, t := range s.Texts {
		ft.thread = append(ft.thread, &hotline.Message{Author: hotline.AuthorReporter, Body: t})
	}
	w.tips = append(w.tips, ft)
	notified := w.notifies && s.Auto && (urgent || s.PossiblyUrgent) && s.Channel == hotline.ChannelTelegram
	ft.tip.PossiblyUrgent = s.PossiblyUrgent && !urgent
	if !urgent {
		ft.tip.SafetyDue = s.SafetyDue
	}
	return &hotline.Submitted{TipUID: ft.tip.UID, Alias: ft.tip.Alias, Receipt: ft.receipt, Urgent: urgent, School: school, Notified: notified}, nil
}

// AnswerSafety is intake's: yes marks the tip urgent, any answer ends the
// question.
func (w *world) AnswerSafety(_ context.Context, ref hotline.ReporterRef, yes bool) (*hotline.Tip, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t := w.find(ref)
	if t == nil {
		return nil, hotline.ErrNotFound
	}
	w.answers = append(w.answers, safetyAnswer{ref: ref, yes: yes})
	t.tip.SafetyDue = time.Time{}
	if yes {
		t.tip.Urgent = true
	}
	tip := *t.tip
	return &tip, nil
}

type safetyAnswer struct {
	ref hotline.ReporterRef
	yes bool
}

func (w *world) find(ref hotline.ReporterRef) *fakeTip {
	for i := len(w.tips) - 1; i >= 0; i-- {
		t := w.tips[i]
		switch {
		case ref.Receipt != "" && t.receipt == ref.Receipt:
			return t
		case ref.Receipt == "" && ref.ChatID != 0 && t.chatID == ref.ChatID && (ref.TipUID == "" || ref.TipUID == t.tip.UID):
			return t
		}
	}
	return nil
}

func (w *world) AddReporterMessage(_ context.Context, ref hotline.ReporterRef, text string, photo *hotline.Photo) (*hotline.ReporterMessageResult, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.followErr != nil {
		return nil, w.followErr
	}
	t := w.find(ref)
	if t == nil {
		return nil, hotline.ErrNotFound
	}
	if t.tip.Status == hotline.StatusClosed {
		return nil, hotline.ErrTipClosed
	}
	w.msgs = append(w.msgs, sentMsg{ref: ref, text: text, photo: photo != nil})
	t.thread = append(t.thread, &hotline.Message{Author: hotline.AuthorReporter, Body: text, Photo: photo, HasPhoto: photo != nil})
	res := &hotline.ReporterMessageResult{TipUID: t.tip.UID, Alias: t.tip.Alias, Urgent: fakeUrgent(text)}
	if fakeUnsure(text) && !t.tip.Urgent && t.tip.SafetyDue.IsZero() {
		// Intake asks about a filed report itself.
		res.SafetyDue = fixedClock{}.Now().Add(hotline.SafetyQuestionWait)
		t.tip.SafetyDue = res.SafetyDue
	}
	return res, nil
}

func (w *world) ThreadByReceipt(_ context.Context, receipt string) (*hotline.Tip, []*hotline.Message, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if strings.Contains(receipt, "TYPO") {
		return nil, nil, hotline.ErrReceiptTypo
	}
	t := w.find(hotline.ReporterRef{Receipt: receipt})
	if t == nil || receipt == "" {
		return nil, nil, hotline.ErrReceiptUnknown
	}
	w.opened++
	var msgs []*hotline.Message
	for _, m := range t.thread {
		if m.Author != hotline.AuthorNote { // as the real service does
			msgs = append(msgs, m)
		}
	}
	return t.tip, msgs, nil
}

func (w *world) TipStatus(ctx context.Context, receipt string) (*hotline.Tip, error) {
	tip, _, err := w.ThreadByReceipt(ctx, receipt)
	w.mu.Lock()
	w.opened-- // the fake reads its thread; the real service opens nothing
	w.mu.Unlock()
	return tip, err
}

func (w *world) ChatTips(_ context.Context, chatID int64) ([]*hotline.Tip, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []*hotline.Tip
	for i := len(w.tips) - 1; i >= 0; i-- {
		if w.tips[i].chatID == chatID && chatID != 0 {
			out = append(out, w.tips[i].tip)
		}
	}
	return out, nil
}

func (w *world) Forget(_ context.Context, chatID int64) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, t := range w.tips {
		if t.chatID == chatID {
			t.chatID = 0
			n++
		}
	}
	w.forgotten = append(w.forgotten, chatID)
	return n, nil
}

// memStore is the Store; saveErr and loadErr inject failures. Like the
// real store it keeps each state's metadata and save time beside it.
type memStore struct {
	mu    sync.Mutex
	m     map[Key][]byte
	meta  map[Key]Meta
	saved map[Key]time.Time
	// counted are the safety question's counts the saves handed over, by
	// school code ("" for none) and kind, as intake counts them.
	counted map[string]map[string]int
	clock   hotline.Clock
	saveErr error
	loadErr error
}

func newMemStore() *memStore {
	return &memStore{m: map[Key][]byte{}, meta: map[Key]Meta{}, saved: map[Key]time.Time{}, counted: map[string]map[string]int{}, clock: fixedClock{}}
}

func (s *memStore) Due(_ context.Context, urgentBefore, askBefore, staleBefore time.Time, limit int) ([][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out [][]byte
	for k, m := range s.meta {
		if len(out) == limit {
			break
		}
		if (!m.UrgentSince.IsZero() && !m.UrgentSince.After(urgentBefore)) || (!m.AskDue.IsZero() && !m.AskDue.After(askBefore)) || (m.Draft && s.saved[k].Before(staleBefore)) {
			out = append(out, append([]byte(nil), s.m[k]...))
		}
	}
	return out, nil
}

func (s *memStore) Load(_ context.Context, k Key) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loadErr != nil {
		return nil, s.loadErr
	}
	b, ok := s.m[k]
	if !ok {
		return nil, hotline.ErrNotFound
	}
	return append([]byte(nil), b...), nil
}

func (s *memStore) Save(_ context.Context, k Key, b []byte, meta Meta) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.saveErr != nil {
		return s.saveErr
	}
	s.m[k] = append([]byte(nil), b...)
	s.meta[k] = meta
	s.saved[k] = s.clock.Now()
	for _, kind := range meta.Count {
		if s.counted[meta.CountSchool] == nil {
			s.counted[meta.CountSchool] = map[string]int{}
		}
		s.counted[meta.CountSchool][kind]++
	}
	return nil
}

// counts returns the counts handed over for school ("" for none).
func (s *memStore) counts(school string) map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.counted[school])
}

func (s *memStore) Delete(_ context.Context, k Key) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, k)
	delete(s.meta, k)
	delete(s.saved, k)
	return nil
}

func (s *memStore) raw(k Key) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[k]
}

type fixedClock struct{}

func (fixedClock) Now() time.Time { return time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC) }

func newEngine(w *world, s Store) *Engine {
	return &Engine{Intake: w, Reporters: w, Schools: w, Store: s, Clock: fixedClock{}, Urgent: fakeUrgent, Unsure: fakeUnsure, Safety: w}
}

var errBoom = errors.New("database is locked")
