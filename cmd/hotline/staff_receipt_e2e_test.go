package main

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var staffReceiptRE = regexp.MustCompile(`id="receipt"><code>([^<]+)</code>`)

// TestStaffIntakeReceiptInWebchat: a counselor enters a phone call in the
// inbox and is shown a receipt for the caller; the counselor answers on the
// case page; the caller, with the receipt alone, opens the thread in the web
// chat and reads their report and the answer.
func TestStaffIntakeReceiptInWebchat(t *testing.T) {
	t.Parallel()
	e := newWebchatEnv(t)
	u := newInboxUser(t, e.m.URL())
	u.get("/inbox/login")
	if p := u.post("/inbox/login", url.Values{"username": {e.adminUser}, "password": {e.adminOTP}}); p.path != "/inbox/password" {
		t.Fatalf("first log-in ended at %s", p.path)
	}
	const pw = "a-new-password-2026"
	if p := u.post("/inbox/password", url.Values{"new": {pw}, "again": {pw}}); p.status != 200 || p.path != "/inbox/" {
		t.Fatalf("password change: %d at %s", p.status, p.path)
	}
	if p := u.get("/inbox/intake"); !strings.Contains(p.body, `name="receipt" value="1" checked`) {
		t.Fatal("the intake form does not offer a receipt by default")
	}
	call := canaryText("家长来电：孩子在校车上被高年级同学勒索零花钱-")
	p := u.postMultipart("/inbox/intake", map[string]string{"source": "phone", "role": "parent", "category": "property", "text": call, "receipt": "1"})
	m := staffReceiptRE.FindStringSubmatch(p.body)
	if p.status != 200 || m == nil {
		t.Fatalf("intake: %d at %s, no receipt shown", p.status, p.path)
	}
	receipt := html.UnescapeString(m[1])
	if !strings.Contains(p.body, `id="slip"`) || !strings.Contains(p.body, "/c/no3") {
		t.Error("no printable slip with the chat's address")
	}
	uid := regexp.MustCompile(`href="/inbox/tips/([^"]+)"`).FindStringSubmatch(p.body)
	if uid == nil {
		t.Fatal("no link to the case")
	}
	casePath := "/inbox/tips/" + uid[1]
	if c := u.get(casePath); strings.Contains(c.body, `id="unreachable"`) {
		t.Fatal("a case with a receipt says the reporter cannot be reached")
	}
	answer := canaryText("您好，学校已联系校车司机，明天早上八点请到德育处-")
	if r := u.postMultipart(casePath+"/reply", map[string]string{"text": answer}); r.status != 200 || r.path != casePath {
		t.Fatalf("reply: %d at %s", r.status, r.path)
	}
	if c := u.get(casePath); strings.Contains(c.body, receipt) {
		t.Fatal("the case page shows the receipt again")
	}

	// The caller, later, in the web chat: the receipt opens the thread.
	page := e.page(t, randToken(), 0)
	fs := page.do("s1", map[string]any{"type": "sync", "receipt": receipt})
	var sawCall, sawAnswer bool
	for _, f := range fs {
		if f.Type == "error" {
			t.Fatalf("sync with the receipt: %+v", f)
		}
		if f.Msg != nil {
			sawCall = sawCall || (f.Msg.Author == "you" && f.Msg.Text == call)
			sawAnswer = sawAnswer || (f.Msg.Author == "counselor" && f.Msg.Text == answer)
		}
	}
	if !sawCall || !sawAnswer {
		t.Fatalf("web chat with the staff receipt: report shown %v, answer shown %v (%+v)", sawCall, sawAnswer, fs)
	}
	// And the caller may write back, as any web reporter.
	more := canaryText("谢谢老师，明天我陪孩子一起去-")
	if fs := page.do("f1", map[string]any{"type": "text", "text": more, "receipt": receipt}); fs[len(fs)-1].Type != "ack" {
		t.Fatalf("follow-up with the staff receipt: %+v", fs[len(fs)-1])
	}
	if c := u.get(casePath); !strings.Contains(c.body, more) {
		t.Fatal("the caller's follow-up is not on the case page")
	}
	page.ws.Close()
	e.m.Close()
	scanDataDir(t, e.dir, [][]byte{[]byte(receipt), []byte(strings.ReplaceAll(receipt, "-", "")), []byte(call), []byte(answer), []byte(more)})
}
