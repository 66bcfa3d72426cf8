package dialog

import (
	"context"
	"strings"
	"testing"
)

// TestHelpFitsTheChannel: the web chat's help names no Telegram-only
// command and tells how to come back; Telegram's names /forget and /tips.
func TestHelpFitsTheChannel(t *testing.T) {
	e := newEngine(newWorld(), newMemStore())
	ctx := context.Background()
	text := func(k Key) string {
		replies, err := e.Handle(ctx, k, cmd("help", ""))
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, r := range replies {
			b.WriteString(r.Text)
		}
		return b.String()
	}
	webHelp, tgHelp := text(web), text(tg)
	if strings.Contains(webHelp, "/forget") || strings.Contains(webHelp, "/tips") || !strings.Contains(webHelp, "回执码") {
		t.Errorf("web help:\n%s", webHelp)
	}
	if !strings.Contains(tgHelp, "/forget") || !strings.Contains(tgHelp, "/tips") {
		t.Errorf("telegram help:\n%s", tgHelp)
	}
}
