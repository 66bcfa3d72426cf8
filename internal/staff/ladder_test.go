package staff_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"hotline/internal/alert"
	"hotline/internal/hotline"
	"hotline/internal/staff"
	"hotline/internal/store"
)

// allKinds configures every channel but the listed ones.
func allKinds(but ...alert.Kind) map[alert.Kind]bool {
	m := map[alert.Kind]bool{}
	for _, k := range append(staff.PersonalKinds, append(staff.GroupKinds, alert.Telegram, alert.Email)...) {
		m[k] = true
	}
	for _, k := range but {
		delete(m, k)
	}
	return m
}

func addCounselor(tb testing.TB, svc *staff.Service, admin *staff.Session, user, name string) *staff.Session {
	tb.Helper()
	ctx := context.Background()
	_, otp, err := svc.AddCounselor(ctx, admin, user, name, hotline.RoleCounselor)
	if err != nil {
		tb.Fatal(err)
	}
	sess, err := svc.Authenticate(ctx, user, otp)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(sess.Wipe)
	return sess
}

// confirm sends (as the scheduler does) and confirms a test of a target
// from its link.
func confirm(tb testing.TB, svc *staff.Service, targetID int64) {
	tb.Helper()
	ctx := context.Background()
	var token string
	err := svc.DB.Update(ctx, func(tx *store.Tx) error {
		var err error
		token, _, err = staff.NewAlertToken(tx, svc.Vault, &store.AlertToken{Purpose: store.TokenTest, TargetID: targetID, ExpiresAt: tx.Now().Add(time.Hour)}, false)
		if err != nil {
			return err
		}
		return tx.MarkTargetTested(targetID)
	})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := svc.ConfirmTest(ctx, token); err != nil {
		tb.Fatal(err)
	}
}

func TestTargetsAreSealedMaskedAndOwned(t *testing.T) {
	svc, _ := newService(t)
	svc.AlertKinds = allKinds(alert.VoiceTencent)
	ctx := context.Background()
	admin := adminSession(t, svc, "no3")
	wang := addCounselor(t, svc, admin, "wang", "王老师")

	for _, tc := range []struct {
		name          string
		sess          *staff.Session
		scope         staff.Scope
		kind          alert.Kind
		addr, secret  string
		wantErr       string
		wantMasked    string
		wantPlainGone string
	}{
		{"mainland mobile", wang, staff.ScopeMine, alert.SMSAliyun, "138 0013 8000", "", "", "138****8000", "13800138000"},
		{"international", wang, staff.ScopeMine, alert.SMSTencent, "+852 9123 4567", "", "", "+85****4567", "91234567"},
		{"bad phone", wang, staff.ScopeMine, alert.SMSAliyun, "12345", "", "invalid", "", ""},
		{"a voice kind the server lacks", wang, staff.ScopeMine, alert.VoiceTencent, "13800138000", "", "invalid", "", ""},
		{"a webhook on my alerts", wang, staff.ScopeMine, alert.Webhook, "https://platform.example.cn/hook", "0123456789abcdef", "invalid", "", ""},
		{"a group of my own", wang, staff.ScopeMine, alert.DingTalk, "https://oapi.dingtalk.com/robot/send?access_token=ownrobot0123456789", "SEC0123456789abcdef", "", "…6789", "ownrobot0123456789"},
		{"wecom userid", wang, staff.ScopeMine, alert.WeComApp, "wangwu", "", "", "wa***", ""},
		{"school robot by a counselor", wang, staff.ScopeSchool, alert.WeComRobot, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa", "", "forbidden", "", ""},
		{"school robot", admin, staff.ScopeSchool, alert.WeComRobot, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7aaa-4bc4-97a0-0ec2sifa5aaa", "", "", "…5aaa", "693a91f6-7aaa"},
		{"dingtalk without signing", admin, staff.ScopeSchool, alert.DingTalk, "https://oapi.dingtalk.com/robot/send?access_token=abcdef0123456789", "", "invalid", "", ""},
		{"dingtalk", admin, staff.ScopeSchool, alert.DingTalk, "https://oapi.dingtalk.com/robot/send?access_token=abcdef0123456789", "SEC0123456789abcdef", "", "…6789", "SEC0123456789abcdef"},
		{"webhook over http", admin, staff.ScopeSchool, alert.Webhook, "http://platform.example.cn/hook", "0123456789abcdef", "invalid", "", ""},
		{"webhook", admin, staff.ScopeSchool, alert.Webhook, "https://platform.example.cn/hook?t=1", "0123456789abcdef", "", "https://platform.example.cn/…", "platform.example.cn"},
		{"district robot by a school admin", admin, staff.ScopeDistrict, alert.Feishu, "hookid0123", "secret0123", "forbidden", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := svc.LinkTarget(ctx, tc.sess, tc.scope, tc.kind, tc.addr, tc.secret)
			if tc.wantErr != "" {
				if hotline.ErrorCode(err) != map[string]string{"invalid": hotline.EINVALID, "forbidden": hotline.EFORBIDDEN}[tc.wantErr] {
					t.Fatalf("got %v, want a %s error", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			views, err := svc.Targets(ctx, tc.sess, tc.scope)
			if err != nil {
				t.Fatal(err)
			}
			var v *staff.TargetView
			for i := range views {
				if views[i].ID == id {
					v = &views[i]
				}
			}
			if v == nil || v.Masked != tc.wantMasked || v.State != staff.TargetUntested {
				t.Fatalf("view = %+v, want masked %q and untested", v, tc.wantMasked)
			}
			stored, err := svc.DB.AlertTargetByID(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantPlainGone != "" && bytes.Contains(stored.Sealed, []byte(tc.wantPlainGone)) {
				t.Errorf("the stored target holds %q in plaintext", tc.wantPlainGone)
			}
		})
	}
	// Another staff member's target is not found, neither to test nor to remove.
	mine, err := svc.Targets(ctx, wang, staff.ScopeMine)
	if err != nil || len(mine) == 0 {
		t.Fatal(mine, err)
	}
	if _, err := svc.TargetOf(ctx, admin, staff.ScopeMine, mine[0].ID); hotline.ErrorCode(err) != hotline.ENOTFOUND {
		t.Errorf("admin reached wang's target: %v", err)
	}
	if err := svc.UnlinkTarget(ctx, admin, staff.ScopeMine, mine[0].ID); hotline.ErrorCode(err) != hotline.ENOTFOUND {
		t.Errorf("admin removed wang's target: %v", err)
	}
	// A sealed address copied into another row does not open there.
	other, err := svc.LinkTarget(ctx, admin, staff.ScopeMine, alert.SMSAliyun, "13900139000", "")
	if err != nil {
		t.Fatal(err)
	}
	src, _ := svc.DB.AlertTargetByID(ctx, mine[0].ID)
	if err := svc.DB.Update(ctx, func(tx *store.Tx) error { return tx.SetAlertTargetSealed(other, src.Sealed) }); err != nil {
		t.Fatal(err)
	}
	moved, _ := svc.DB.AlertTargetByID(ctx, other)
	if a, err := svc.OpenTarget(moved, nil); err == nil {
		t.Errorf("a moved sealed address opened: %s", a.Address)
	}
}

// TestChecklistTellsTheTruth: the rota's item turns green only when every
// hour has someone first on call whose every channel was tested and
// acknowledged from its own link; an e-mail address without an SMTP server
// and a channel tested but never acknowledged keep it red, with reasons.
func TestChecklistTellsTheTruth(t *testing.T) {
	svc, clock := newService(t)
	svc.AlertKinds = allKinds(alert.Email) // no SMTP server
	ctx := context.Background()
	admin := adminSession(t, svc, "no3")
	wang := addCounselor(t, svc, admin, "wang", "王老师")
	ready := func() *staff.Readiness {
		t.Helper()
		r, err := svc.Readiness(ctx, admin.Counselor.SchoolID, clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := ready(); r.Ready || r.EmptyHours != 7*24 || !hasProblem(r, "值班表是空的") {
		t.Fatalf("empty rota: ready %v, empty hours %d, problems %+v", r.Ready, r.EmptyHours, r.Problems)
	}
	// wang on call every hour: evenings through the night, and days.
	for _, s := range []staff.NewSlot{
		{CounselorID: wang.Counselor.ID, Position: 1, Weekdays: []int{0, 1, 2, 3, 4, 5, 6}, StartHour: 18, EndHour: 8},
		{CounselorID: wang.Counselor.ID, Position: 1, Weekdays: []int{0, 1, 2, 3, 4, 5, 6}, StartHour: 8, EndHour: 18},
	} {
		if err := svc.AddRotaSlot(ctx, admin, s); err != nil {
			t.Fatal(err)
		}
	}
	if r := ready(); r.Ready || r.EmptyHours != 0 || !hasProblem(r, "没有绑定任何提醒方式") {
		t.Fatalf("no channels: ready %v, empty %d, problems %+v", r.Ready, r.EmptyHours, r.Problems)
	}
	if err := svc.SetAlertEmail(ctx, wang, "wang@no3.example.cn"); err != nil {
		t.Fatal(err)
	}
	if r := ready(); r.Ready || !hasProblem(r, "SMTP") {
		t.Fatalf("e-mail without SMTP: ready %v, problems %+v", r.Ready, r.Problems)
	}
	sms, err := svc.LinkTarget(ctx, wang, staff.ScopeMine, alert.SMSAliyun, "13800138000", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.DB.Update(ctx, func(tx *store.Tx) error { return tx.MarkTargetTested(sms) }); err != nil {
		t.Fatal(err)
	}
	if r := ready(); r.Ready || !hasProblem(r, "测试提醒已发出") {
		t.Fatalf("a test never acknowledged: ready %v, problems %+v", r.Ready, r.Problems)
	}
	confirm(t, svc, sms)
	if r := ready(); r.Ready || !r.NowReachable {
		t.Fatalf("SMS works, e-mail cannot: ready %v, reachable now %v", r.Ready, r.NowReachable)
	}
	if err := svc.SetAlertEmail(ctx, wang, ""); err != nil {
		t.Fatal(err)
	}
	if r := ready(); !r.Ready || r.WeakHours != 0 {
		t.Fatalf("every hour covered by working channels: ready %v, weak %d, problems %+v", r.Ready, r.WeakHours, r.Problems)
	}
	// A send that fails after the test turns it red again, with the reason.
	clock.Add(time.Minute)
	if err := svc.DB.Update(ctx, func(tx *store.Tx) error {
		return tx.MarkTargetFailed(sms, "isv.MOBILE_NUMBER_ILLEGAL", "号码无效 / invalid number")
	}); err != nil {
		t.Fatal(err)
	}
	if r := ready(); r.Ready || r.NowReachable || !hasProblem(r, "号码无效") {
		t.Fatalf("after a failure: ready %v, reachable %v, problems %+v", r.Ready, r.NowReachable, r.Problems)
	}
}

func hasProblem(r *staff.Readiness, bit string) bool {
	for _, p := range r.Problems {
		if strings.Contains(p.Reason.ZH, bit) || strings.Contains(p.Reason.EN, bit) {
			return true
		}
	}
	return false
}

// TestRotaHoursAndHoles: a slot through midnight covers the next morning
// of the day after; an hour nobody covers is counted and shown.
func TestRotaHoursAndHoles(t *testing.T) {
	svc, clock := newService(t)
	ctx := context.Background()
	admin := adminSession(t, svc, "no3")
	wang := addCounselor(t, svc, admin, "wang", "王老师")
	// Monday and Tuesday nights 22:00–07:00.
	if err := svc.AddRotaSlot(ctx, admin, staff.NewSlot{CounselorID: wang.Counselor.ID, Position: 1, Weekdays: []int{0, 1}, StartHour: 22, EndHour: 7}); err != nil {
		t.Fatal(err)
	}
	d, err := svc.Directory(ctx, admin.Counselor.SchoolID)
	if err != nil {
		t.Fatal(err)
	}
	sh := d.Zone
	for _, tc := range []struct {
		at   time.Time
		want int
	}{
		{time.Date(2026, 11, 2, 21, 59, 0, 0, sh), 0}, // Monday before
		{time.Date(2026, 11, 2, 22, 0, 0, 0, sh), 1},  // Monday night
		{time.Date(2026, 11, 3, 6, 59, 0, 0, sh), 1},  // Tuesday morning, Monday's shift
		{time.Date(2026, 11, 3, 7, 0, 0, 0, sh), 0},
		{time.Date(2026, 11, 4, 3, 0, 0, 0, sh), 1},        // Wednesday morning, Tuesday's shift
		{time.Date(2026, 11, 5, 3, 0, 0, 0, sh), 0},        // Thursday morning: Wednesday has none
		{time.Date(2026, 11, 2, 15, 0, 0, 0, time.UTC), 1}, // 23:00 in Shanghai
	} {
		if got := len(d.OnCall(1, tc.at)); got != tc.want {
			t.Errorf("on call at %v: %d, want %d", tc.at, got, tc.want)
		}
	}
	r, err := svc.Readiness(ctx, admin.Counselor.SchoolID, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if r.EmptyHours != 7*24-18 {
		t.Errorf("empty hours = %d, want %d", r.EmptyHours, 7*24-18)
	}
	if segs := r.Days[0]; len(segs) != 2 || segs[0].From != 0 || segs[0].To != 22 || !segs[0].Empty || segs[1].Empty || segs[1].First[0] != "王老师" {
		t.Errorf("Monday = %+v", segs)
	}
	// Bad slots are refused with a reason.
	for _, bad := range []staff.NewSlot{
		{CounselorID: wang.Counselor.ID, Position: 3, Weekdays: []int{0}, StartHour: 1, EndHour: 2},
		{CounselorID: wang.Counselor.ID, Position: 1, StartHour: 1, EndHour: 2},
		{CounselorID: wang.Counselor.ID, Position: 1, Weekdays: []int{7}, StartHour: 1, EndHour: 2},
		{CounselorID: wang.Counselor.ID, Position: 1, Weekdays: []int{0}, StartHour: 24, EndHour: 2},
		{CounselorID: 9999, Position: 1, Weekdays: []int{0}, StartHour: 1, EndHour: 2},
	} {
		if err := svc.AddRotaSlot(ctx, admin, bad); hotline.ErrorCode(err) != hotline.EINVALID {
			t.Errorf("slot %+v: %v", bad, err)
		}
	}
	if err := svc.AddRotaSlot(ctx, wang, staff.NewSlot{CounselorID: wang.Counselor.ID, Position: 1, Weekdays: []int{0}, StartHour: 1, EndHour: 2}); !errors.Is(err, hotline.ErrForbidden) {
		t.Errorf("a counselor edited the rota: %v", err)
	}
}

// TestTestCodes: a text message or a call carries a code: a wrong one is
// counted, five wrong ones void the test, the right one works once.
func TestTestCodes(t *testing.T) {
	svc, clock := newService(t)
	svc.AlertKinds = allKinds()
	ctx := context.Background()
	admin := adminSession(t, svc, "no3")
	id, err := svc.LinkTarget(ctx, admin, staff.ScopeMine, alert.VoiceAliyun, "13800138000", "")
	if err != nil {
		t.Fatal(err)
	}
	send := func() (token, code string) {
		err := svc.DB.Update(ctx, func(tx *store.Tx) error {
			if err := tx.DropTestTokens(id); err != nil {
				return err
			}
			var err error
			token, code, err = staff.NewAlertToken(tx, svc.Vault, &store.AlertToken{Purpose: store.TokenTest, TargetID: id, ExpiresAt: tx.Now().Add(staff.TestLinkTTL)}, true)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return token, code
	}
	_, code := send()
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for i := 0; i < 5; i++ {
		if err := svc.ConfirmTestCode(ctx, admin, staff.ScopeMine, id, wrong); hotline.ErrorCode(err) != hotline.EINVALID {
			t.Fatalf("wrong code %d: %v", i, err)
		}
	}
	if err := svc.ConfirmTestCode(ctx, admin, staff.ScopeMine, id, code); err == nil {
		t.Fatal("the right code worked after five wrong ones")
	}
	token, code := send()
	if err := svc.ConfirmTestCode(ctx, admin, staff.ScopeMine, id, " "+code+" "); err != nil {
		t.Fatalf("right code: %v", err)
	}
	if _, err := svc.ConfirmTest(ctx, token); !errors.Is(err, staff.ErrLinkUsed) {
		t.Errorf("the link after its code: %v", err)
	}
	tg, _ := svc.DB.AlertTargetByID(ctx, id)
	if !tg.Verified() {
		t.Errorf("target not verified: %+v", tg)
	}
	// An expired test link is refused.
	token, _ = send()
	clock.Add(staff.TestLinkTTL + time.Minute)
	if _, err := svc.ConfirmTest(ctx, token); !errors.Is(err, staff.ErrLinkExpired) {
		t.Errorf("an expired link: %v", err)
	}
	if _, err := svc.ConfirmTest(ctx, "not-a-token-at-all-0000"); !errors.Is(err, staff.ErrLinkUnknown) {
		t.Errorf("an unknown link: %v", err)
	}
}
