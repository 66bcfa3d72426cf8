package telegramsim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// startT starts a simulator that stops at the end of the test.
func startT(t *testing.T, cfg Config) *Server {
	t.Helper()
	s, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// newBot creates a go-telegram bot against srv with a short poll timeout,
// its own default handler (never the logging one) and no debug mode.
func newBot(t *testing.T, srv *Server, h bot.HandlerFunc, opts ...bot.Option) *bot.Bot {
	t.Helper()
	if h == nil {
		h = func(context.Context, *bot.Bot, *models.Update) {}
	}
	all := append([]bot.Option{
		bot.WithServerURL(srv.URL()),
		bot.WithDefaultHandler(h),
		bot.WithHTTPClient(2*time.Second, &http.Client{Timeout: 5 * time.Second}),
		bot.WithErrorsHandler(func(error) {}),
	}, opts...)
	b, err := bot.New(srv.Token(), all...)
	if err != nil {
		t.Fatalf("bot.New: %v", err)
	}
	return b
}

// startPolling runs b.Start until the test ends.
func startPolling(t *testing.T, b *bot.Bot) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.Start(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestGetMe(t *testing.T) {
	srv := startT(t, Config{BotUsername: "demo_bot"})
	b := newBot(t, srv, nil)
	me, err := b.GetMe(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if me.Username != "demo_bot" || !me.IsBot || me.ID != b.ID() {
		t.Fatalf("getMe = %+v (bot id %d)", me, b.ID())
	}
	if n := srv.Calls("getMe"); n != 2 {
		t.Fatalf("getMe calls = %d, want 2", n)
	}
	if _, err := bot.New("1:wrong", bot.WithServerURL(srv.URL()), bot.WithDefaultHandler(func(context.Context, *bot.Bot, *models.Update) {})); !errors.Is(err, bot.ErrorUnauthorized) {
		t.Fatalf("wrong token: %v", err)
	}
}

func TestTextAndCommand(t *testing.T) {
	srv := startT(t, Config{})
	got := make(chan *models.Update, 10)
	// Handlers run in goroutines by default; keep update order for this test.
	b := newBot(t, srv, func(_ context.Context, _ *bot.Bot, u *models.Update) { got <- u }, bot.WithNotAsyncHandlers())
	startPolling(t, b)

	u := srv.NewUser(UserOptions{FirstName: "小明", Username: "xm", LanguageCode: "zh-hans"})
	u.SendText("hello 你好")
	u.SendCommand("/start demo")

	upd := <-got
	if upd.Message == nil || upd.Message.Text != "hello 你好" || upd.Message.Chat.ID != u.ChatID() {
		t.Fatalf("text update = %+v", upd.Message)
	}
	if upd.Message.From.LanguageCode != "zh-hans" || upd.Message.From.FirstName != "小明" || upd.Message.From.Username != "xm" {
		t.Fatalf("from = %+v", upd.Message.From)
	}
	if len(upd.Message.Entities) != 0 {
		t.Fatalf("plain text has entities %+v", upd.Message.Entities)
	}
	upd = <-got
	e := upd.Message.Entities
	if upd.Message.Text != "/start demo" || len(e) != 1 || e[0].Type != models.MessageEntityTypeBotCommand || e[0].Offset != 0 || e[0].Length != 6 {
		t.Fatalf("command update = %+v", upd.Message)
	}
	if err := srv.WaitUpdatesConsumed(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}

func TestButtonCallbackAndEdit(t *testing.T) {
	srv := startT(t, Config{})
	b := newBot(t, srv, func(ctx context.Context, b *bot.Bot, u *models.Update) {
		switch {
		case u.Message != nil:
			_, _ = b.SendMessage(ctx, &bot.SendMessageParams{
				ChatID: u.Message.Chat.ID, Text: "<b>Report?</b>", ParseMode: models.ParseModeHTML,
				ReplyMarkup: &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{
					{{Text: "Yes", CallbackData: "r:yes"}, {Text: "No", CallbackData: "r:no"}},
					{{Text: "Help", URL: "https://example.org"}},
				}},
			})
		case u.CallbackQuery != nil:
			q := u.CallbackQuery
			_, _ = b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: q.ID, Text: "got " + q.Data})
			m := q.Message.Message
			_, _ = b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: m.Chat.ID, MessageID: m.ID, Text: "chosen " + q.Data + " on " + m.Text})
		}
	})
	startPolling(t, b)
	u := srv.NewUser(UserOptions{})
	u.SendCommand("/menu")
	m, err := u.NextMessage(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if m.Text != "<b>Report?</b>" || m.PlainText != "Report?" || m.ParseMode != "HTML" || len(m.Keyboard) != 2 || m.Keyboard[0][1].CallbackData != "r:no" || m.Keyboard[1][0].URL == "" {
		t.Fatalf("sent message = %+v", m)
	}
	if _, err := u.Press("Help"); err == nil {
		t.Fatal("pressing a URL button should fail")
	}
	upd, err := u.Press("Yes")
	if err != nil {
		t.Fatal(err)
	}
	ans, err := srv.WaitCallbackAnswer(ctxT(t), upd.CallbackQuery.ID)
	if err != nil || ans.Text != "got r:yes" {
		t.Fatalf("answer = %+v, %v", ans, err)
	}
	edited, err := srv.WaitMessage(ctxT(t), u.ChatID(), func(m SentMessage) bool { return m.Edits > 0 })
	if err != nil || edited.Text != "chosen r:yes on Report?" || edited.Keyboard != nil || edited.MessageID != m.MessageID {
		t.Fatalf("edited = %+v, %v", edited, err)
	}
	if _, ok := srv.LastKeyboard(u.ChatID()); ok {
		t.Fatal("keyboard should be gone after the edit")
	}
}

func TestPhotoGetFileDownload(t *testing.T) {
	srv := startT(t, Config{})
	img := image.NewRGBA(image.Rect(0, 0, 320, 200))
	img.Set(1, 1, color.RGBA{R: 255, A: 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	type result struct {
		data []byte
		w, h int
		err  error
	}
	res := make(chan result, 1)
	b := newBot(t, srv, func(ctx context.Context, b *bot.Bot, u *models.Update) {
		ph := u.Message.Photo
		if len(ph) == 0 {
			res <- result{err: errors.New("no photo")}
			return
		}
		big := ph[len(ph)-1]
		f, err := b.GetFile(ctx, &bot.GetFileParams{FileID: big.FileID})
		if err != nil {
			res <- result{err: err}
			return
		}
		resp, err := http.Get(b.FileDownloadLink(f))
		if err != nil {
			res <- result{err: err}
			return
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		res <- result{data, big.Width, big.Height, err}
	})
	startPolling(t, b)
	u := srv.NewUser(UserOptions{})
	u.SendPhotoFile(buf.Bytes(), "pic.png", "evidence")
	r := <-res
	if r.err != nil || !bytes.Equal(r.data, buf.Bytes()) || r.w != 320 || r.h != 200 {
		t.Fatalf("download: %v, %d bytes, %dx%d", r.err, len(r.data), r.w, r.h)
	}

	// The bot can send a photo back; it is recorded.
	msg, err := b.SendPhoto(ctxT(t), &bot.SendPhotoParams{ChatID: u.ChatID(), Caption: "qr",
		Photo: &models.InputFileUpload{Filename: "qr.png", Data: bytes.NewReader(buf.Bytes())}})
	if err != nil || len(msg.Photo) == 0 {
		t.Fatalf("sendPhoto: %v %+v", err, msg)
	}
	ms := srv.Messages(u.ChatID())
	if len(ms) != 1 || ms[0].Method != "sendPhoto" || ms[0].Caption != "qr" {
		t.Fatalf("messages = %+v", ms)
	}
	if data, ok := srv.FileData(ms[0].PhotoFileID); !ok || !bytes.Equal(data, buf.Bytes()) {
		t.Fatal("uploaded photo not stored")
	}
}

func TestBlockedAndValidation(t *testing.T) {
	srv := startT(t, Config{})
	b := newBot(t, srv, nil)
	ctx := ctxT(t)
	u := srv.NewUser(UserOptions{})
	u.BlockBot()
	_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: u.ChatID(), Text: "hi"})
	if !errors.Is(err, bot.ErrorForbidden) || !strings.Contains(err.Error(), "bot was blocked by the user") {
		t.Fatalf("blocked: %v", err)
	}
	u.UnblockBot()
	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: u.ChatID(), Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	cases := []*bot.SendMessageParams{
		{ChatID: 42, Text: "x"},
		{ChatID: u.ChatID(), Text: ""},
		{ChatID: u.ChatID(), Text: "<b>unclosed", ParseMode: models.ParseModeHTML},
		{ChatID: u.ChatID(), Text: "a < b", ParseMode: models.ParseModeHTML},
		{ChatID: u.ChatID(), Text: strings.Repeat("x", 4097)},
		{ChatID: u.ChatID(), Text: "x", ReplyMarkup: &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "a", CallbackData: strings.Repeat("d", 65)}}}}},
	}
	for i, p := range cases {
		if _, err := b.SendMessage(ctx, p); !errors.Is(err, bot.ErrorBadRequest) {
			t.Errorf("case %d: err = %v, want bad request", i, err)
		}
	}
	if n := len(srv.Messages(u.ChatID())); n != 1 {
		t.Fatalf("recorded %d messages, want 1", n)
	}
	if _, err := b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: "nope"}); !errors.Is(err, bot.ErrorBadRequest) {
		t.Fatalf("unknown query: %v", err)
	}
}

func TestSetMyCommands(t *testing.T) {
	srv := startT(t, Config{})
	b := newBot(t, srv, nil)
	ctx := ctxT(t)
	for _, lang := range []string{"", "zh"} {
		_, err := b.SetMyCommands(ctx, &bot.SetMyCommandsParams{LanguageCode: lang, Commands: []models.BotCommand{{Command: "start", Description: "start " + lang}, {Command: "report", Description: "report"}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	if c := srv.Commands("zh"); len(c) != 2 || c[0].Description != "start zh" {
		t.Fatalf("zh commands = %+v", c)
	}
	if c := srv.Commands(""); len(c) != 2 || c[0].Description != "start " {
		t.Fatalf("default commands = %+v", c)
	}
	if _, err := b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: []models.BotCommand{{Command: "Bad-Cmd", Description: "x"}}}); !errors.Is(err, bot.ErrorBadRequest) {
		t.Fatalf("invalid command: %v", err)
	}
}

func TestInjectedFaultKinds(t *testing.T) {
	srv := startT(t, Config{})
	b := newBot(t, srv, nil)
	ctx := ctxT(t)
	u := srv.NewUser(UserOptions{})
	srv.SetFaults(Faults{RetryAfter: 3, SlowDelay: 150 * time.Millisecond})
	srv.InjectNext("sendMessage", FaultTooManyRequests, FaultServerError, FaultDrop, FaultAnswerLost, FaultSlow)
	send := func(text string) error {
		_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: u.ChatID(), Text: text})
		return err
	}
	var tmr *bot.TooManyRequestsError
	if err := send("1"); !errors.As(err, &tmr) || tmr.RetryAfter != 3 {
		t.Fatalf("429: %v", err)
	}
	if err := send("2"); err == nil || !strings.Contains(err.Error(), "500") {
		t.Fatalf("500: %v", err)
	}
	if err := send("3"); err == nil {
		t.Fatal("drop: no error")
	}
	if err := send("4"); err == nil {
		t.Fatal("answer lost: no error")
	}
	start := time.Now()
	if err := send("5"); err != nil || time.Since(start) < 150*time.Millisecond {
		t.Fatalf("slow: %v after %v", err, time.Since(start))
	}
	ms := srv.Messages(u.ChatID())
	if len(ms) != 2 || ms[0].Text != "4" || !ms[0].AnswerLost || ms[1].Text != "5" || ms[1].AnswerLost {
		t.Fatalf("recorded = %+v", ms)
	}
	fc := srv.FaultCounts()
	for _, k := range AllFaultKinds {
		if fc[k] != 1 {
			t.Fatalf("fault counts = %v", fc)
		}
	}
	if srv.Calls("sendMessage") != 5 {
		t.Fatalf("calls = %v", srv.CallCounts())
	}
}

func TestRandomFaultsDeterministic(t *testing.T) {
	run := func() ([]string, map[FaultKind]int64) {
		srv := startT(t, Config{})
		b := newBot(t, srv, nil)
		u := srv.NewUser(UserOptions{})
		srv.SetFaults(Faults{Rate: 0.3, Methods: []string{"sendmessage"}, Kinds: []FaultKind{FaultTooManyRequests, FaultServerError, FaultDrop, FaultAnswerLost}, Seed: 7})
		var out []string
		for i := range 200 {
			_, err := b.SendMessage(ctxT(t), &bot.SendMessageParams{ChatID: u.ChatID(), Text: fmt.Sprint(i)})
			out = append(out, fmt.Sprint(err == nil))
		}
		// getMe is not in Methods: never faulted.
		for range 20 {
			if _, err := b.GetMe(ctxT(t)); err != nil {
				t.Fatal(err)
			}
		}
		return out, srv.FaultCounts()
	}
	a, fa := run()
	b, fb := run()
	if strings.Join(a, ",") != strings.Join(b, ",") || fmt.Sprint(fa) != fmt.Sprint(fb) {
		t.Fatal("same seed, different outcomes")
	}
	var total int64
	for _, n := range fa {
		total += n
	}
	if total < 30 || total > 90 {
		t.Fatalf("faults = %v, total %d of 200 at rate 0.3", fa, total)
	}
}

func TestPollingSurvivesFaults(t *testing.T) {
	srv := startT(t, Config{})
	srv.SetFaults(Faults{Rate: 0.3, Methods: []string{"getUpdates"}, Kinds: []FaultKind{FaultServerError, FaultDrop, FaultAnswerLost}, Seed: 1})
	var mu sync.Mutex
	seen := map[string]int{}
	b := newBot(t, srv, func(_ context.Context, _ *bot.Bot, u *models.Update) {
		mu.Lock()
		seen[u.Message.Text]++
		mu.Unlock()
	})
	startPolling(t, b)
	u := srv.NewUser(UserOptions{})
	for i := range 30 {
		u.SendText(fmt.Sprint(i))
		time.Sleep(5 * time.Millisecond)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n == 30 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("saw %d distinct updates, faults %v", n, srv.FaultCounts())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestWebhook(t *testing.T) {
	srv := startT(t, Config{})
	got := make(chan *models.Update, 10)
	b := newBot(t, srv, func(_ context.Context, _ *bot.Bot, u *models.Update) { got <- u }, bot.WithWebhookSecretToken("s3cret"))
	var bad atomic.Int64
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(SecretHeader) != "s3cret" {
			bad.Add(1)
		}
		b.WebhookHandler()(w, r)
	}))
	t.Cleanup(hook.Close)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.StartWebhook(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	if _, err := b.SetWebhook(ctxT(t), &bot.SetWebhookParams{URL: hook.URL, SecretToken: "s3cret"}); err != nil {
		t.Fatal(err)
	}
	if wh := srv.Webhook(); wh.URL != hook.URL || wh.SecretToken != "s3cret" {
		t.Fatalf("webhook = %+v", wh)
	}
	info, err := b.GetWebhookInfo(ctxT(t))
	if err != nil || info.URL != hook.URL {
		t.Fatalf("getWebhookInfo = %+v, %v", info, err)
	}
	u := srv.NewUser(UserOptions{})
	u.SendCommand("/start")
	if upd := <-got; upd.Message.Text != "/start" {
		t.Fatalf("webhook update = %+v", upd.Message)
	}
	// Manual post helper: re-post an update that was already delivered.
	upd := u.SendText("again by hand")
	<-got // delivered automatically
	status, err := srv.PostUpdate(ctxT(t), hook.URL, "s3cret", upd)
	if err != nil || status != 200 {
		t.Fatalf("PostUpdate: %d %v", status, err)
	}
	if m := <-got; m.Message.Text != "again by hand" {
		t.Fatalf("posted update = %+v", m.Message)
	}
	if bad.Load() != 0 {
		t.Fatal("missing secret header")
	}
	if err := srv.WaitUpdatesConsumed(ctxT(t)); err != nil || srv.WebhookDeliveries() != 2 {
		t.Fatalf("deliveries = %d, %v", srv.WebhookDeliveries(), err)
	}
	// getUpdates is refused while a webhook is set.
	resp, err := http.Post(srv.URL()+"/bot"+srv.Token()+"/getUpdates", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 409 {
		t.Fatalf("getUpdates with webhook: %d", resp.StatusCode)
	}
	if _, err := b.DeleteWebhook(ctxT(t), &bot.DeleteWebhookParams{}); err != nil || srv.Webhook().URL != "" {
		t.Fatalf("deleteWebhook: %v", err)
	}
}

type rawResp struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
}

func post(t *testing.T, u, ct, body string) (int, rawResp) {
	t.Helper()
	resp, err := http.Post(u, ct, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r rawResp
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, r
}

func TestRawEncodingsAndUnknownMethod(t *testing.T) {
	srv := startT(t, Config{})
	u := srv.NewUser(UserOptions{})
	base := srv.URL() + "/bot" + srv.Token() + "/"
	code, r := post(t, base+"sendMessage", "application/x-www-form-urlencoded",
		url.Values{"chat_id": {fmt.Sprint(u.ChatID())}, "text": {"form"}}.Encode())
	if code != 200 || !r.OK {
		t.Fatalf("form: %d %+v", code, r)
	}
	code, r = post(t, base+"SENDMESSAGE", "application/json",
		fmt.Sprintf(`{"chat_id":%d,"text":"json","reply_markup":{"inline_keyboard":[[{"text":"A","callback_data":"a"}]]}}`, u.ChatID()))
	if code != 200 || !r.OK {
		t.Fatalf("json: %d %+v", code, r)
	}
	var m Message
	if err := json.Unmarshal(r.Result, &m); err != nil || m.Text != "json" || m.MessageID != 2 || m.From == nil || !m.From.IsBot {
		t.Fatalf("result = %s", r.Result)
	}
	if ms := u.Messages(); len(ms) != 2 || ms[1].Keyboard[0][0].CallbackData != "a" {
		t.Fatalf("messages = %+v", ms)
	}
	code, r = post(t, base+"noSuchMethod", "application/json", `{}`)
	if code != 404 || r.OK || r.ErrorCode != 404 || r.Description != "Not Found" {
		t.Fatalf("unknown: %d %+v", code, r)
	}
	if srv.Calls("sendMessage") != 2 || srv.CallCounts()["noSuchMethod"] != 1 {
		t.Fatalf("calls = %v", srv.CallCounts())
	}
}

func TestLongPoll(t *testing.T) {
	srv := startT(t, Config{})
	base := srv.URL() + "/bot" + srv.Token() + "/getUpdates"
	u := srv.NewUser(UserOptions{})
	go func() {
		time.Sleep(100 * time.Millisecond)
		u.SendText("late")
	}()
	start := time.Now()
	_, r := post(t, base, "application/json", `{"timeout":10}`)
	var upds []Update
	if err := json.Unmarshal(r.Result, &upds); err != nil || len(upds) != 1 || time.Since(start) > 5*time.Second {
		t.Fatalf("long poll: %s after %v", r.Result, time.Since(start))
	}
	// Offset confirms.
	_, r = post(t, base, "application/json", fmt.Sprintf(`{"offset":%d}`, upds[0].UpdateID+1))
	if string(r.Result) != "[]" || srv.PendingUpdates() != 0 {
		t.Fatalf("after confirm: %s", r.Result)
	}
	// Short timeout passes.
	start = time.Now()
	_, r = post(t, base, "application/json", `{"timeout":1}`)
	if el := time.Since(start); string(r.Result) != "[]" || el < 900*time.Millisecond {
		t.Fatalf("timeout: %s after %v", r.Result, el)
	}
	// Close ends a pending poll at once.
	done := make(chan time.Duration, 1)
	go func() {
		start := time.Now()
		resp, err := http.Post(base, "application/json", strings.NewReader(`{"timeout":30}`))
		if err == nil {
			resp.Body.Close()
		}
		done <- time.Since(start)
	}()
	time.Sleep(100 * time.Millisecond)
	srv.Close()
	if el := <-done; el > 3*time.Second {
		t.Fatalf("close took %v", el)
	}
}

func TestManyUsersConcurrently(t *testing.T) {
	srv := startT(t, Config{})
	b := newBot(t, srv, func(ctx context.Context, b *bot.Bot, u *models.Update) {
		if u.Message != nil {
			_, _ = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: u.Message.Chat.ID, Text: "echo " + u.Message.Text})
		}
	}, bot.WithWorkers(8))
	startPolling(t, b)
	const users, each = 100, 20
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, users)
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := srv.NewUser(UserOptions{LanguageCode: "zh-hans"})
			for j := range each {
				u.SendText(fmt.Sprintf("%d-%d", i, j))
			}
			ms, err := srv.WaitMessages(u.ChatID(), each, 20*time.Second)
			if err != nil {
				errs <- err
				return
			}
			seen := map[string]bool{}
			for _, m := range ms {
				seen[m.Text] = true
			}
			if len(seen) != each {
				errs <- fmt.Errorf("user %d: %d distinct replies", i, len(seen))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	el := time.Since(start)
	t.Logf("%d updates round-tripped in %v (%.0f/s)", users*each, el, float64(users*each)/el.Seconds())
	if all := srv.AllMessages(); len(all) != users*each || all[0].Seq != 1 {
		t.Fatalf("all messages = %d", len(all))
	}
}

// getUpdatesRaw polls once with offset and returns the update ids and the
// edited messages' texts.
func getUpdatesRaw(t *testing.T, srv *Server, offset int64) ([]int64, []string) {
	t.Helper()
	resp, err := http.PostForm(srv.URL()+"/bot"+srv.Token()+"/getUpdates", url.Values{"offset": {fmt.Sprint(offset)}, "timeout": {"0"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans struct {
		OK     bool     `json:"ok"`
		Result []Update `json:"result"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || !ans.OK {
		t.Fatalf("getUpdates: %v %+v", err, ans)
	}
	var ids []int64
	var edits []string
	for _, u := range ans.Result {
		ids = append(ids, u.UpdateID)
		if u.EditedMessage != nil {
			edits = append(edits, u.EditedMessage.Text)
		}
	}
	return ids, edits
}

// Updates stay until an offset confirms them: a poller that "crashes"
// without confirming (a new one asks from offset 0) gets them again, and
// only those below the confirmed offset are gone. Edits come as
// edited_message updates of the same message.
func TestUnconfirmedUpdatesRedeliveredAndEdits(t *testing.T) {
	srv := startT(t, Config{})
	u := srv.NewUser(UserOptions{})
	first := u.SendText("one")
	u.SendText("two")
	edit := u.EditText(first, "one, corrected")
	if edit.EditedMessage == nil || edit.EditedMessage.MessageID != first.Message.MessageID || edit.EditedMessage.EditDate == 0 {
		t.Fatalf("edit update: %+v", edit.EditedMessage)
	}
	ids, edits := getUpdatesRaw(t, srv, 0)
	if len(ids) != 3 || fmt.Sprint(edits) != "[one, corrected]" {
		t.Fatalf("first poll: ids %v edits %v, want 3 updates and the edit", ids, edits)
	}
	// A restarted poller (offset 0) gets every unconfirmed update again.
	if again, _ := getUpdatesRaw(t, srv, 0); fmt.Sprint(again) != fmt.Sprint(ids) {
		t.Fatalf("after a restart: got %v, want %v again", again, ids)
	}
	// Confirming the first drops only it.
	if rest, _ := getUpdatesRaw(t, srv, ids[1]); fmt.Sprint(rest) != fmt.Sprint(ids[1:]) {
		t.Fatalf("after confirming the first: got %v, want %v", rest, ids[1:])
	}
	if again, _ := getUpdatesRaw(t, srv, 0); fmt.Sprint(again) != fmt.Sprint(ids[1:]) {
		t.Fatalf("restart after a confirmation: got %v, want %v", again, ids[1:])
	}
	if n := srv.PendingUpdates(); n != 2 {
		t.Fatalf("pending: got %d, want 2", n)
	}
	// While confirmations are kept from taking effect, nothing is dropped.
	srv.SetKeepUpdates(true)
	getUpdatesRaw(t, srv, ids[2]+1)
	if again, _ := getUpdatesRaw(t, srv, 0); fmt.Sprint(again) != fmt.Sprint(ids[1:]) {
		t.Fatalf("with confirmations kept: got %v, want %v", again, ids[1:])
	}
	srv.SetKeepUpdates(false)
	if rest, _ := getUpdatesRaw(t, srv, ids[2]+1); len(rest) != 0 || srv.PendingUpdates() != 0 {
		t.Fatalf("after confirming all: got %v, %d pending", rest, srv.PendingUpdates())
	}
}
