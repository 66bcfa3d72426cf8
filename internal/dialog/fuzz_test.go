package dialog

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"hotline/internal/hotline"
)

// FuzzHandle drives random conversations: each byte of script picks the
// next event from a palette of real buttons, commands and the fuzzed
// strings. The engine must never panic, never fail with a healthy store,
// always put safety first, and never save a receipt.
func FuzzHandle(f *testing.F) {
	f.Add([]byte{0, 3, 4, 5, 6, 7, 8, 9, 10}, "他拿着刀", "role:victim")
	f.Add([]byte{1, 3, 4, 2, 7, 8, 9, 10, 2, 15, 16, 17}, "hello", "cat:unsure")
	f.Add([]byte{0, 11, 12, 13, 14, 20, 21, 22, 23}, "/start@Bot demo", "tip:tip-1")
	f.Add([]byte{1, 18, 19, 24, 25, 26, 27, 28}, "\xff\xfe", "school:\x00")
	f.Add([]byte{0, 3, 4, 5, 6, 6, 6, 7, 8, 9, 10, 13, 14, 22, 12}, strings.Repeat("长", 4001), "")
	f.Fuzz(func(t *testing.T, script []byte, text, choice string) {
		if len(script) > 200 {
			script = script[:200]
		}
		w, s := newWorld(), newMemStore()
		e := newEngine(w, s)
		ctx := context.Background()
		k := tg
		if len(script) > 0 && script[0]%2 == 1 {
			k = web
		}
		photo := &hotline.Photo{Data: []byte(text), Type: "image/png"}
		palette := []func() ([]Reply, error){
			func() ([]Reply, error) { return e.Handle(ctx, k, txt(text)) },
			func() ([]Reply, error) { return e.Handle(ctx, k, tap(choice)) },
			func() ([]Reply, error) { return e.Handle(ctx, k, withSchool(cmd("start", "demo"), text)) },
			func() ([]Reply, error) { return e.Handle(ctx, k, tap("role:victim")) },
			func() ([]Reply, error) { return e.Handle(ctx, k, tap("cat:unsure")) },
			func() ([]Reply, error) { return e.Handle(ctx, k, txt("他们打我")) },
			func() ([]Reply, error) { return e.Handle(ctx, k, pic(text)) },
			func() ([]Reply, error) { return e.Handle(ctx, k, tap(dataDone)) },
			func() ([]Reply, error) { return e.Handle(ctx, k, tap(dataDangerYes)) },
			func() ([]Reply, error) { return e.Handle(ctx, k, tap(dataSend)) },
			func() ([]Reply, error) { return e.Handle(ctx, k, txt("knife")) },
			func() ([]Reply, error) { return e.Handle(ctx, k, cmd("status", text)) },
			func() ([]Reply, error) { return e.Handle(ctx, k, cmd("tips", "")) },
			func() ([]Reply, error) { return e.Handle(ctx, k, cmd("new", "")) },
			func() ([]Reply, error) { return e.Handle(ctx, k, cmd("cancel", "")) },
			func() ([]Reply, error) { return e.Handle(ctx, k, cmd("language", text)) },
			func() ([]Reply, error) { return e.Handle(ctx, k, cmd(text, choice)) },
			func() ([]Reply, error) {
				return e.Handle(ctx, k, Event{Kind: EventKind(text), Choice: choice, Lang: hotline.Lang(text)})
			},
			func() ([]Reply, error) { return e.Handle(ctx, k, Event{Kind: EventPhoto, Text: text}) },
			func() ([]Reply, error) { return e.Handle(ctx, k, Event{Kind: EventPhoto, Photo: photo}) },
			func() ([]Reply, error) { return e.Handle(ctx, k, cmd("forget", "")) },
			func() ([]Reply, error) { return e.Handle(ctx, k, tap(dataForgetYes)) },
			func() ([]Reply, error) { return e.Handle(ctx, k, tap("tip:tip-1")) },
			func() ([]Reply, error) { return e.Handle(ctx, k, tap(dataEdit)) },
			func() ([]Reply, error) { return e.HandleWithReceipt(ctx, k, "7KQ2M-9XFH3-DPWT8-NAB01", txt(text)) },
			func() ([]Reply, error) { return e.HandleWithReceipt(ctx, k, text, pic(choice)) },
			func() ([]Reply, error) { return e.Resume(ctx, k, "7KQ2M-9XFH3-DPWT8-NAB01", hotline.Lang(text)) },
			func() ([]Reply, error) { return e.Resume(ctx, k, text, "en") },
			func() ([]Reply, error) { return e.Handle(ctx, k, tap("school:"+text)) },
			func() ([]Reply, error) { return e.Handle(ctx, k, withSchool(txt(text), choice)) },
		}
		for i, b := range script {
			rs, err := palette[int(b)%len(palette)]()
			resumeOnTelegram := k == tg && int(b)%len(palette) >= 26 && int(b)%len(palette) <= 27
			if err != nil && !resumeOnTelegram {
				t.Fatalf("event %d (%d): got error %v, want nil", i, b, err)
			}
			for j, r := range rs {
				if r.Kind == "" || (r.Text == "" && r.Kind != ReplyThread) {
					t.Fatalf("event %d: reply %d: got %+v, want a kind and a text", i, j, r)
				}
				if j > 0 && r.Kind == ReplySafety {
					t.Fatalf("event %d: got safety at %d in %v, want it first", i, j, kinds(rs))
				}
				if r.Receipt != "" && r.Kind != ReplyReceipt {
					t.Fatalf("event %d: got a receipt on a %q reply", i, r.Kind)
				}
			}
			if b := s.raw(k); b != nil {
				if strings.Contains(string(b), "7KQ2M") {
					t.Fatalf("event %d: saved state holds a receipt: %s", i, b)
				}
				if !json.Valid(b) {
					t.Fatalf("event %d: saved state is not JSON", i)
				}
			}
		}
	})
}
