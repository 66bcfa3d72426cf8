// Package bot is Hotline's Telegram transport (github.com/go-telegram/bot):
// it turns updates into dialog events, renders the dialog's replies as
// messages with inline keyboards, fetches and cleans photos, and delivers
// counselors' replies for the relay.
//
// It must never store or log a Telegram user id, name, username, profile
// photo, chat id or message content: a chat id lives only in memory here
// (intake seals it), and logs carry only kinds and counts. It keeps each
// chat's updates in order, survives handler panics, and confirms an update
// to Telegram only after the dialog has persisted its effect.
package bot

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"hotline/internal/dialog"
	"hotline/internal/hotline"
	"hotline/internal/relay"
)

// Conversation is what the bot needs of the dialog engine.
type Conversation interface {
	Handle(ctx context.Context, k dialog.Key, ev dialog.Event) ([]dialog.Reply, error)
}

// Config configures a Bot. Zero values take the defaults shown.
type Config struct {
	Token  string
	APIURL string // another Bot API server (tests, self-hosted); default Telegram's
	// WebhookURL switches to webhook mode; WebhookSecret is checked on
	// every webhook request (default: random per start).
	WebhookURL    string
	WebhookSecret string
	// Username is the bot's @name for t.me links; default from getMe.
	Username string

	Workers     int           // updates handled at once, across chats (64)
	ChatQueue   int           // updates waiting per chat (100: a whole getUpdates batch)
	MaxQueued   int           // updates waiting in all (4096)
	CallTimeout time.Duration // one Bot API call (20s)
	PollTimeout time.Duration // getUpdates long poll (50s)
	// SendAttempts bounds the tries of a dialog reply (6); relay replies
	// are retried by the relay's durable outbox instead.
	SendAttempts int
	// RetryBase is the first backoff of a failed dialog reply (250ms).
	RetryBase time.Duration
	// DrainTimeout bounds how long shutdown waits for queued updates (10s).
	DrainTimeout time.Duration
	// HTTPClient is the base client (default: a new http.Client).
	HTTPClient *http.Client
	Logger     *slog.Logger
	// LinkStaff links a staff member's chat for alerts with the one-time
	// code shown in their inbox (/link CODE); nil turns /link off.
	LinkStaff func(ctx context.Context, code string, chatID int64) error
}

func (c *Config) defaults() {
	if c.Workers <= 0 {
		c.Workers = 64
	}
	if c.ChatQueue <= 0 {
		c.ChatQueue = 100
	}
	if c.MaxQueued <= 0 {
		c.MaxQueued = 4096
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = 20 * time.Second
	}
	if c.PollTimeout <= 0 {
		c.PollTimeout = 50 * time.Second
	}
	if c.SendAttempts <= 0 {
		c.SendAttempts = 6
	}
	if c.RetryBase <= 0 {
		c.RetryBase = 250 * time.Millisecond
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = 10 * time.Second
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128, IdleConnTimeout: 90 * time.Second}}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Bot is a running Telegram bot.
type Bot struct {
	cfg      Config
	api      *tgbot.Bot
	log      *slog.Logger
	gate     *gate
	dialog   Conversation
	username string
	secret   string
	webhook  *url.URL

	procCtx context.Context
	queue   *queue
	running atomic.Pointer[queue] // queue, for QueueLen from other goroutines

	seenMu   sync.Mutex
	seen     map[int64]chan struct{} // update id → closed when handled
	seenRing []int64
	seenNext int

	handled atomic.Int64
	panics  atomic.Int64
}

var _ relay.Sender = (*Bot)(nil)

// New builds the bot. It asks Telegram for the bot's name unless
// Config.Username is set; failing that it goes on without one.
func New(ctx context.Context, cfg Config) (*Bot, error) {
	cfg.defaults()
	if cfg.Token == "" {
		return nil, errors.New("bot: no token")
	}
	b := &Bot{cfg: cfg, log: cfg.Logger, username: strings.TrimPrefix(cfg.Username, "@"), seen: map[int64]chan struct{}{}, seenRing: make([]int64, 8192)}
	if cfg.WebhookURL != "" {
		u, err := url.Parse(cfg.WebhookURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, errors.New("bot: webhook URL must be an absolute http(s) URL")
		}
		b.webhook = u
		b.secret = cfg.WebhookSecret
		if b.secret == "" {
			buf := make([]byte, 32)
			rand.Read(buf)
			b.secret = base64.RawURLEncoding.EncodeToString(buf)
		}
	}
	// The client timeout is a safety net above the long poll; every other
	// call has its own context deadline.
	base := *cfg.HTTPClient
	base.Timeout = cfg.PollTimeout + 15*time.Second
	b.gate = newGate(&base)
	b.gate.onTimeout = func() {
		b.log.Error("bot: updates not handled in time; polling goes on, and they may be lost in a crash")
	}
	opts := []tgbot.Option{
		tgbot.WithSkipGetMe(),
		// Our own handlers: the library's defaults log whole updates.
		tgbot.WithDefaultHandler(b.onUpdate),
		tgbot.WithErrorsHandler(b.onLibraryError),
		tgbot.WithDebugHandler(func(string, ...any) {}),
		tgbot.WithHTTPClient(cfg.PollTimeout, b.gate),
		// One library worker calling our handler in the goroutine that
		// takes updates off its channel: updates reach our per-chat queue
		// in Telegram's order.
		tgbot.WithNotAsyncHandlers(),
		tgbot.WithWorkers(1),
		tgbot.WithUpdatesChannelCap(0),
		tgbot.WithAllowedUpdates(tgbot.AllowedUpdates{"message", "callback_query"}),
	}
	if cfg.APIURL != "" {
		opts = append(opts, tgbot.WithServerURL(strings.TrimRight(cfg.APIURL, "/")))
	}
	api, err := tgbot.New(cfg.Token, opts...)
	if err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}
	b.api = api
	if b.username == "" {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		me, err := api.GetMe(cctx)
		cancel()
		if err != nil {
			b.log.Warn("bot: getMe failed; going on without the bot's name", "kind", errKind(err))
		} else {
			b.username = me.Username
		}
	}
	return b, nil
}

// Username returns the bot's @name without the @, or "".
func (b *Bot) Username() string { return b.username }

// API returns the library's bot, for sending outside a conversation.
func (b *Bot) API() *tgbot.Bot { return b.api }

// Handled returns how many updates have been handled since start.
func (b *Bot) Handled() int64 { return b.handled.Load() }

// Panics returns how many update handlers panicked (and were recovered).
func (b *Bot) Panics() int64 { return b.panics.Load() }

// WebhookPath is the path the webhook is served on ("" in polling mode).
func (b *Bot) WebhookPath() string {
	if b.webhook == nil {
		return ""
	}
	if b.webhook.Path == "" {
		return "/"
	}
	return b.webhook.Path
}

// WebhookSecret is the secret Telegram must send with every webhook request.
func (b *Bot) WebhookSecret() string { return b.secret }

// SetCommands publishes the command menu in Chinese (also the default)
// and English.
func (b *Bot) SetCommands(ctx context.Context) error {
	for _, l := range []struct {
		code string
		lang hotline.Lang
	}{{"", hotline.LangZH}, {"zh", hotline.LangZH}, {"en", hotline.LangEN}} {
		cctx, cancel := context.WithTimeout(ctx, b.cfg.CallTimeout)
		_, err := b.api.SetMyCommands(cctx, &tgbot.SetMyCommandsParams{Commands: botCommands(l.lang), LanguageCode: l.code})
		cancel()
		if err != nil {
			return fmt.Errorf("bot: setMyCommands: %s", errKind(err))
		}
	}
	return nil
}

// Run handles updates with the conversation until ctx ends: by long polling,
// or in webhook mode by registering the webhook (serve WebhookHandler on
// WebhookPath). On return every update taken has been handled, or left
// unconfirmed for Telegram to send again.
func (b *Bot) Run(ctx context.Context, conv Conversation) error {
	b.dialog = conv
	procCtx, procCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer procCancel()
	b.procCtx = procCtx
	b.queue = newQueue(b.cfg.Workers, b.cfg.ChatQueue, b.cfg.MaxQueued)
	b.running.Store(b.queue)
	if b.webhook != nil {
		b.retry(ctx, "setWebhook", func(cctx context.Context) error {
			_, err := b.api.SetWebhook(cctx, &tgbot.SetWebhookParams{URL: b.webhook.String(), SecretToken: b.secret, AllowedUpdates: []string{"message", "callback_query"}})
			return err
		})
		<-ctx.Done()
	} else {
		// getUpdates is refused while a webhook is set.
		b.retry(ctx, "deleteWebhook", func(cctx context.Context) error {
			_, err := b.api.DeleteWebhook(cctx, &tgbot.DeleteWebhookParams{})
			return err
		})
		b.api.Start(ctx)
	}
	// Handle what is queued, within bounds, then stop.
	drained := make(chan struct{})
	go func() {
		b.queue.Close()
		close(drained)
	}()
	select {
	case <-drained:
	case <-time.After(b.cfg.DrainTimeout):
		// Handlers stop at their next store call once cancelled; one
		// stuck for good must not hold the server's shutdown.
		procCancel()
		select {
		case <-drained:
		case <-time.After(5 * time.Second):
			b.log.Error("bot: updates still running at shutdown; Telegram will send them again")
		}
	}
	if b.webhook == nil {
		b.confirm()
	}
	return nil
}

// retry calls fn until it succeeds or ctx ends, with a growing pause.
func (b *Bot) retry(ctx context.Context, what string, fn func(context.Context) error) {
	for d := 200 * time.Millisecond; ; d = min(2*d, 30*time.Second) {
		cctx, cancel := context.WithTimeout(ctx, b.cfg.CallTimeout)
		err := fn(cctx)
		cancel()
		if err == nil || ctx.Err() != nil {
			return
		}
		b.log.Warn("bot: call failed, retrying", "method", what, "kind", errKind(err))
		select {
		case <-ctx.Done():
			return
		case <-time.After(d):
		}
	}
}

// confirm tells Telegram which updates have been handled, so that a clean
// restart does not receive them again. The library only confirms with its
// next poll, which does not come after shutdown.
func (b *Bot) confirm() {
	id := b.gate.Confirmable()
	if id <= 0 {
		return
	}
	base := b.cfg.APIURL
	if base == "" {
		base = "https://api.telegram.org"
	}
	form := url.Values{"offset": {strconv.FormatInt(id+1, 10)}, "limit": {"1"}, "timeout": {"0"}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(base, "/")+"/bot"+b.cfg.Token+"/getUpdates", strings.NewReader(form.Encode()))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.cfg.HTTPClient.Do(req)
	if err != nil {
		// The error would carry the URL, and with it the token.
		b.log.Warn("bot: could not confirm handled updates; Telegram may send some again")
		return
	}
	resp.Body.Close()
}

// onUpdate is the library's handler: it runs in the library's one worker,
// in Telegram's order, and only queues.
func (b *Bot) onUpdate(ctx context.Context, _ *tgbot.Bot, upd *models.Update) {
	b.dispatch(ctx, upd, b.gate.Done)
}

// dispatch queues upd behind its chat's earlier updates; done(update id)
// runs once it has been handled. An update seen before (Telegram sends it
// again after a lost answer) is not handled twice.
func (b *Bot) dispatch(ctx context.Context, upd *models.Update, done func(int64)) bool {
	id := upd.ID
	prev, fresh := b.remember(id)
	if !fresh {
		go func() {
			<-prev
			done(id)
		}()
		return true
	}
	finish := func() {
		b.seenMu.Lock()
		ch := b.seen[id]
		b.seenMu.Unlock()
		if ch != nil {
			select {
			case <-ch:
			default:
				close(ch)
			}
		}
		done(id)
	}
	chat, ok := chatOf(upd)
	if !ok {
		finish()
		return true
	}
	var once sync.Once
	doneOnce := func() { once.Do(finish) }
	if !b.queue.Push(ctx, job{chat: chat, run: func() {
		defer doneOnce()
		b.handle(b.procCtx, upd, doneOnce)
	}}) {
		b.forget(id)
		return false
	}
	return true
}

// remember records an update id; it returns the channel of an earlier
// arrival of the same update, or fresh.
func (b *Bot) remember(id int64) (chan struct{}, bool) {
	b.seenMu.Lock()
	defer b.seenMu.Unlock()
	if ch, ok := b.seen[id]; ok {
		return ch, false
	}
	if old := b.seenRing[b.seenNext]; old != 0 {
		delete(b.seen, old)
	}
	b.seenRing[b.seenNext] = id
	b.seenNext = (b.seenNext + 1) % len(b.seenRing)
	b.seen[id] = make(chan struct{})
	return nil, true
}

// forget drops an update that was not queued, so that its next delivery is
// handled.
func (b *Bot) forget(id int64) {
	b.seenMu.Lock()
	defer b.seenMu.Unlock()
	delete(b.seen, id)
}

// chatOf returns the private chat an update belongs to.
func chatOf(upd *models.Update) (int64, bool) {
	switch {
	case upd.Message != nil:
		return upd.Message.Chat.ID, upd.Message.Chat.ID != 0
	case upd.CallbackQuery != nil:
		if m := upd.CallbackQuery.Message.Message; m != nil {
			return m.Chat.ID, true
		}
		if m := upd.CallbackQuery.Message.InaccessibleMessage; m != nil {
			return m.Chat.ID, true
		}
	}
	return 0, false
}

// WebhookHandler serves Telegram's webhook requests. It answers 200 only
// once the update has been handled, so that Telegram sends it again if we
// crash first.
func (b *Bot) WebhookHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
		if b.secret == "" || subtle.ConstantTimeCompare([]byte(got), []byte(b.secret)) != 1 {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		if b.queue == nil {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		upd, err := decodeUpdate(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "bad update", http.StatusBadRequest)
			return
		}
		handled := make(chan struct{})
		ctx, cancel := context.WithTimeout(r.Context(), 55*time.Second)
		defer cancel()
		if !b.dispatch(ctx, upd, func(int64) { close(handled) }) {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		select {
		case <-handled:
			w.WriteHeader(http.StatusOK)
		case <-ctx.Done():
			// Telegram will send it again; the id dedupe keeps a
			// redelivery that arrives while this one runs from running twice.
			http.Error(w, "timeout", http.StatusServiceUnavailable)
		}
	})
}
