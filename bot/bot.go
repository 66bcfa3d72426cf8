// Package bot is Hotline's Telegram transport (github.com/go-telegram/bot):
// it turns updates into dialog events, renders the dialog's replies as
// messages with inline keyboards, fetches and cleans photos, and delivers
// counselors' replies for the relay.
//
// It must never store or log a Telegram user id, name, username, profile
// photo, chat id or message content: a chat id lives only in memory here
// (intake seals it), and logs carry only kinds and counts. It keeps each
// chat's updates in order, survives handler panics, and confirms an update
// to Telegram only after the dialog has persisted its effect; the store
// records each update's key with that effect, so that a redelivery after a
// crash is not applied twice.
package bot

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
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
	// Updates tells which updates were applied before (the store): one
	// that was is confirmed without being handled again. Without it a
	// redelivery is still refused by the store's write guard, later.
	Updates dialog.Deliveries
	// Lead runs fn whenever this node leads a cluster of nodes, until ctx
	// ends (see internal/cluster): only the leader polls Telegram
	// (Telegram refuses a second poller) or calls setWebhook. In webhook
	// mode every node takes updates. Nil: this node always leads.
	Lead func(ctx context.Context, fn func(ctx context.Context))
	// RepollPause is the longest polling waits, when Telegram sent back
	// only updates still being handled, before asking again (1s): it
	// asks every few milliseconds at first, then ever more slowly while
	// nothing finishes (see repollPause). Nothing is confirmed meanwhile:
	// a slow chat delays the offset, never drops it.
	RepollPause time.Duration
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
	if c.RepollPause <= 0 {
		c.RepollPause = time.Second
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
	dialog   dialog.Conversation
	username string
	secret   string
	webhook  *url.URL
	client   *http.Client

	procCtx context.Context
	queue   *queue
	running atomic.Pointer[queue] // queue, for QueueLen from other goroutines

	track tracker // polling: which updates may be confirmed

	flightsMu sync.Mutex
	flights   map[int64]*flight // webhook: deliveries being handled

	// promptedMu guards prompted: the chats answered with their current
	// question after a redelivery, and not heard from anew since (in
	// memory only, like every chat id here).
	promptedMu sync.Mutex
	prompted   map[int64]bool
	failed     map[int64]bool // updates whose reporter was told they were not saved yet

	answers sync.WaitGroup // callback answers being sent (see event)

	handled     atomic.Int64
	redelivered atomic.Int64
	panics      atomic.Int64
}

var _ relay.Sender = (*Bot)(nil)

// New builds the bot. It asks Telegram for the bot's name unless
// Config.Username is set; failing that it goes on without one.
func New(ctx context.Context, cfg Config) (*Bot, error) {
	cfg.defaults()
	if cfg.Token == "" {
		return nil, errors.New("bot: no token")
	}
	b := &Bot{cfg: cfg, log: cfg.Logger, username: strings.TrimPrefix(cfg.Username, "@"), flights: map[int64]*flight{}}
	b.track.init()
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
	// The client timeout is a safety net; every call has its own context
	// deadline, the long poll included.
	base := *cfg.HTTPClient
	base.Timeout = cfg.PollTimeout + 15*time.Second
	b.client = &base
	opts := []tgbot.Option{
		tgbot.WithSkipGetMe(),
		// The library only sends: polling is ours (poll.go). These keep
		// it from logging anything of its own.
		tgbot.WithDefaultHandler(func(context.Context, *tgbot.Bot, *models.Update) {}),
		tgbot.WithErrorsHandler(b.onLibraryError),
		tgbot.WithDebugHandler(func(string, ...any) {}),
		tgbot.WithHTTPClient(cfg.PollTimeout, b.client),
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

// Redelivered returns how many updates came again after their effect had
// been stored, and were confirmed without being applied twice.
func (b *Bot) Redelivered() int64 { return b.redelivered.Load() }

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
func (b *Bot) Run(ctx context.Context, conv dialog.Conversation) error {
	b.dialog = conv
	procCtx, procCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer procCancel()
	b.procCtx = procCtx
	b.queue = newQueue(b.cfg.Workers, b.cfg.ChatQueue, b.cfg.MaxQueued)
	b.running.Store(b.queue)
	lead := b.cfg.Lead
	if lead == nil {
		lead = func(ctx context.Context, fn func(context.Context)) { fn(ctx) }
	}
	if b.webhook != nil {
		// Every node serves the webhook (with the configured secret);
		// the leader alone tells Telegram where it is.
		lead(ctx, func(ctx context.Context) {
			b.retry(ctx, "setWebhook", func(cctx context.Context) error {
				_, err := b.api.SetWebhook(cctx, &tgbot.SetWebhookParams{URL: b.webhook.String(), SecretToken: b.secret, AllowedUpdates: allowedUpdates})
				return err
			})
			<-ctx.Done()
		})
	} else {
		lead(ctx, func(ctx context.Context) {
			// getUpdates is refused while a webhook is set.
			b.retry(ctx, "deleteWebhook", func(cctx context.Context) error {
				_, err := b.api.DeleteWebhook(cctx, &tgbot.DeleteWebhookParams{})
				return err
			})
			b.poll(ctx)
		})
	}
	// Handle what is queued, within bounds, then stop.
	drained := make(chan struct{})
	go func() {
		b.queue.Close()
		b.answers.Wait()
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

// chatOf returns the private chat an update belongs to.
func chatOf(upd *models.Update) (int64, bool) {
	switch {
	case upd.Message != nil:
		return upd.Message.Chat.ID, upd.Message.Chat.ID != 0
	case upd.EditedMessage != nil:
		return upd.EditedMessage.Chat.ID, upd.EditedMessage.Chat.ID != 0
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
