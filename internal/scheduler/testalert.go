package scheduler

import (
	"context"

	"hotline/internal/alert"
	"hotline/internal/hotline"
	"hotline/internal/staff"
	"hotline/internal/store"
)

// errNoBase refuses a test that could carry no link.
var errNoBase = hotline.Errorf(hotline.EINVALID, "服务器没有设置公开网址（--public-url），测试提醒里的确认链接无法打开。", "The server has no public URL (--public-url): a test alert's confirmation link would not open.")

// SendTest sends a test alert over one of the scope's targets at once
// ("发送测试提醒"), from any node: it carries a one-time link to confirm it
// arrived (or, over a text message or a call, a six-digit code to type in
// on the page). The target counts as working only once that is done. Any
// older test of the target is void. A failure is recorded on the target
// with its reason and returned in the result, for the page to show.
func (sc *Scheduler) SendTest(ctx context.Context, sess *staff.Session, scope staff.Scope, targetID int64) (*alert.TestResult, error) {
	st := sc.staff()
	t, err := st.TargetOf(ctx, sess, scope, targetID)
	if err != nil {
		return nil, err
	}
	if sc.BaseURL == "" {
		return nil, errNoBase
	}
	var rec *store.CounselorRecord
	if t.Owner == store.OwnerStaff {
		if rec, err = sc.DB.CounselorByID(ctx, t.CounselorID); err != nil {
			return nil, err
		}
	}
	to, err := st.OpenTarget(t, rec)
	if err != nil {
		return nil, err
	}
	school, schoolEN, schoolID := "", "", sess.Counselor.SchoolID
	if schoolID != 0 {
		s, err := sc.DB.SchoolByID(ctx, schoolID)
		if err != nil {
			return nil, err
		}
		school, schoolEN = s.Name, s.DisplayName(hotline.LangEN)
	} else {
		school, schoolEN = sess.Counselor.District+"教育局", sess.Counselor.District+" education bureau"
	}
	withCode := !staff.CarriesLink(to.Kind)
	var token, code string
	err = sc.DB.Update(ctx, func(tx *store.Tx) error {
		if err := tx.DropTestTokens(t.ID); err != nil {
			return err
		}
		tok := &store.AlertToken{Purpose: store.TokenTest, TargetID: t.ID, SchoolID: schoolID, ExpiresAt: tx.Now().Add(staff.TestLinkTTL)}
		if t.Owner == store.OwnerStaff {
			tok.CounselorID = t.CounselorID
		}
		var err error
		if token, code, err = staff.NewAlertToken(tx, sc.Vault, tok, withCode); err != nil {
			return err
		}
		return tx.MarkTargetTested(t.ID)
	})
	if err != nil {
		return nil, err
	}
	link := sc.BaseURL + "/inbox/ack/" + token
	m := alert.Message{Reason: ReasonTest, School: school, SchoolEN: schoolEN, AliasZH: "测试", AliasEN: "TEST", Link: link}
	if withCode {
		// A text message's template and a call carry the alias only: the
		// code goes there.
		m.AliasZH, m.AliasEN = "测试"+code, "TEST "+code
	}
	m.Text = TestText(school, schoolEN, link, code)
	o := sc.deliver(ctx, to, m)
	err = sc.DB.Update(ctx, func(tx *store.Tx) error { return sc.markTarget(tx, t.ID, o) })
	if err != nil {
		return nil, err
	}
	return &alert.TestResult{Sent: o.ok(), Code: withCode, Reason: o.reason}, nil
}

// TestText is the text of a test alert: the school, the link (or the
// code), and what to do with it.
func TestText(school, schoolEN, link, code string) string {
	zh := "测试提醒 — " + school + " — 这是 Hotline 的测试提醒，不是真实报告。请点链接确认收到：" + link
	en := "Test alert — " + schoolEN + " — a Hotline test, not a real report. Confirm it arrived: " + link
	if code != "" {
		zh = "测试提醒 — " + school + " — 验证码 " + code + "，请在“我的提醒”页面输入以确认收到。"
		en = "Test alert — " + schoolEN + " — code " + code + ": type it on the My alerts page to confirm."
	}
	return zh + "\n" + en
}
