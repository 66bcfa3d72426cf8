// Package mail is the e-mail adapter: it sends staff alerts through an SMTP
// server with github.com/wneessen/go-mail, which writes what Chinese mail
// providers expect (RFC 2047 encoded UTF-8 subjects, Date, Message-ID,
// MIME) and speaks implicit TLS on port 465 as well as STARTTLS on 587.
// It sends what it is given and keeps nothing; it never logs an address,
// a subject or a body.
package mail

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"strconv"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Security is how the connection to the SMTP server is protected.
type Security string

// Security modes.
const (
	// SecurityAuto picks by port: implicit TLS on 465, STARTTLS required on
	// 587, and STARTTLS when the server offers it on any other port (a
	// relay on the same host or network, typically port 25).
	SecurityAuto Security = ""
	// SecurityTLS is implicit TLS from the first byte (SMTPS), which QQ,
	// 163 and Aliyun mail offer on port 465.
	SecurityTLS Security = "tls"
	// SecurityStartTLS requires the server to offer STARTTLS.
	SecurityStartTLS Security = "starttls"
	// SecurityOpportunistic upgrades with STARTTLS when the server offers
	// it and sends in the clear otherwise.
	SecurityOpportunistic Security = "opportunistic"
)

// Config is an SMTP account for sending alerts.
type Config struct {
	Addr     string // host:port of the SMTP server
	From     string // sender address, e.g. "hotline@school.example.cn"
	User     string // SMTP user; empty: no authentication
	Password string
	Security Security
	// TLSConfig overrides the TLS settings (tests trust their own
	// certificate); nil verifies the server's certificate for its host.
	TLSConfig *tls.Config
	// Timeout bounds one message from dial to QUIT (default 30 s).
	Timeout time.Duration
}

// Sender sends plain-text UTF-8 alert e-mails through one SMTP server.
type Sender struct {
	client  *gomail.Client
	from    string
	domain  string // of From, for Message-IDs
	timeout time.Duration
}

// securityFor resolves SecurityAuto by port.
func securityFor(port int, s Security) Security {
	if s != SecurityAuto {
		return s
	}
	switch port {
	case 465:
		return SecurityTLS
	case 587:
		return SecurityStartTLS
	}
	return SecurityOpportunistic
}

// options maps cfg to go-mail client options.
func (cfg Config) options(host string, port int) ([]gomail.Option, error) {
	opts := []gomail.Option{gomail.WithPort(port), gomail.WithTimeout(cfg.timeout())}
	implicit := false
	switch securityFor(port, cfg.Security) {
	case SecurityTLS:
		implicit = true
		opts = append(opts, gomail.WithSSL())
	case SecurityStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case SecurityOpportunistic:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	default:
		return nil, fmt.Errorf("unknown smtp security %q (want tls, starttls or opportunistic)", cfg.Security)
	}
	tc := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tc = cfg.TLSConfig.Clone()
		if tc.ServerName == "" {
			tc.ServerName = host
		}
	}
	opts = append(opts, gomail.WithTLSConfig(tc), gomail.WithDialContextFunc(dialer(implicit, tc)))
	if cfg.User != "" {
		// PLAIN, as before; go-mail refuses it over an unencrypted
		// connection to anything but localhost.
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain),
			gomail.WithUsername(cfg.User), gomail.WithPassword(cfg.Password))
	}
	return opts, nil
}

// dialer dials the server (with TLS from the first byte if implicit) and
// adds the connection to the conns of the send in ctx: go-mail leaves a
// connection open when STARTTLS or authentication fails, so SendMail
// closes every connection it dialed.
func dialer(implicit bool, tc *tls.Config) gomail.DialContextFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := &net.Dialer{}
		var c net.Conn
		var err error
		if implicit {
			c, err = (&tls.Dialer{NetDialer: d, Config: tc}).DialContext(ctx, network, addr)
		} else {
			c, err = d.DialContext(ctx, network, addr)
		}
		if err != nil {
			return nil, err
		}
		if cs, ok := ctx.Value(connsKey{}).(*conns); ok {
			cs.add(c)
		}
		return c, nil
	}
}

type connsKey struct{}

// conns are the connections one SendMail dialed.
type conns struct {
	mu sync.Mutex
	cs []net.Conn
}

func (cs *conns) add(c net.Conn) {
	cs.mu.Lock()
	cs.cs = append(cs.cs, c)
	cs.mu.Unlock()
}

// close closes them all; closing one go-mail closed already is harmless.
func (cs *conns) close() {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for _, c := range cs.cs {
		c.Close()
	}
}

func (cfg Config) timeout() time.Duration {
	if cfg.Timeout > 0 {
		return cfg.Timeout
	}
	return 30 * time.Second
}

// New checks cfg and returns a Sender. It does not connect.
func New(cfg Config) (*Sender, error) {
	host, portStr, err := net.SplitHostPort(cfg.Addr)
	if err != nil || host == "" {
		return nil, fmt.Errorf("smtp address %q: want host:port", cfg.Addr)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 1 || port > 65535 {
		return nil, fmt.Errorf("smtp address %q: bad port", cfg.Addr)
	}
	from, err := netmail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("smtp sender %q: %w", cfg.From, err)
	}
	at := strings.LastIndexByte(from.Address, '@')
	if at < 0 {
		return nil, errors.New("smtp sender has no domain")
	}
	opts, err := cfg.options(host, port)
	if err != nil {
		return nil, err
	}
	c, err := gomail.NewClient(host, opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp client: %w", err)
	}
	return &Sender{client: c, from: cfg.From, domain: from.Address[at+1:], timeout: cfg.timeout()}, nil
}

// SendMail sends one plain-text UTF-8 message to one address. It
// implements scheduler.Mailer.
func (s *Sender) SendMail(ctx context.Context, to, subject, body string) error {
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := m.From(s.from); err != nil {
		return fmt.Errorf("smtp from: %w", err)
	}
	if err := m.To(to); err != nil {
		return fmt.Errorf("smtp to: %w", err)
	}
	m.Subject(subject)
	m.SetDate()
	// The sender's own domain, not this machine's host name: providers
	// score a Message-ID that matches From, and the host name is nobody's
	// business.
	m.SetMessageIDWithValue(rand.Text() + "@" + s.domain)
	m.SetBodyString(gomail.TypeTextPlain, body)
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	dialed := &conns{}
	defer dialed.close()
	ctx = context.WithValue(ctx, connsKey{}, dialed)
	if err := s.client.DialAndSendWithContext(ctx, m); err != nil {
		var se *gomail.SendError
		if errors.As(err, &se) {
			// go-mail's message names the recipient and quotes the
			// server's reply, which often repeats the address; callers
			// log this error, so keep only the reason and the reply code.
			return &SendError{Reason: fmt.Sprint(se.Reason), Code: se.ErrorCode(), Temp: se.IsTemp()}
		}
		return fmt.Errorf("smtp: %w", err)
	}
	return nil
}

// SendError is a send the SMTP server refused, with its reply code and
// whether it was temporary (4xx) — without the recipient's address.
type SendError struct {
	Reason string
	Code   int  // the server's reply code, e.g. 550
	Temp   bool // a 4xx: the server may take it later
}

func (e *SendError) Error() string {
	return fmt.Sprintf("smtp: %s (reply code %d, temporary %t)", e.Reason, e.Code, e.Temp)
}

// ReplyCode is the server's reply code. With Temporary it lets a caller
// classify the failure without importing this package.
func (e *SendError) ReplyCode() int { return e.Code }

// Temporary reports whether the server refused for now only (4xx).
func (e *SendError) Temporary() bool { return e.Temp }
