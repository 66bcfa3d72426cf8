package survey

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"hotline/internal/hotline"
	"hotline/internal/store"
	"hotline/internal/vault"
)

// Zone is the schools' time zone: days and wave times are China time.
var Zone = hotline.ChinaTime

// Service runs surveys over the store and the vault.
type Service struct {
	DB    *store.DB
	Vault *vault.Vault
	Log   *slog.Logger

	// byWave caches what a code opens (the survey with its waves, and the
	// school) for a few seconds: a class answering at once asks for it
	// with every page. Edits on this node clear it; another node's edit
	// (only before opening, or a wave's times) shows within cacheTTL.
	byWave sync.Map // wave id → *cachedWave
}

type cachedWave struct {
	sv     *Survey
	school *hotline.School
	until  time.Time
}

// cacheTTL bounds how stale a cached survey may be.
const cacheTTL = 3 * time.Second

// openWave returns the survey and school of a wave, cached.
func (s *Service) openWave(ctx context.Context, waveID int64) (*Survey, *hotline.School, error) {
	if v, ok := s.byWave.Load(waveID); ok {
		if c := v.(*cachedWave); time.Now().Before(c.until) {
			return c.sv, c.school, nil
		}
	}
	sr, waves, err := s.DB.SurveyByWave(ctx, waveID)
	if err != nil {
		return nil, nil, err
	}
	sv, err := fromRow(sr, waves)
	if err != nil {
		return nil, nil, err
	}
	school, err := s.DB.SchoolByID(ctx, sv.SchoolID)
	if err != nil {
		return nil, nil, err
	}
	s.byWave.Store(waveID, &cachedWave{sv: sv, school: school, until: time.Now().Add(cacheTTL)})
	return sv, school, nil
}

// New returns a survey service.
func New(db *store.DB, v *vault.Vault, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{DB: db, Vault: v, Log: log}
}

// Now is the database clock's time.
func (s *Service) Now() time.Time { return s.DB.Clock.Now() }

// Errors a pupil or a staff member may see.
var (
	ErrCodeTypo    = hotline.Errorf(hotline.EINVALID, "这个问卷码好像输错了：请对照纸条再输一次（共 12 位，字母不分大小写）。", "This survey code looks mistyped: check it against your slip (12 characters, any case).")
	ErrCodeUnknown = hotline.Errorf(hotline.ENOTFOUND, "没有这个问卷码。请对照纸条检查，或向老师要一张新纸条。", "There is no such survey code. Check your slip, or ask your teacher for a new one.")
	ErrCodeUsed    = hotline.Errorf(hotline.ECONFLICT, "这个问卷码已经提交过了，每个码只能用一次。谢谢你的参与！", "This survey code has already been submitted; each code works once. Thank you for taking part!")
	ErrNotEditable = hotline.Errorf(hotline.ECONFLICT, "问卷已经开始，不能再修改题目（这样两轮的结果才能比较）。", "The survey has opened: its questions can no longer change (so that the waves compare).")
	ErrBadTimes    = hotline.Errorf(hotline.EINVALID, "结束时间必须晚于开始时间。", "The closing time must be after the opening time.")
)

func errNotOpen(w *Wave) error {
	t := w.Opens.In(Zone)
	return &hotline.Error{Code: hotline.EFORBIDDEN, Message: hotline.Label{
		ZH: fmt.Sprintf("问卷还没开始：%s 开放。到时再用这个码。", t.Format("2006年1月2日 15:04")),
		EN: fmt.Sprintf("The survey is not open yet: it opens on %s. Use this code then.", t.Format("2 Jan 2006 15:04")),
	}}
}

func errClosed(w *Wave) error {
	t := w.Closes.In(Zone)
	return &hotline.Error{Code: hotline.EFORBIDDEN, Message: hotline.Label{
		ZH: fmt.Sprintf("问卷已经在 %s 结束，这个问卷码已过期。有话想说，可以用下面的匿名举报。", t.Format("2006年1月2日 15:04")),
		EN: fmt.Sprintf("The survey closed on %s; this code has expired. To tell the school something, use the anonymous report below.", t.Format("2 Jan 2006 15:04")),
	}}
}

// Caller is the staff member acting: a school admin or counselor, or a
// district officer.
type Caller = *hotline.Counselor

func fromRow(r *store.SurveyRow, waves []*store.WaveRow) (*Survey, error) {
	s := &Survey{ID: r.ID, UID: r.UID, SchoolID: r.SchoolID, Series: r.Series, District: r.District, ByDistrict: r.ByDistrict,
		Title: hotline.Label{ZH: r.TitleZH, EN: r.TitleEN}, CreatedBy: r.CreatedBy, CreatedAt: time.UnixMicro(r.CreatedAt).UTC()}
	if err := json.Unmarshal([]byte(r.Questions), &s.Questions); err != nil {
		return nil, fmt.Errorf("survey %d questions: %w", r.ID, err)
	}
	for _, w := range waves {
		s.Waves = append(s.Waves, &Wave{ID: w.ID, N: w.N, Name: hotline.Label{ZH: w.NameZH, EN: w.NameEN},
			Opens: time.UnixMicro(w.OpensAt).UTC(), Closes: time.UnixMicro(w.ClosesAt).UTC()})
	}
	return s, nil
}

func toRow(s *Survey) (*store.SurveyRow, error) {
	q, err := json.Marshal(s.Questions)
	if err != nil {
		return nil, err
	}
	return &store.SurveyRow{ID: s.ID, UID: s.UID, SchoolID: s.SchoolID, Series: s.Series, District: s.District, ByDistrict: s.ByDistrict,
		TitleZH: s.Title.ZH, TitleEN: s.Title.EN, Questions: string(q), CreatedBy: s.CreatedBy}, nil
}

// NewSurvey is what an admin fills in to start a survey from the template.
type NewSurvey struct {
	Title hotline.Label
	// Baseline and FollowUp are the two waves' windows.
	BaselineOpens, BaselineCloses time.Time
	FollowUpOpens, FollowUpCloses time.Time
}

// WaveName labels wave n (1 the baseline, 2 the follow-up) by the month it
// opens in, so that a wave moved to another month says so.
func WaveName(n int, opens time.Time) hotline.Label {
	m := opens.In(Zone).Month()
	if n == 1 {
		return hotline.Label{ZH: fmt.Sprintf("基线（%d月排查摸底）", int(m)), EN: fmt.Sprintf("Baseline (%s screening)", m)}
	}
	return hotline.Label{ZH: fmt.Sprintf("跟踪（%d月整治后）", int(m)), EN: fmt.Sprintf("Follow-up (%s, after the measures)", m)}
}

// Create makes a survey from the built-in questionnaire: for the caller's
// school (a school admin), or one copy for each school of the district (a
// district officer). It returns the copies made.
func (s *Service) Create(ctx context.Context, by Caller, in NewSurvey) ([]*Survey, error) {
	if in.Title.ZH == "" {
		in.Title = hotline.Label{ZH: "校园欺凌情况匿名问卷", EN: "Anonymous questionnaire on bullying at school"}
	}
	if in.Title.EN == "" {
		in.Title.EN = in.Title.ZH
	}
	if utf8.RuneCountInString(in.Title.ZH) > 100 || utf8.RuneCountInString(in.Title.EN) > 200 {
		return nil, hotline.Errorf(hotline.EINVALID, "标题太长了。", "The title is too long.")
	}
	if !in.BaselineCloses.After(in.BaselineOpens) || !in.FollowUpCloses.After(in.FollowUpOpens) {
		return nil, ErrBadTimes
	}
	if in.FollowUpOpens.Before(in.BaselineCloses) {
		return nil, hotline.Errorf(hotline.EINVALID, "第二轮（跟踪）必须在第一轮（基线）结束后开始。", "The follow-up wave must open after the baseline closes.")
	}
	var schools []*hotline.School
	district := by.District
	switch by.Role {
	case hotline.RoleAdmin:
		sc, err := s.DB.SchoolByID(ctx, by.SchoolID)
		if err != nil {
			return nil, err
		}
		schools, district = []*hotline.School{sc}, sc.District
	case hotline.RoleDistrict:
		all, err := s.DB.Schools(ctx, by.District)
		if err != nil {
			return nil, err
		}
		schools = all
		if len(schools) == 0 {
			return nil, hotline.Errorf(hotline.EINVALID, "本区还没有学校。", "The district has no schools yet.")
		}
	default:
		return nil, hotline.ErrForbidden
	}
	series := vault.NewID()
	var made []*Survey
	for _, sc := range schools {
		sv := &Survey{UID: vault.NewID(), SchoolID: sc.ID, Series: series, District: district, ByDistrict: by.Role == hotline.RoleDistrict,
			Title: in.Title, Questions: Template(), CreatedBy: by.ID,
			Waves: []*Wave{
				{N: 1, Name: WaveName(1, in.BaselineOpens), Opens: in.BaselineOpens, Closes: in.BaselineCloses},
				{N: 2, Name: WaveName(2, in.FollowUpOpens), Opens: in.FollowUpOpens, Closes: in.FollowUpCloses},
			}}
		made = append(made, sv)
	}
	err := s.DB.Update(ctx, func(tx *store.Tx) error {
		for _, sv := range made {
			row, err := toRow(sv)
			if err != nil {
				return err
			}
			if err := tx.InsertSurvey(row); err != nil {
				return err
			}
			sv.ID, sv.CreatedAt = row.ID, time.UnixMicro(row.CreatedAt).UTC()
			for _, w := range sv.Waves {
				wr := &store.WaveRow{SurveyID: sv.ID, N: w.N, NameZH: w.Name.ZH, NameEN: w.Name.EN, OpensAt: store.Micros(w.Opens), ClosesAt: store.Micros(w.Closes)}
				if err := tx.InsertWave(wr); err != nil {
					return err
				}
				w.ID = wr.ID
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return made, nil
}

// Get reads a survey the caller may see: their school's, or any of their
// district's for an officer.
func (s *Service) Get(ctx context.Context, by Caller, uid string) (*Survey, error) {
	r, waves, err := s.DB.Survey(ctx, uid)
	if err != nil {
		return nil, err
	}
	if !mayRead(by, r) {
		return nil, hotline.ErrNotFound
	}
	return fromRow(r, waves)
}

// mayRead: a school's staff read their school's surveys, the district's
// copies included; a district officer reads the district's own surveys
// only. A school's own questionnaire — its questions, its results, its
// pupils' small classes — stays the school's: the district learns of it
// through the measures the school records (DistrictMeasures).
func mayRead(by Caller, r *store.SurveyRow) bool {
	if by == nil {
		return false
	}
	if by.Role == hotline.RoleDistrict {
		return by.District != "" && by.District == r.District && r.ByDistrict
	}
	return by.SchoolID == r.SchoolID
}

// mayEdit: a school admin edits their school's own surveys; a district
// officer the district's (all copies of a series at once). A school does
// not edit its copy of the district's survey: every copy asks the same
// and opens and closes at the same times, so that the district's results
// add up and are published once, when every school's wave has closed.
func mayEdit(by Caller, r *store.SurveyRow) bool {
	if !mayRead(by, r) {
		return false
	}
	if r.ByDistrict {
		return by.Role == hotline.RoleDistrict
	}
	return by.Role == hotline.RoleAdmin
}

// ErrDistrictSurvey refuses a school's edit of the district's survey.
var ErrDistrictSurvey = hotline.Errorf(hotline.EFORBIDDEN, "这是区里统一发放的问卷，只有区教育局能修改题目和时间。", "This is the district's survey: only the district changes its questions and times.")

// List returns the surveys the caller sees, newest first.
func (s *Service) List(ctx context.Context, by Caller) ([]*Survey, error) {
	var rows []*store.SurveyRow
	var err error
	if by.Role == hotline.RoleDistrict {
		rows, err = s.DB.SurveysOfDistrict(ctx, by.District)
	} else {
		rows, err = s.DB.SurveysOfSchool(ctx, by.SchoolID)
	}
	if err != nil {
		return nil, err
	}
	mine := rows[:0]
	for _, r := range rows {
		if mayRead(by, r) {
			mine = append(mine, r)
		}
	}
	return s.load(ctx, mine)
}

func (s *Service) load(ctx context.Context, rows []*store.SurveyRow) ([]*Survey, error) {
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	waves, err := s.DB.WavesOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	by := map[int64][]*store.WaveRow{}
	for _, w := range waves {
		by[w.SurveyID] = append(by[w.SurveyID], w)
	}
	out := make([]*Survey, 0, len(rows))
	for _, r := range rows {
		sv, err := fromRow(r, by[r.ID])
		if err != nil {
			return nil, err
		}
		out = append(out, sv)
	}
	return out, nil
}

// Edit is one change to a survey before it opens.
type Edit struct {
	Op string // "add", "remove", "up", "down", "title", "wave"
	// add: the new question; Options one per line in each language.
	Kind      Kind
	Text      hotline.Label
	OptionsZH []string
	OptionsEN []string
	// remove, up, down: the question.
	QuestionID string
	// title
	Title hotline.Label
	// wave: its number and window.
	Wave          int
	Opens, Closes time.Time
}

// Apply changes a survey (every copy of a district's series when the
// district edits) while no wave has opened.
func (s *Service) Apply(ctx context.Context, by Caller, uid string, e Edit) error {
	r, _, err := s.DB.Survey(ctx, uid)
	if err != nil {
		return err
	}
	if !mayEdit(by, r) {
		if mayRead(by, r) && r.ByDistrict {
			return ErrDistrictSurvey
		}
		return hotline.ErrForbidden
	}
	targets := []string{uid}
	if by.Role == hotline.RoleDistrict {
		copies, err := s.DB.SurveysOfSeries(ctx, r.Series)
		if err != nil {
			return err
		}
		targets = targets[:0]
		for _, c := range copies {
			targets = append(targets, c.UID)
		}
	}
	defer s.byWave.Clear()
	return s.DB.Update(ctx, func(tx *store.Tx) error {
		for _, t := range targets {
			row, waves, err := tx.SurveyForUpdate(t)
			if err != nil {
				return err
			}
			sv, err := fromRow(row, waves)
			if err != nil {
				return err
			}
			if err := apply(sv, e, tx.Now()); err != nil {
				return err
			}
			if e.Op == "wave" {
				w := sv.Wave(e.Wave)
				if err := tx.UpdateWave(&store.WaveRow{ID: w.ID, NameZH: w.Name.ZH, NameEN: w.Name.EN, OpensAt: store.Micros(w.Opens), ClosesAt: store.Micros(w.Closes)}); err != nil {
					return err
				}
				continue
			}
			nr, err := toRow(sv)
			if err != nil {
				return err
			}
			if err := tx.UpdateSurvey(nr); err != nil {
				return err
			}
		}
		return nil
	})
}

// MaxQuestions bounds a questionnaire: one lesson's worth.
const MaxQuestions = 60

func apply(sv *Survey, e Edit, now time.Time) error {
	if e.Op == "wave" {
		w := sv.Wave(e.Wave)
		if w == nil {
			return hotline.ErrNotFound
		}
		if !e.Closes.After(e.Opens) {
			return ErrBadTimes
		}
		if w.State(now) == Closed {
			return hotline.Errorf(hotline.ECONFLICT, "这一轮已经结束，不能再改时间。", "This wave has closed; its times can no longer change.")
		}
		if w.State(now) == Open && !e.Opens.Equal(w.Opens) {
			return hotline.Errorf(hotline.ECONFLICT, "这一轮已经开始：只能修改结束时间。", "This wave has opened: only its closing time can change.")
		}
		w.Opens, w.Closes = e.Opens, e.Closes
		w.Name = WaveName(w.N, w.Opens) // the label follows the date
		return nil
	}
	if !sv.Editable(now) {
		return ErrNotEditable
	}
	idx := -1
	for i := range sv.Questions {
		if sv.Questions[i].ID == e.QuestionID {
			idx = i
		}
	}
	switch e.Op {
	case "title":
		if strings.TrimSpace(e.Title.ZH) == "" {
			return hotline.Errorf(hotline.EINVALID, "请填写中文标题。", "Please give a Chinese title.")
		}
		if e.Title.EN == "" {
			e.Title.EN = e.Title.ZH
		}
		sv.Title = e.Title
	case "add":
		q, err := newQuestion(sv, e)
		if err != nil {
			return err
		}
		sv.Questions = append(sv.Questions, q)
	case "remove":
		if idx < 0 {
			return hotline.ErrNotFound
		}
		sv.Questions = append(sv.Questions[:idx], sv.Questions[idx+1:]...)
	case "up", "down":
		if idx < 0 {
			return hotline.ErrNotFound
		}
		j := idx - 1
		if e.Op == "down" {
			j = idx + 1
		}
		if j < 0 || j >= len(sv.Questions) {
			return nil
		}
		// A question moves into its neighbour's section (page), so that
		// reordering also regroups the pages.
		sv.Questions[idx].Section = sv.Questions[j].Section
		sv.Questions[idx], sv.Questions[j] = sv.Questions[j], sv.Questions[idx]
	default:
		return hotline.Errorf(hotline.EINVALID, "未知的操作。", "Unknown change.")
	}
	return nil
}

func newQuestion(sv *Survey, e Edit) (Question, error) {
	if len(sv.Questions) >= MaxQuestions {
		return Question{}, hotline.Errorf(hotline.EINVALID, fmt.Sprintf("最多 %d 道题。", MaxQuestions), fmt.Sprintf("At most %d questions.", MaxQuestions))
	}
	text := hotline.Label{ZH: strings.TrimSpace(e.Text.ZH), EN: strings.TrimSpace(e.Text.EN)}
	if text.ZH == "" || text.EN == "" {
		return Question{}, hotline.Errorf(hotline.EINVALID, "请用中文和英文写出题目。", "Please write the question in Chinese and in English.")
	}
	if utf8.RuneCountInString(text.ZH) > 300 || utf8.RuneCountInString(text.EN) > 600 || !utf8.ValidString(text.ZH+text.EN) {
		return Question{}, hotline.Errorf(hotline.EINVALID, "题目太长了。", "The question is too long.")
	}
	n := 1
	for _, q := range sv.Questions {
		if strings.HasPrefix(q.ID, "c") {
			if v, err := strconv.Atoi(q.ID[1:]); err == nil && v >= n {
				n = v + 1
			}
		}
	}
	q := Question{ID: "c" + strconv.Itoa(n), Kind: e.Kind, Section: "custom", Text: text}
	switch e.Kind {
	case Text:
		return q, nil
	case Single, Multiple, Scale:
	default:
		return Question{}, hotline.Errorf(hotline.EINVALID, "请选择题型。", "Please choose a question type.")
	}
	zh, en := clean(e.OptionsZH), clean(e.OptionsEN)
	if len(zh) < 2 || len(zh) != len(en) || len(zh) > 12 {
		return Question{}, hotline.Errorf(hotline.EINVALID, "选项要 2 到 12 个，中英文一一对应（每行一个）。", "Give 2 to 12 options, one per line, the same number in Chinese and in English.")
	}
	for i := range zh {
		if utf8.RuneCountInString(zh[i]) > 100 || utf8.RuneCountInString(en[i]) > 200 {
			return Question{}, hotline.Errorf(hotline.EINVALID, "选项太长了。", "An option is too long.")
		}
		q.Options = append(q.Options, Option{Key: strconv.Itoa(i), Label: hotline.Label{ZH: zh[i], EN: en[i]}})
	}
	return q, nil
}

func clean(lines []string) []string {
	var out []string
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// MaxCodes bounds one print run: a class.
const MaxCodes = 80

// MaxClassCodes bounds the codes of one class in one wave, reprints of
// lost slips included: each code is a response someone can fill in, so
// codes are not unlimited, and every print run is in the audit trail
// (who, which class, how many).
const MaxClassCodes = 120

// Class names a class of a grade: 年级 "初一", 班级 "3".
type Class struct{ Grade, Class string }

// Name shows the class: 初一(3).
func (c Class) Name() string { return ClassName(c.Grade, c.Class) }

// ParseClass checks a grade and class as an admin typed them.
func ParseClass(grade, class string) (Class, error) {
	grade, class = strings.TrimSpace(grade), strings.TrimSpace(class)
	if grade == "" || class == "" || utf8.RuneCountInString(grade) > 20 || utf8.RuneCountInString(class) > 20 || !utf8.ValidString(grade+class) {
		return Class{}, hotline.Errorf(hotline.EINVALID, "请填写年级和班级（如 初一、3）。", "Please give the grade and the class (e.g. 初一, 3).")
	}
	return Class{grade, class}, nil
}

// PrintCodes makes n new one-time codes for a class of a wave and returns
// them: this is the only time they exist in the clear. The store keeps
// their HMACs.
func (s *Service) PrintCodes(ctx context.Context, by Caller, uid string, wave int, c Class, n int) ([]string, error) {
	if n < 1 || n > MaxCodes {
		return nil, hotline.Errorf(hotline.EINVALID, fmt.Sprintf("一次打印 1 到 %d 个问卷码。", MaxCodes), fmt.Sprintf("Print 1 to %d codes at a time.", MaxCodes))
	}
	r, waves, err := s.DB.Survey(ctx, uid)
	if err != nil {
		return nil, err
	}
	if !mayRead(by, r) || by.Role == hotline.RoleDistrict {
		// Codes are handed out in the school: the school prints them.
		return nil, hotline.ErrForbidden
	}
	sv, err := fromRow(r, waves)
	if err != nil {
		return nil, err
	}
	w := sv.Wave(wave)
	if w == nil {
		return nil, hotline.ErrNotFound
	}
	if w.State(s.Now()) == Closed {
		return nil, errClosed(w)
	}
	codes := make([]string, n)
	macs := make([][]byte, n)
	for i := range codes {
		if codes[i], err = vault.NewSurveyCode(); err != nil {
			return nil, err
		}
		macs[i] = s.Vault.SurveyCodeMAC(codes[i])
	}
	err = s.DB.Update(ctx, func(tx *store.Tx) error {
		had, err := tx.CountSurveyCodes(w.ID, c.Grade, c.Class)
		if err != nil {
			return err
		}
		if had+n > MaxClassCodes {
			return hotline.Errorf(hotline.ECONFLICT,
				fmt.Sprintf("%s 这一轮已经有 %d 个问卷码，每班最多 %d 个（含补打）。", c.Name(), had, MaxClassCodes),
				fmt.Sprintf("%s already has %d codes in this wave; a class has at most %d (reprints included).", c.Name(), had, MaxClassCodes))
		}
		for _, m := range macs {
			if err := tx.InsertSurveyCode(w.ID, c.Grade, c.Class, m); err != nil {
				return err
			}
		}
		return tx.AppendAudit(&hotline.AuditEntry{Kind: hotline.AuditSurveyCodes, SchoolID: sv.SchoolID, District: sv.District, CounselorID: by.ID,
			Detail: fmt.Sprintf("%s · %s · %s · %d", sv.Title.ZH, w.Name.ZH, c.Name(), n)})
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// Take is a pupil's open questionnaire: what a valid code opened.
type Take struct {
	Code     string // canonical; kept only in the pupil's page or chat
	codeID   int64
	owner    []byte // the MAC naming this browser or chat for this code; nil for none
	Survey   *Survey
	Wave     *Wave
	Class    Class
	School   *hotline.School
	Answers  Answers // this browser's (or chat's) saved draft
	Finished bool    // this browser (or chat) submitted the code
}

// draftRow binds a draft to the code row it is stored in.
func draftRow(codeID int64) string { return "survey-draft|" + strconv.FormatInt(codeID, 10) }

// codeSecret is the page secret a draft is sealed to: the code itself.
func codeSecret(code string) string { return "survey-code|" + code }

// sessionOf is the MAC that names a browser (by the random token of its
// cookie) or a chat for one code: bound to the code, so nothing stored
// links two codes answered in one browser.
func (s *Service) sessionOf(code string, session []byte) []byte {
	if len(session) == 0 {
		return nil
	}
	return s.Vault.MAC("survey code session", append([]byte(code+"|"), session...))
}

// Open opens the questionnaire of a typed or scanned code for a browser or
// chat (session: its random token; nil for none). What it says depends
// only on the code and the wave, never on whether someone else used the
// code or saved a draft with it: a teacher holding the slips cannot tell
// who has answered. Only the browser or chat that submitted the code is
// told so (ErrCodeUsed), and only the one that saved a draft gets it back.
// A wave not yet open or closed says when.
func (s *Service) Open(ctx context.Context, typed string, session []byte) (*Take, error) {
	code, err := vault.ParseSurveyCode(typed)
	if err != nil {
		return nil, ErrCodeTypo
	}
	row, err := s.DB.SurveyCode(ctx, s.Vault.SurveyCodeMAC(code))
	if err != nil {
		if hotline.ErrorCode(err) == hotline.ENOTFOUND {
			return nil, ErrCodeUnknown
		}
		return nil, err
	}
	sv, school, err := s.openWave(ctx, row.WaveID)
	if err != nil {
		return nil, err
	}
	t := &Take{Code: code, codeID: row.ID, owner: s.sessionOf(code, session), Survey: sv, School: school, Class: Class{row.Grade, row.Class}, Answers: Answers{}}
	for _, w := range sv.Waves {
		if w.ID == row.WaveID {
			t.Wave = w
		}
	}
	switch t.Wave.State(s.Now()) {
	case NotOpen:
		return t, errNotOpen(t.Wave)
	case Closed:
		return t, errClosed(t.Wave)
	}
	if row.Used && owns(row.UsedMAC, t.owner) {
		t.Finished = true
		return t, ErrCodeUsed
	}
	if len(row.Draft) > 0 && owns(row.DraftMAC, t.owner) {
		pt, err := s.Vault.OpenForPage(codeSecret(code), draftRow(row.ID), row.Draft)
		if err != nil {
			return nil, fmt.Errorf("open survey draft: %w", err)
		}
		if err := json.Unmarshal(pt, &t.Answers); err != nil {
			return nil, fmt.Errorf("survey draft: %w", err)
		}
		clear(pt)
	}
	return t, nil
}

// owns reports whether the stored MAC names this browser or chat.
func owns(stored, owner []byte) bool {
	return len(owner) > 0 && subtle.ConstantTimeCompare(stored, owner) == 1
}

// Save stores the pupil's answers so far (sealed to their code) as this
// browser's or chat's draft, so that it can come back with the same code.
// Another browser's earlier draft is replaced: the code is the slip's, the
// draft is the device's. A code this browser submitted answers ErrCodeUsed;
// one submitted elsewhere saves like any other, so that saving tells
// nothing either.
func (s *Service) Save(ctx context.Context, t *Take, a Answers) error {
	a, err := t.Survey.Validate(a)
	if err != nil {
		return err
	}
	pt, err := json.Marshal(a)
	if err != nil {
		return err
	}
	sealed, err := s.Vault.SealForPage(codeSecret(t.Code), draftRow(t.codeID), pt)
	clear(pt)
	if err != nil {
		return err
	}
	err = s.DB.Update(ctx, func(tx *store.Tx) error {
		if t.Wave.State(tx.Now()) == Closed {
			return errClosed(t.Wave)
		}
		row, err := tx.SurveyCodeByID(t.codeID)
		if err != nil {
			return err
		}
		if row.Used && owns(row.UsedMAC, t.owner) {
			return ErrCodeUsed
		}
		return tx.SaveSurveyDraft(t.codeID, sealed, t.owner)
	})
	if err != nil {
		return err
	}
	t.Answers = a
	return nil
}

// Submit stores the pupil's answers as one response of their class and
// wave, uses up the code and drops its draft, all in one transaction. A
// second submission from the browser or chat that submitted (a double
// post of the last page) stores nothing and returns ErrCodeUsed. A code
// used by someone else stores nothing either, but answers as the first
// submission does, and from then on this browser is told it submitted:
// holding a slip tells nobody whether its pupil answered. The response
// carries no code and no time finer than the day; free text is sealed to
// the school.
func (s *Service) Submit(ctx context.Context, t *Take, a Answers) error {
	a, err := t.Survey.Validate(a)
	if err != nil {
		return err
	}
	resp := &store.SurveyResponseRow{UID: vault.NewID(), WaveID: t.Wave.ID, Grade: t.Class.Grade, Class: t.Class.Class, Day: store.Micros(Day(s.Now()))}
	choices, texts := Answers{}, map[string]string{}
	for id, v := range a {
		if q := t.Survey.Question(id); q != nil && q.Kind == Text {
			texts[id] = v[0]
		} else {
			choices[id] = v
		}
	}
	b, err := json.Marshal(choices)
	if err != nil {
		return err
	}
	resp.Answers = string(b)
	if len(texts) > 0 {
		pt, err := json.Marshal(texts)
		if err != nil {
			return err
		}
		resp.TextSealed, err = vault.Seal(t.School.PublicKey, textInfo(t.School.ID, resp.UID, t.Survey.UID), pt)
		clear(pt)
		if err != nil {
			return err
		}
	}
	err = s.DB.Update(ctx, func(tx *store.Tx) error {
		if t.Wave.State(tx.Now()) == Closed {
			return errClosed(t.Wave)
		}
		row, err := tx.SurveyCodeByID(t.codeID)
		if err != nil {
			return err
		}
		if row.Used && owns(row.UsedMAC, t.owner) {
			return ErrCodeUsed
		}
		fresh, err := tx.UseSurveyCode(t.codeID, t.owner)
		if err != nil || !fresh {
			return err // used elsewhere: nothing stored, nothing said
		}
		return tx.InsertSurveyResponse(resp)
	})
	if err != nil {
		return err
	}
	t.Finished = true
	return nil
}

// textInfo binds a response's sealed text to its school, response and survey.
func textInfo(school int64, responseUID, surveyUID string) vault.Info {
	return vault.Info{Version: vault.InfoV2, School: school, Tip: "survey-response." + responseUID, Msg: surveyUID, Part: "survey-text", Author: "pupil"}
}

// Day is the start (00:00 China time) of t's day: the only time a
// response keeps.
func Day(t time.Time) time.Time {
	y, m, d := t.In(Zone).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, Zone).UTC()
}

// IsCodeError reports whether err is one of the code's own answers (typo,
// unknown, used, not open, closed) rather than a failure.
func IsCodeError(err error) bool {
	var e *hotline.Error
	return errors.As(err, &e)
}

// WaveResult is one wave's results.
type WaveResult struct {
	Wave *Wave
	// Published: the wave has closed everywhere it runs (every school of a
	// district's survey) and PublishAfter has passed. Until then there is
	// no Root and no Texts: nothing that changes as pupils answer.
	Published bool
	Root      *Unit
	Codes     int // codes printed
	// Texts are the free-text answers, opened with the school's key, in
	// random order, without class or date: only those of classes with at
	// least SmallCount respondents, and only when there are at least
	// SmallCount of them; TextsHeld counts those kept back.
	Texts     []string
	TextsHeld int
}

// Results are a survey's results for the caller: a school's for its staff,
// a district's (every copy of the series) for an officer.
type Results struct {
	Survey     *Survey
	Level      string // "school" or "district"
	Indicators []Indicator
	Waves      []*WaveResult
	Schools    map[int64]string
}

// Results tallies a survey. key opens the school's free text (nil: none).
//
// The figures are suppressed once over the whole district's tree (the
// district, its schools, their grades and classes) and every view shows
// part of that one pattern: the district sees all of it, a school its own
// branch. So a school's report laid beside the district's shows nothing
// that either alone hides.
func (s *Service) Results(ctx context.Context, by Caller, uid string, key *vault.PrivateKey) (*Results, error) {
	sv, err := s.Get(ctx, by, uid)
	if err != nil {
		return nil, err
	}
	res := &Results{Survey: sv, Level: "school", Schools: map[int64]string{}}
	if by.Role == hotline.RoleDistrict {
		res.Level = "district"
		key = nil // the free text is the school's alone
	}
	copies := []*Survey{sv}
	if sv.ByDistrict {
		rows, err := s.DB.SurveysOfSeries(ctx, sv.Series)
		if err != nil {
			return nil, err
		}
		var same []*store.SurveyRow
		for _, r := range rows {
			if r.District == sv.District {
				same = append(same, r)
			}
		}
		if copies, err = s.load(ctx, same); err != nil {
			return nil, err
		}
	}
	res.Indicators = sharedIndicators(sv, copies)
	for _, c := range copies {
		sc, err := s.DB.SchoolByID(ctx, c.SchoolID)
		if err != nil {
			return nil, err
		}
		res.Schools[sc.ID] = sc.Name
	}
	now := s.Now()
	for _, w := range sv.Waves {
		wr := &WaveResult{Wave: w, Published: true}
		var waveIDs []int64
		var own int64
		school := map[int64]int64{}
		for _, c := range copies {
			cw := c.Wave(w.N)
			if cw == nil {
				continue
			}
			waveIDs = append(waveIDs, cw.ID)
			school[cw.ID] = c.SchoolID
			if c.ID == sv.ID {
				own = cw.ID
			}
			if !cw.Published(now) {
				wr.Published = false
			}
		}
		counts, err := s.DB.ClassCounts(ctx, waveIDs)
		if err != nil {
			return nil, err
		}
		var classes []Respondent
		for _, c := range counts {
			if res.Level == "district" || c.WaveID == own {
				wr.Codes += c.Codes
			}
			classes = append(classes, Respondent{SchoolID: school[c.WaveID], Grade: c.Grade, Class: c.Class})
		}
		res.Waves = append(res.Waves, wr)
		if !wr.Published {
			continue
		}
		rows, err := s.DB.SurveyResponses(ctx, waveIDs, false)
		if err != nil {
			return nil, err
		}
		rs := make([]Respondent, 0, len(rows))
		for _, r := range rows {
			a, err := ParseAnswers(r.Answers)
			if err != nil {
				return nil, fmt.Errorf("survey response: %w", err)
			}
			rs = append(rs, Respondent{SchoolID: school[r.WaveID], Grade: r.Grade, Class: r.Class, Answers: a})
		}
		root := Tally("district", sv.District, res.Indicators, rs, res.Schools, classes)
		wr.Root = root
		if res.Level == "school" {
			wr.Root = &Unit{Level: "school", Name: res.Schools[sv.SchoolID], SchoolID: sv.SchoolID, N: &Cell{}, Cells: map[string]*Cell{}}
			for _, u := range root.Children {
				if u.SchoolID == sv.SchoolID {
					wr.Root = u
				}
			}
		}
		if key != nil && own != 0 {
			if err := s.texts(ctx, wr, sv, own, key); err != nil {
				return nil, err
			}
		}
	}
	return res, nil
}

// texts opens the school's free-text answers of a published wave: those of
// classes with at least SmallCount respondents, shuffled, and only when
// there are at least SmallCount of them.
func (s *Service) texts(ctx context.Context, wr *WaveResult, sv *Survey, waveID int64, key *vault.PrivateKey) error {
	rows, err := s.DB.SurveyResponses(ctx, []int64{waveID}, true)
	if err != nil {
		return err
	}
	perClass := map[Class]int{}
	for _, r := range rows {
		perClass[Class{r.Grade, r.Class}]++
	}
	var texts []string
	for _, r := range rows {
		if len(r.TextSealed) == 0 {
			continue
		}
		if perClass[Class{r.Grade, r.Class}] < SmallCount {
			wr.TextsHeld++
			continue
		}
		pt, err := vault.Open(key, textInfo(sv.SchoolID, r.UID, sv.UID), r.TextSealed)
		if err != nil {
			return fmt.Errorf("open survey text: %w", err)
		}
		var m map[string]string
		if json.Unmarshal(pt, &m) == nil {
			for _, q := range sv.Questions {
				if t := m[q.ID]; t != "" {
					texts = append(texts, t)
				}
			}
		}
		clear(pt)
	}
	if len(texts) < SmallCount {
		wr.TextsHeld += len(texts)
		return nil
	}
	rand.Shuffle(len(texts), func(i, j int) { texts[i], texts[j] = texts[j], texts[i] })
	wr.Texts = texts
	return nil
}

// sharedIndicators are sv's indicators that every copy of its series has
// alike: the district's results add up only over questions every school
// asked. (A school cannot edit its copy; one edited before that rule
// keeps its own questions out of the results.)
func sharedIndicators(sv *Survey, copies []*Survey) []Indicator {
	inds := Indicators(sv)
	if len(copies) < 2 {
		return inds
	}
	count := map[string]int{}
	for _, c := range copies {
		for _, ind := range Indicators(c) {
			count[ind.Key+"\x00"+ind.Label.ZH+"\x00"+ind.Label.EN]++
		}
	}
	var out []Indicator
	for _, ind := range inds {
		if count[ind.Key+"\x00"+ind.Label.ZH+"\x00"+ind.Label.EN] == len(copies) {
			out = append(out, ind)
		}
	}
	return out
}
