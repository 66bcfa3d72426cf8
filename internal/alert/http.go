package alert

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

const (
	defaultTimeout = 10 * time.Second
	maxAnswer      = 1 << 20 // a vendor's answer is a few hundred bytes
)

const (
	reasonTimeout   = "服务商未及时应答 / the provider did not answer in time"
	reasonNetwork   = "无法连接服务商 / could not reach the provider"
	reasonBadAnswer = "服务商应答无法识别 / the provider's answer was not understood"
)

// client is the HTTP side every vendor channel shares: one request with a
// deadline, the answer read whole (bounded), and errors that never quote
// a URL (a robot's URL is its key).
type client struct {
	kind    Kind
	http    *http.Client
	timeout time.Duration
	now     func() time.Time
}

func newClient(k Kind, cfg *Config) client {
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	c := *hc
	t := cfg.Timeout
	if t <= 0 {
		t = defaultTimeout
	}
	c.Timeout = t
	// A vendor never redirects an API call; following one would send the
	// body (and for robots the key) somewhere else.
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return client{kind: k, http: &c, timeout: t, now: now}
}

// answer is an HTTP answer read whole.
type answer struct {
	status int
	body   []byte
}

// do sends req and reads the answer. Its errors are *Error, temporary,
// with nothing of the request in them.
func (c client) do(ctx context.Context, req *http.Request) (answer, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.http.Do(req.WithContext(ctx))
	if err != nil {
		return answer{}, c.netError(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return answer{}, c.netError(err)
	}
	return answer{status: resp.StatusCode, body: body}, nil
}

// netError classifies a transport error without quoting it: url.Error's
// text holds the whole URL, robot key and access token included.
func (c client) netError(err error) *Error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return &Error{Kind: c.kind, Code: CodeTimeout, Reason: reasonTimeout}
	}
	return &Error{Kind: c.kind, Code: CodeNetwork, Reason: reasonNetwork}
}

// postJSON posts v as JSON to url and returns the answer.
func (c client) postJSON(ctx context.Context, url string, v any, header http.Header) (answer, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return answer{}, &Error{Kind: c.kind, Code: CodeInternal, Reason: "消息编码失败 / could not encode the message", Permanent: true}
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return answer{}, c.configError()
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	for k, vs := range header {
		req.Header[k] = vs
	}
	return c.do(ctx, req)
}

func (c client) configError() *Error {
	return &Error{Kind: c.kind, Code: CodeInternal, Permanent: true, Reason: "服务地址配置错误 / the provider address is misconfigured"}
}

// httpError is the error for an answer that is not the vendor's JSON:
// a gateway's 502, a 404 for an unknown path.
func (c client) httpError(status int) *Error {
	e := &Error{Kind: c.kind, Code: fmt.Sprintf("http_%d", status)}
	switch {
	case status == http.StatusTooManyRequests:
		e.Reason = "服务商限流 / the provider is rate limiting"
	case status == http.StatusRequestTimeout || status >= 500:
		e.Reason = "服务商暂时不可用 / the provider is unavailable"
	case status == http.StatusNotFound || status == http.StatusGone:
		e.Reason = "地址不存在 / unknown address"
		e.Permanent = true
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		e.Reason = "服务商拒绝了凭据 / the provider refused the credentials"
		e.Permanent = true
	default:
		e.Reason = reasonBadAnswer
		e.Permanent = status >= 400
	}
	return e
}

// decode reads a JSON answer into v; an answer that is not JSON is an
// error by its HTTP status.
func (c client) decode(a answer, v any) error {
	if err := json.Unmarshal(a.body, v); err != nil {
		if a.status >= 300 {
			return c.httpError(a.status)
		}
		return &Error{Kind: c.kind, Code: CodeBadAnswer, Reason: reasonBadAnswer}
	}
	return nil
}

// vendorCode is a vendor's error code with what it means.
type vendorCode struct {
	reason    string
	permanent bool
}

// vendorError maps a vendor code by table, then by fallback.
func vendorError(k Kind, code string, table map[string]vendorCode, fallback func(code string) vendorCode) *Error {
	v, ok := table[code]
	if !ok {
		v = fallback(code)
	}
	return &Error{Kind: k, Code: code, Reason: v.reason, Permanent: v.permanent}
}

// deliveryID is m.ID or a fresh random one.
func deliveryID(m Message) string {
	if m.ID != "" {
		return m.ID
	}
	return strings.ToLower(rand.Text())
}

// joinURL joins a base URL (no trailing slash needed) and a path.
func joinURL(base, path string) string {
	return strings.TrimRight(base, "/") + path
}
