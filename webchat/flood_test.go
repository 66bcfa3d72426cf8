package webchat

import (
	"bytes"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"hotline/internal/testsupport"
	"hotline/internal/vault"
)

// The clients of the flood tests, as a trusted proxy on 127.0.0.1 names
// them in X-Forwarded-For.
const (
	flooder   = "203.0.113.66"
	submitter = "198.51.100.10"
	reader    = "198.51.100.20"
)

// syncBuffer collects log output written from many goroutines.
type syncBuffer = testsupport.SyncBuffer

// floodEnv is a web chat behind a trusted proxy (the test itself), logging
// everything at debug level into logs.
func floodEnv(t *testing.T, logs *syncBuffer) *env {
	t.Helper()
	return newEnv(t, func(s *Server) {
		s.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		s.ClientIP.Trusted = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	})
}

type answer struct {
	code  int
	body  string
	retry string
	took  time.Duration
	err   error
}

// postAs posts a form as client; safe to call from any goroutine.
func (e *env) postAs(client, path string, fields map[string]string) answer {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", e.ts.URL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", e.ts.URL)
	req.Header.Set("X-Forwarded-For", client)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{err: err}
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return answer{code: resp.StatusCode, body: string(b), retry: resp.Header.Get("Retry-After"), took: time.Since(start)}
}

func wrongReceipts(t *testing.T, n int) []string {
	t.Helper()
	out := make([]string, n)
	for i := range out {
		r, err := vault.NewReceipt()
		if err != nil {
			t.Fatal(err)
		}
		out[i] = r
	}
	return out
}

// TestReceiptGuessFloodStarvesNoOne: one client posts wrong receipts to
// /m/status and /m/status/reply at 100 a second for two seconds. Another
// client's submissions and a reporter's reads with a valid receipt all go
// through, promptly; the flooder gets 429 with Retry-After and a message
// in its language, and its guesses stop reaching the database. No address
// appears in the logs.
func TestReceiptGuessFloodStarvesNoOne(t *testing.T) {
	var logs syncBuffer
	e := floodEnv(t, &logs)
	statusTok := e.srv.formToken(formStatus, "")
	replyTok := e.srv.formToken(formReply, "")
	// Mailbox tokens are single-use: each submission gets a form of its own.
	mailTok := func() string { return e.srv.formToken(formMailbox, "no3") }

	sub := e.postAs(reader, "/m/no3", map[string]string{"token": mailTok(), "text": "我的报告：储物柜被撬"})
	m := receiptRE.FindStringSubmatch(sub.body)
	if sub.code != http.StatusOK || m == nil {
		t.Fatalf("reader's submission: %d %v", sub.code, sub.err)
	}
	receipt := m[1]
	opensBefore := e.reporters.opens()

	const rate, seconds = 100, 2
	guesses := wrongReceipts(t, rate*seconds)
	var (
		mu        sync.Mutex
		flood     []answer
		wg        sync.WaitGroup
		floodDone = make(chan struct{})
	)
	go func() {
		defer close(floodDone)
		tick := time.NewTicker(time.Second / rate)
		defer tick.Stop()
		for i, g := range guesses {
			<-tick.C
			path, tok := "/m/status", statusTok
			if i%2 == 1 {
				path, tok = "/m/status/reply", replyTok
			}
			lang := "zh"
			if i%4 >= 2 {
				lang = "en"
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				a := e.postAs(flooder, path, map[string]string{"token": tok, "receipt": g, "text": "x", "lang": lang})
				mu.Lock()
				flood = append(flood, a)
				mu.Unlock()
			}()
		}
		wg.Wait()
	}()

	// While the flood runs: another client submits, and the reporter with
	// a valid receipt reads their thread, five times each.
	var slowest time.Duration
	time.Sleep(300 * time.Millisecond) // the flood has spent its guesses
	for i := range 5 {
		a := e.postAs(submitter, "/m/no3", map[string]string{"token": mailTok(), "text": "第 " + strconv.Itoa(i) + " 份：有人在操场被推倒"})
		if a.code != http.StatusOK || !receiptRE.MatchString(a.body) {
			t.Fatalf("submission %d during the flood: %d %v", i, a.code, a.err)
		}
		r := e.postAs(reader, "/m/status", map[string]string{"token": statusTok, "receipt": receipt})
		if r.code != http.StatusOK || !strings.Contains(r.body, "储物柜被撬") {
			t.Fatalf("valid receipt's read %d during the flood: %d %v", i, r.code, r.err)
		}
		slowest = max(slowest, a.took, r.took)
		time.Sleep(200 * time.Millisecond)
	}
	<-floodDone
	t.Logf("slowest submission or read during the flood: %v", slowest)
	// Starving would show as a refusal (checked above) or as waiting behind
	// the flood for its buckets to refill (seconds); the bound is loose so
	// that a loaded machine does not fail it. The figure is logged above.
	if slowest > 5*time.Second {
		t.Errorf("a submission or read took %v during the flood: it waited behind the flood", slowest)
	}

	var refused int
	for _, a := range flood {
		if a.err != nil {
			t.Fatalf("flood request: %v", a.err)
		}
		if a.code != http.StatusTooManyRequests {
			continue
		}
		refused++
		if n, err := strconv.Atoi(a.retry); err != nil || n < 1 {
			t.Fatalf("429 without a Retry-After in seconds: %q", a.retry)
		}
		if !strings.Contains(a.body, "输错回执码的次数太多") && !strings.Contains(a.body, "Too many wrong receipt codes") {
			t.Fatalf("429 without the guessing message")
		}
	}
	guessesLeft := DefaultLimits.GuessBurst + int(DefaultLimits.GuessRate*seconds) + 2
	if refused < len(flood)-guessesLeft {
		t.Fatalf("%d of %d wrong receipts refused, want all but about %d", refused, len(flood), guessesLeft)
	}
	// Each reader's read opened the thread once; the flood's lookups stop
	// at its guesses (a refused reply still shows no thread).
	if opened := e.reporters.opens() - opensBefore - 5; opened > guessesLeft {
		t.Fatalf("the flood reached the database %d times, want at most %d", opened, guessesLeft)
	}
	var sawEN, sawZH bool
	for _, a := range flood {
		sawEN = sawEN || strings.Contains(a.body, "please try again in")
		sawZH = sawZH || strings.Contains(a.body, "分钟后再试") || strings.Contains(a.body, "秒后再试")
	}
	if !sawEN || !sawZH {
		t.Fatalf("refusals in English %v, in Chinese %v; want both, with the wait", sawEN, sawZH)
	}
	for _, ip := range []string{flooder, submitter, reader, "127.0.0.1"} {
		if strings.Contains(logs.String(), ip) {
			t.Fatalf("the logs hold the address %s", ip)
		}
	}
}

// TestWebsocketGuessFlood: the same over the web chat. A client trying
// receipts through "resume" is told to wait once its guesses are spent,
// without a lookup; another client's resume with a valid receipt opens the
// thread at once, and the guesser's own submissions (a new report, by the
// mailbox) still go through.
func TestWebsocketGuessFlood(t *testing.T) {
	var logs syncBuffer
	e := floodEnv(t, &logs)
	mailTok := func() string { return e.srv.formToken(formMailbox, "no3") } // single-use
	sub := e.postAs(reader, "/m/no3", map[string]string{"token": mailTok(), "text": "网页聊天里的报告"})
	m := receiptRE.FindStringSubmatch(sub.body)
	if m == nil {
		t.Fatalf("submission: %d", sub.code)
	}
	dialAs := func(client string) *wsClient {
		u := "ws" + strings.TrimPrefix(e.ts.URL, "http") + "/webchat/ws"
		ws, resp, err := websocket.DefaultDialer.Dial(u, http.Header{"Origin": {e.ts.URL}, "X-Forwarded-For": {client}})
		if err != nil {
			t.Fatalf("dial: %v (%v)", err, resp)
		}
		t.Cleanup(func() { ws.Close() })
		c := &wsClient{t: t, ws: ws, session: newToken()}
		c.send(map[string]any{"v": 1, "type": "hello", "session": c.session, "school": "no3", "lang": "en"})
		if f := c.read(); f.Type != "welcome" {
			t.Fatalf("first frame %+v", f)
		}
		return c
	}
	g := dialAs(flooder)
	opensBefore := e.reporters.opens()
	var limited outFrame
	for i, r := range wrongReceipts(t, 40) {
		id := "g" + strconv.Itoa(i)
		g.send(map[string]any{"v": 1, "type": "resume", "id": id, "receipt": r})
		f := g.until(func(f outFrame) bool { return f.ID == id && f.Type == "error" })
		if last := f[len(f)-1]; last.Code == codeGuesses {
			limited = last
			break
		}
	}
	if limited.Code == "" {
		t.Fatal("40 wrong receipts, none refused for guessing")
	}
	if !strings.Contains(limited.Text, "Too many wrong receipt codes") || !strings.Contains(limited.Text, "try again in ") {
		t.Fatalf("refusal text %q, want the guessing message with a wait", limited.Text)
	}
	if n := e.reporters.opens() - opensBefore; n > DefaultLimits.GuessBurst+1 {
		t.Fatalf("%d lookups for the guesser, want at most %d", n, DefaultLimits.GuessBurst+1)
	}
	// A text frame carrying an unopened receipt is refused too: the
	// engine's answer to it would tell whether the receipt exists.
	g.send(map[string]any{"v": 1, "type": "text", "id": "t1", "text": "hi", "receipt": wrongReceipts(t, 1)[0]})
	if f := g.until(func(f outFrame) bool { return f.ID == "t1" }); f[len(f)-1].Code != codeGuesses {
		t.Fatalf("text with a guessed receipt: %+v", f[len(f)-1])
	}

	r := dialAs(reader)
	start := time.Now()
	r.send(map[string]any{"v": 1, "type": "resume", "id": "r1", "receipt": m[1]})
	got := r.until(func(f outFrame) bool { return f.ID == "r1" })
	if f := got[len(got)-1]; f.Type != "ack" || time.Since(start) > 5*time.Second {
		t.Fatalf("valid resume beside the guesser: %+v after %v", f, time.Since(start))
	}
	if a := e.postAs(flooder, "/m/no3", map[string]string{"token": mailTok(), "text": "猜码的人也能交报告"}); a.code != http.StatusOK {
		t.Fatalf("the guesser's own submission: %d", a.code)
	}
	if strings.Contains(logs.String(), flooder) || strings.Contains(logs.String(), reader) {
		t.Fatal("the logs hold a client address")
	}
}

// TestConnectionsCappedPerClient: one client holds at most ClientConns
// websockets; another client still connects.
func TestConnectionsCappedPerClient(t *testing.T) {
	e := newEnv(t, func(s *Server) {
		s.Limits.ClientConns = 3
		s.ClientIP.Trusted = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	u := "ws" + strings.TrimPrefix(e.ts.URL, "http") + "/webchat/ws"
	dial := func(client string) (*websocket.Conn, *http.Response, error) {
		return websocket.DefaultDialer.Dial(u, http.Header{"Origin": {e.ts.URL}, "X-Forwarded-For": {client}})
	}
	var held []*websocket.Conn
	for range 3 {
		ws, _, err := dial(flooder)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, ws)
	}
	_, resp, err := dial(flooder)
	if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("fourth connection of one client: %v %v, want 429 with Retry-After", err, resp)
	}
	ws, _, err := dial(reader)
	if err != nil {
		t.Fatalf("another client refused: %v", err)
	}
	ws.Close()
	held[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ws, _, err := dial(flooder)
		if err == nil {
			ws.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a closed connection's place was not given back: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, ws := range held[1:] {
		ws.Close()
	}
}

// TestForwardedHeaderIgnoredFromUntrustedPeer: without a trusted proxy,
// X-Forwarded-For is the client's own claim and changes nothing.
func TestForwardedHeaderIgnoredFromUntrustedPeer(t *testing.T) {
	e := newEnv(t, func(s *Server) { s.Limits.ClientPostBurst, s.Limits.ClientPostRate = 2, 1e-9 })
	for i := range 3 {
		tok := e.srv.formToken(formMailbox, "no3") // single-use
		a := e.postAs("192.0.2."+strconv.Itoa(i+1), "/m/no3", map[string]string{"token": tok, "text": "报告"})
		want := http.StatusOK
		if i == 2 {
			want = http.StatusTooManyRequests
		}
		if a.code != want {
			t.Fatalf("post %d with a forged X-Forwarded-For: %d, want %d", i, a.code, want)
		}
	}
}
