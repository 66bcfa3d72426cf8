package webchat

import (
	"context"
	"strings"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/staff"
)

// TestMailboxPromisesTheSchoolsTimes: the no-JS mailbox's receipt and
// thread pages promise the school's own times — the on-call time for an
// urgent report, the ordinary ones otherwise — never a fixed 24 hours.
func TestMailboxPromisesTheSchoolsTimes(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.staff.CreateSchool(context.Background(), staff.NewSchool{Code: "no7", Name: "第七中学", Settings: &hotline.SchoolSettings{
		Deadlines: hotline.Deadlines{AckUrgent: hotline.Duration(30 * time.Minute), Ack: hotline.Duration(12 * time.Hour), FirstReply: hotline.Duration(48 * time.Hour)}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, lang, danger   string
		receipt, thread, not []string
	}{
		{"urgent", "zh", "1", []string{"作为紧急报告送到学校", "学校值班老师会在 30 分钟内处理"}, []string{"这是紧急报告，学校值班老师会在 30 分钟内处理"}, []string{"24 小时", "12 小时", "48 小时"}},
		{"ordinary", "zh", "", []string{"一般在 12 小时内"}, []string{"一般会在 48 小时内回复"}, []string{"24 小时", "30 分钟", "值班"}},
		{"urgent in English", "en", "1", []string{"as an urgent report", "on-call staff will act on it within 30 minutes"}, []string{"on-call staff act on it within 30 minutes"}, []string{"24 hours", "48 hours"}},
		{"ordinary in English", "en", "", []string{"usually within 12 hours"}, []string{"usually replies within 48 hours"}, []string{"24 hours", "on-call"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tok := tokenRE.FindStringSubmatch(e.get(t, "/m/no7?lang="+c.lang))
			code, body := e.post(t, "/m/no7", map[string]string{"token": tok[1], "lang": c.lang, "text": "他们总是抢我的饭卡", "danger": c.danger}, nil, nil)
			m := receiptRE.FindStringSubmatch(body)
			if code != 200 || m == nil {
				t.Fatalf("submit: %d, no receipt", code)
			}
			check := func(page, body string, want []string) {
				t.Helper()
				for _, w := range want {
					if !strings.Contains(body, w) {
						t.Errorf("%s page lacks %q", page, w)
					}
				}
				for _, n := range c.not {
					if strings.Contains(body, n) {
						t.Errorf("%s page promises %q", page, n)
					}
				}
			}
			check("receipt", body, c.receipt)
			st := tokenRE.FindStringSubmatch(e.get(t, "/m/status?lang="+c.lang))
			code, body = e.post(t, "/m/status", map[string]string{"token": st[1], "lang": c.lang, "receipt": m[1]}, nil, nil)
			if code != 200 {
				t.Fatalf("status: %d", code)
			}
			check("thread", body, c.thread)
		})
	}
}
