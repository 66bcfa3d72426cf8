package alert

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// The headers of a webhook alert. A receiver checks, in this order:
//
//  1. X-Hotline-Timestamp (Unix seconds) is within five minutes of now;
//  2. X-Hotline-Signature equals "sha256=" + hex(HMAC-SHA256(secret,
//     timestamp + "." + body)), body being the raw request body, compared
//     in constant time;
//  3. X-Hotline-Id (also the body's "id") was not seen before: a retried
//     delivery carries the same id, so a receiver drops the duplicate.
const (
	WebhookHeaderID        = "X-Hotline-Id"
	WebhookHeaderTimestamp = "X-Hotline-Timestamp"
	WebhookHeaderSignature = "X-Hotline-Signature"
)

// WebhookSignature is the X-Hotline-Signature value of body sent at
// timestamp (Unix seconds).
func WebhookSignature(secret string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(timestamp, 10) + "."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// SignWebhook sets the headers of a signed webhook request: its JSON
// content type, the delivery id (the same on every retry), the timestamp
// (Unix seconds) and the signature of body under secret. Alerts and the
// district's event webhooks (internal/platform) sign alike, so a receiver
// checks both with one routine.
func SignWebhook(h http.Header, secret, id string, timestamp int64, body []byte) {
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set(WebhookHeaderID, id)
	h.Set(WebhookHeaderTimestamp, strconv.FormatInt(timestamp, 10))
	h.Set(WebhookHeaderSignature, WebhookSignature(secret, timestamp, body))
}

// WebhookPayload is the JSON body of a webhook alert. Like every alert it
// carries no report content: the school, the case alias, the text
// composed from them, and a link behind the log-in.
type WebhookPayload struct {
	ID       string `json:"id"`    // the delivery id, as X-Hotline-Id
	Event    string `json:"event"` // "alert"
	SentAt   string `json:"sent_at"`
	Urgent   bool   `json:"urgent"`
	Rung     int    `json:"rung,omitempty"`
	School   string `json:"school"`
	SchoolEN string `json:"school_en,omitempty"`
	Alias    string `json:"alias"`
	AliasEN  string `json:"alias_en,omitempty"`
	Text     string `json:"text"`
	Link     string `json:"link,omitempty"`
}

type webhook struct{ c client }

// NewWebhook returns the generic webhook channel: a signed HTTPS POST to
// the target's URL, for a district's own 平安校园 platform.
func NewWebhook(common *Config) Channel { return &webhook{c: newClient(Webhook, common)} }

func (w *webhook) Kind() Kind { return Webhook }

func (w *webhook) Send(ctx context.Context, to Target, m Message) error {
	u, err := Normalize(Webhook, to.Address)
	if err != nil {
		return err
	}
	if to.Secret == "" {
		return &Error{Kind: Webhook, Code: CodeInvalidTarget, Permanent: true, Reason: "缺少签名密钥 / no signing secret"}
	}
	now := w.c.now()
	id := deliveryID(m)
	body, err := json.Marshal(WebhookPayload{
		ID: id, Event: "alert", SentAt: now.UTC().Format(time.RFC3339), Urgent: m.Urgent, Rung: m.Rung,
		School: m.School, SchoolEN: m.SchoolEN, Alias: m.AliasZH, AliasEN: m.AliasEN, Text: m.Text, Link: m.Link,
	})
	if err != nil {
		return &Error{Kind: Webhook, Code: CodeInternal, Permanent: true, Reason: "消息编码失败 / could not encode the message"}
	}
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return w.c.configError()
	}
	SignWebhook(req.Header, to.Secret, id, now.Unix(), body)
	a, err := w.c.do(ctx, req)
	if err != nil {
		return err
	}
	if a.status >= 200 && a.status < 300 {
		return nil
	}
	e := w.c.httpError(a.status)
	e.Code = strconv.Itoa(a.status)
	if a.status == http.StatusUnauthorized || a.status == http.StatusForbidden {
		e.Reason = "接收方拒绝了签名（密钥不一致）/ the receiver refused the signature (secrets differ)"
	}
	return e
}
