package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hotline/internal/sim/wechatsim"
	"hotline/internal/wechattest"
)

// TestWechatMenuCommand: `hotline wechat menu --account NAME` publishes the
// account's menu through the API (with the token refreshed when WeChat
// refuses the stored one), names the account, and prints no secret; an
// account that is not configured and a missing configuration are clear
// errors.
func TestWechatMenuCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := wechatsim.Config{AppID: wxAppID, Secret: wxSecret, Token: "menuToken7", AESKey: wechatsim.NewAESKey()}
	fake := wechattest.New(t, cfg)
	var out, errb bytes.Buffer
	if code := run(ctx, []string{"init", "--data", dir}, nil, &out, &errb); code != 0 {
		t.Fatalf("init: %s", errb.String())
	}
	// Two accounts from the key file; the fake knows only the first (it
	// refuses the other's AppID), so publishing the other fails.
	keyFile := filepath.Join(t.TempDir(), "wechat.json")
	if err := os.WriteFile(keyFile, []byte(`[{"name":"district","app_id":"`+wxAppID+`","app_secret":"`+wxSecret+`","token":"menuToken7","aes_key":"`+cfg.AESKey+`"},
		{"name":"other","app_id":"wxOTHERACCOUNT01","app_secret":"s2","token":"t2","aes_key":"`+wechatsim.NewAESKey()+`"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	menu := func(args ...string) (string, string, int) {
		out.Reset()
		errb.Reset()
		code := run(ctx, append([]string{"wechat", "menu", "--data", dir, "--wechat-accounts", keyFile, "--wechat-api-url", fake.URL()}, args...), nil, &out, &errb)
		return out.String(), errb.String(), code
	}

	fake.FailNext("/cgi-bin/menu/create", 40001)
	stdout, stderr, code := menu("--account", "district")
	if code != 0 {
		t.Fatalf("wechat menu: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "district") || strings.Contains(stdout, "other") {
		t.Fatalf("stdout %q", stdout)
	}
	got := string(fake.Menu())
	for _, want := range []string{"我要报告", "查看进度", "紧急求助", "HOTLINE_REPORT", "HOTLINE_STATUS", "HOTLINE_SOS"} {
		if !strings.Contains(got, want) {
			t.Fatalf("menu %s lacks %q", got, want)
		}
	}

	// Without --account every account is published: the first again, and
	// the other's failure is named, without WeChat's text or a secret.
	stdout, stderr, code = menu()
	if code == 0 || !strings.Contains(stdout, "district") || !strings.Contains(stderr, "menu of other: errcode_40125") || strings.Contains(stderr, "s2") {
		t.Fatalf("every account: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	for _, secret := range []string{wxSecret, "menuToken7", cfg.AESKey, "TOKEN_"} {
		if strings.Contains(stdout+stderr, secret) {
			t.Fatalf("output shows a secret %q", secret)
		}
	}

	if _, stderr, code := menu("--account", "nosuch"); code == 0 || !strings.Contains(stderr, `no account named "nosuch"`) {
		t.Fatalf("unknown account: exit %d: %s", code, stderr)
	}
	out.Reset()
	errb.Reset()
	if code := run(ctx, []string{"wechat", "menu", "--data", dir}, nil, &out, &errb); code == 0 || !strings.Contains(errb.String(), "no account is configured") {
		t.Fatalf("no accounts: exit %d: %s", code, errb.String())
	}
	out.Reset()
	errb.Reset()
	if code := run(ctx, []string{"wechat"}, nil, &out, &errb); code == 0 || !strings.Contains(errb.String(), "wechat menu") {
		t.Fatalf("bare wechat: exit %d: %s", code, errb.String())
	}
}
