package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/pgtest"
	"hotline/internal/sim/telegramsim"
	"hotline/internal/staff"
	"hotline/internal/survey"
	"hotline/internal/telegramtest"
	"hotline/internal/testsupport"
	"hotline/internal/vault"
)

// answerTelegram answers a questionnaire in a Telegram chat opened with the
// slip's deep link, one button (or message) a question, then asks to talk
// to someone: an ordinary report starts.
func answerTelegram(t testing.TB, f *surveyFixture, sv *survey.Survey, code string, answers survey.Answers) int64 {
	t.Helper()
	s := &student{t: t, ctx: context.Background(), u: f.tg.NewUser(telegramsim.UserOptions{LanguageCode: "zh-hans"})}
	s.u.SendCommand("/start " + survey.ChatPayload + strings.ReplaceAll(code, "-", ""))
	for step, q := range sv.Questions {
		st := fmt.Sprint(step)
		skip := "sv:s:" + st
		m, err := s.wait("question "+st, hasButton(skip))
		if err != nil {
			t.Fatal(err)
		}
		vals := answers[q.ID]
		switch {
		case q.Kind == survey.Text && len(vals) > 0:
			s.u.SendText(vals[0])
			continue
		case q.Kind == survey.Multiple:
			for _, v := range vals {
				if _, err := s.u.PressOn(m, "sv:o:"+st+":"+v); err != nil {
					t.Fatal(err)
				}
				if m, err = s.wait("ticked "+v, func(m telegramsim.SentMessage) bool {
					return hasButton(skip)(m) && strings.Contains(m.PlainText, q.Text.ZH)
				}); err != nil {
					t.Fatal(err)
				}
			}
		case len(vals) > 0:
			if _, err := s.u.PressOn(m, "sv:o:"+st+":"+vals[0]); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if _, err := s.u.PressOn(m, skip); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.tap("sv:submit"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.wait("thanks", containsText("问卷已经收到")); err != nil {
		t.Fatal(err)
	}
	if err := s.tap(survey.TalkData("no3")); err != nil {
		t.Fatal(err)
	}
	// The ordinary report's first question: who is reporting.
	if _, err := s.wait("report started", hasButton("role:victim")); err != nil {
		t.Fatal(err)
	}
	return s.u.ChatID()
}

// surveyFixture is Main on a fake clock with one school, its admin logged
// in over HTTP, and a district officer.
type surveyFixture struct {
	m      *Main
	clock  *ovCLIClock
	admin  *http.Client
	school *staff.CreatedSchool
	now    time.Time
	tg     *telegramsim.Server
}

const surveyAdminPassword = "survey-admin-2026"

func newSurveyFixture(t testing.TB) *surveyFixture {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 2, 20, 9, 0, 0, 0, survey.Zone).UTC()
	f := &surveyFixture{clock: testsupport.NewClock(now), now: now, tg: telegramtest.New(t, telegramsim.Config{})}
	f.m = MustOpenMain(t, withClock(f.clock), func(m *Main) {
		m.Config.TelegramToken = f.tg.Token()
		m.Config.TelegramAPIURL = f.tg.URL()
		fastTelegram(m)
	})
	d, err := f.m.Staff.CreateDistrict(ctx, "海淀区", "officer")
	if err != nil {
		t.Fatal(err)
	}
	sess, err := f.m.Staff.Authenticate(ctx, "officer", d.OfficerPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.m.Staff.ChangePassword(ctx, sess, districtPassword); err != nil {
		t.Fatal(err)
	}
	sess.Wipe()
	f.school, err = f.m.Staff.CreateSchool(ctx, staff.NewSchool{Code: "no3", Name: "第三中学", NameEN: "No. 3 Middle School", District: "海淀区", AdminUsername: "admin-no3"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := f.m.Staff.Authenticate(ctx, "admin-no3", f.school.AdminPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.m.Staff.ChangePassword(ctx, a, surveyAdminPassword); err != nil {
		t.Fatal(err)
	}
	a.Wipe()
	if err := f.m.Run(ctx); err != nil {
		t.Fatal(err)
	}
	f.admin = f.login(t, "admin-no3", surveyAdminPassword)
	return f
}

func (f *surveyFixture) login(t testing.TB, user, password string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	body := f.get(t, c, "/inbox/login", 200)
	csrf := between(body, `name="csrf" value="`, `"`)
	resp, err := c.PostForm(f.m.URL()+"/inbox/login", url.Values{"csrf": {csrf}, "username": {user}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return c
}

func (f *surveyFixture) get(t testing.TB, c *http.Client, path string, want int) string {
	t.Helper()
	resp, err := c.Get(f.m.URL() + path)
	if err != nil {
		t.Fatal(err)
	}
	body := readAllTB(t, resp)
	if resp.StatusCode != want {
		t.Fatalf("GET %s: status %d, want %d: %s", path, resp.StatusCode, want, snippet(body))
	}
	return body
}

// post sends a staff form with the CSRF token of the page at from.
func (f *surveyFixture) post(t testing.TB, c *http.Client, from, path string, v url.Values) string {
	t.Helper()
	page := f.get(t, c, from, 200)
	v.Set("csrf", between(page, `name="csrf" value="`, `"`))
	resp, err := c.PostForm(f.m.URL()+path, v)
	if err != nil {
		t.Fatal(err)
	}
	body := readAllTB(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("POST %s: status %d: %s", path, resp.StatusCode, snippet(body))
	}
	return body
}

func readAllTB(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}

func snippet(s string) string {
	if i := strings.Index(s, `role="alert">`); i >= 0 {
		s = s[i:]
	}
	if len(s) > 600 {
		s = s[:600]
	}
	return s
}

var codeRE = regexp.MustCompile(`<div class="code">([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})</div>`)

// printCodes makes n codes for a class of a wave through the staff page.
func (f *surveyFixture) printCodes(t testing.TB, uid string, wave int, grade, class string, n int) []string {
	t.Helper()
	body := f.post(t, f.admin, "/inbox/surveys/"+uid, "/inbox/surveys/"+uid+"/codes", url.Values{
		"wave": {fmt.Sprint(wave)}, "grade": {grade}, "class": {class}, "n": {fmt.Sprint(n)}, "format": {"html"}})
	var codes []string
	for _, m := range codeRE.FindAllStringSubmatch(body, -1) {
		codes = append(codes, m[1])
	}
	if len(codes) != n {
		t.Fatalf("sheet has %d codes, want %d", len(codes), n)
	}
	return codes
}

var nameRE = regexp.MustCompile(`name="a\.([a-z0-9_]+)"`)

// answerWeb answers a whole questionnaire with a code as a browser without
// JavaScript does: plain GETs and form posts, page by page. It returns the
// last page.
func answerWeb(t testing.TB, base, code string, answers survey.Answers, saveAt int) string {
	t.Helper()
	jar, _ := cookiejar.New(nil) // the pupil's own browser: its draft is its own
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := c.Get(base + "/q/" + code)
	if err != nil {
		t.Fatal(err)
	}
	body := readAllTB(t, resp)
	if !strings.Contains(body, `value="start"`) {
		t.Fatalf("code %s did not open: %s", code, snippet(body))
	}
	post := func(v url.Values) string {
		resp, err := c.PostForm(base+"/q/page", v)
		if err != nil {
			t.Fatal(err)
		}
		return readAllTB(t, resp)
	}
	body = post(url.Values{"code": {code}, "page": {"0"}, "intro": {"1"}, "go": {"start"}})
	for step := 0; step < 20; step++ {
		page := between(body, `name="page" value="`, `"`)
		v := url.Values{"code": {code}, "page": {page}}
		seen := map[string]bool{}
		for _, m := range nameRE.FindAllStringSubmatch(body, -1) {
			if id := m[1]; !seen[id] {
				seen[id] = true
				for _, a := range answers[id] {
					v.Add("a."+id, a)
				}
			}
		}
		if len(seen) == 0 {
			t.Fatalf("page without questions: %s", snippet(body))
		}
		if step == saveAt {
			v.Set("go", "save")
			if b := post(v); !strings.Contains(b, "已保存") {
				t.Fatalf("save: %s", snippet(b))
			}
			// Come back later with the same code: the draft is there.
			resp, err := c.Get(base + "/q/" + code)
			if err != nil {
				t.Fatal(err)
			}
			if b := readAllTB(t, resp); !strings.Contains(b, "继续答题") {
				t.Fatalf("reopened code shows no saved answers: %s", snippet(b))
			}
			body = post(url.Values{"code": {code}, "page": {page}, "intro": {"1"}, "go": {"start"}})
			saveAt = -1
			continue
		}
		if strings.Contains(body, `value="submit"`) {
			v.Set("go", "submit")
			return post(v)
		}
		v.Set("go", "next")
		body = post(v)
	}
	t.Fatal("questionnaire never reached its last page")
	return ""
}

// pupilAnswers is pupil i's answers: bullied pupils (i < bullied) are hit
// and called names in the toilets at lunch; two of them also lose money.
func pupilAnswers(i, bullied int) survey.Answers {
	a := survey.Answers{survey.QVictim: {"0"}, survey.QBully: {"0"}, survey.QSafe: {"3"}, survey.QTold: {"na"}, survey.QAdult: {"na"},
		survey.QPhysical: {"0"}, survey.QVerbal: {"0"}, survey.QExclusion: {"0"}, survey.QOnline: {"0"}, survey.QExtortion: {"0"}}
	if i < bullied {
		a[survey.QVictim] = []string{"3"}
		a[survey.QPhysical] = []string{"2"}
		a[survey.QVerbal] = []string{"4"}
		a[survey.QWhere] = []string{"toilet", "corridor"}
		a[survey.QWhen] = []string{"lunch"}
		a[survey.QTold] = []string{"teacher"}
		a[survey.QAdult] = []string{"stopped"}
		a[survey.QSafe] = []string{"1"}
		if i < 2 {
			a[survey.QExtortion] = []string{"3"}
		}
	}
	if i%10 == 9 {
		a[survey.QBully] = []string{"2"}
	}
	return a
}

// rowCells returns the cells of a results table's row for a unit.
func rowCells(body, table, unit string) []string {
	i := strings.Index(body, `<table id="`+table+`">`)
	if i < 0 {
		return nil
	}
	body = body[i:]
	body = body[:strings.Index(body, "</table>")]
	j := strings.Index(body, `<th scope="row">`+unit+`</th>`)
	if j < 0 {
		return nil
	}
	row := body[j:]
	row = row[:strings.Index(row, "</tr>")]
	var out []string
	for _, part := range strings.Split(row, "<td")[1:] {
		part = part[strings.Index(part, ">")+1:]
		out = append(out, strings.TrimSpace(part[:strings.Index(part, "</td>")]))
	}
	return out
}

func TestSurveyEndToEnd(t *testing.T) {
	f := newSurveyFixture(t)
	ctx := context.Background()
	base := f.m.URL()
	at := func(d time.Duration) string { return f.now.Add(d).In(survey.Zone).Format("2006-01-02T15:04") }

	// The admin makes a survey from the template: the baseline opens in a
	// day, the follow-up in three months.
	f.post(t, f.admin, "/inbox/surveys/", "/inbox/surveys/", url.Values{"title_zh": {"2026 春季校园欺凌匿名问卷"}, "title_en": {"Spring 2026 bullying survey"},
		"b_opens": {at(24 * time.Hour)}, "b_closes": {at(10 * 24 * time.Hour)}, "f_opens": {at(100 * 24 * time.Hour)}, "f_closes": {at(110 * 24 * time.Hour)}})
	list, err := f.m.Surveys.List(ctx, f.school.Admin)
	if err != nil || len(list) != 1 {
		t.Fatalf("surveys: %v, %v", list, err)
	}
	uid := list[0].UID
	if n := len(list[0].Questions); n != 20 {
		t.Fatalf("template has %d questions, want 20", n)
	}

	// Before it opens: add a question in both languages, move it up, add
	// and remove another.
	edit := func(v url.Values) { f.post(t, f.admin, "/inbox/surveys/"+uid, "/inbox/surveys/"+uid+"/edit", v) }
	edit(url.Values{"op": {"add"}, "kind": {"single"}, "text_zh": {"你住校吗？"}, "text_en": {"Do you board at school?"}, "options_zh": {"是\n否"}, "options_en": {"Yes\nNo"}})
	edit(url.Values{"op": {"up"}, "q": {"c1"}})
	edit(url.Values{"op": {"add"}, "kind": {"text"}, "text_zh": {"临时题"}, "text_en": {"Temporary"}})
	edit(url.Values{"op": {"remove"}, "q": {"c2"}})
	sv, err := f.m.Surveys.Get(ctx, f.school.Admin, uid)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(sv.Questions); n != 21 || sv.Questions[19].ID != "c1" || sv.Questions[20].ID != survey.QText {
		t.Fatalf("after edits: %d questions, #20 %s", n, sv.Questions[19].ID)
	}

	codes := f.printCodes(t, uid, 1, "初一", "3", 30)

	// Not open yet: the page says when it opens.
	resp, err := http.Get(base + "/q/" + codes[0])
	if err != nil {
		t.Fatal(err)
	}
	if body := readAllTB(t, resp); !strings.Contains(body, "问卷还没开始") || !strings.Contains(body, "2026年2月21日 09:00") {
		t.Fatalf("not-open page: %s", snippet(body))
	}
	f.clock.Set(f.now.Add(25 * time.Hour))
	f.admin = f.login(t, "admin-no3", surveyAdminPassword) // the session idled out meanwhile
	// Questions are locked once it is open.
	if err := f.m.Surveys.Apply(ctx, f.school.Admin, uid, survey.Edit{Op: "remove", QuestionID: "c1"}); err != survey.ErrNotEditable {
		t.Fatalf("edit after opening: %v", err)
	}

	// 30 pupils answer on the web, without JavaScript; 12 are bullied.
	const canary = "CANARY-三楼厕所-午饭-7731"
	for i, code := range codes {
		a := pupilAnswers(i, 12)
		if i == 5 {
			a[survey.QText] = []string{canary}
		}
		if i >= 6 && i < 9 { // comments are shown only when there are five
			a[survey.QText] = []string{fmt.Sprintf("第 %d 条留言", i)}
		}
		if i == 29 {
			a["c1"] = []string{"0"}
		}
		saveAt := -1
		if i == 3 {
			saveAt = 2 // saves half-way and comes back with the same code
		}
		last := answerWeb(t, base, code, a, saveAt)
		if !strings.Contains(last, "问卷已经收到") || !strings.Contains(last, "我想和老师聊聊") || !strings.Contains(last, `href="/c/no3"`) {
			t.Fatalf("pupil %d: %s", i, snippet(last))
		}
	}

	// A used code, opened by anyone but the pupil's browser, looks like an
	// unused one (internal/surveyweb tests this page by page); a post of
	// its last page stores nothing.
	resp, _ = http.Get(base + "/q/" + codes[7])
	if body := readAllTB(t, resp); strings.Contains(body, "已经提交过了") || !strings.Contains(body, `value="start"`) {
		t.Fatalf("used code to a stranger: %s", snippet(body))
	}
	resp, _ = http.PostForm(base+"/q/page", url.Values{"code": {codes[7]}, "page": {"5"}, "go": {"submit"}, "a.v_overall": {"4"}})
	if body := readAllTB(t, resp); !strings.Contains(body, "问卷已经收到") {
		t.Fatalf("a stranger's post of a used code's last page: %s", snippet(body))
	}
	typo := []byte(codes[1])
	typo[0] ^= 1 // another character: the check catches it
	if typo[0] == '-' || strings.IndexByte("ILOU", typo[0]) >= 0 {
		typo[0] = 'Z'
	}
	resp, _ = http.PostForm(base+"/q/", url.Values{"code": {string(typo)}})
	if body := readAllTB(t, resp); !strings.Contains(body, "输错了") && !strings.Contains(body, "没有这个问卷码") {
		t.Fatalf("typo: %s", snippet(body))
	}
	var n int
	if err := f.m.DB.Reader().Get(&n, `SELECT COUNT(*) FROM survey_responses`); err != nil || n != 30 {
		t.Fatalf("responses = %d, %v; want 30", n, err)
	}

	// Three more pupils of 初一(3) answer on Telegram; one of them is
	// bullied online and says so in free text.
	tgCodes := f.printCodes(t, uid, 1, "初一", "3", 3)
	var chats []int64
	for i, code := range tgCodes {
		a := pupilAnswers(20+i, 0)
		a["c1"] = []string{"1"}
		if i == 0 {
			a[survey.QOnline] = []string{"4"}
			a[survey.QWhere] = []string{"online", "dorm"}
			a[survey.QText] = []string{"TG-" + canary}
		}
		chats = append(chats, answerTelegram(t, f, sv, code, a))
	}
	codes = append(codes, tgCodes...)
	if err := f.m.DB.Reader().Get(&n, `SELECT COUNT(*) FROM survey_responses`); err != nil || n != 33 {
		t.Fatalf("responses = %d, %v; want 33", n, err)
	}
	if err := f.m.DB.Reader().Get(&n, `SELECT COUNT(*) FROM survey_chats`); err != nil || n != 0 {
		t.Fatalf("%d survey chats left after submission", n)
	}

	// Results: none while the wave is open; once it has closed, the
	// counts, with small cells hidden.
	if res := f.get(t, f.admin, "/inbox/surveys/"+uid+"/results?wave=1", 200); strings.Contains(res, `<table id="main">`) || strings.Contains(res, canary) {
		t.Fatal("results shown while the wave is open")
	}
	f.clock.Set(sv.Wave(1).PublishedAt())
	f.admin = f.login(t, "admin-no3", surveyAdminPassword)
	res := f.get(t, f.admin, "/inbox/surveys/"+uid+"/results?wave=1", 200)
	cells := rowCells(res, "main", "初一(3)")
	if len(cells) < 2 || cells[0] != "33" || cells[1] != "12 / 33 (36%)" {
		t.Fatalf("初一(3) main row = %q", cells)
	}
	forms := rowCells(res, "forms", "初一(3)")
	if len(forms) != 5 || forms[0] != "12 / 33 (36%)" || forms[3] != survey.HiddenMark || forms[4] != survey.HiddenMark {
		t.Fatalf("初一(3) forms = %q (online: 1 pupil, extortion: 2; want both hidden)", forms)
	}
	if !strings.Contains(res, canary) || !strings.Contains(res, "TG-"+canary) {
		t.Error("the school's staff cannot read the pupils' comments")
	}
	if !strings.Contains(res, "<svg") {
		t.Error("no chart")
	}
	csvBody := f.get(t, f.admin, "/inbox/surveys/"+uid+"/results.csv", 200)
	if !strings.Contains(csvBody, "12 / 33 (36%)") || !strings.Contains(csvBody, ","+survey.HiddenMark+",") || strings.Contains(csvBody, canary) {
		t.Errorf("CSV: %s", csvBody[:min(400, len(csvBody))])
	}

	// A measure for the hotspot, then the follow-up wave compares.
	f.post(t, f.admin, "/inbox/surveys/"+uid+"/results", "/inbox/surveys/"+uid+"/measures", url.Values{
		"finding": {"place:toilet"}, "what": {"午饭时段安排老师在三楼厕所附近巡查"}, "who": {"德育处 王老师"}, "due": {"2026-04-15"}})

	f.clock.Set(f.now.Add(101 * 24 * time.Hour))
	f.admin = f.login(t, "admin-no3", surveyAdminPassword)
	codes2 := f.printCodes(t, uid, 2, "初一", "3", 30)
	for i, code := range codes2 {
		answerWeb(t, base, code, pupilAnswers(i, 6), -1)
	}
	f.clock.Set(sv.Wave(2).PublishedAt())
	f.admin = f.login(t, "admin-no3", surveyAdminPassword)
	res = f.get(t, f.admin, "/inbox/surveys/"+uid+"/results?wave=2", 200)
	cmp := rowCells(res, "compare", "被欺负（每月两三次及以上）")
	if len(cmp) != 3 || cmp[0] != "12 / 33 (36%)" || cmp[1] != "6 / 30 (20%)" || cmp[2] != "-16" {
		t.Fatalf("wave against wave = %q", cmp)
	}
	// The measure is overdue now: the district sees it.
	officer := f.login(t, "officer", districtPassword)
	dl := f.get(t, officer, "/district/surveys/", 200)
	if !strings.Contains(dl, `class="overdue"><td>第三中学</td><td>1</td><td>1</td><td>1</td>`) {
		t.Errorf("district measures: %s", dl[strings.Index(dl, "<main>"):])
	}
	// The school's own survey stays the school's: the district sees its
	// measures, not its results (internal/surveyweb tests the district's
	// own surveys' results).
	if dres := f.get(t, officer, "/district/surveys/"+uid+"/results?wave=1", 404); strings.Contains(dres, canary) || strings.Contains(dres, "12 / 33") {
		t.Error("the district reads a school's own survey")
	}
	// The school's staff page is not the district's, and back.
	f.get(t, officer, "/inbox/surveys/", 200) // redirected to /district/surveys/

	// At rest: the canary is nowhere in the data directory (database,
	// WAL, shared memory), nor is any code.
	canaries := [][]byte{[]byte(canary), []byte("CANARY-")}
	for _, c := range append(codes, codes2...) {
		canaries = append(canaries, []byte(c), []byte(strings.ReplaceAll(c, "-", "")))
	}
	for _, id := range chats {
		canaries = append(canaries, chatCanaries(id)...)
	}
	scanDataDir(t, f.m.Config.DataDir, canaries)
}

// TestSurveyResponsesCannotBeJoinedToCodes reads the tables as a thief of
// the database file would: a response row holds no code, no code id, no
// time finer than the day, and its key is random; the code rows hold
// nothing that points at a response.
func TestSurveyResponsesCannotBeJoinedToCodes(t *testing.T) {
	f := newSurveyFixture(t)
	ctx := context.Background()
	made, err := f.m.Surveys.Create(ctx, f.school.Admin, survey.NewSurvey{BaselineOpens: f.now.Add(-time.Hour), BaselineCloses: f.now.Add(24 * time.Hour),
		FollowUpOpens: f.now.Add(48 * time.Hour), FollowUpCloses: f.now.Add(72 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	codes := f.printCodes(t, made[0].UID, 1, "初一", "3", 8)
	for i, c := range codes {
		f.clock.Set(f.now.Add(time.Duration(i) * 37 * time.Minute))
		answerWeb(t, f.m.URL(), c, pupilAnswers(i, 3), -1)
	}
	cols := func(table string) []string {
		var names []string
		q := `SELECT name FROM pragma_table_info(?)`
		if pgtest.OnPostgres() {
			q = `SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ?`
		}
		if err := f.m.DB.Reader().Select(&names, q, table); err != nil {
			t.Fatal(err)
		}
		sort.Strings(names)
		return names
	}
	if got, want := strings.Join(cols("survey_responses"), ","), "answers,class,day,grade,text_sealed,uid,wave_id"; got != want {
		t.Errorf("survey_responses columns = %s, want %s", got, want)
	}
	if got, want := strings.Join(cols("survey_codes"), ","), "class,code_mac,created_at,draft_mac,draft_sealed,grade,id,used,used_mac,wave_id"; got != want {
		t.Errorf("survey_codes columns = %s, want %s", got, want)
	}
	var rows []struct {
		UID string `db:"uid"`
		Day int64  `db:"day"`
	}
	if err := f.m.DB.Reader().Select(&rows, `SELECT uid, day FROM survey_responses`); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 8 {
		t.Fatalf("%d responses", len(rows))
	}
	for _, r := range rows {
		day := time.UnixMicro(r.Day).In(survey.Zone)
		if day.Hour() != 0 || day.Minute() != 0 || day.Second() != 0 {
			t.Errorf("response day %v is finer than a day", day)
		}
		if len(r.UID) != 32 {
			t.Errorf("response key %q is not random hex", r.UID)
		}
	}
	// No rowid to sort by insertion: the table has none.
	if _, err := f.m.DB.Reader().Exec(`SELECT rowid FROM survey_responses`); err == nil {
		t.Error("survey_responses has a rowid: insertion order is readable")
	}
	var drafts int
	if err := f.m.DB.Reader().Get(&drafts, `SELECT COUNT(*) FROM survey_codes WHERE draft_sealed IS NOT NULL OR used != 1`); err != nil || drafts != 0 {
		t.Errorf("codes left with drafts or unused: %d, %v", drafts, err)
	}
	_ = hotline.LangZH
}

// TestSurveyByDistrict: an officer makes one survey for every school of
// the district and edits all copies at once; the schools print sheets as
// PNG and PDF.
func TestSurveyByDistrict(t *testing.T) {
	f := newSurveyFixture(t)
	ctx := context.Background()
	second, err := f.m.Staff.CreateSchool(ctx, staff.NewSchool{Code: "no7", Name: "第七中学", District: "海淀区", AdminUsername: "admin-no7"})
	if err != nil {
		t.Fatal(err)
	}
	officer := f.login(t, "officer", districtPassword)
	at := func(d time.Duration) string { return f.now.Add(d).In(survey.Zone).Format("2006-01-02T15:04") }
	f.post(t, officer, "/district/surveys/", "/district/surveys/", url.Values{"title_zh": {"全区问卷"}, "title_en": {"District survey"},
		"b_opens": {at(time.Hour)}, "b_closes": {at(48 * time.Hour)}, "f_opens": {at(72 * time.Hour)}, "f_closes": {at(96 * time.Hour)}})
	mine, err := f.m.Surveys.List(ctx, f.school.Admin)
	if err != nil || len(mine) != 1 {
		t.Fatalf("no3 surveys: %v %v", mine, err)
	}
	theirs, err := f.m.Surveys.List(ctx, second.Admin)
	if err != nil || len(theirs) != 1 || theirs[0].Series != mine[0].Series || theirs[0].UID == mine[0].UID {
		t.Fatalf("no7 surveys: %v %v", theirs, err)
	}
	f.post(t, officer, "/district/surveys/"+mine[0].UID, "/district/surveys/"+mine[0].UID+"/edit", url.Values{"op": {"remove"}, "q": {survey.QFriends}})
	for _, a := range []*hotline.Counselor{f.school.Admin, second.Admin} {
		l, _ := f.m.Surveys.List(ctx, a)
		if l[0].Question(survey.QFriends) != nil || len(l[0].Questions) != 19 {
			t.Errorf("school %d: the district's edit did not reach its copy", a.SchoolID)
		}
	}
	// The district does not print codes: schools hand them out.
	if _, err := f.m.Surveys.PrintCodes(ctx, &hotline.Counselor{Role: hotline.RoleDistrict, District: "海淀区"}, mine[0].UID, 1, survey.Class{Grade: "初一", Class: "1"}, 5); err == nil {
		t.Error("the district printed codes")
	}
	for _, format := range []string{"png", "pdf"} {
		page := f.get(t, f.admin, "/inbox/surveys/"+mine[0].UID, 200)
		resp, err := f.admin.PostForm(f.m.URL()+"/inbox/surveys/"+mine[0].UID+"/codes", url.Values{"csrf": {between(page, `name="csrf" value="`, `"`)},
			"wave": {"1"}, "grade": {"初二"}, "class": {"5"}, "n": {"12"}, "format": {format}})
		if err != nil {
			t.Fatal(err)
		}
		body := readAllTB(t, resp)
		switch {
		case format == "png" && !strings.HasPrefix(body, "\x89PNG"):
			t.Errorf("png sheet: %q", snippet(body))
		case format == "pdf" && (!strings.HasPrefix(body, "%PDF-") || !strings.HasSuffix(body, "%%EOF\n") || strings.Count(body, "/Type /Page ") != 2):
			t.Errorf("pdf sheet: %d bytes, %d pages", len(body), strings.Count(body, "/Type /Page "))
		}
	}
	var codes int
	if err := f.m.DB.Reader().Get(&codes, `SELECT COUNT(*) FROM survey_codes`); err != nil || codes != 24 {
		t.Errorf("%d codes stored, want 24", codes)
	}
}

// TestSurveyCodeGuessesAreLimited: a flood of well-formed but unknown
// codes from one client is refused after a generous allowance, and a real
// code from another client still opens.
func TestSurveyCodeGuessesAreLimited(t *testing.T) {
	f := newSurveyFixture(t)
	made, err := f.m.Surveys.Create(context.Background(), f.school.Admin, survey.NewSurvey{BaselineOpens: f.now.Add(-time.Hour), BaselineCloses: f.now.Add(24 * time.Hour),
		FollowUpOpens: f.now.Add(48 * time.Hour), FollowUpCloses: f.now.Add(72 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	codes := f.printCodes(t, made[0].UID, 1, "初一", "3", 1)
	limited := false
	for range 80 {
		guess, _ := vault.NewSurveyCode()
		resp, err := http.PostForm(f.m.URL()+"/q/", url.Values{"code": {guess}})
		if err != nil {
			t.Fatal(err)
		}
		body := readAllTB(t, resp)
		if resp.StatusCode == http.StatusTooManyRequests {
			limited = strings.Contains(body, "错误问卷码太多")
			break
		}
		if !strings.Contains(body, "没有这个问卷码") {
			t.Fatalf("unknown code: %d %s", resp.StatusCode, snippet(body))
		}
	}
	if !limited {
		t.Fatal("80 unknown codes from one client were all looked up")
	}
	// The refusal used nothing up: the real code still opens (for a
	// client at another address it would at once; here, after a rest).
	var used int
	if err := f.m.DB.Reader().Get(&used, `SELECT used FROM survey_codes`); err != nil || used != 0 {
		t.Fatalf("code used = %d, %v", used, err)
	}
	if _, err := f.m.Surveys.Open(context.Background(), codes[0], nil); err != nil {
		t.Fatalf("the real code does not open: %v", err)
	}
}
