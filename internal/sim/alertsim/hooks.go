package alertsim

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"

	"hotline/internal/alert"
)

// ---- 平安校园 webhook receiver ----

// AddWebhook makes a webhook receiver at URL()+"/webhook/"+name that
// checks signatures with secret, and returns its target.
func (s *Sim) AddWebhook(name, secret string) alert.Target {
	s.mu.Lock()
	s.webhooks[name] = secret
	u := s.baseURL
	s.mu.Unlock()
	return alert.Target{Kind: alert.Webhook, Address: u + "/webhook/" + name, Secret: secret}
}

// NewWebhook makes a webhook receiver with a random name and secret.
func (s *Sim) NewWebhook() alert.Target { return s.AddWebhook(randomHex(8), randomHex(24)) }

func (s *Sim) webhookRefuse(w http.ResponseWriter, req Request, status int, msg string) {
	req.Code = strconv.Itoa(status)
	s.record(req, false)
	http.Error(w, msg, status)
}

func (s *Sim) handleWebhook(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	req := Request{Kind: alert.Webhook, Target: name, URL: requestURL(r)}
	f, faulty := s.faultFor(alert.Webhook, name)
	if faulty && f.unreachable {
		drop(w)
		return
	}
	body, err := readBody(r)
	req.Body = body
	if err != nil {
		s.webhookRefuse(w, req, http.StatusRequestEntityTooLarge, "too large")
		return
	}
	s.mu.Lock()
	secret, known := s.webhooks[name]
	now := s.now()
	s.mu.Unlock()
	if !known {
		s.webhookRefuse(w, req, http.StatusNotFound, "no such receiver")
		return
	}
	// The receiver's checks, as the package documentation of
	// internal/alert tells a platform to make them.
	tsText := r.Header.Get("X-Hotline-Timestamp")
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil || now.Sub(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		s.webhookRefuse(w, req, http.StatusUnauthorized, "stale or missing timestamp")
		return
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(tsText + "."))
	mac.Write(body)
	if !hmac.Equal([]byte("sha256="+hex.EncodeToString(mac.Sum(nil))), []byte(r.Header.Get("X-Hotline-Signature"))) {
		s.webhookRefuse(w, req, http.StatusUnauthorized, "bad signature")
		return
	}
	var p alert.WebhookPayload
	id := r.Header.Get("X-Hotline-Id")
	if err := json.Unmarshal(body, &p); err != nil || id == "" || p.ID != id {
		s.webhookRefuse(w, req, http.StatusBadRequest, "bad payload")
		return
	}
	if faulty {
		status, err := strconv.Atoi(f.code)
		if err != nil || status < 400 {
			status = http.StatusInternalServerError
		}
		s.webhookRefuse(w, req, status, "simulated failure")
		return
	}
	s.mu.Lock()
	dup := s.webhookIDs[id]
	if len(s.webhookIDs) >= 10*maxKept {
		s.webhookIDs = map[string]bool{} // a receiver remembers ids for a while, not for ever
	}
	s.webhookIDs[id] = true
	s.mu.Unlock()
	if dup {
		// A retried delivery: acknowledged, not recorded twice.
		w.WriteHeader(http.StatusOK)
		return
	}
	req.Text, req.Link, req.Urgent = p.Text, p.Link, p.Urgent
	s.record(req, true)
	w.WriteHeader(http.StatusNoContent)
}

// ---- Web Push service ----

type pushSub struct {
	ua    *ecdh.PrivateKey
	auth  []byte
	vapid string // the applicationServerKey it was made with; "" any
	gone  bool
}

// NewPushSubscription makes a push subscription, as a browser would with
// pushManager.subscribe({applicationServerKey: vapidPublicKey}), and
// returns its target (the subscription's JSON). The simulator keeps the
// private key and decrypts what is pushed to it. vapidPublicKey "" accepts
// any server key.
func (s *Sim) NewPushSubscription(vapidPublicKey string) (alert.Target, error) {
	ua, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return alert.Target{}, err
	}
	auth := make([]byte, 16)
	rand.Read(auth)
	id := randomHex(16)
	s.mu.Lock()
	s.pushSubs[id] = &pushSub{ua: ua, auth: auth, vapid: vapidPublicKey}
	u := s.baseURL
	s.mu.Unlock()
	enc := base64.RawURLEncoding
	b, _ := json.Marshal(map[string]any{
		"endpoint":       u + "/push/" + id,
		"expirationTime": nil,
		"keys":           map[string]string{"p256dh": enc.EncodeToString(ua.PublicKey().Bytes()), "auth": enc.EncodeToString(auth)},
	})
	return alert.Target{Kind: alert.WebPush, Address: string(b)}, nil
}

// PushID returns the subscription id of a push target's endpoint (the
// Target of its Requests).
func PushID(t alert.Target) string {
	var sub struct {
		Endpoint string `json:"endpoint"`
	}
	json.Unmarshal([]byte(t.Address), &sub)
	return sub.Endpoint[strings.LastIndexByte(sub.Endpoint, '/')+1:]
}

// Unsubscribe makes a subscription gone: pushes to it answer 410, as when
// the user turned notifications off.
func (s *Sim) Unsubscribe(id string) {
	s.mu.Lock()
	if p := s.pushSubs[id]; p != nil {
		p.gone = true
	}
	s.mu.Unlock()
}

func (s *Sim) handlePush(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	req := Request{Kind: alert.WebPush, Target: id, URL: requestURL(r)}
	f, faulty := s.faultFor(alert.WebPush, id)
	if faulty && f.unreachable {
		drop(w)
		return
	}
	body, err := readBody(r)
	if err != nil || len(body) > 4096 {
		s.webhookRefuse(w, req, http.StatusRequestEntityTooLarge, "payload too large")
		return
	}
	s.mu.Lock()
	sub := s.pushSubs[id]
	base := s.baseURL
	now := s.now()
	s.mu.Unlock()
	switch {
	case sub == nil:
		s.webhookRefuse(w, req, http.StatusNotFound, "no such subscription")
		return
	case sub.gone:
		s.webhookRefuse(w, req, http.StatusGone, "subscription expired")
		return
	case r.Header.Get("TTL") == "":
		s.webhookRefuse(w, req, http.StatusBadRequest, "missing TTL")
		return
	case r.Header.Get("Content-Encoding") != "aes128gcm":
		s.webhookRefuse(w, req, http.StatusUnsupportedMediaType, "want Content-Encoding: aes128gcm")
		return
	}
	if status, msg := checkVAPID(r.Header.Get("Authorization"), base, sub.vapid, now); status != 0 {
		s.webhookRefuse(w, req, status, msg)
		return
	}
	plain, err := decryptPush(body, sub.ua, sub.auth)
	if err != nil {
		s.webhookRefuse(w, req, http.StatusBadRequest, "cannot decrypt")
		return
	}
	if faulty {
		status, err := strconv.Atoi(f.code)
		if err != nil || status < 400 {
			status = http.StatusInternalServerError
		}
		s.webhookRefuse(w, req, status, "simulated failure")
		return
	}
	var m alert.WebPushMessage
	json.Unmarshal(plain, &m)
	req.Body, req.Text, req.Link = plain, m.Body, m.URL
	req.Urgent = r.Header.Get("Urgency") == "high"
	s.record(req, true)
	w.Header().Set("Location", base+"/push/message/"+randomHex(8))
	w.WriteHeader(http.StatusCreated)
}

// checkVAPID verifies an RFC 8292 Authorization header: "vapid t=JWT,
// k=KEY", ES256 over the JWT with KEY, aud this service's origin, exp in
// the next 24 hours, a sub.
func checkVAPID(h, origin, want string, now time.Time) (int, string) {
	rest, ok := strings.CutPrefix(h, "vapid ")
	if !ok {
		return http.StatusUnauthorized, "missing vapid authorization"
	}
	var t, k string
	for _, part := range strings.Split(rest, ",") {
		part = strings.TrimSpace(part)
		if v, ok := strings.CutPrefix(part, "t="); ok {
			t = v
		} else if v, ok := strings.CutPrefix(part, "k="); ok {
			k = v
		}
	}
	enc := base64.RawURLEncoding
	kb, err := enc.DecodeString(k)
	if err != nil {
		return http.StatusUnauthorized, "bad k"
	}
	if want != "" && k != want {
		return http.StatusForbidden, "the subscription belongs to another application server key"
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), kb)
	if err != nil {
		return http.StatusUnauthorized, "bad k"
	}
	parts := strings.Split(t, ".")
	if len(parts) != 3 {
		return http.StatusUnauthorized, "bad t"
	}
	sig, err := enc.DecodeString(parts[2])
	h256 := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err != nil || len(sig) != 64 || !ecdsa.Verify(pub, h256[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return http.StatusForbidden, "the JWT signature does not verify"
	}
	var hdr struct{ Alg string }
	var claims struct {
		Aud string
		Exp int64
		Sub string
	}
	hb, _ := enc.DecodeString(parts[0])
	cb, _ := enc.DecodeString(parts[1])
	if json.Unmarshal(hb, &hdr) != nil || json.Unmarshal(cb, &claims) != nil || hdr.Alg != "ES256" {
		return http.StatusForbidden, "bad JWT"
	}
	exp := time.Unix(claims.Exp, 0)
	switch {
	case claims.Aud != origin:
		return http.StatusForbidden, "aud is not this push service's origin"
	case !exp.After(now) || exp.Sub(now) > 24*time.Hour:
		return http.StatusForbidden, "exp is not within the next 24 hours"
	case !strings.HasPrefix(claims.Sub, "mailto:") && !strings.HasPrefix(claims.Sub, "https://"):
		return http.StatusForbidden, "sub must be mailto: or https:"
	}
	return 0, ""
}

// decryptPush opens an aes128gcm body (RFC 8188) with the subscription's
// keys, deriving the key and nonce as RFC 8291 section 3.4 says.
func decryptPush(body []byte, ua *ecdh.PrivateKey, auth []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, errors.New("short body")
	}
	salt, rs, idlen := body[:16], binary.BigEndian.Uint32(body[16:20]), int(body[20])
	if len(body) < 21+idlen || idlen != 65 || rs < 18 {
		return nil, errors.New("bad header")
	}
	asPub, ct := body[21:21+idlen], body[21+idlen:]
	if len(ct) > int(rs) {
		return nil, errors.New("more than one record")
	}
	as, err := ecdh.P256().NewPublicKey(asPub)
	if err != nil {
		return nil, err
	}
	secret, err := ua.ECDH(as)
	if err != nil {
		return nil, err
	}
	prkKey, err := hkdf.Extract(sha256.New, secret, auth)
	if err != nil {
		return nil, err
	}
	ikm, err := hkdf.Expand(sha256.New, prkKey, "WebPush: info\x00"+string(ua.PublicKey().Bytes())+string(asPub), 32)
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
	plain, err := gcm.Open(nil, nonce, ct, nil)
	if err != nil {
		return nil, err
	}
	// Strip the padding (zeros) and the last record's delimiter, 0x02.
	i := len(plain) - 1
	for i >= 0 && plain[i] == 0 {
		i--
	}
	if i < 0 || plain[i] != 2 {
		return nil, errors.New("no last-record delimiter")
	}
	return plain[:i], nil
}
