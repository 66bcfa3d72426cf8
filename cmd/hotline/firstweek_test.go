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
