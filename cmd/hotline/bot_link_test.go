package main

import (
	"strings"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/sim/telegramsim"
)

// TestStaffLinksTelegramAndGetsContentFreeAlert: a counselor links their
// Telegram chat with the code from the inbox; an urgent report then pages
// them there with the alias and school only, never the content.
func TestStaffLinksTelegramAndGetsContentFreeAlert(t *testing.T) {
	t.Parallel()
	e := newBotEnv(t)
	ctx := ctxTimeout(t, 30*time.Second)
	code, _, err := e.m.Staff.NewLinkCode(ctx, e.sess)
	if err != nil {
		t.Fatal(err)
	}
	staff := e.student(ctx, telegramsim.UserOptions{FirstName: "王", LanguageCode: "zh-hans"})
	// A wrong code is refused; the right one links.
	staff.u.SendCommand("/link AAAA-BBBB")
	if _, err := staff.wait("refusal", containsText("绑定码无效")); err != nil {
		t.Fatal(err)
	}
	staff.u.SendCommand("/link " + strings.ToLower(code))
	if _, err := staff.wait("linked", containsText("已绑定")); err != nil {
		t.Fatal(err)
	}
	const secret = "他说放学后要带刀来找我 CANARY-LINK-4417"
	sub, err := e.m.Intake.Submit(ctx, hotline.Submission{SchoolCode: demoSchool, Channel: hotline.ChannelWebchat, Texts: []string{secret}})
	if err != nil || !sub.Urgent {
		t.Fatalf("urgent submit: %+v %v", sub, err)
	}
	if err := e.m.Scheduler.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	msg, err := staff.wait("alert", containsText(sub.Alias.ZH))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(msg.Text, "带刀") || strings.Contains(msg.Text, "CANARY") {
		t.Fatalf("alert carries content: %q", msg.Text)
	}
	// The code was used once: sending it again from another chat fails.
	other := e.student(ctx, telegramsim.UserOptions{FirstName: "x", LanguageCode: "zh"})
	other.u.SendCommand("/link " + code)
	if _, err := other.wait("refusal", containsText("绑定码无效")); err != nil {
		t.Fatal(err)
	}
}
