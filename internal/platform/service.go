package platform

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"hotline/internal/alert"
	"hotline/internal/district"
	"hotline/internal/hotline"
	"hotline/internal/staff"
	"hotline/internal/store"
	"hotline/internal/vault"
)

// Service is the district's side of its platform: the webhook endpoints,
// the statistics tokens and the statistics themselves. Only a district
// officer manages their district's; everyone else is refused.
type Service struct {
	DB       *store.DB
	Vault    *vault.Vault
	District *district.Service
	// Worker sends test webhooks (its client and signing).
	Worker *Worker

	limitMu sync.Mutex
	limits  map[int64]*rate.Limiter // per statistics token, this node
}

// Limits of a district's configuration.
const (
	MaxEndpoints = 5
	MaxTokens    = 20
	minSecret    = 16
	maxSecret    = 256
	maxLabel     = 60
)

// Errors of the settings, safe to show.
var (
	ErrSecret        = hotline.Errorf(hotline.EINVALID, fmt.Sprintf("签名密钥应为 %d 到 %d 个字符（留空则自动生成）。", minSecret, maxSecret), fmt.Sprintf("The signing secret has %d to %d characters (leave it empty to have one made).", minSecret, maxSecret))
	ErrTooMany       = hotline.Errorf(hotline.EINVALID, "数量已达上限，请先删除不用的。", "That is the most there may be; remove one you no longer use first.")
	ErrLabel         = hotline.Errorf(hotline.EINVALID, fmt.Sprintf("名称最多 %d 个字，不能有控制字符。", maxLabel), fmt.Sprintf("The name has at most %d characters and no control characters.", maxLabel))
	errNotAnOfficer  = hotline.ErrForbidden
	errUnauthorized  = hotline.Errorf(hotline.EUNAUTHORIZED, "令牌无效或已撤销。", "The token is not valid, or was revoked.")
	tokenAlphabet    = "abcdefghijkmnpqrstuvwxyz23456789" // 32 letters: 5 bits each
	secretAlphabet   = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
	statsTokenPrefix = "hls_"
)

// officer returns the session's district, or ErrForbidden.
func officer(sess *staff.Session) (string, error) {
	c := sess.Counselor
	if c.Role != hotline.RoleDistrict || c.District == "" {
		return "", errNotAnOfficer
	}
	return c.District, nil
}

func (s *Service) audit(tx *store.Tx, sess *staff.Session, client, detail string) error {
	return tx.AppendAudit(&hotline.AuditEntry{Kind: hotline.AuditPlatform, District: sess.Counselor.District, CounselorID: sess.Counselor.ID,
		Client: client, Detail: detail})
}

// Endpoints lists the officer's district's endpoints.
func (s *Service) Endpoints(ctx context.Context, sess *staff.Session) ([]*store.WebhookEndpoint, error) {
	d, err := officer(sess)
	if err != nil {
		return nil, err
	}
	return s.DB.WebhookEndpoints(ctx, d)
}

// AddEndpoint links an endpoint of the district's platform: an https URL
// (http only to this machine) and a signing secret, sealed under the server
// key and bound to the row. An empty secret has one made, returned once.
// Events from now on are queued for it (nothing older).
func (s *Service) AddEndpoint(ctx context.Context, sess *staff.Session, rawURL, secret string) (id int64, made string, err error) {
	d, err := officer(sess)
	if err != nil {
		return 0, "", err
	}
	u, err := alert.Normalize(alert.Webhook, rawURL)
	if err != nil {
		return 0, "", hotline.Errorf(hotline.EINVALID, "地址应为 https:// 开头的完整网址（只有本机可用 http）。", "The address must be a full https:// URL (http only to this machine).")
	}
	secret = strings.TrimSpace(secret)
	if secret == "" {
		if made, err = vault.RandomCode(secretAlphabet, 40); err != nil {
			return 0, "", err
		}
		secret = made
	}
	if n := utf8.RuneCountInString(secret); n < minSecret || n > maxSecret || !utf8.ValidString(secret) || strings.IndexFunc(secret, unicode.IsControl) >= 0 {
		return 0, "", ErrSecret
	}
	existing, err := s.DB.WebhookEndpoints(ctx, d)
	if err != nil {
		return 0, "", err
	}
	if len(existing) >= MaxEndpoints {
		return 0, "", ErrTooMany
	}
	e := &store.WebhookEndpoint{District: d, Masked: maskURL(u), CreatedBy: sess.Counselor.ID}
	err = s.DB.Update(ctx, func(tx *store.Tx) error {
		if err := tx.AddWebhookEndpoint(e); err != nil {
			return err
		}
		sealed, err := s.Vault.SealAlertTarget(endpointRow(e), u, secret)
		if err != nil {
			return err
		}
		if err := tx.SetWebhookEndpointSealed(e.ID, sealed); err != nil {
			return err
		}
		return s.audit(tx, sess, staff.ClientOf(ctx), "webhook added "+e.Masked)
	})
	if err != nil {
		return 0, "", err
	}
	return e.ID, made, nil
}

// maskURL keeps a URL's scheme and host and hides its path, which often
// holds a key: "https://platform.example.cn/…".
func maskURL(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return "…"
	}
	host, _, _ := strings.Cut(rest, "/")
	return scheme + "://" + host + "/…"
}

// endpointOf returns one of the officer's district's endpoints, or
// ErrNotFound (another district's is not found either).
func (s *Service) endpointOf(ctx context.Context, sess *staff.Session, id int64) (*store.WebhookEndpoint, error) {
	d, err := officer(sess)
	if err != nil {
		return nil, err
	}
	e, err := s.DB.WebhookEndpointByID(ctx, id)
	if err != nil || e.District != d {
		return nil, hotline.ErrNotFound
	}
	return e, nil
}

// DeleteEndpoint unlinks an endpoint; what waited for it is dropped.
func (s *Service) DeleteEndpoint(ctx context.Context, sess *staff.Session, id int64) error {
	e, err := s.endpointOf(ctx, sess, id)
	if err != nil {
		return err
	}
	return s.DB.Update(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteWebhookEndpoint(e.ID, e.District); err != nil {
			return err
		}
		return s.audit(tx, sess, staff.ClientOf(ctx), "webhook removed "+e.Masked)
	})
}

// TestResult is how a test webhook went.
type TestResult struct {
	OK     bool
	Code   string
	Reason string
}

// TestEndpoint sends a webhook.test event, signed like every other and
// carrying the ledger's current head, at once; its outcome is returned and
// recorded on the endpoint.
func (s *Service) TestEndpoint(ctx context.Context, sess *staff.Session, id int64) (*TestResult, error) {
	e, err := s.endpointOf(ctx, sess, id)
	if err != nil {
		return nil, err
	}
	url, secret, err := s.Vault.OpenAlertTarget(endpointRow(e), e.Sealed)
	if err != nil {
		return nil, err
	}
	code, err := vault.RandomCode(tokenAlphabet, 12)
	if err != nil {
		return nil, err
	}
	p := &Payload{ID: "test-" + code, Event: KindTest, At: s.DB.Clock.Now().UTC(), District: e.District, Test: true}
	if seq, hash, err := s.head(ctx); err != nil {
		return nil, err
	} else if seq > 0 {
		p.Ledger = ledgerOf(seq, hash)
	}
	body, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	s.Worker.init()
	o := s.Worker.postTo(ctx, url, secret, p.ID, p.Event, body)
	if err := s.DB.Update(ctx, func(tx *store.Tx) error { return tx.MarkWebhookEndpoint(e.ID, o.ok, o.code, o.reason) }); err != nil {
		return nil, err
	}
	return &TestResult{OK: o.ok, Code: o.code, Reason: o.reason}, nil
}

// head returns the ledger's newest event.
func (s *Service) head(ctx context.Context) (int64, []byte, error) {
	seq, err := s.DB.LastEventSeq(ctx)
	if err != nil || seq == 0 {
		return 0, nil, err
	}
	evs, err := s.DB.Events(ctx, seq-1, 1)
	if err != nil || len(evs) == 0 {
		return 0, nil, err
	}
	return evs[0].Seq, evs[0].Hash, nil
}

// Deliveries lists the district's newest outbox rows, for the settings
// page, and how many wait or were given up.
func (s *Service) Deliveries(ctx context.Context, sess *staff.Session, limit int) (rows []*store.WebhookOut, waiting, abandoned int, err error) {
	d, err := officer(sess)
	if err != nil {
		return nil, 0, 0, err
	}
	if rows, err = s.DB.WebhookRows(ctx, d, limit); err != nil {
		return nil, 0, 0, err
	}
	waiting, abandoned, err = s.DB.WebhookCounts(ctx, d)
	return rows, waiting, abandoned, err
}

// Tokens lists the district's statistics tokens (never the tokens: only
// their names and last characters are kept).
func (s *Service) Tokens(ctx context.Context, sess *staff.Session) ([]*store.StatsToken, error) {
	d, err := officer(sess)
	if err != nil {
		return nil, err
	}
	return s.DB.StatsTokens(ctx, d)
}

func tokenMAC(v *vault.Vault, token string) []byte { return v.MAC("stats-token", []byte(token)) }

// CreateToken makes a statistics token for the district and returns it:
// this is the only time it exists in the clear (the store keeps its HMAC
// under the server key).
func (s *Service) CreateToken(ctx context.Context, sess *staff.Session, label string) (string, error) {
	d, err := officer(sess)
	if err != nil {
		return "", err
	}
	label = strings.TrimSpace(label)
	if utf8.RuneCountInString(label) > maxLabel || !utf8.ValidString(label) || strings.IndexFunc(label, unicode.IsControl) >= 0 {
		return "", ErrLabel
	}
	existing, err := s.DB.StatsTokens(ctx, d)
	if err != nil {
		return "", err
	}
	live := 0
	for _, t := range existing {
		if t.RevokedAt.IsZero() {
			live++
		}
	}
	if live >= MaxTokens {
		return "", ErrTooMany
	}
	random, err := vault.RandomCode(tokenAlphabet, 32) // 160 bits
	if err != nil {
		return "", err
	}
	token := statsTokenPrefix + random
	t := &store.StatsToken{District: d, Label: label, Hint: token[len(token)-4:], CreatedBy: sess.Counselor.ID}
	err = s.DB.Update(ctx, func(tx *store.Tx) error {
		if err := tx.AddStatsToken(t, tokenMAC(s.Vault, token)); err != nil {
			return err
		}
		return s.audit(tx, sess, staff.ClientOf(ctx), fmt.Sprintf("stats token created …%s %s", t.Hint, label))
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// RevokeToken revokes one of the district's tokens at once.
func (s *Service) RevokeToken(ctx context.Context, sess *staff.Session, id int64) error {
	d, err := officer(sess)
	if err != nil {
		return err
	}
	return s.DB.Update(ctx, func(tx *store.Tx) error {
		if err := tx.RevokeStatsToken(id, d); err != nil {
			return err
		}
		return s.audit(tx, sess, staff.ClientOf(ctx), fmt.Sprintf("stats token #%d revoked", id))
	})
}

// Authenticate returns the district of a live token, or an EUNAUTHORIZED
// error for anything else (unknown, malformed, revoked: alike).
func (s *Service) Authenticate(ctx context.Context, token string) (*store.StatsToken, error) {
	if !strings.HasPrefix(token, statsTokenPrefix) || len(token) != len(statsTokenPrefix)+32 {
		return nil, errUnauthorized
	}
	t, err := s.DB.StatsTokenByMAC(ctx, tokenMAC(s.Vault, token))
	if hotline.ErrorCode(err) == hotline.ENOTFOUND || err == nil && !t.RevokedAt.IsZero() {
		return nil, errUnauthorized
	} else if err != nil {
		return nil, err
	}
	if now := s.DB.Clock.Now(); now.Sub(t.UsedAt) > time.Hour {
		// When it was last used, at most once an hour: a write per
		// request would let a token holder load the writer.
		if err := s.DB.Update(ctx, func(tx *store.Tx) error { return tx.TouchStatsToken(t.ID) }); err != nil {
			return nil, err
		}
	}
	return t, nil
}
