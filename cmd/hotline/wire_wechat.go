package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"hotline/internal/dialog"
	"hotline/internal/hotline"
	"hotline/internal/inboxweb"
	"hotline/internal/intake"
	"hotline/internal/poster"
	"hotline/internal/urgency"
	"hotline/wechat"
)

// wechatAccountFile is one account in the key file.
type wechatAccountFile struct {
	Name           string `json:"name"`
	AppID          string `json:"app_id"`
	AppSecret      string `json:"app_secret"`
	Token          string `json:"token"`
	AESKey         string `json:"aes_key"`
	School         string `json:"school"`
	NoticeTemplate string `json:"notice_template"`
	QRImage        string `json:"qr_image"` // the account's QR code image file, for the posters
}

// wechatConf is one configured account: what the adapter runs, and the QR
// code the posters print (nil: none).
type wechatConf struct {
	wechat.Account
	QR *poster.WechatCode
}

// wechatAccounts reads the WeChat accounts: those of the key file, and the
// one of the flags/environment when its AppID is set.
func (c *Config) wechatAccounts() ([]wechatConf, error) {
	var out []wechatConf
	if c.WechatAccountsFile != "" {
		fi, err := os.Stat(c.WechatAccountsFile)
		if err != nil {
			return nil, fmt.Errorf("accounts file: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return nil, errors.New("accounts file holds secrets: make it readable by its owner only (chmod 600)")
		}
		data, err := os.ReadFile(c.WechatAccountsFile)
		if err != nil {
			return nil, err
		}
		var list []wechatAccountFile
		if err := json.Unmarshal(data, &list); err != nil {
			// The error may quote the file: say only where.
			return nil, errors.New("accounts file is not a JSON list of accounts")
		}
		for _, a := range list {
			qr, err := readWechatQR(a.QRImage)
			if err != nil {
				return nil, fmt.Errorf("account %s: %w", a.Name, err)
			}
			out = append(out, wechatConf{wechat.Account{Name: a.Name, AppID: a.AppID, Secret: a.AppSecret, Token: a.Token, AESKey: a.AESKey, School: a.School, NoticeTemplate: a.NoticeTemplate}, qr})
		}
	}
	if c.WechatAppID != "" {
		qr, err := readWechatQR(c.WechatQR)
		if err != nil {
			return nil, fmt.Errorf("account %s: %w", c.WechatName, err)
		}
		out = append(out, wechatConf{wechat.Account{Name: c.WechatName, AppID: c.WechatAppID, Secret: c.WechatSecret, Token: c.WechatToken, AESKey: c.WechatAESKey, School: c.WechatSchool, NoticeTemplate: c.WechatNoticeTemplate}, qr})
	}
	return out, nil
}

// readWechatQR reads an account's QR code image for the posters; "" is
// none. A file that is not a usable image stops the start with the reason,
// rather than a poster printed without the code.
func readWechatQR(path string) (*poster.WechatCode, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("QR code image: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, poster.MaxWechatQRBytes+1))
	if err != nil {
		return nil, fmt.Errorf("QR code image: %w", err)
	}
	qr, err := poster.ReadWechatQR(data)
	if err != nil {
		return nil, fmt.Errorf("QR code image %s: %w", path, err)
	}
	return qr, nil
}

// wechatQR is the QR code the poster of school code prints: that of the
// school's own account, else that of a district account; nil for none.
func (m *Main) wechatQR(code string) *poster.WechatCode {
	var district *poster.WechatCode
	for _, c := range m.wechatCfs {
		switch {
		case c.QR == nil:
		case c.School == "":
			if district == nil {
				district = c.QR
			}
		case strings.EqualFold(c.School, code):
			return c.QR
		}
	}
	return district
}

// inboxWechatAccounts lists the accounts for the inbox's setup page.
func (m *Main) inboxWechatAccounts() []inboxweb.WechatAccount {
	var out []inboxweb.WechatAccount
	for _, c := range m.wechatCfs {
		out = append(out, inboxweb.WechatAccount{Name: c.Name, School: c.School, Token: c.Token, QR: c.QR != nil})
	}
	return out
}

// openWechat starts the WeChat adapter: its callbacks on /wechat/{account},
// its menu, and its place as the relay's WeChat sender.
func (m *Main) openWechat(ctx context.Context, confs []wechatConf) error {
	var accts []wechat.Account
	for _, c := range confs {
		accts = append(accts, c.Account)
	}
	for _, a := range accts {
		if a.School == "" {
			continue
		}
		if _, err := m.Intake.SchoolByCode(ctx, a.School); err != nil {
			return fmt.Errorf("account %s: school %q: %w", a.Name, a.School, err)
		}
	}
	cfg := wechat.Config{Accounts: accts, APIURL: m.Config.WechatAPIURL, DB: m.DB, Vault: m.Vault, Clock: m.Clock, Logger: m.Logger}
	if m.Tune.Wechat != nil {
		m.Tune.Wechat(&cfg)
	}
	w, err := wechat.New(cfg)
	if err != nil {
		return err
	}
	engine := &dialog.Engine{
		Intake:    m.Intake,
		Reporters: m.Intake,
		Schools:   m.Intake,
		Store:     intake.NewConversationStore(m.DB, m.Vault),
		Clock:     m.Clock,
		Urgent:    urgency.Urgent,
		Unsure:    urgency.Unsure,
		Safety:    m.Intake,
	}
	w.Start(ctx, engine)
	m.Mux.Handle("/wechat/", w.Handler())
	m.addSender(hotline.ChannelWechat, w)
	m.Wechat = w
	m.OnClose(func() error { w.Wait(); return nil })
	m.Go(func(ctx context.Context) {
		for ctx.Err() == nil {
			if err := w.CreateMenu(ctx); err == nil {
				return
			} else {
				m.Logger.Warn("wechat: menu not created yet", "err", err)
			}
			select {
			case <-ctx.Done():
			case <-time.After(30 * time.Second):
			}
		}
	})
	m.Logger.Info("wechat started", "accounts", len(accts))
	return nil
}
