package intake_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"path/filepath"
	"strings"
	"testing"

	"hotline/internal/dialog"
	"hotline/internal/hotline"
	"hotline/internal/intake"
	"hotline/internal/live"
	"hotline/internal/photo"
	"hotline/internal/staff"
	"hotline/internal/store"
	"hotline/internal/testsupport"
	"hotline/internal/triage"
	"hotline/internal/vault"
)

// env is a real database, vault and services in a temp dir.
type env struct {
	db     *store.DB
	vault  *vault.Vault
	intake *intake.Service
	staff  *staff.Service
	triage *triage.Service
	broker *live.Broker
	school *staff.CreatedSchool
	sess   *staff.Session
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	dir := tb.TempDir()
	return newEnvOn(tb, testsupport.OpenStoreAt(tb, filepath.Join(dir, "hotline.db")), dir)
}

// newEnvOn is newEnv on an open database, with the vault in dir.
func newEnvOn(tb testing.TB, db *store.DB, dir string) *env {
	tb.Helper()
	v, err := vault.LoadOrCreate(dir, vault.Options{Argon: vault.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		tb.Fatal(err)
	}
	b := live.NewBroker()
	e := &env{db: db, vault: v, broker: b, intake: intake.New(db, v, b, nil), staff: staff.New(db, v, nil), triage: triage.New(db, v, b, nil)}
	ctx := context.Background()
	if e.school, err = e.staff.CreateSchool(ctx, staff.NewSchool{Code: "no3", Name: "第三中学", District: "海淀区"}); err != nil {
		tb.Fatal(err)
	}
	if e.sess, err = e.staff.Authenticate(ctx, e.school.Admin.Username, e.school.AdminPassword); err != nil {
		tb.Fatal(err)
	}
	return e
}

func TestSubmitWebAndReturnWithReceipt(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sub, err := e.intake.Submit(ctx, hotline.Submission{SchoolCode: "NO3", Channel: hotline.ChannelWebchat, Role: hotline.ReporterVictim,
		Category: hotline.CategoryVerbal, Texts: []string{"他们每天骂我", "还把我的书扔了"}})
	if err != nil {
		t.Fatal(err)
	}
	if sub.Receipt == "" || sub.Alias.ZH == "" || sub.Alias.EN == "" || sub.Urgent {
		t.Fatalf("submitted = %+v", sub)
	}
	if _, err := vault.ParseReceipt(sub.Receipt); err != nil {
		t.Fatalf("receipt %q does not parse: %v", sub.Receipt, err)
	}
	// The school reads it with its key.
	tip, msgs, err := e.triage.Thread(ctx, e.sess, sub.TipUID)
	if err != nil {
		t.Fatal(err)
	}
	if tip.Status != hotline.StatusNew || len(msgs) != 2 || msgs[0].Body != "他们每天骂我" || msgs[1].Body != "还把我的书扔了" {
		t.Fatalf("thread = %+v %+v", tip, msgs)
	}
	// A counselor replies and notes; the reporter sees the reply, never the note.
	if _, err := e.triage.Note(ctx, e.sess.Actor(), sub.TipUID, "内部：先找班主任"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.triage.Reply(ctx, e.sess.Actor(), sub.TipUID, "谢谢你告诉我们", nil); err != nil {
		t.Fatal(err)
	}
	lower := strings.ToLower(strings.ReplaceAll(sub.Receipt, "-", " "))
	_, rmsgs, err := e.intake.ThreadByReceipt(ctx, lower)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range rmsgs {
		got = append(got, string(m.Author)+":"+m.Body)
		if m.CounselorID != 0 {
			t.Errorf("reporter learns the counselor id %d", m.CounselorID)
		}
	}
	if want := "reporter:他们每天骂我|reporter:还把我的书扔了|counselor:谢谢你告诉我们"; strings.Join(got, "|") != want {
		t.Fatalf("reporter thread\n got %s\nwant %s", strings.Join(got, "|"), want)
	}
	// The reporter answers with the receipt; a message holding the receipt is refused.
	if _, err := e.intake.AddReporterMessage(ctx, hotline.ReporterRef{Receipt: sub.Receipt}, "好的，谢谢老师", nil); err != nil {
		t.Fatal(err)
	}
	_, err = e.intake.AddReporterMessage(ctx, hotline.ReporterRef{Receipt: sub.Receipt}, "我的码是 "+strings.ToLower(sub.Receipt), nil)
	if !errors.Is(err, hotline.ErrReceiptInText) {
		t.Fatalf("receipt in text: got %v, want ErrReceiptInText", err)
	}
	_, msgs, _ = e.triage.Thread(ctx, e.sess, sub.TipUID)
	if len(msgs) != 5 {
		t.Fatalf("thread has %d messages, want 5 (2 + note + reply + answer)", len(msgs))
	}
	// A typo is caught before any lookup; an unknown valid receipt is not found.
	typo := []byte(sub.Receipt)
	typo[0] = map[bool]byte{true: 'B', false: 'A'}[typo[0] == 'A']
	if _, _, err := e.intake.ThreadByReceipt(ctx, string(typo)); !errors.Is(err, hotline.ErrReceiptTypo) {
		t.Fatalf("typo: got %v", err)
	}
	other, _ := vault.NewReceipt()
	if _, _, err := e.intake.ThreadByReceipt(ctx, other); !errors.Is(err, hotline.ErrReceiptUnknown) {
		t.Fatalf("unknown receipt: got %v", err)
	}
	res, err := e.db.VerifyLedger(ctx)
	if err != nil || !res.OK() || res.Count < 5 {
		t.Fatalf("ledger: %+v %v", res, err)
	}
}

func TestSubmitTelegramChatThreads(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const chat = 987654321
	a, err := e.intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelTelegram, ChatID: chat, Texts: []string{"第一份"}})
	if err != nil {
		t.Fatal(err)
	}
	if a.Receipt != "" {
		t.Fatal("telegram reporters get no receipt")
	}
	b, err := e.intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelTelegram, ChatID: chat, Texts: []string{"第二份"}})
	if err != nil {
		t.Fatal(err)
	}
	if a.Alias == b.Alias {
		t.Fatalf("two tips share alias %v", a.Alias)
	}
	tips, err := e.intake.ChatTips(ctx, chat)
	if err != nil || len(tips) != 2 || tips[0].UID != b.TipUID {
		t.Fatalf("chat tips = %v, %v", tips, err)
	}
	// The chat's newest open tip receives messages unless another is chosen.
	r, err := e.intake.AddReporterMessage(ctx, hotline.ReporterRef{ChatID: chat}, "补充给第二份", nil)
	if err != nil || r.TipUID != b.TipUID {
		t.Fatalf("add = %+v, %v", r, err)
	}
	r, err = e.intake.AddReporterMessage(ctx, hotline.ReporterRef{ChatID: chat, TipUID: a.TipUID}, "补充给第一份", nil)
	if err != nil || r.TipUID != a.TipUID {
		t.Fatalf("add = %+v, %v", r, err)
	}
	// Another chat cannot write to these tips.
	if _, err := e.intake.AddReporterMessage(ctx, hotline.ReporterRef{ChatID: 111, TipUID: a.TipUID}, "x", nil); hotline.ErrorCode(err) != hotline.ENOTFOUND {
		t.Fatalf("foreign chat: got %v", err)
	}
	// A reply goes to the outbox, waiting.
	m, err := e.triage.Reply(ctx, e.sess.Actor(), a.TipUID, "老师收到了", nil)
	if err != nil || m.Delivery != hotline.DeliveryWaiting {
		t.Fatalf("reply = %+v, %v", m, err)
	}
	if n, _ := e.db.OutboxLen(ctx); n != 1 {
		t.Fatalf("outbox has %d, want 1", n)
	}
	// Forget unlinks; the tips stay with the school; later replies are undeliverable.
	if n, err := e.intake.Forget(ctx, chat); err != nil || n != 2 {
		t.Fatalf("forget = %d, %v", n, err)
	}
	if tips, _ := e.intake.ChatTips(ctx, chat); len(tips) != 0 {
		t.Fatalf("chat still has %d tips", len(tips))
	}
	if n, _ := e.db.OutboxLen(ctx); n != 0 {
		t.Fatalf("outbox kept %d rows for a forgotten chat", n)
	}
	if _, msgs, _ := e.triage.Thread(ctx, e.sess, a.TipUID); msgs[len(msgs)-1].Delivery != hotline.DeliveryUndeliverable {
		t.Fatalf("a reply waiting for a forgotten chat shows %q", msgs[len(msgs)-1].Delivery)
	}
	m, err = e.triage.Reply(ctx, e.sess.Actor(), a.TipUID, "还在吗", nil)
	if err != nil || m.Delivery != hotline.DeliveryUndeliverable {
		t.Fatalf("reply after forget = %+v, %v", m, err)
	}
	if _, err := e.triage.Tip(ctx, e.sess.Actor(), a.TipUID); err != nil {
		t.Fatalf("tip gone after forget: %v", err)
	}
}

func TestSubmitUrgentSetsFlagAndDeadline(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sub, err := e.intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelMailbox, Texts: []string{"他说放学后要带刀来找我"}})
	if err != nil {
		t.Fatal(err)
	}
	tip, _ := e.triage.Tip(ctx, e.sess.Actor(), sub.TipUID)
	if !sub.Urgent || !tip.Urgent {
		t.Fatal("not urgent")
	}
	if d := tip.AckDue.Sub(tip.CreatedAt); d != hotline.DefaultDeadlines.AckUrgent.D() {
		t.Fatalf("ack due after %v, want 1h", d)
	}
	// A later message can make a calm tip urgent.
	calm, _ := e.intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelWebchat, Texts: []string{"他们孤立我"}})
	res, err := e.intake.AddReporterMessage(ctx, hotline.ReporterRef{Receipt: calm.Receipt}, "我真的不想活了", nil)
	if err != nil || !res.Urgent {
		t.Fatalf("add = %+v, %v", res, err)
	}
	tip, _ = e.triage.Tip(ctx, e.sess.Actor(), calm.TipUID)
	if !tip.Urgent || tip.AckDue.Sub(tip.CreatedAt) > 2*hotline.DefaultDeadlines.AckUrgent.D() {
		t.Fatalf("tip after urgent message: urgent=%v ackDue=%v", tip.Urgent, tip.AckDue.Sub(tip.CreatedAt))
	}
}

func TestSubmitRejectsBadInputAndKeepsAccepted(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ok, err := e.intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelWebchat, Texts: []string{"第一条"}})
	if err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		name string
		sub  hotline.Submission
		code string
	}{
		{"invalid utf-8", hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelWebchat, Texts: []string{"ok", "\xff\xfe"}}, hotline.EINVALID},
		{"too long", hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelWebchat, Texts: []string{strings.Repeat("欺", intake.MaxMessageRunes+1)}}, hotline.ETOOLARGE},
		{"empty", hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelWebchat, Texts: []string{"  ", ""}}, hotline.EINVALID},
		{"unknown school", hotline.Submission{SchoolCode: "nope", Channel: hotline.ChannelWebchat, Texts: []string{"x"}}, hotline.ENOTFOUND},
		{"staff without actor", hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelStaff, Texts: []string{"x"}}, hotline.EFORBIDDEN},
		{"too many", hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelWebchat, Texts: make([]string, intake.MaxTexts+1)}, hotline.ETOOLARGE},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.intake.Submit(ctx, tt.sub)
			if got := hotline.ErrorCode(err); got != tt.code {
				t.Fatalf("got %v (%s), want %s", err, got, tt.code)
			}
			if msg := hotline.ErrorMessage(err, hotline.LangZH); msg == "" {
				t.Fatal("no safe message")
			}
		})
	}
	if _, err := e.intake.AddReporterMessage(ctx, hotline.ReporterRef{Receipt: ok.Receipt}, "\xc3\x28", nil); hotline.ErrorCode(err) != hotline.EINVALID {
		t.Fatalf("invalid utf-8 message: %v", err)
	}
	_, msgs, err := e.intake.ThreadByReceipt(ctx, ok.Receipt)
	if err != nil || len(msgs) != 1 || msgs[0].Body != "第一条" {
		t.Fatalf("accepted tip changed: %v %v", msgs, err)
	}
}

// jpegWithGPS builds a JPEG carrying an APP1 Exif segment with GPS tags and
// a canary, as a phone would.
func jpegWithGPS(t *testing.T, canary string) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := 0; x < 64; x++ {
		for y := 0; y < 48; y++ {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 5), 90, 255})
		}
	}
	var plain bytes.Buffer
	if err := jpeg.Encode(&plain, img, nil); err != nil {
		t.Fatal(err)
	}
	exif := append([]byte("Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08"), []byte("GPSLatitude=39.9042N;GPSLongitude=116.4074E;"+canary)...)
	seg := []byte{0xFF, 0xE1, byte((len(exif) + 2) >> 8), byte(len(exif) + 2)}
	b := plain.Bytes()
	out := append([]byte{}, b[:2]...) // SOI
	out = append(out, seg...)
	out = append(out, exif...)
	return append(out, b[2:]...)
}

func TestCleanPhotoDropsEXIFAndGPS(t *testing.T) {
	const canary = "CANARY-GPS-7f3a9"
	raw := jpegWithGPS(t, canary)
	if !bytes.Contains(raw, []byte(canary)) || !bytes.Contains(raw, []byte("Exif")) {
		t.Fatal("test image lacks its Exif segment")
	}
	if _, _, err := image.Decode(bytes.NewReader(raw)); err != nil {
		t.Fatalf("test image does not decode: %v", err)
	}
	p, err := photo.Clean(raw)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(p.Data, []byte(canary)) || bytes.Contains(p.Data, []byte("Exif")) || bytes.Contains(p.Data, []byte("GPS")) {
		t.Fatal("metadata survived re-encoding")
	}
	if img, _, err := image.Decode(bytes.NewReader(p.Data)); err != nil || img.Bounds().Dx() != 64 {
		t.Fatalf("cleaned photo: %v", err)
	}
	if _, err := photo.Clean([]byte("not an image")); !errors.Is(err, hotline.ErrPhotoInvalid) {
		t.Fatalf("garbage: %v", err)
	}
	// A header claiming 50,000 x 50,000 pixels is refused before decoding.
	bomb := pngHeader(50000, 50000)
	if _, err := photo.Clean(bomb); !errors.Is(err, hotline.ErrPhotoTooLarge) {
		t.Fatalf("pixel bomb: %v", err)
	}
	if _, err := photo.Clean(make([]byte, photo.MaxBytes+1)); !errors.Is(err, hotline.ErrPhotoTooLarge) {
		t.Fatalf("oversized: %v", err)
	}
}

// pngHeader is the start of a PNG with the given size: enough for
// DecodeConfig, nothing to decode.
func pngHeader(w, h uint32) []byte {
	ihdr := []byte("IHDR")
	ihdr = binary.BigEndian.AppendUint32(ihdr, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0)
	out := []byte("\x89PNG\r\n\x1a\n")
	out = binary.BigEndian.AppendUint32(out, 13)
	out = append(out, ihdr...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(ihdr))
}

func TestReporterPhotoIsSealedAndOpens(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p, err := photo.Clean(jpegWithGPS(t, "x"))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := e.intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelWebchat, Texts: []string{"看图"}, Photos: []hotline.Photo{*p}})
	if err != nil {
		t.Fatal(err)
	}
	_, msgs, err := e.triage.Thread(ctx, e.sess, sub.TipUID)
	if err != nil || len(msgs) != 2 || msgs[1].Photo == nil || !bytes.Equal(msgs[1].Photo.Data, p.Data) || msgs[1].Photo.Type != "image/jpeg" {
		t.Fatalf("photo thread: %v", err)
	}
	got, err := e.triage.Photo(ctx, e.sess, msgs[1].UID)
	if err != nil || !bytes.Equal(got.Data, p.Data) {
		t.Fatalf("photo: %v", err)
	}
}

func TestConversationStoreSealsState(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cs := dialog.NewSealedStore(e.db, e.vault)
	k := dialog.Key{Channel: hotline.ChannelTelegram, ChatID: 42}
	if _, err := cs.Load(ctx, k); hotline.ErrorCode(err) != hotline.ENOTFOUND {
		t.Fatalf("empty load: %v", err)
	}
	state := []byte(`{"draft":["他们打我 CANARY-9931"]}`)
	if err := cs.Save(ctx, k, state, dialog.Meta{}); err != nil {
		t.Fatal(err)
	}
	got, err := cs.Load(ctx, k)
	if err != nil || !bytes.Equal(got, state) {
		t.Fatalf("load = %q, %v", got, err)
	}
	web := dialog.Key{Channel: hotline.ChannelWebchat, Session: "tok"}
	if _, err := cs.Load(ctx, web); hotline.ErrorCode(err) != hotline.ENOTFOUND {
		t.Fatalf("other key sees the state: %v", err)
	}
	var raw [][]byte
	if err := e.db.Reader().SelectContext(ctx, &raw, `SELECT state_sealed FROM conversations`); err != nil {
		t.Fatal(err)
	}
	if len(raw) != 1 || bytes.Contains(raw[0], []byte("CANARY-9931")) {
		t.Fatal("state stored in the clear")
	}
	// Forget removes a chat's draft with its links.
	if _, err := e.intake.Forget(ctx, 42); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Load(ctx, k); hotline.ErrorCode(err) != hotline.ENOTFOUND {
		t.Fatalf("draft survived forget: %v", err)
	}
}

func TestThreadSinceOpensOnlyNewMessages(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sub, err := e.intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelWebchat, Texts: []string{"一", "二"}})
	if err != nil {
		t.Fatal(err)
	}
	_, all, err := e.intake.ThreadSince(ctx, sub.Receipt, "")
	if err != nil || len(all) != 2 {
		t.Fatalf("all: %d %v", len(all), err)
	}
	e.triage.Note(ctx, e.sess.Actor(), sub.TipUID, "内部")
	e.triage.Reply(ctx, e.sess.Actor(), sub.TipUID, "三", nil)
	_, since, err := e.intake.ThreadSince(ctx, sub.Receipt, all[1].UID)
	if err != nil || len(since) != 1 || since[0].Body != "三" {
		t.Fatalf("since: %+v %v", since, err)
	}
	// Another tip's message uid does not leak that tip's thread.
	other, _ := e.intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelWebchat, Texts: []string{"别人的"}})
	_, otherMsgs, _ := e.intake.ThreadSince(ctx, other.Receipt, "")
	_, got, err := e.intake.ThreadSince(ctx, sub.Receipt, otherMsgs[0].UID)
	if err != nil || len(got) != 3 {
		t.Fatalf("foreign after uid: %d %v", len(got), err)
	}
	for _, m := range got {
		if m.Body == "别人的" {
			t.Fatal("another reporter's message in the thread")
		}
	}
}

func TestTipStatusOpensNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sub, err := e.intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelMailbox, Texts: []string{"有人抢我的饭卡"}})
	if err != nil {
		t.Fatal(err)
	}
	tip, err := e.intake.TipStatus(ctx, strings.ToLower(sub.Receipt))
	if err != nil {
		t.Fatal(err)
	}
	if tip.UID != sub.TipUID || tip.Status != hotline.StatusNew || tip.Alias != sub.Alias {
		t.Fatalf("TipStatus: got %+v, want tip %s, new, alias %v", tip, sub.TipUID, sub.Alias)
	}
	if _, err := e.intake.TipStatus(ctx, "7KQ2M-TYPO"); !errors.Is(err, hotline.ErrReceiptTypo) {
		t.Errorf("typo: got %v, want ErrReceiptTypo", err)
	}
	other, err := vault.NewReceipt()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.intake.TipStatus(ctx, other); !errors.Is(err, hotline.ErrReceiptUnknown) {
		t.Errorf("unknown: got %v, want ErrReceiptUnknown", err)
	}
}
