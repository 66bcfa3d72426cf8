package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"hotline/internal/dialog"
	"hotline/internal/hotline"
	"hotline/internal/intake"
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
}

// wechatAccounts reads the WeChat accounts: those of the key file, and the
// one of the flags/environment when its AppID is set.
func (c *Config) wechatAccounts() ([]wechat.Account, error) {
	var out []wechat.Account
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
			out = append(out, wechat.Account{Name: a.Name, AppID: a.AppID, Secret: a.AppSecret, Token: a.Token, AESKey: a.AESKey, School: a.School, NoticeTemplate: a.NoticeTemplate})
		}
	}
	if c.WechatAppID != "" {
		out = append(out, wechat.Account{Name: c.WechatName, AppID: c.WechatAppID, Secret: c.WechatSecret, Token: c.WechatToken, AESKey: c.WechatAESKey, School: c.WechatSchool, NoticeTemplate: c.WechatNoticeTemplate})
	}
	return out, nil
}

// openWechat starts the WeChat adapter: its callbacks on /wechat/{account},
// its menu, and its place as the relay's WeChat sender.
func (m *Main) openWechat(ctx context.Context, accts []wechat.Account) error {
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
		Urgent:    intake.Urgent,
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
