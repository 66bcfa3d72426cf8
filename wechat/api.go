package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/photo"
	"hotline/internal/store"
)

// WeChat API error codes the adapter acts on.
const (
	codeBusy          = -1    // system busy: try again
	codeInvalidToken  = 40001 // access token invalid (refreshed elsewhere, revoked)
	codeExpiredToken  = 42001 // access token expired
	codeWindowClosed  = 45015 // the 48-hour customer-service window is closed
	codeQuota         = 45047 // too many customer-service messages since the reporter last wrote
	codeUnsubscribed  = 43004 // the reporter unfollowed the account
	codeInvalidOpenID = 40003
)

// APIError is an answer of the WeChat API with a non-zero errcode. Its
// errmsg is not kept: it is WeChat's text, of no use in a log line.
type APIError struct{ Code int }

func (e *APIError) Error() string { return fmt.Sprintf("wechat: api error %d", e.Code) }

// apiCode returns the errcode of err, 0 if it is none.
func apiCode(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Code
	}
	return 0
}

// errNetwork is a call that did not get an answer; its cause is not kept
// because it carries the URL, and with it the access token.
var errNetwork = errors.New("wechat: api not reachable")

// statusError is an HTTP status other than 200.
type statusError struct{ code int }

func (e *statusError) Error() string { return fmt.Sprintf("wechat: http %d", e.code) }

// client calls the API of one account, with an access token shared by
// every node through the database.
type client struct {
	s    *Service
	acct *Account
	mu   sync.Mutex // one refresh at a time in this process
}

type tokenAnswer struct {
	Errcode     int    `json:"errcode"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
}

// token returns a valid access token and the refresh it came from: the
// stored one while it has more than a minute to live, else a fresh one
// from WeChat's stable_token endpoint (which hands every caller the same
// token, so nodes refreshing at once do not invalidate each other's).
func (c *client) token(ctx context.Context, force bool) (string, int64, error) {
	if !force {
		if tok, at, ok := c.stored(ctx); ok {
			return tok, at, nil
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !force {
		if tok, at, ok := c.stored(ctx); ok {
			return tok, at, nil
		}
	}
	body, _ := json.Marshal(map[string]any{"grant_type": "client_credential", "appid": c.acct.AppID, "secret": c.acct.Secret, "force_refresh": force})
	var ans tokenAnswer
	if err := c.do(ctx, http.MethodPost, "/cgi-bin/stable_token", "", "application/json", body, &ans); err != nil {
		return "", 0, err
	}
	if ans.AccessToken == "" || ans.ExpiresIn <= 0 {
		return "", 0, errors.New("wechat: no access token in the answer")
	}
	sealed, err := c.s.vault.SealServer(tokenPurpose(c.acct), []byte(ans.AccessToken))
	if err != nil {
		return "", 0, err
	}
	expires := c.s.now().Add(time.Duration(ans.ExpiresIn) * time.Second)
	var at int64
	err = c.s.db.Update(ctx, func(tx *store.Tx) error {
		at = store.Micros(tx.Now())
		return tx.SaveWechatToken(c.acct.Name, sealed, expires)
	})
	if err != nil {
		return "", 0, err
	}
	return ans.AccessToken, at, nil
}

func tokenPurpose(a *Account) string { return "wechat-token|" + a.Name }

func (c *client) stored(ctx context.Context) (string, int64, bool) {
	t, err := c.s.db.WechatToken(ctx, c.acct.Name)
	if err != nil || !t.Expires().After(c.s.now().Add(time.Minute)) {
		return "", 0, false
	}
	tok, err := c.s.vault.OpenServer(tokenPurpose(c.acct), t.TokenSealed)
	if err != nil {
		return "", 0, false
	}
	return string(tok), t.RefreshedAt, true
}

// call runs an API method with the access token. When WeChat says the
// token is invalid or expired (40001, 42001), the stored token is dropped
// (unless another node replaced it already) and the call made once more
// with a fresh one.
func (c *client) call(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return c.withToken(ctx, func(tok string) error {
		return c.do(ctx, http.MethodPost, path, tok, "application/json", body, out)
	})
}

func (c *client) withToken(ctx context.Context, fn func(tok string) error) error {
	tok, at, err := c.token(ctx, false)
	if err != nil {
		return err
	}
	err = fn(tok)
	code := apiCode(err)
	if code != codeInvalidToken && code != codeExpiredToken {
		return err
	}
	if derr := c.s.db.Update(ctx, func(tx *store.Tx) error { return tx.DropWechatToken(c.acct.Name, at) }); derr != nil {
		return derr
	}
	// Another node may have refreshed meanwhile (its refresh is what
	// invalidated ours): its token is used as it is. Forcing a refresh
	// again would invalidate it under that node in turn.
	if newer, nat, ok := c.stored(ctx); ok && nat != at {
		return fn(newer)
	}
	tok, _, err = c.token(ctx, code == codeInvalidToken)
	if err != nil {
		return err
	}
	return fn(tok)
}

// do sends one request and decodes WeChat's JSON answer into out, turning a
// non-zero errcode into an *APIError.
func (c *client) do(ctx context.Context, method, path, tok, ctype string, body []byte, out any) error {
	return c.doQuery(ctx, method, path, tok, nil, ctype, body, out)
}

// doQuery is do with more query parameters.
func (c *client) doQuery(ctx context.Context, method, path, tok string, q url.Values, ctype string, body []byte, out any) error {
	if q == nil {
		q = url.Values{}
	}
	if tok != "" {
		q.Set("access_token", tok)
	}
	u := c.s.apiURL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return errNetwork
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.s.http.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return ctx.Err()
		}
		return errNetwork
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &statusError{resp.StatusCode}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return errNetwork
	}
	return decodeAnswer(data, out)
}

func decodeAnswer(data []byte, out any) error {
	var e struct {
		Errcode int `json:"errcode"`
	}
	if err := json.Unmarshal(data, &e); err != nil {
		return fmt.Errorf("wechat: answer is not JSON: %w", ErrGarbled)
	}
	if e.Errcode != 0 {
		return &APIError{Code: e.Errcode}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("wechat: answer: %w", ErrGarbled)
		}
	}
	return nil
}

// ErrGarbled is an answer that is not the API's JSON (a proxy's page).
var ErrGarbled = errors.New("garbled answer")

// sendText sends a customer-service (客服) text message.
func (c *client) sendText(ctx context.Context, openID, text string) error {
	return c.call(ctx, "/cgi-bin/message/custom/send", map[string]any{
		"touser": openID, "msgtype": "text", "text": map[string]string{"content": text},
	}, nil)
}

// sendImage uploads an image as temporary media and sends it as a
// customer-service image message.
func (c *client) sendImage(ctx context.Context, openID string, data []byte, ctype string) error {
	name := "photo.jpg"
	if ctype == "image/png" {
		name = "photo.png"
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("media", name)
	if err != nil {
		return err
	}
	fw.Write(data)
	mw.Close()
	var up struct {
		MediaID string `json:"media_id"`
	}
	err = c.withToken(ctx, func(tok string) error {
		return c.doQuery(ctx, http.MethodPost, "/cgi-bin/media/upload", tok, url.Values{"type": {"image"}}, mw.FormDataContentType(), buf.Bytes(), &up)
	})
	if err != nil {
		return err
	}
	return c.call(ctx, "/cgi-bin/message/custom/send", map[string]any{
		"touser": openID, "msgtype": "image", "image": map[string]string{"media_id": up.MediaID},
	}, nil)
}

// sendNotice sends the account's template message with content-free
// words only: that a report has a new reply, and how to read it.
func (c *client) sendNotice(ctx context.Context, openID string) error {
	return c.call(ctx, "/cgi-bin/message/template/send", map[string]any{
		"touser": openID, "template_id": c.acct.NoticeTemplate,
		"data": map[string]any{
			"first":  map[string]string{"value": NoticeText.ZH},
			"remark": map[string]string{"value": NoticeText.EN},
		},
	}, nil)
}

// NoticeText is the whole content of the notice sent when a reply waits
// behind a closed customer-service window: no alias, no school, no words
// of the reply.
var NoticeText = hotline.Label{ZH: "你的报告有新回复，发送任意消息查看。", EN: "Your report has a new reply: send any message to read it."}

// media downloads a temporary media file (a reporter's picture) within
// the photo size limit.
func (c *client) media(ctx context.Context, mediaID string) ([]byte, error) {
	var data []byte
	err := c.withToken(ctx, func(tok string) error {
		u := c.s.apiURL + "/cgi-bin/media/get?access_token=" + url.QueryEscape(tok) + "&media_id=" + url.QueryEscape(mediaID)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return errNetwork
		}
		resp, err := c.s.http.Do(req)
		if err != nil {
			return errNetwork
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return &statusError{resp.StatusCode}
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, photo.MaxBytes+1))
		if err != nil {
			return errNetwork
		}
		// An error comes as JSON; a file as its own type.
		if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); ct == "application/json" || ct == "text/plain" {
			return decodeAnswer(body, nil)
		}
		if len(body) > photo.MaxBytes {
			return hotline.ErrPhotoTooLarge
		}
		data = body
		return nil
	})
	return data, err
}

// Menu keys: what each button of the account's menu sends.
const (
	MenuReport = "HOTLINE_REPORT"
	MenuStatus = "HOTLINE_STATUS"
	MenuSOS    = "HOTLINE_SOS"
)

// createMenu publishes the account's menu: 我要报告 / 查看进度 / 紧急求助.
func (c *client) createMenu(ctx context.Context) error {
	return c.call(ctx, "/cgi-bin/menu/create", map[string]any{"button": []map[string]string{
		{"type": "click", "name": "我要报告", "key": MenuReport},
		{"type": "click", "name": "查看进度", "key": MenuStatus},
		{"type": "click", "name": "紧急求助", "key": MenuSOS},
	}}, nil)
}

// errKind names an error for a log line without its text.
func errKind(err error) string {
	var ae *APIError
	var se *statusError
	var ne net.Error
	var he *hotline.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &ae):
		return fmt.Sprintf("errcode_%d", ae.Code)
	case errors.As(err, &he):
		return he.Code
	case errors.As(err, &se):
		return fmt.Sprintf("http_%d", se.code)
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, ErrGarbled):
		return "garbled"
	case errors.Is(err, errNetwork), errors.As(err, &ne):
		return "network"
	case strings.Contains(err.Error(), "seal"):
		return "seal"
	}
	return "other"
}
