package main

// The rough edges a first week in the inbox and the surveys found (issue
// 24, points 9–14), each tested as a person meets it.

import (
	"context"
	"io"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"hotline/internal/hotline"
	"hotline/internal/survey"
)

var (
	hiddenField = func(name string) *regexp.Regexp {
		return regexp.MustCompile(`name="` + name + `" value="([^"]+)"`)
	}
	receiptOnPage = regexp.MustCompile(`[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}`)
)

// 9. A staff intake posted twice (the counselor refreshes the receipt page,
// or clicks twice) files one case: the second answer shows the same
// receipt and says it was filed already; without a receipt it goes to the
// same case.
func TestStaffIntakePostedTwiceFilesOneCase(t *testing.T) {
	t.Parallel()
	m := MustRunMain(t)
	if err := seedDemo(context.Background(), m, io.Discard); err != nil {
		t.Fatal(err)
	}
	u := newInboxUser(t, m.URL())
	u.login(demoUser, demoPassword)
	for _, withReceipt := range []bool{true, false} {
		form := u.get("/inbox/intake")
		sub, page := hiddenField("submission").FindStringSubmatch(form.body), hiddenField("page").FindStringSubmatch(form.body)
		if sub == nil || page == nil {
			t.Fatal("the intake form carries no submission id")
		}
		text := "电话记录：家长说孩子在食堂被同学泼汤。"
		fields := map[string]string{"source": "phone", "role": "parent", "category": "physical", "text": text, "submission": sub[1], "page": page[1]}
		if withReceipt {
			fields["receipt"] = "1"
			text += " (receipt)"
			fields["text"] = text
		}
		first := u.postMultipart("/inbox/intake", fields)
		second := u.postMultipart("/inbox/intake", fields) // the refresh
		if first.status != 200 || second.status != 200 {
			t.Fatalf("intake posts: %d, %d", first.status, second.status)
		}
		if withReceipt {
			r1, r2 := receiptOnPage.FindString(first.body), receiptOnPage.FindString(second.body)
			if r1 == "" || r1 != r2 {
				t.Errorf("receipts: first %q, again %q, want the same one", r1, r2)
			}
			if !strings.Contains(second.body, "已经提交过了") || strings.Contains(first.body, "已经提交过了") {
				t.Error("the second answer does not say the report was filed already")
			}
		} else if first.path != second.path || !strings.HasPrefix(first.path, "/inbox/tips/") {
			t.Errorf("without a receipt: first at %s, again at %s, want the same case", first.path, second.path)
		}
		sess, err := m.Staff.Authenticate(context.Background(), demoUser, demoPassword)
		if err != nil {
			t.Fatal(err)
		}
		tips, _, err := m.Triage.Queue(context.Background(), sess.Actor(), hotline.TipFilter{Channel: hotline.ChannelStaff, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, tip := range tips {
			_, msgs, err := m.Triage.Thread(context.Background(), sess, tip.UID)
			if err != nil {
				t.Fatal(err)
			}
			for _, msg := range msgs {
				if msg.Body == text {
					n++
				}
			}
		}
		sess.Wipe()
		if n != 1 {
			t.Errorf("receipt %v: the report is in %d cases, want 1", withReceipt, n)
		}
	}
}

// 10. The status list preselects the case's current status: pressing
// "更改" without choosing changes nothing (it used to preselect 已受理 and
// move an investigated case backwards).
func TestStatusListPreselectsCurrent(t *testing.T) {
	t.Parallel()
	m := MustRunMain(t)
	if err := seedDemo(context.Background(), m, io.Discard); err != nil {
		t.Fatal(err)
	}
	uid := demoCase(t, m)
	u := newInboxUser(t, m.URL())
	u.login(demoUser, demoPassword)
	casePath := "/inbox/tips/" + uid
	u.get(casePath)
	if p := u.post(casePath+"/status", url.Values{"status": {string(hotline.StatusInvestigating)}}); p.status != 200 {
		t.Fatalf("set investigating: %d", p.status)
	}
	p := u.get(casePath)
	sel := regexp.MustCompile(`(?s)<form method="post" action="[^"]*/status".*?</form>`).FindString(p.body)
	selected := regexp.MustCompile(`<option value="([a-z]+)"[^>]*selected`).FindAllStringSubmatch(sel, -1)
	if len(selected) != 1 || selected[0][1] != string(hotline.StatusInvestigating) {
		t.Fatalf("the status list preselects %v, want investigating:\n%s", selected, sel)
	}
	// "更改" as the form stands: nothing moves.
	if p := u.post(casePath+"/status", url.Values{"status": {selected[0][1]}}); p.status != 200 {
		t.Fatalf("change with the preselected status: %d", p.status)
	}
	sess, _ := m.Staff.Authenticate(context.Background(), demoUser, demoPassword)
	defer sess.Wipe()
	tip, err := m.Triage.Tip(context.Background(), sess.Actor(), uid)
	if err != nil || tip.Status != hotline.StatusInvestigating {
		t.Errorf("status after pressing change: %v %v, want investigating", tip.Status, err)
	}
}

// 13. A new survey's waves are dated soon (not next March) and named by
// the month they open in; a wave moved to another month is renamed; the
// comparison table shows a wave that has not opened as "—", not "0".
func TestSurveyWavesDatedLabelledAndShown(t *testing.T) {
	f := newSurveyFixture(t) // the clock: 2026-02-20
	list := f.get(t, f.admin, "/inbox/surveys/", 200)
	opens := hiddenInput(list, "b_opens")
	if opens != "2026-02-21T08:00" {
		t.Errorf("the proposed baseline opens %q, want tomorrow 08:00", opens)
	}
	v := url.Values{"title_zh": {"校园欺凌匿名问卷"}}
	for _, k := range []string{"b_opens", "b_closes", "f_opens", "f_closes"} {
		v.Set(k, hiddenInput(list, k))
	}
	if v.Get("f_opens") != "2026-05-21T08:00" {
		t.Errorf("the proposed follow-up opens %q, want three months after the baseline", v.Get("f_opens"))
	}
	f.post(t, f.admin, "/inbox/surveys/", "/inbox/surveys/", v)
	svs, err := f.m.Surveys.List(context.Background(), f.school.Admin)
	if err != nil || len(svs) != 1 {
		t.Fatal(svs, err)
	}
	uid := svs[0].UID
	page := f.get(t, f.admin, "/inbox/surveys/"+uid, 200)
	for _, want := range []string{"基线（2月排查摸底）", "跟踪（5月整治后）"} {
		if !strings.Contains(page, want) {
			t.Errorf("the survey page does not name a wave %q", want)
		}
	}
	// The baseline moved to March: its name follows.
	f.post(t, f.admin, "/inbox/surveys/"+uid, "/inbox/surveys/"+uid+"/edit", url.Values{"op": {"wave"}, "wave": {"1"}, "opens": {"2026-03-02T08:00"}, "closes": {"2026-03-13T18:00"}})
	page = f.get(t, f.admin, "/inbox/surveys/"+uid, 200)
	if !strings.Contains(page, "基线（3月排查摸底）") || strings.Contains(page, "基线（2月") {
		t.Error("the baseline moved to March is not named March")
	}
	// The baseline opens and is answered; the follow-up has not opened.
	f.clock.Set(time.Date(2026, 3, 3, 9, 0, 0, 0, survey.Zone))
	f.admin = f.login(t, "admin-no3", surveyAdminPassword) // days later
	codes := f.printCodes(t, uid, 1, "初二", "3", 5)
	for _, c := range codes {
		answerWeb(t, f.m.URL(), c, survey.Answers{survey.QVictim: {"often"}}, -1)
	}
	res := f.get(t, f.admin, "/inbox/surveys/"+uid+"/results?wave=1", 200)
	cmp := regexp.MustCompile(`(?s)<table id="compare">.*?</table>`).FindString(res)
	if !strings.Contains(cmp, "未开始") {
		t.Errorf("the comparison does not mark the follow-up as not open:\n%s", cmp)
	}
	for _, row := range regexp.MustCompile(`(?s)<tr><th scope="row">.*?</tr>`).FindAllString(cmp, -1) {
		cells := regexp.MustCompile(`<td>([^<]*)</td>`).FindAllStringSubmatch(row, -1)
		if len(cells) < 2 || cells[1][1] != "—" {
			t.Errorf("an indicator shows the unopened follow-up as %q, want —: %s", cells, row)
		}
	}
}

// hiddenInput is the value of the form field name on page.
func hiddenInput(page, name string) string {
	m := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return m[1]
}

// 11. A reporter who switches the web chat to English in the middle of a
// report gets the question they were at, and its buttons, in English.
func TestWebchatLanguageSwitchMidConversation(t *testing.T) {
	needChromium(t)
	t.Parallel()
	m := MustRunMain(t)
	if err := seedDemo(context.Background(), m, io.Discard); err != nil {
		t.Fatal(err)
	}
	outer, cancelOuter := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancelOuter()
	actx, cancelAlloc := chromedp.NewExecAllocator(outer, browserOptions(chromiumPath, filepath.Join(t.TempDir(), "chromium"))...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(420, 860)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	step(t, ctx, "open the chat in Chinese", chromedp.Navigate(m.URL()+"/c/"+demoSchool+"?lang=zh"))
	waitPage(t, ctx, "the first question", `document.querySelectorAll('#choices button.choice').length > 0 && document.getElementById('log').innerText.includes('下面哪一个说的是你')`)
	step(t, ctx, "answer it", chromedp.Click(chromedp.CSS(`#choices button.choice`)))
	waitPage(t, ctx, "the category question in Chinese", `[...document.querySelectorAll('#choices button')].some(b => b.textContent === '不确定')`)
	step(t, ctx, "switch to English", chromedp.Click(chromedp.CSS(`a.lang`)))
	waitPage(t, ctx, "the category question in English, with English buttons",
		`document.documentElement.lang === 'en' && document.getElementById('log').innerText.includes('What kind of thing happened') && `+
			`[...document.querySelectorAll('#choices button')].some(b => b.textContent === 'Not sure') && `+
			`![...document.querySelectorAll('#choices button')].some(b => /[\u4e00-\u9fff]/.test(b.textContent))`)
}
