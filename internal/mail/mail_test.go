package mail_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"mime"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"hotline/internal/alert"
	"hotline/internal/mail"
	"hotline/internal/mail/mailtest"
)

var _ alert.Mailer = (*mail.Sender)(nil)

const (
	subject = "Hotline 提醒 / alert: 蓝狐 / Blue Fox"
	// An alert body as the scheduler writes it: alias, school, what to do.
	body = "紧急报告「蓝狐」— 第三中学 — 请打开收件箱\nUrgent report Blue Fox at No. 3 Middle School — open the inbox\nhttps://hotline.example.cn/inbox/"
)

// selfSigned returns a server certificate for 127.0.0.1 and a client
// config that trusts only it (httptest's test certificate).
func selfSigned(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	hs := httptest.NewUnstartedServer(nil)
	hs.StartTLS()
	cert := hs.TLS.Certificates[0]
	pool := x509.NewCertPool()
	pool.AddCert(hs.Certificate())
	hs.Close()
	return &tls.Config{Certificates: []tls.Certificate{cert}}, &tls.Config{RootCAs: pool}
}

func send(t *testing.T, cfg mail.Config) error {
	t.Helper()
	s, err := mail.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s.SendMail(context.Background(), "wang@school.example.cn", subject, body)
}

func only(t *testing.T, srv *mailtest.Server) *mailtest.Message {
	t.Helper()
	ms := srv.Messages()
	if len(ms) != 1 {
		t.Fatalf("server got %d messages, want 1", len(ms))
	}
	return ms[0]
}

func TestSendEncodesHeadersAndBody(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.Options{})
	if err := send(t, mail.Config{Addr: srv.Addr, From: "hotline@example.cn"}); err != nil {
		t.Fatal(err)
	}
	m := only(t, srv)
	if m.From != "hotline@example.cn" || len(m.To) != 1 || m.To[0] != "wang@school.example.cn" {
		t.Errorf("envelope %q → %q", m.From, m.To)
	}
	if m.TLS || m.Auth != "" {
		t.Errorf("tls %t auth %q on a plain relay without a user", m.TLS, m.Auth)
	}
	raw := m.Header.Get("Subject")
	if !strings.HasPrefix(strings.ToUpper(raw), "=?UTF-8?") {
		t.Errorf("Subject %q is not an RFC 2047 UTF-8 encoded word", raw)
	}
	if got, err := new(mime.WordDecoder).DecodeHeader(raw); err != nil || got != subject {
		t.Errorf("Subject decodes to %q (%v), want %q", got, err, subject)
	}
	for _, line := range strings.Split(m.Raw, "\r\n") {
		for _, r := range line {
			if r > 127 {
				t.Fatalf("raw message has a non-ASCII line %q", line)
			}
		}
	}
	if d, err := m.Header.Date(); err != nil || time.Since(d).Abs() > time.Minute {
		t.Errorf("Date %q: %v", m.Header.Get("Date"), err)
	}
	if id := m.Header.Get("Message-Id"); !regexp.MustCompile(`^<[A-Z2-7]{20,}@example\.cn>$`).MatchString(id) {
		t.Errorf("Message-ID %q, want <random@example.cn>", id)
	}
	if ct := m.Header.Get("Content-Type"); !strings.Contains(ct, "text/plain") || !strings.Contains(strings.ToLower(ct), "charset=utf-8") {
		t.Errorf("Content-Type %q", ct)
	}
	if m.Header.Get("User-Agent") != "" || m.Header.Get("X-Mailer") != "" {
		t.Errorf("advertises its software: %q %q", m.Header.Get("User-Agent"), m.Header.Get("X-Mailer"))
	}
	if strings.TrimRight(m.Body, "\n") != body {
		t.Errorf("body %q, want %q", m.Body, body)
	}
}

func TestImplicitTLS(t *testing.T) {
	serverTLS, clientTLS := selfSigned(t)
	srv := mailtest.NewServer(t, mailtest.Options{TLS: serverTLS})
	if err := send(t, mail.Config{Addr: srv.Addr, From: "hotline@example.cn", User: "hotline", Password: "s3cret",
		Security: mail.SecurityTLS, TLSConfig: clientTLS}); err != nil {
		t.Fatal(err)
	}
	if m := only(t, srv); !m.TLS || m.Auth != "hotline:s3cret" {
		t.Errorf("tls %t auth %q", m.TLS, m.Auth)
	}
	// A certificate nobody vouched for is refused.
	srv2 := mailtest.NewServer(t, mailtest.Options{TLS: serverTLS})
	if err := send(t, mail.Config{Addr: srv2.Addr, From: "hotline@example.cn", Security: mail.SecurityTLS, Timeout: 5 * time.Second}); err == nil {
		t.Error("sent to a server with an untrusted certificate")
	}
	if n := len(srv2.Messages()); n != 0 {
		t.Errorf("untrusted server got %d messages", n)
	}
}

func TestStartTLS(t *testing.T) {
	serverTLS, clientTLS := selfSigned(t)
	offered := mailtest.NewServer(t, mailtest.Options{StartTLS: serverTLS})
	// Auto on a port other than 465 and 587: upgrade when offered.
	if err := send(t, mail.Config{Addr: offered.Addr, From: "hotline@example.cn", User: "hotline", Password: "pw", TLSConfig: clientTLS}); err != nil {
		t.Fatal(err)
	}
	if m := only(t, offered); !m.TLS || m.Auth != "hotline:pw" {
		t.Errorf("tls %t auth %q", m.TLS, m.Auth)
	}
	// Required STARTTLS refuses a server that does not offer it.
	plain := mailtest.NewServer(t, mailtest.Options{})
	if err := send(t, mail.Config{Addr: plain.Addr, From: "hotline@example.cn", Security: mail.SecurityStartTLS}); err == nil {
		t.Error("sent in the clear although STARTTLS was required")
	}
	if n := len(plain.Messages()); n != 0 {
		t.Errorf("plain server got %d messages", n)
	}
	if !plain.Idle(5 * time.Second) {
		t.Error("the refused connection was left open")
	}
}

func TestErrorsDoNotNameTheRecipient(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.Options{RejectRcpt: true})
	err := send(t, mail.Config{Addr: srv.Addr, From: "hotline@example.cn"})
	if err == nil {
		t.Fatal("a rejected recipient is not an error")
	}
	if strings.Contains(err.Error(), "wang") || !strings.Contains(err.Error(), "550") {
		t.Errorf("error %q: want the reply code and no address", err)
	}
	if !srv.Idle(5 * time.Second) {
		t.Error("the connection was left open")
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, cfg := range []mail.Config{
		{Addr: "smtp.example.cn", From: "hotline@example.cn"},
		{Addr: "smtp.example.cn:0", From: "hotline@example.cn"},
		{Addr: ":465", From: "hotline@example.cn"},
		{Addr: "smtp.example.cn:465", From: "not an address"},
		{Addr: "smtp.example.cn:465", From: "hotline@example.cn", Security: "ssl"},
	} {
		if _, err := mail.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}
