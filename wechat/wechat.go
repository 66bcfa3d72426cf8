// Package wechat is Hotline's WeChat Official Account (公众号) transport: it
// serves the account's server URL (signature checked, safe-mode AES
// required, plain mode refused), turns WeChat's messages and menu clicks
// into dialog events, answers within WeChat's five seconds (a passive reply,
// or later through the customer-service API), and delivers counselors'
// replies for the relay within WeChat's 48-hour window, with a content-free
// notice after it.
//
// An openid never leaves this package readable: the rest of Hotline knows a
// reporter by a keyed hash of the account and openid (the peer id, used as
// the conversation's chat id), and the openid itself is stored only sealed
// under the server key, to send replies. It never logs an openid, a message,
// an access token or a secret; logs carry kinds and counts.
package wechat

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"hotline/internal/dialog"
	"hotline/internal/hotline"
	"hotline/internal/relay"
	"hotline/internal/store"
	"hotline/internal/vault"
)

// Account is one official account. Its secrets come from the key file or
// the environment, never from the database.
type Account struct {
	// Name is the account's short name in Hotline: its server URL is
	// /wechat/<Name>, and its rows are keyed by it.
	Name   string
	AppID  string
	Secret string // AppSecret
	Token  string // the 令牌 pasted into 公众平台 with the server URL
	AESKey string // EncodingAESKey (43 characters)
	// School is, for a school's own account, its school code: reports go
	// straight to it. Empty for a district account, whose reporters pick
	// their school.
	School string
	// NoticeTemplate is the template id of the content-free "new reply"
	// notice sent when a reply waits behind a closed 48-hour window;
	// empty: no notice, the reply waits silently.
	NoticeTemplate string
}

// Config configures the adapter. Zero values take the defaults shown.
type Config struct {
	Accounts []Account
	// APIURL is WeChat's API base (https://api.weixin.qq.com); tests point
	// it at the fake.
	APIURL     string
	DB         *store.DB
	Vault      *vault.Vault
	Clock      hotline.Clock
	HTTPClient *http.Client
	Logger     *slog.Logger
	// PassiveBudget is how long a callback waits for the dialog before it
	// answers WeChat empty and sends the replies through the customer-
	// service API instead (4s: WeChat gives up after 5).
	PassiveBudget time.Duration
	// CallTimeout bounds one API call (10s).
	CallTimeout time.Duration
	// Window is WeChat's customer-service window after the reporter's last
	// message (48h).
	Window time.Duration
}

// Service is the running adapter.
type Service struct {
	cfg      Config
	db       *store.DB
	vault    *vault.Vault
	log      *slog.Logger
	http     *http.Client
	apiURL   string
	accounts map[string]*account
	conv     dialog.Conversation
	procCtx  context.Context

	flightsMu sync.Mutex
	flights   map[string]*flight

	peersMu sync.Mutex
	peers   map[int64]*peerLock // order of customer-service sends per peer

	wg sync.WaitGroup

	handled, redelivered, refused, deferred atomic.Int64

	// decoy answers for a name no account has, through the same checks
	// with a random token nobody knows: /wechat/{name} says the same
	// (403 after the signature check) whether or not the account exists.
	decoy *account
}

type account struct {
	Account
	crypt  *crypter
	client *client
}

// flight is one message being handled: a retry of it that arrives
// meanwhile waits for it instead of handling it again.
type flight struct {
	done  chan struct{}
	reply string
}

type peerLock struct {
	mu sync.Mutex
	n  int
}

var _ relay.Sender = (*Service)(nil)

// New checks the accounts and returns the adapter.
func New(cfg Config) (*Service, error) {
	if cfg.DB == nil || cfg.Vault == nil {
		return nil, errors.New("wechat: no database or vault")
	}
	if cfg.APIURL == "" {
		cfg.APIURL = "https://api.weixin.qq.com"
	}
	if cfg.Clock == nil {
		cfg.Clock = hotline.SystemClock{}
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.PassiveBudget <= 0 {
		cfg.PassiveBudget = 4 * time.Second
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = 10 * time.Second
	}
	if cfg.Window <= 0 {
		cfg.Window = 48 * time.Hour
	}
	s := &Service{cfg: cfg, db: cfg.DB, vault: cfg.Vault, log: cfg.Logger, http: cfg.HTTPClient,
		apiURL: strings.TrimRight(cfg.APIURL, "/"), accounts: map[string]*account{},
		flights: map[string]*flight{}, peers: map[int64]*peerLock{}, procCtx: context.Background()}
	if len(cfg.Accounts) == 0 {
		return nil, errors.New("wechat: no account")
	}
	for _, a := range cfg.Accounts {
		if !validName(a.Name) {
			return nil, fmt.Errorf("wechat: account name %q: use letters, digits, - and _", a.Name)
		}
		if s.accounts[a.Name] != nil {
			return nil, fmt.Errorf("wechat: account %q twice", a.Name)
		}
		if a.AppID == "" || a.Secret == "" || a.Token == "" {
			return nil, fmt.Errorf("wechat: account %q needs AppID, AppSecret and token", a.Name)
		}
		c, err := newCrypter(a.Token, a.AESKey, a.AppID)
		if err != nil {
			// Safe mode is required: an account without a valid
			// EncodingAESKey is not started.
			return nil, fmt.Errorf("wechat: account %q: %w", a.Name, err)
		}
		acct := &account{Account: a, crypt: c}
		acct.client = &client{s: s, acct: &acct.Account}
		s.accounts[a.Name] = acct
	}
	key := make([]byte, 32)
	rand.Read(key) // never fails since Go 1.24
	c, err := newCrypter(base64.RawURLEncoding.EncodeToString(key[:16]), base64.StdEncoding.EncodeToString(key)[:43], "wx-decoy")
	if err != nil {
		return nil, fmt.Errorf("wechat: decoy account: %w", err)
	}
	s.decoy = &account{Account: Account{Name: "decoy"}, crypt: c}
	return s, nil
}

// account returns the named account, or the decoy for an unknown name.
func (s *Service) account(name string) *account {
	if a := s.accounts[name]; a != nil {
		return a
	}
	return s.decoy
}

func validName(n string) bool {
	if n == "" || len(n) > 32 {
		return false
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// Start sets the conversation the callbacks feed; until it is set they are
// answered 503, so that WeChat retries.
func (s *Service) Start(ctx context.Context, conv dialog.Conversation) {
	s.procCtx = context.WithoutCancel(ctx)
	s.flightsMu.Lock()
	s.conv = conv
	s.flightsMu.Unlock()
}

// Wait waits for the customer-service sends still running.
func (s *Service) Wait() { s.wg.Wait() }

// Accounts lists the configured accounts' names and schools (no secrets).
func (s *Service) Accounts() []Account {
	var out []Account
	for _, a := range s.cfg.Accounts {
		out = append(out, Account{Name: a.Name, AppID: a.AppID, School: a.School, Token: a.Token})
	}
	return out
}

// CreateMenu publishes the menu (我要报告 / 查看进度 / 紧急求助) of every
// account.
func (s *Service) CreateMenu(ctx context.Context) error {
	var errs []error
	for _, a := range s.accounts {
		cctx, cancel := context.WithTimeout(ctx, s.cfg.CallTimeout)
		if err := a.client.createMenu(cctx); err != nil {
			errs = append(errs, fmt.Errorf("wechat: menu of %s: %s", a.Name, errKind(err)))
		}
		cancel()
	}
	return errors.Join(errs...)
}

// PublishMenu publishes the menu of the named account, replacing the one
// 公众平台 shows.
func (s *Service) PublishMenu(ctx context.Context, name string) error {
	a := s.accounts[name]
	if a == nil {
		return fmt.Errorf("wechat: no account %q", name)
	}
	cctx, cancel := context.WithTimeout(ctx, s.cfg.CallTimeout)
	defer cancel()
	if err := a.client.createMenu(cctx); err != nil {
		return fmt.Errorf("wechat: menu of %s: %s", name, errKind(err))
	}
	return nil
}

// Stats counts callbacks since start, for metrics.
type Stats struct {
	Handled, Redelivered, Refused, Deferred int64
}

// Stats returns the adapter's counters.
func (s *Service) Stats() Stats {
	return Stats{Handled: s.handled.Load(), Redelivered: s.redelivered.Load(), Refused: s.refused.Load(), Deferred: s.deferred.Load()}
}

func (s *Service) now() time.Time { return s.cfg.Clock.Now() }

// peerID is the reporter's id in the rest of Hotline: a keyed hash of the
// account's AppID and the openid, in the upper half of the positive int64
// range, where no Telegram chat id is (those fit in 52 bits).
func (s *Service) peerID(a *account, openID string) int64 {
	mac := s.vault.MAC("wechat-peer", []byte(a.AppID+"|"+openID))
	v := binary.BigEndian.Uint64(mac[:8])
	return int64(v&(1<<62-1) | 1<<62)
}

func openIDPurpose(peer int64) string { return fmt.Sprintf("wechat-openid|%d", peer) }

// lockPeer keeps one peer's customer-service sends in order.
func (s *Service) lockPeer(peer int64) func() {
	s.peersMu.Lock()
	l := s.peers[peer]
	if l == nil {
		l = &peerLock{}
		s.peers[peer] = l
	}
	l.n++
	s.peersMu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		s.peersMu.Lock()
		if l.n--; l.n == 0 {
			delete(s.peers, peer)
		}
		s.peersMu.Unlock()
	}
}
