package relay_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hotline/bot"
	"hotline/internal/hotline"
	"hotline/internal/relay"
	"hotline/internal/sim/telegramsim"
	"hotline/internal/store"
	"hotline/internal/telegramtest"
	"hotline/internal/testsupport"
	"hotline/internal/vault"
)

// syncBuffer collects log output written from many goroutines.
type syncBuffer = testsupport.SyncBuffer

func openStore(tb testing.TB) (*store.DB, *vault.Vault, string) {
	tb.Helper()
	dir := tb.TempDir()
	db := testsupport.OpenStoreAt(tb, filepath.Join(dir, "hotline.db"))
	v, err := vault.LoadOrCreate(dir, vault.Options{Argon: vault.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		tb.Fatal(err)
	}
	return db, v, dir
}

// flakyAPI stands between the bot and the fake Bot API like a load
// balancer in front of Telegram: it forwards, or answers 502 with an HTML
// page, or is not there at all (connections refused).
type flakyAPI struct {
	tb    testing.TB
	addr  string
	proxy *httputil.ReverseProxy

	mu   sync.Mutex
	mode string // "up", "502", "refuse"
	srv  *http.Server
}

func newFlakyAPI(tb testing.TB, target string) *flakyAPI {
	u, err := url.Parse(target)
	if err != nil {
		tb.Fatal(err)
	}
	f := &flakyAPI{tb: tb, addr: "127.0.0.1:0", proxy: httputil.NewSingleHostReverseProxy(u), mode: "up"}
	f.proxy.ErrorLog = nil
	f.listen()
	tb.Cleanup(func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.srv != nil {
			f.srv.Close()
		}
	})
	return f
}

func (f *flakyAPI) URL() string { return "http://" + f.addr }

func (f *flakyAPI) listen() {
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		f.tb.Fatal(err)
	}
	f.addr = ln.Addr().String()
	f.srv = &http.Server{Handler: f, ErrorLog: nil}
	go f.srv.Serve(ln)
}

func (f *flakyAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	mode := f.mode
	f.mu.Unlock()
	if mode == "502" {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
		return
	}
	f.proxy.ServeHTTP(w, r)
}

// set switches the mode. "refuse" closes the listener after the requests in
// flight are answered, so no request the fake handled loses its answer;
// leaving "refuse" listens again on the same address.
func (f *flakyAPI) set(mode string) {
	f.mu.Lock()
	prev := f.mode
	f.mode = mode
	srv := f.srv
	f.mu.Unlock()
	switch {
	case mode == "refuse" && prev != "refuse":
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			f.tb.Error(err)
		}
	case mode != "refuse" && prev == "refuse":
		f.mu.Lock()
		f.listen()
		f.mu.Unlock()
	}
}

// Replies written before and during a 60-second Telegram outage, through
// 30% of 429 (with retry_after), 500 and slow answers before, during and
// after it: every reply arrives exactly once, in order per chat, and the
// queue is empty soon after Telegram is back. The worker runs with its
// production settings; only time is real.
func TestRelayDrainsAfterOutageWithFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("a 60-second outage in real time")
	}
	t.Parallel()
	const (
		chats     = 24
		perChat   = 8
		outage    = 60 * time.Second
		drainGoal = 30 * time.Second
	)
	db, v, _ := openStore(t)
	fake := telegramtest.New(t, telegramsim.Config{Seed: 12})
	fake.SetFaults(telegramsim.Faults{Rate: 0.3, Methods: []string{"sendMessage"}, Seed: 12, RetryAfter: 2, SlowDelay: 700 * time.Millisecond,
		Kinds: []telegramsim.FaultKind{telegramsim.FaultTooManyRequests, telegramsim.FaultServerError, telegramsim.FaultSlow}})
	api := newFlakyAPI(t, fake.URL())
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b, err := bot.New(ctx, bot.Config{Token: fake.Token(), APIURL: api.URL(), Username: "hotline_test_bot", Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	w := &relay.Worker{DB: db, Vault: v, Sender: b, Logger: logger}
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	users := make([]*telegramsim.User, chats)
	for i := range users {
		users[i] = fake.NewUser(telegramsim.UserOptions{})
	}
	text := func(chat, n int) string { return fmt.Sprintf("reply %d to chat %d", n, chat) }
	// A third of the replies are written before the outage, the rest in
	// its first 40 seconds, round robin over the chats.
	start := time.Now()
	write := func(k int) {
		chat, n := k%chats, k/chats
		err := db.Update(ctx, func(tx *store.Tx) error {
			return relay.Enqueue(tx, v, 0, &relay.Payload{ChatID: users[chat].ChatID(), Text: text(chat, n), Alias: "Blue Fox", Lang: hotline.LangEN})
		})
		if err != nil {
			t.Error(err)
		}
		w.Wake()
	}
	total := chats * perChat
	before := total / 3
	for k := range before {
		write(k)
		time.Sleep(5 * time.Second / time.Duration(before))
	}
	t.Logf("outage begins %s in: 502 for %s, then connections refused", time.Since(start).Round(time.Millisecond), outage/2)
	api.set("502")
	outageStart := time.Now()
	for k := before; k < total; k++ {
		write(k)
		time.Sleep(40 * time.Second / time.Duration(total-before))
	}
	time.Sleep(time.Until(outageStart.Add(outage / 2)))
	api.set("refuse")
	time.Sleep(time.Until(outageStart.Add(outage)))
	waiting, _ := db.OutboxLen(ctx)
	api.set("up")
	back := time.Now()
	t.Logf("API back after %s; %d replies waiting", back.Sub(outageStart).Round(time.Millisecond), waiting)
	var drained time.Duration
	for {
		n, err := db.OutboxLen(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			drained = time.Since(back)
			break
		}
		if time.Since(back) > 3*drainGoal {
			t.Fatalf("%d replies still waiting %s after the API returned", n, time.Since(back).Round(time.Millisecond))
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("drained %.1f s after the API returned (%d replies waited through the outage); worker %+v; faults injected %v",
		drained.Seconds(), waiting, w.Stats(), fake.FaultCounts())
	if drained > drainGoal {
		t.Errorf("drained %s after the API returned, want within %s", drained.Round(time.Millisecond), drainGoal)
	}
	if waiting < total/2 {
		t.Errorf("only %d replies waited through the outage: the test did not test it", waiting)
	}

	for chat, u := range users {
		msgs := fake.Messages(u.ChatID())
		var got []string
		for _, m := range msgs {
			_, body, _ := strings.Cut(m.PlainText, ":\n\n")
			got = append(got, body)
		}
		var want []string
		for n := range perChat {
			want = append(want, text(chat, n))
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("chat %d: got %q, want %q (every reply once, in order)", chat, got, want)
		}
	}
	s := w.Stats()
	if s.Delivered != int64(total) || s.RetryAfter == 0 || s.Server == 0 || s.Network == 0 || s.Resets == 0 {
		t.Errorf("stats: got %+v, want %d delivered, some of every failure, and resets", s, total)
	}
	if all := logs.String(); strings.Contains(all, "reply 0 to chat") || strings.Contains(all, strconv.FormatInt(users[0].ChatID(), 10)) {
		t.Error("the logs name a chat or quote a reply")
	}
}
