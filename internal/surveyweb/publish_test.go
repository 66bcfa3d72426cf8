package surveyweb_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/staff"
	"hotline/internal/store"
	"hotline/internal/survey"
)

// districtSurvey makes a district of two schools and a district survey
// whose baseline is open now; it returns the officer's and the schools'
// session names with their copies.
func (e *env) districtSurvey(t *testing.T, name string) (officer string, schools map[string]*survey.Survey, admins map[string]*staff.CreatedSchool) {
	t.Helper()
	ctx := context.Background()
	cd, err := e.st.CreateDistrict(ctx, name, "officer-"+name)
	if err != nil {
		t.Fatal(err)
	}
	officer = "officer-" + name
	o := e.as(officer, cd.Officer.Username, cd.OfficerPassword)
	schools, admins = map[string]*survey.Survey{}, map[string]*staff.CreatedSchool{}
	for i := range 2 {
		cs, err := e.st.CreateSchool(ctx, staff.NewSchool{Code: fmt.Sprintf("s%x-%d", len(e.auth.sessions), i), Name: fmt.Sprintf("%s第%d中学", name, i+1), District: name})
		if err != nil {
			t.Fatal(err)
		}
		sess := fmt.Sprintf("admin-%s-%d", name, i)
		e.as(sess, cs.Admin.Username, cs.AdminPassword)
		admins[sess] = cs
	}
	now := e.clock.Now()
	if _, err := e.svc.Create(ctx, o.Counselor, survey.NewSurvey{BaselineOpens: now.Add(-time.Hour), BaselineCloses: now.Add(24 * time.Hour),
		FollowUpOpens: now.Add(48 * time.Hour), FollowUpCloses: now.Add(72 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for sess, cs := range admins {
		l, err := e.svc.List(ctx, cs.Admin)
		if err != nil || len(l) != 1 {
			t.Fatal(l, err)
		}
		schools[sess] = l[0]
	}
	return officer, schools, admins
}

// answer has n pupils of a class answer through the service; texts of
// them write a free text.
func (e *env) answer(t *testing.T, cs *staff.CreatedSchool, sv *survey.Survey, class survey.Class, n, texts int) {
	t.Helper()
	ctx := context.Background()
	codes, err := e.svc.PrintCodes(ctx, cs.Admin, sv.UID, 1, class, n)
	if err != nil {
		t.Fatal(err)
	}
	for i, code := range codes {
		tk, err := e.svc.Open(ctx, code, []byte(code))
		if err != nil {
			t.Fatal(err)
		}
		a := survey.Answers{survey.QVictim: {"3"}, survey.QSafe: {"1"}}
		if i < texts {
			a[survey.QText] = []string{fmt.Sprintf("留言-%s-%d", class.Name(), i)}
		}
		if err := e.svc.Submit(ctx, tk, a); err != nil {
			t.Fatal(err)
		}
	}
}

// Results of a wave that is still open — or closed less than PublishAfter
// ago — show no figure and no comment anywhere: not on a school's page,
// not in its CSV, not in the district's view. Then they all do.
func TestOpenWaveResultsAreNotShown(t *testing.T) {
	e := newEnv(t)
	officer, schools, admins := e.districtSurvey(t, "开放区")
	for sess, sv := range schools {
		e.answer(t, admins[sess], sv, survey.Class{Grade: "初一", Class: "1"}, 12, 6)
		e.answer(t, admins[sess], sv, survey.Class{Grade: "初一", Class: "2"}, 7, 0)
	}
	wave := func() *survey.Wave {
		for _, sv := range schools {
			return sv.Wave(1)
		}
		return nil
	}()
	figure := regexp.MustCompile(`\d+ / \d+ \(\d+%\)`)
	check := func(when string, published bool) {
		t.Helper()
		views := map[string]string{officer: "/district/surveys/"}
		for sess, sv := range schools {
			views[sess] = "/inbox/surveys/" + sv.UID
		}
		for sess, base := range views {
			if sess == officer {
				for _, sv := range schools {
					base += sv.UID
					break
				}
			}
			st, page := e.get(sess, base+"/results?wave=1")
			_, csvBody := e.get(sess, base+"/results.csv")
			shown := figure.MatchString(page) || strings.Contains(page, `<table id="main">`) || strings.Contains(page, "留言-")
			inCSV := figure.MatchString(csvBody) || strings.Contains(csvBody, "初一(1)")
			switch {
			case st != http.StatusOK:
				t.Fatalf("%s, %s: results page %d", when, sess, st)
			case !published && (shown || inCSV):
				t.Fatalf("%s, %s: figures of an unpublished wave (page %v, CSV %v)", when, sess, shown, inCSV)
			case !published && !strings.Contains(page, `id="not-published"`):
				t.Fatalf("%s, %s: the page does not say when results come", when, sess)
			case published && (!shown || !inCSV):
				t.Fatalf("%s, %s: a published wave shows no figures (page %v, CSV %v)", when, sess, shown, inCSV)
			}
			if published && sess != officer && !strings.Contains(page, "留言-") {
				t.Fatalf("%s, %s: the school's comments are not shown once published", when, sess)
			}
			if sess == officer && strings.Contains(page, "留言-") {
				t.Fatal("the district reads a school's comments")
			}
		}
	}
	check("open", false)
	e.clock.Set(wave.Closes)
	check("at the close", false)
	e.clock.Set(wave.PublishedAt().Add(-time.Second))
	check("a second before publication", false)
	e.clock.Set(wave.PublishedAt())
	check("published", true)
}

// Free texts of a published wave are shown only from classes of at least
// five respondents, shuffled, and only when at least five can be shown.
func TestFreeTextsOnlyFromClassesOfFive(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, schools, admins := e.districtSurvey(t, "留言区")
	var sess string
	for s := range schools {
		sess = s
		break
	}
	sv, cs := schools[sess], admins[sess]
	e.answer(t, cs, sv, survey.Class{Grade: "初一", Class: "1"}, 6, 3)
	e.answer(t, cs, sv, survey.Class{Grade: "初一", Class: "2"}, 3, 2) // a class of three
	e.clock.Set(sv.Wave(1).PublishedAt())
	res, err := e.svc.Results(ctx, cs.Admin, sv.UID, e.auth.sessions[sess].Key)
	if err != nil {
		t.Fatal(err)
	}
	if w := res.Waves[0]; len(w.Texts) != 0 || w.TextsHeld != 5 {
		t.Fatalf("3 texts of a class of 6 and 2 of a class of 3: shown %q, held %d; want none shown, 5 held", w.Texts, w.TextsHeld)
	}
	_, page := e.get(sess, "/inbox/surveys/"+sv.UID+"/results?wave=1")
	if strings.Contains(page, "留言-") || !strings.Contains(page, `id="texts-held"`) {
		t.Fatal("the page shows held comments, or does not say some are held")
	}
	// Two more texts from a third class of five: five can be shown now.
	e.clock.Set(sv.Wave(1).Opens.Add(time.Minute))
	e.answer(t, cs, sv, survey.Class{Grade: "初一", Class: "3"}, 5, 2)
	e.clock.Set(sv.Wave(1).PublishedAt())
	res, err = e.svc.Results(ctx, cs.Admin, sv.UID, e.auth.sessions[sess].Key)
	if err != nil {
		t.Fatal(err)
	}
	w := res.Waves[0]
	if len(w.Texts) != 5 || w.TextsHeld != 2 {
		t.Fatalf("texts shown %q, held %d; want 5 shown (初一(1), 初一(3)), 2 held", w.Texts, w.TextsHeld)
	}
	for _, txt := range w.Texts {
		if strings.Contains(txt, "初一(2)") {
			t.Fatalf("a text of the class of three is shown: %q", txt)
		}
	}
}

// pupil is a browser on the pupils' pages, with its own cookies.
type pupil struct {
	t    *testing.T
	base string
	c    *http.Client
}

func (e *env) pupil(t *testing.T) *pupil {
	jar, _ := cookiejar.New(nil)
	return &pupil{t: t, base: e.pupils.URL, c: &http.Client{Jar: jar}}
}

func (p *pupil) do(method, path string, form url.Values) (int, string) {
	p.t.Helper()
	var res *http.Response
	var err error
	if method == "GET" {
		res, err = p.c.Get(p.base + path)
	} else {
		res, err = p.c.PostForm(p.base+path, form)
	}
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// walk answers a whole questionnaire page by page; submit at the end or
// save and stop. It returns each step's status and body.
func (p *pupil) walk(code string, pages int, submit bool) []string {
	var out []string
	step := func(st int, body string) { out = append(out, fmt.Sprint(st), body) }
	step(p.do("GET", "/q/"+code, nil))
	step(p.do("POST", "/q/page", url.Values{"code": {code}, "intro": {"1"}, "go": {"start"}}))
	for page := range pages {
		v := url.Values{"code": {code}, "page": {fmt.Sprint(page)}, "a." + survey.QVictim: {"2"}, "a." + survey.QSafe: {"3"}}
		switch {
		case page < pages-1:
			v.Set("go", "next")
		case submit:
			v.Set("go", "submit")
		default:
			v.Set("go", "save")
		}
		step(p.do("POST", "/q/page", v))
	}
	return out
}

// A used code's page says the same as an unused one's to anyone but the
// browser that used it: a teacher holding the slips opens, answers, saves,
// comes back to and submits a used and an unused code and sees, step by
// step, the same status and the same page (the code itself aside). Only
// the pupil's own browser hears that its code was used.
func TestUsedCodeLooksUnusedToOthers(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, schools, admins := e.districtSurvey(t, "问卷码区")
	var sv *survey.Survey
	var cs *staff.CreatedSchool
	for s := range schools {
		sv, cs = schools[s], admins[s]
		break
	}
	codes, err := e.svc.PrintCodes(ctx, cs.Admin, sv.UID, 1, survey.Class{Grade: "初二", Class: "5"}, 3)
	if err != nil {
		t.Fatal(err)
	}
	used, unused, drafted := codes[0], codes[1], codes[2]
	pages := len(sv.Sections())
	pupilA := e.pupil(t)
	pupilA.walk(used, pages, true)
	pupilC := e.pupil(t)
	pupilC.walk(drafted, pages, false) // a draft saved on the pupil's phone
	if st, body := pupilA.do("GET", "/q/"+used, nil); st != http.StatusOK || !strings.Contains(body, "已经提交过了") {
		t.Fatalf("the pupil's own browser on its used code: %d %q", st, excerpt(body))
	}
	if _, body := pupilC.do("GET", "/q/"+drafted, nil); !strings.Contains(body, "继续") {
		t.Fatalf("the pupil's own browser does not get its draft back: %q", excerpt(body))
	}

	teacher := e.pupil(t)
	norm := func(code, body string) string { return strings.ReplaceAll(body, code, "CODE") }
	same := func(step string, a, b []string, ca, cb string) {
		t.Helper()
		for i := 0; i < len(a); i += 2 {
			if a[i] != b[i] || norm(ca, a[i+1]) != norm(cb, b[i+1]) {
				t.Fatalf("%s, step %d: %s %q against %s %q", step, i/2, a[i], excerpt(norm(ca, a[i+1])), b[i], excerpt(norm(cb, b[i+1])))
			}
		}
	}
	codesOf := []string{used, unused, drafted}
	look := func() []string {
		var out []string
		for _, c := range codesOf {
			st, body := teacher.do("GET", "/q/"+c, nil)
			out = append(out, fmt.Sprint(st), body)
		}
		return out
	}
	first := look()
	for i := 1; i < 3; i++ {
		same("first look", first[0:2], first[2*i:2*i+2], used, codesOf[i])
	}
	if strings.Contains(first[1], "已经提交过了") || strings.Contains(first[5], "继续") {
		t.Fatal("the teacher's browser is told the code was used, or sees the pupil's draft")
	}
	// Answer, save and come back; then submit.
	walks := map[string][]string{}
	for _, c := range codesOf {
		walks[c] = teacher.walk(c, pages, false)
	}
	same("save", walks[used], walks[unused], used, unused)
	same("save", walks[used], walks[drafted], used, drafted)
	back := look()
	same("back", back[0:2], back[2:4], used, unused)
	for _, c := range codesOf {
		walks[c] = teacher.walk(c, pages, true)
	}
	same("submit", walks[used], walks[unused], used, unused)
	same("submit", walks[used], walks[drafted], used, drafted)
	after := look()
	same("after", after[0:2], after[2:4], used, unused)
	if !strings.Contains(after[1], "已经提交过了") {
		t.Fatalf("the teacher's browser after its own submission: %q", excerpt(after[1]))
	}
	// What was stored: the pupil's answer, and the teacher's two
	// submissions of codes nobody had used; nothing for the used code.
	var n int
	if err := e.db.Reader().Get(&n, `SELECT COUNT(*) FROM survey_responses`); err != nil || n != 3 {
		t.Fatalf("%d responses stored, want 3", n)
	}
	// The pupil's browser no longer hears it submitted (the teacher's did,
	// last): a price paid so that the teacher learns nothing.
	if _, body := pupilA.do("GET", "/q/"+used, nil); strings.Contains(body, "已经提交过了") {
		t.Log("the pupil's browser still hears it submitted")
	}
}

func excerpt(s string) string {
	if i := strings.Index(s, "<main"); i >= 0 {
		s = s[i:]
	}
	if len(s) > 400 {
		s = s[:400]
	}
	return s
}

// A district's survey is edited by the district only: a school that moved
// its own copy's closing time would publish on another day than the rest
// and break the one pattern of the district's results.
func TestSchoolCannotEditTheDistrictsSurvey(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	officer, schools, admins := e.districtSurvey(t, "编辑区")
	for sess, sv := range schools {
		w := sv.Wave(1)
		err := e.svc.Apply(ctx, admins[sess].Admin, sv.UID, survey.Edit{Op: "wave", Wave: 1, Opens: w.Opens, Closes: w.Closes.Add(time.Hour)})
		if err != survey.ErrDistrictSurvey {
			t.Fatalf("a school moving its copy's closing time: %v, want refused", err)
		}
		if _, page := e.get(sess, "/inbox/surveys/"+sv.UID); !strings.Contains(page, `id="district-survey"`) || strings.Contains(page, `name="op" value="wave"`) {
			t.Fatal("the school's page offers to edit the district's survey, or does not say whose it is")
		}
		if err := e.svc.Apply(ctx, e.auth.sessions[officer].Counselor, sv.UID, survey.Edit{Op: "wave", Wave: 1, Opens: w.Opens, Closes: w.Closes.Add(time.Hour)}); err != nil {
			t.Fatalf("the district moving the closing time: %v", err)
		}
		break
	}
}

// The district reads its own surveys (the copies of a district series),
// never a school's own questionnaire: not in its list, not by address.
func TestDistrictReadsOnlyItsOwnSurveys(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	officer, schools, admins := e.districtSurvey(t, "自办区")
	var sess string
	for s := range schools {
		sess = s
		break
	}
	now := e.clock.Now()
	own, err := e.svc.Create(ctx, admins[sess].Admin, survey.NewSurvey{BaselineOpens: now.Add(-time.Hour), BaselineCloses: now.Add(time.Hour),
		FollowUpOpens: now.Add(2 * time.Hour), FollowUpCloses: now.Add(3 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	o := e.auth.sessions[officer].Counselor
	list, err := e.svc.List(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, sv := range list {
		if sv.UID == own[0].UID || !sv.ByDistrict {
			t.Fatalf("the district's list holds a school's own survey %q", sv.Title.ZH)
		}
	}
	if len(list) != 2 { // its series: one copy per school
		t.Fatalf("the district's list: %d surveys, want its 2 copies", len(list))
	}
	e.clock.Set(own[0].Wave(1).PublishedAt())
	for _, path := range []string{"", "/results", "/results.csv"} {
		if st, _ := e.get(officer, "/district/surveys/"+own[0].UID+path); st != http.StatusNotFound {
			t.Fatalf("the district opens a school's own survey at %q: %d, want 404", path, st)
		}
	}
	if st, _ := e.get(sess, "/inbox/surveys/"+own[0].UID+"/results"); st != http.StatusOK {
		t.Fatalf("the school reads its own survey's results: %d", st)
	}
}

// Codes are not unlimited: a class has at most MaxClassCodes in a wave,
// reprints included, and every print run is in the school's audit trail —
// who, which survey, wave and class, how many, never a code.
func TestCodesCountedAndAudited(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, schools, admins := e.districtSurvey(t, "印码区")
	var sess string
	for s := range schools {
		sess = s
		break
	}
	sv, cs := schools[sess], admins[sess]
	class := survey.Class{Grade: "初三", Class: "2"}
	var printed []string
	for _, n := range []int{survey.MaxCodes, survey.MaxClassCodes - survey.MaxCodes} {
		codes, err := e.svc.PrintCodes(ctx, cs.Admin, sv.UID, 1, class, n)
		if err != nil {
			t.Fatal(err)
		}
		printed = append(printed, codes...)
	}
	if _, err := e.svc.PrintCodes(ctx, cs.Admin, sv.UID, 1, class, 1); err == nil || !strings.Contains(hotlineMessage(err), "120") {
		t.Fatalf("one code past the class's %d: %v, want refused", survey.MaxClassCodes, err)
	}
	if _, err := e.svc.PrintCodes(ctx, cs.Admin, sv.UID, 1, survey.Class{Grade: "初三", Class: "3"}, 5); err != nil {
		t.Fatalf("another class: %v", err)
	}
	entries, err := e.db.Audit(ctx, store.AuditFilter{SchoolID: sv.SchoolID, Kind: hotline.AuditSurveyCodes, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		t.Fatalf("%d audit entries for 3 print runs", len(entries))
	}
	for _, en := range entries {
		if en.CounselorID != cs.Admin.ID || !strings.Contains(en.Detail, "初三(") {
			t.Fatalf("audit entry %+v", en)
		}
		for _, c := range printed {
			if strings.Contains(en.Detail, c) {
				t.Fatal("a code in the audit trail")
			}
		}
	}
	if !strings.HasSuffix(entries[1].Detail, "· 40") && !strings.HasSuffix(entries[2].Detail, "· 40") {
		t.Fatalf("audit details %q, %q: the count is missing", entries[1].Detail, entries[2].Detail)
	}
}

func hotlineMessage(err error) string { return hotline.ErrorMessage(err, hotline.LangZH) }
