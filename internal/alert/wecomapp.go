package alert

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// WeComAppConfig is a WeCom self-built application (自建应用) that sends
// text messages to members by userid. The server's address must be among
// the application's trusted IPs (企业可信IP).
type WeComAppConfig struct {
	BaseURL    string // empty: https://qyapi.weixin.qq.com
	CorpID     string // 企业ID
	CorpSecret string // the application's Secret
	AgentID    int64  // the application's AgentId
}

// tokenMargin is how long before its expiry a cached access token is
// renewed.
const tokenMargin = 5 * time.Minute

type weComApp struct {
	c    client
	base string
	cfg  WeComAppConfig

	mu      sync.Mutex // held across a token fetch, so one fetch serves all
	token   string
	expires time.Time
}

// NewWeComApp returns the WeCom application message channel. Its access
// token lives in memory only: it is re-fetchable at any time, and losing
// it costs one request.
func NewWeComApp(cfg WeComAppConfig, common *Config) Channel {
	base := cfg.BaseURL
	if base == "" {
		base = DefaultWeComBaseURL
	}
	return &weComApp{c: newClient(WeComApp, common), base: base, cfg: cfg}
}

func (w *weComApp) Kind() Kind { return WeComApp }

// accessToken returns the cached token, fetching a new one if it is
// missing, expiring, or refresh is set.
func (w *weComApp) accessToken(ctx context.Context, refresh bool) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.c.now()
	if !refresh && w.token != "" && now.Before(w.expires) {
		return w.token, nil
	}
	q := url.Values{"corpid": {w.cfg.CorpID}, "corpsecret": {w.cfg.CorpSecret}}
	req, err := http.NewRequest(http.MethodGet, joinURL(w.base, "/cgi-bin/gettoken?"+q.Encode()), nil)
	if err != nil {
		return "", w.c.configError()
	}
	a, err := w.c.do(ctx, req)
	if err != nil {
		return "", err
	}
	var ans weComAnswer
	if err := w.c.decode(a, &ans); err != nil {
		return "", err
	}
	if err := ans.check(WeComApp); err != nil {
		return "", err
	}
	if ans.AccessToken == "" {
		return "", &Error{Kind: WeComApp, Code: CodeBadAnswer, Reason: reasonBadAnswer}
	}
	life := time.Duration(ans.ExpiresIn) * time.Second
	if life <= 2*tokenMargin {
		life = 2 * tokenMargin
	}
	w.token, w.expires = ans.AccessToken, now.Add(life-tokenMargin)
	return w.token, nil
}

func (w *weComApp) Send(ctx context.Context, to Target, m Message) error {
	user, err := Normalize(WeComApp, to.Address)
	if err != nil {
		return err
	}
	body := map[string]any{
		"touser":  user,
		"msgtype": "text",
		"agentid": w.cfg.AgentID,
		"text":    map[string]string{"content": m.text()},
		"safe":    0,
	}
	for attempt := 0; ; attempt++ {
		token, err := w.accessToken(ctx, attempt > 0)
		if err != nil {
			return err
		}
		a, err := w.c.postJSON(ctx, joinURL(w.base, "/cgi-bin/message/send?access_token="+url.QueryEscape(token)), body, nil)
		if err != nil {
			return err
		}
		var ans weComAnswer
		if err := w.c.decode(a, &ans); err != nil {
			return err
		}
		err = ans.check(WeComApp)
		if e, ok := err.(*Error); ok && attempt == 0 && (e.Code == "40014" || e.Code == "42001") {
			continue // the token was revoked or expired early: fetch a new one once
		}
		if err != nil {
			return err
		}
		// errcode 0 with the user listed as invalid is a failure: the
		// message went to nobody.
		if ans.InvalidUser != "" {
			return &Error{Kind: WeComApp, Code: "invaliduser", Permanent: true, Reason: weComCodes["81013"].reason}
		}
		if ans.UnlicensedUser != "" {
			return &Error{Kind: WeComApp, Code: "unlicenseduser", Permanent: true, Reason: "成员未获得接口许可 / the member has no API licence"}
		}
		return nil
	}
}
