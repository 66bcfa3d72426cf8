package inboxweb_test

import (
	"context"
	"html"
	"net/url"
	"strings"
	"testing"

	"hotline/internal/hotline"
	"hotline/internal/store"
)

// TestHistoryInWords checks that the case history says each event in words,
// zh and en, and never shows the ledger's raw detail keys.
func TestHistoryInWords(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sf := e.school("no1")
	u := e.login(sf.AdminUser, sf.AdminPassword, newPW)
	sub := e.tip("no1", "他们每天在走廊推我")
	base := "/inbox/tips/" + sub.TipUID
	for _, s := range []struct{ action, key, val string }{
		{"status", "status", "acknowledged"},
		{"severity", "severity", "serious"},
		{"status", "status", "resolved"},
		{"status", "status", "closed"},
		{"status", "status", "investigating"},
	} {
		if r := u.post(base+"/"+s.action, url.Values{s.key: {s.val}}); r.Status != 200 {
			t.Fatalf("%s %s: %d: %s", s.action, s.val, r.Status, excerpt(r.Body))
		}
	}
	tip, err := e.db.TipByUID(ctx, sub.TipUID)
	if err != nil {
		t.Fatal(err)
	}
	// A missed deadline as the scheduler writes it.
	if err := e.db.Update(ctx, func(tx *store.Tx) error {
		return tx.AppendEvent(&hotline.Event{SchoolID: tip.SchoolID, TipID: tip.ID, Alias: tip.Alias.ZH, Kind: hotline.EventDeadlineMissed, Detail: "deadline=reply;extra_key=7"})
	}); err != nil {
		t.Fatal(err)
	}
	zh := u.get(base)
	mustContain(t, "zh history", zh,
		"状态：新报告 → 已受理",
		html.EscapeString("情节等级变更：未评估 → 情节较重"),
		"状态：已处理完毕 → 已关闭",
		"重新打开：已关闭 → 调查处置中",
		"超过处理时限：首次回复，extra key：7",
		"收到报告 · 渠道：网页聊天",
	)
	en := u.get(base + "?lang=en")
	mustContain(t, "en history", en,
		"Status: New → Acknowledged",
		"Severity changed: Unassessed → Serious",
		"Status: Resolved → Closed",
		"Reopened: Closed → Investigating",
		"Deadline missed: first reply, extra key: 7",
	)
	for _, r := range []resp{zh, en} {
		for _, raw := range []string{"from=", "to=", "deadline=", "channel=", "extra_key="} {
			if strings.Contains(r.Body, raw) {
				t.Errorf("history shows raw %q: %s", raw, excerpt(r.Body))
			}
		}
	}
	// The closed case reopened offers the statuses it may move to now.
	if !strings.Contains(en.Body, `<option value="acknowledged">`) || strings.Contains(en.Body, `<option value="new">`) {
		t.Errorf("next statuses of an investigating case: %s", excerpt(en.Body))
	}
}
