package alert

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Web Push: RFC 8030 (the protocol), RFC 8291 (payload encryption,
// aes128gcm of RFC 8188) and RFC 8292 (VAPID), written on the standard
// library's crypto/ecdh, crypto/hkdf, crypto/aes+cipher and crypto/ecdsa.
// A library (SherClockHolmes/webpush-go) would add golang-jwt for one
// ES256 signature and hide the key handling this server must keep; the
// specs are short and the RFC's worked example pins the result.

// VAPIDKeys is the server's application server key pair (P-256). The
// server keeps one pair for good: browsers bind each subscription to its
// public key, so a new pair orphans every subscription.
type VAPIDKeys struct {
	priv *ecdsa.PrivateKey
}

// GenerateVAPIDKeys makes a new key pair.
func GenerateVAPIDKeys() (*VAPIDKeys, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return &VAPIDKeys{priv: k}, nil
}

// ParseVAPIDKeys reads a key pair written by MarshalBinary.
func ParseVAPIDKeys(b []byte) (*VAPIDKeys, error) {
	k := &VAPIDKeys{}
	if err := k.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	return k, nil
}

// MarshalBinary returns the private key: its 32-byte scalar. It is a
// secret; store it sealed.
func (k *VAPIDKeys) MarshalBinary() ([]byte, error) {
	if k == nil || k.priv == nil {
		return nil, errors.New("vapid: no key")
	}
	return k.priv.Bytes()
}

// UnmarshalBinary sets k from a 32-byte P-256 private scalar.
func (k *VAPIDKeys) UnmarshalBinary(b []byte) error {
	p, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), b)
	if err != nil {
		return errors.New("vapid: not a P-256 private key")
	}
	k.priv = p
	return nil
}

// PublicKey is the public key as the browser wants it for
// pushManager.subscribe({applicationServerKey}): the uncompressed point,
// base64url without padding.
func (k *VAPIDKeys) PublicKey() string {
	b, _ := k.priv.PublicKey.Bytes()
	return base64.RawURLEncoding.EncodeToString(b)
}

// WebPushConfig turns Web Push on.
type WebPushConfig struct {
	Keys *VAPIDKeys
	// Subject is how push services reach the operator: "mailto:…" or an
	// https URL (RFC 8292 "sub"); Apple's service refuses a push without
	// one.
	Subject string
	// TTL is how long the push service keeps an alert for a phone that is
	// offline; default one hour.
	TTL time.Duration
}

// subscription is a PushSubscription's JSON (PushSubscription.toJSON()).
type subscription struct {
	Endpoint string `json:"endpoint"`
	Keys     struct {
		P256dh string `json:"p256dh"`
		Auth   string `json:"auth"`
	} `json:"keys"`

	ua   *ecdh.PublicKey
	auth []byte
}

func b64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(s)
}

func parseSubscription(a string) (*subscription, error) {
	var s subscription
	if err := json.Unmarshal([]byte(a), &s); err != nil {
		return nil, err
	}
	if _, err := checkURL(s.Endpoint); err != nil {
		return nil, err
	}
	p, err := b64(s.Keys.P256dh)
	if err != nil {
		return nil, err
	}
	if s.ua, err = ecdh.P256().NewPublicKey(p); err != nil {
		return nil, err
	}
	if s.auth, err = b64(s.Keys.Auth); err != nil || len(s.auth) != 16 {
		return nil, errors.New("webpush: auth secret is not 16 bytes")
	}
	return &s, nil
}

func (s *subscription) canonical() string {
	var c subscription
	c.Endpoint = s.Endpoint
	c.Keys.P256dh = base64.RawURLEncoding.EncodeToString(s.ua.Bytes())
	c.Keys.Auth = base64.RawURLEncoding.EncodeToString(s.auth)
	b, _ := json.Marshal(c)
	return string(b)
}

// recordSize is the record size written in the aes128gcm header; one
// record holds the whole message.
const recordSize = 4096

// encryptPayload encrypts plaintext for a subscription per RFC 8291
// section 3.4 with the sender's ephemeral key as and salt (random in
// production; fixed in the test of the RFC's example). The result is the
// RFC 8188 header (salt, rs, keyid = as's public key) and one record.
func encryptPayload(plaintext []byte, ua *ecdh.PublicKey, auth []byte, as *ecdh.PrivateKey, salt []byte) ([]byte, error) {
	secret, err := as.ECDH(ua)
	if err != nil {
		return nil, err
	}
	asPub := as.PublicKey().Bytes()
	// IKM = HKDF(salt = auth_secret, ikm = ecdh_secret,
	//            info = "WebPush: info" 0x00 ua_public as_public, L = 32)
	info := "WebPush: info\x00" + string(ua.Bytes()) + string(asPub)
	ikm, err := hkdf.Key(sha256.New, secret, auth, info, 32)
	if err != nil {
		return nil, err
	}
	prk, err := hkdf.Extract(sha256.New, ikm, salt)
	if err != nil {
		return nil, err
	}
	cek, err := hkdf.Expand(sha256.New, prk, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, err
	}
	nonce, err := hkdf.Expand(sha256.New, prk, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	header := make([]byte, 0, 21+len(asPub))
	header = append(header, salt...)
	header = binary.BigEndian.AppendUint32(header, recordSize)
	header = append(header, byte(len(asPub)))
	header = append(header, asPub...)
	// The last (and only) record ends with the delimiter 0x02, unpadded.
	record := append(append([]byte(nil), plaintext...), 0x02)
	if len(header)+len(record)+gcm.Overhead() > recordSize {
		return nil, errors.New("webpush: payload too large")
	}
	return gcm.Seal(header, nonce, record, nil), nil
}

// vapidJWT signs the RFC 8292 token for an endpoint's origin with ES256.
func vapidJWT(k *VAPIDKeys, audience, subject string, exp time.Time) (string, error) {
	enc := base64.RawURLEncoding
	claims := map[string]any{"aud": audience, "exp": exp.Unix()}
	if subject != "" {
		claims["sub"] = subject
	}
	cb, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signing := enc.EncodeToString([]byte(`{"typ":"JWT","alg":"ES256"}`)) + "." + enc.EncodeToString(cb)
	h := sha256.Sum256([]byte(signing))
	r, s, err := ecdsa.Sign(rand.Reader, k.priv, h[:])
	if err != nil {
		return "", err
	}
	// JWS wants r and s as two fixed 32-byte big-endian integers, not DER.
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return signing + "." + enc.EncodeToString(sig), nil
}

// WebPushMessage is the decrypted payload a push carries; the inbox's
// service worker shows title and body and opens url when tapped.
type WebPushMessage struct {
	Title  string `json:"title"`
	Body   string `json:"body"`
	URL    string `json:"url,omitempty"`
	Tag    string `json:"tag"`
	Urgent bool   `json:"urgent"`
}

type webPush struct {
	c   client
	cfg WebPushConfig
}

// NewWebPush returns the Web Push channel.
func NewWebPush(cfg WebPushConfig, common *Config) Channel {
	if cfg.TTL <= 0 {
		cfg.TTL = time.Hour
	}
	return &webPush{c: newClient(WebPush, common), cfg: cfg}
}

func (w *webPush) Kind() Kind { return WebPush }

func (w *webPush) Send(ctx context.Context, to Target, m Message) error {
	s, err := parseSubscription(strings.TrimSpace(to.Address))
	if err != nil {
		return invalid(WebPush, "推送订阅无效 / invalid push subscription")
	}
	title := "Hotline 提醒 / alert"
	if m.Urgent {
		title = "紧急报告 / Urgent report"
	}
	payload, err := json.Marshal(WebPushMessage{Title: title, Body: strings.TrimSpace(m.Text), URL: m.Link, Tag: "hotline-" + m.AliasEN, Urgent: m.Urgent})
	if err != nil {
		return &Error{Kind: WebPush, Code: CodeInternal, Permanent: true, Reason: "消息编码失败 / could not encode the message"}
	}
	as, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return &Error{Kind: WebPush, Code: CodeInternal, Reason: "加密失败 / encryption failed"}
	}
	body, err := encryptPayload(payload, s.ua, s.auth, as, randomBytes(16))
	if err != nil {
		return &Error{Kind: WebPush, Code: "payload_too_large", Permanent: true, Reason: "推送内容过长 / the push payload is too large"}
	}
	u, _ := url.Parse(s.Endpoint)
	jwt, err := vapidJWT(w.cfg.Keys, u.Scheme+"://"+u.Host, w.cfg.Subject, w.c.now().Add(12*time.Hour))
	if err != nil {
		return &Error{Kind: WebPush, Code: CodeInternal, Reason: "签名失败 / signing failed"}
	}
	req, err := http.NewRequest(http.MethodPost, s.Endpoint, bytes.NewReader(body))
	if err != nil {
		return w.c.configError()
	}
	urgency := "normal"
	if m.Urgent {
		urgency = "high"
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Content-Encoding", "aes128gcm")
	req.Header.Set("TTL", strconv.Itoa(int(w.cfg.TTL/time.Second)))
	req.Header.Set("Urgency", urgency)
	req.Header.Set("Authorization", "vapid t="+jwt+", k="+w.cfg.Keys.PublicKey())
	a, err := w.c.do(ctx, req)
	if err != nil {
		return err
	}
	switch {
	case a.status >= 200 && a.status < 300:
		return nil
	case a.status == http.StatusNotFound || a.status == http.StatusGone:
		return &Error{Kind: WebPush, Code: strconv.Itoa(a.status), Permanent: true,
			Reason: "推送订阅已失效（请在手机上重新开启提醒）/ the subscription is gone (turn alerts on again on the phone)"}
	case a.status == http.StatusRequestEntityTooLarge:
		return &Error{Kind: WebPush, Code: "413", Permanent: true, Reason: "推送内容过长 / the push payload is too large"}
	case a.status == http.StatusUnauthorized || a.status == http.StatusForbidden:
		return &Error{Kind: WebPush, Code: strconv.Itoa(a.status), Permanent: true,
			Reason: "推送服务拒绝了服务器密钥（VAPID）/ the push service refused the server key (VAPID)"}
	}
	e := w.c.httpError(a.status)
	e.Code = strconv.Itoa(a.status)
	return e
}
