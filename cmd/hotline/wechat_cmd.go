package main

import (
	"context"
	"errors"
	"fmt"

	"hotline/wechat"
)

// runWechat is `hotline wechat menu`: it publishes the menu (我要报告 /
// 查看进度 / 紧急求助) of one configured account, or of all, at once; serve
// publishes it at start too, but an operator who changed it by hand in
// 公众平台 puts it back with this. It reads the accounts as serve does
// (flags, environment, key file) and shares the access token with the
// running servers through the database.
func runWechat(ctx context.Context, args []string, env *Env) error {
	if len(args) == 0 || args[0] != "menu" {
		fmt.Fprintln(env.Stderr, "usage: hotline wechat menu [--account NAME] [--data DIR] [WeChat flags as for serve]   publish the menu 我要报告 / 查看进度 / 紧急求助")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return ErrUsage
	}
	var c Config
	var name string
	fs := newFlagSet("wechat menu", env, "Publishes the menu 我要报告 / 查看进度 / 紧急求助 of a WeChat official account (default: every account\nconfigured). The accounts are configured as for serve.")
	fs.dataFlag(&c.DataDir)
	fs.wechatFlags(&c)
	fs.StringVar(&name, "account", "", "the account's name (default: every account)")
	if err := fs.Parse(args[1:]); err != nil {
		return usageErr(err)
	}
	confs, err := c.wechatAccounts()
	if err != nil {
		return fmt.Errorf("wechat: %w", err)
	}
	var accts []wechat.Account
	for _, a := range confs {
		if name == "" || a.Name == name {
			accts = append(accts, a.Account)
		}
	}
	if len(accts) == 0 {
		if name != "" {
			return fmt.Errorf("wechat: no account named %q is configured", name)
		}
		return errors.New("wechat: no account is configured (--wechat-appid or --wechat-accounts)")
	}
	m, err := openData(c.DataDir, env)
	if err != nil {
		return err
	}
	defer m.Close()
	w, err := wechat.New(wechat.Config{Accounts: accts, APIURL: c.WechatAPIURL, DB: m.DB, Vault: m.Vault, Logger: m.Logger})
	if err != nil {
		return err
	}
	var errs []error
	for _, a := range accts {
		if err := w.PublishMenu(ctx, a.Name); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(env.Stdout, "菜单已发布 / menu published: %s\n", a.Name)
	}
	return errors.Join(errs...)
}
